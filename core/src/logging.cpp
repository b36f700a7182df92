#include "kiln/core/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "host_logger.hpp"

namespace kiln::core {

namespace {
spdlog::level::level_enum to_spdlog(LogLevel level) {
    switch (level) {
        case LogLevel::trace: return spdlog::level::trace;
        case LogLevel::debug: return spdlog::level::debug;
        case LogLevel::info: return spdlog::level::info;
        case LogLevel::warn: return spdlog::level::warn;
        case LogLevel::error: return spdlog::level::err;
    }
    return spdlog::level::info;
}

class SpdlogLogger final : public Logger {
public:
    void log(LogLevel level, std::string_view message) noexcept override {
        try {
            spdlog::log(to_spdlog(level), "{}", message);
        } catch (...) {
            // Logging must never take the run down.
        }
    }
    bool enabled(LogLevel level) const noexcept override { return spdlog::should_log(to_spdlog(level)); }
};
}  // namespace

Logger& host_logger() noexcept {
    static SpdlogLogger logger;
    return logger;
}

void configure_logging(Verbosity verbosity) {
    auto logger = spdlog::get("kiln");
    if (!logger) logger = spdlog::stderr_color_mt("kiln");
    logger->set_pattern("[%H:%M:%S.%e] %^%-5l%$ %v");
    spdlog::set_default_logger(logger);
    switch (verbosity) {
        case Verbosity::quiet: spdlog::set_level(spdlog::level::warn); break;
        case Verbosity::normal: spdlog::set_level(spdlog::level::info); break;
        case Verbosity::verbose: spdlog::set_level(spdlog::level::debug); break;
    }
    // In-process code using the SDK's kiln::log (built-ins, tests) logs here too.
    detail::plugin_logger() = &host_logger();
}

}  // namespace kiln::core
