// Reading JSON files with errors a user can act on: file, line and column.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace kiln::core {

// Parses a file; throws kiln::ConfigError "FILE:LINE:COL: what" for malformed JSON, or
// naming the file when it cannot be read.
nlohmann::json read_json_file(const std::filesystem::path& file);

// Parses text that came from `origin` (a file name or "--params"), same errors.
nlohmann::json parse_json_text(const std::string& text, const std::string& origin);

// "line L, column C" of a byte offset in text (1-based).
std::pair<std::size_t, std::size_t> line_and_column(const std::string& text, std::size_t offset);

}  // namespace kiln::core
