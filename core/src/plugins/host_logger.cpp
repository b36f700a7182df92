#include "plugins/host_logger.hpp"

#include <spdlog/spdlog.h>

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

}  // namespace kiln::core
