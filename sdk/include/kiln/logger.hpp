// Logging from plugin code. The host owns the real logger (spdlog); plugins write through
// this small interface so no logging library is part of the plugin ABI.
//
//     kiln::log::info("tokenized " + std::to_string(n) + " words");
//
// Thread safe: the host's logger may be called from any thread.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <string_view>

namespace kiln {

enum class LogLevel { trace, debug, info, warn, error };

class Logger {
public:
    virtual void log(LogLevel level, std::string_view message) noexcept = 0;
    virtual bool enabled(LogLevel level) const noexcept = 0;

protected:
    ~Logger() = default;
};

namespace detail {
// One per plugin (hidden visibility): set by the plugin entry point before registration.
inline Logger*& plugin_logger() noexcept {
    static Logger* logger = nullptr;
    return logger;
}
}  // namespace detail

namespace log {
inline void write(LogLevel level, std::string_view message) noexcept {
    if (Logger* l = detail::plugin_logger(); l && l->enabled(level)) l->log(level, message);
}
inline bool enabled(LogLevel level) noexcept {
    Logger* l = detail::plugin_logger();
    return l && l->enabled(level);
}
inline void debug(std::string_view m) noexcept { write(LogLevel::debug, m); }
inline void info(std::string_view m) noexcept { write(LogLevel::info, m); }
inline void warn(std::string_view m) noexcept { write(LogLevel::warn, m); }
inline void error(std::string_view m) noexcept { write(LogLevel::error, m); }
}  // namespace log

}  // namespace kiln
