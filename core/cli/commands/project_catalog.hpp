// The catalog entries `kiln viz` and `kiln catalog` read, as `kiln run` would: the flat
// layout's catalog.json, or conf/base merged with the environment, interpolated, with
// credentials in place (credential values are registered for redaction as they are read).
//
//     const ConfigLayout layout = config_layout(project, conf_source, env);
//     ProjectCatalog declared = read_project_catalog(layout, params_text);
#pragma once

#include <map>
#include <string>

#include "catalog/catalog_entry.hpp"
#include "config/project_layout.hpp"

struct ProjectCatalog {
    std::map<std::string, kiln::core::CatalogEntry> entries;  // patterns included, by key
    std::string origin;                                       // the file(s), for messages
};

// `params_text`: --params as given (for ${runtime_params:...}). Throws kiln::ConfigError
// naming the file and key for anything the loaders refuse.
ProjectCatalog read_project_catalog(const kiln::core::ConfigLayout& layout, const std::string& params_text);
