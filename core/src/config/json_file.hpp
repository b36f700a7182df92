// Reading JSON files with errors a user can act on: file, line and column.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace kiln::core {

// How deeply objects and lists may nest in any JSON Kiln reads from a user (files,
// --params): deeper text is refused with the file and the key path, so that every walk
// over a value read (copies, comparisons, conversions, dump()) stays within the stack.
inline constexpr std::size_t max_json_nesting = 256;

// Parses a file; throws kiln::ConfigError "FILE:LINE:COL: what" for malformed JSON, or
// naming the file when it cannot be read.
nlohmann::json read_json_file(const std::filesystem::path& file);

// Parses text that came from `origin` (a file name or "--params"), same errors.
nlohmann::json parse_json_text(const std::string& text, const std::string& origin);

// For text that may be JSON or a plain word (--params values): nullopt when it is not
// JSON; throws kiln::ConfigError naming `origin` when it is JSON Kiln refuses (nesting
// deeper than max_json_nesting, a key written twice).
std::optional<nlohmann::json> parse_json_if_json(const std::string& text, const std::string& origin);

// How many levels of objects and lists a value has (0 for a number, 1 for [1, 2]).
std::size_t json_nesting(const nlohmann::json& value);

// "line L, column C" of a byte offset in text (1-based).
std::pair<std::size_t, std::size_t> line_and_column(const std::string& text, std::size_t offset);

}  // namespace kiln::core
