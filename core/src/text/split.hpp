// Splitting option values the way Kedro's command line does.
#pragma once

#include <string>
#include <vector>

namespace kiln::core {

// `text` without the whitespace (" \t\n\r\f\v") around it: strip("  a b \n") is "a b".
std::string strip(const std::string& text);

// Comma-separated values, each stripped, empty items dropped: {"a, b,,c ", "d"} gives
// [a, b, c, d]. Every --nodes, --tags, --hooks ... value goes through this.
std::vector<std::string> split_commas(const std::vector<std::string>& values);

}  // namespace kiln::core
