// Kedro's transcoding: "name@format" is one underlying dataset, "name", that nodes read and
// write through different catalog entries ("x@json" as kiln.JsonDataset, "x@text" as
// kiln.TextDataset on the same file). The pipeline orders, checks and filters by the
// underlying name; each node still loads and saves through its own entry.
//   underlying_dataset("x@json")  // "x"
//   underlying_dataset("x")       // "x"
#pragma once

#include <string_view>

namespace kiln::core {

inline constexpr char transcoding_separator = '@';

// Whether `name` is a transcoded form ("x@json"). Parameters ("params:a@b") are values
// from parameters.json, not datasets: never transcoded.
bool is_transcoded(std::string_view name);

// The underlying dataset's name: the part before the separator of a transcoded name, the
// name itself otherwise.
std::string_view underlying_dataset(std::string_view name);

// How many separators a name has; Kedro allows at most one.
std::size_t transcoding_separators(std::string_view name);

}  // namespace kiln::core
