#include "terminal/logging.hpp"

#include <array>
#include <spdlog/details/os.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

#include "config/redaction.hpp"
#include "plugins/host_logger.hpp"
#include "terminal/progress_line.hpp"

namespace kiln::core {

namespace {
// Log lines to stderr through its StatusLine, so that they scroll above the progress line
// instead of mixing with it. Formats and colours exactly as spdlog's stderr colour sink
// (same bytes when no status line is shown), but writes each line with one write(2), and
// its only lock is the StatusLine's, which the fork handlers release: a forked child can
// always log.
class StderrSink final : public spdlog::sinks::sink {
public:
    explicit StderrSink(StatusLine& line)
        : line_(line),
          formatter_(std::make_unique<spdlog::pattern_formatter>()),
          colors_(spdlog::details::os::in_terminal(stderr) && spdlog::details::os::is_color_terminal()) {}

    void log(const spdlog::details::log_msg& logged) override {
        // Credential values never reach the terminal, whoever logs them.
        spdlog::details::log_msg msg = logged;
        std::string redacted;
        if (has_secrets()) {
            redacted = redact(std::string_view(logged.payload.data(), logged.payload.size()));
            msg.payload = redacted;
        }
        auto lock = line_.lock();  // the formatter is not thread safe either
        msg.color_range_start = 0;
        msg.color_range_end = 0;
        spdlog::memory_buf_t formatted;
        formatter_->format(msg, formatted);
        const std::string_view text(formatted.data(), formatted.size());
        if (colors_ && msg.color_range_end > msg.color_range_start && msg.color_range_end <= text.size()) {
            const std::array<std::string_view, 5> parts = {
                text.substr(0, msg.color_range_start), color(msg.level),
                text.substr(msg.color_range_start, msg.color_range_end - msg.color_range_start), "\033[m",
                text.substr(msg.color_range_end)};
            line_.print_above(lock, parts);
        } else {
            const std::array<std::string_view, 1> parts = {text};
            line_.print_above(lock, parts);
        }
    }
    void flush() override {}  // nothing is buffered
    void set_pattern(const std::string& pattern) override {
        auto lock = line_.lock();
        formatter_ = std::make_unique<spdlog::pattern_formatter>(pattern);
    }
    void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
        auto lock = line_.lock();
        formatter_ = std::move(formatter);
    }

private:
    static std::string_view color(spdlog::level::level_enum level) {
        switch (level) {
            case spdlog::level::trace: return "\033[37m";
            case spdlog::level::debug: return "\033[36m";
            case spdlog::level::info: return "\033[32m";
            case spdlog::level::warn: return "\033[33m\033[1m";
            case spdlog::level::err: return "\033[31m\033[1m";
            case spdlog::level::critical: return "\033[1m\033[41m";
            default: return "\033[m";
        }
    }

    StatusLine& line_;
    std::unique_ptr<spdlog::formatter> formatter_;
    const bool colors_;
};
}  // namespace

void configure_logging(Verbosity verbosity) {
    auto logger = spdlog::get("kiln");
    if (!logger) {
        logger = std::make_shared<spdlog::logger>("kiln", std::make_shared<StderrSink>(StatusLine::standard_error()));
        spdlog::initialize_logger(logger);
    }
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
