// One configuration environment (conf/base, conf/local, ...): the files of one kind in it,
// read and put together.
//
//     read_config_group(conf / "base", "catalog")  // catalog.json, then catalog_*.json
//
// Within one environment a top-level key may be defined once: two files defining it is an
// error naming both (Kedro's rule). Environments override one another (config_merge.hpp).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/config_merge.hpp"

namespace kiln::core {

// The files of one kind in `env_dir`, each a JSON object, as one document. For "catalog",
// "parameters" and "credentials", Kedro's patterns: any .json file whose name starts with
// the kind, or that lies in a folder whose name does, at any depth (conf/base/catalog.json,
// catalog_sales.json, catalog/sales.json, data_science/parameters.json); for the other
// kinds, `stem`.json and `stem`_*.json at the top. Hidden files and folders are skipped.
// Files that do not exist are skipped: an environment without any is empty.
// Throws kiln::ConfigError naming the file for malformed JSON or a non-object, and both
// files for a key defined twice.
MergedConfig read_config_group(const std::filesystem::path& env_dir, const std::string& stem);

// The files `read_config_group(env_dir, stem)` reads, in that order.
std::vector<std::filesystem::path> config_group_files(const std::filesystem::path& env_dir, const std::string& stem);

// Every *.json file in `env_dir` and its subfolders, hidden ones skipped, sorted (what
// --resume compares).
std::vector<std::filesystem::path> json_files_in(const std::filesystem::path& env_dir);

}  // namespace kiln::core
