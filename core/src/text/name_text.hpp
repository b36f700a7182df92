// Checks on names and strings that come from users (config files, the command line,
// nodes): text that is not UTF-8, and names holding control characters (an ANSI escape
// in a dataset name would repaint the terminal of whoever reads the log).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kiln::core {

// The offset of the first byte that does not start or continue a valid UTF-8 character
// (overlong forms and surrogates count as invalid); nullopt when all of `text` is UTF-8.
std::optional<std::size_t> invalid_utf8_at(std::string_view text);

// Whether `name` holds a control character: U+0000-U+001F, U+007F or U+0080-U+009F.
bool has_control_character(std::string_view name);

// `text` as a JSON-style quoted string a terminal shows as it is: control characters as
// \n, \t or \u001b, bytes that are not UTF-8 as \xff.
std::string escaped(std::string_view text);

}  // namespace kiln::core
