// One catalog.json entry: a dataset name (or a dataset factory pattern) with its type
// and arguments.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace kiln::core {

struct CatalogEntry {
    std::string name;
    std::string type;     // as written, e.g. "kiln.JsonDataset" or "JsonDataset"
    nlohmann::json args;  // the other keys
};

}  // namespace kiln::core
