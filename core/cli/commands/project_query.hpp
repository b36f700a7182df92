// What the commands that read a project without running it (`kiln viz`, `kiln catalog`,
// `kiln registry`) share: the options that choose its configuration, and its pipelines and
// catalog entries read as `kiln run` would read them.
//
//     ProjectPipelines project = load_project_pipelines(query);   // plugins loaded, functions resolved
//     ProjectCatalog declared = read_project_catalog(project.layout, query.params);
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "catalog/catalog_entry.hpp"
#include "config/project_layout.hpp"
#include "model/pipeline_set.hpp"
#include "plugins/registry.hpp"
#include "session/session.hpp"

// The project and its configuration, as `kiln run` takes them.
struct ProjectQuery {
    std::filesystem::path project_dir = ".";
    kiln::core::PluginSearch plugins;
    std::string env;                    // --env; empty: KILN_ENV, else local
    std::filesystem::path conf_source;  // --conf-source
    std::string params;                 // --params, for ${runtime_params:...}
};

// The project's pipelines. The registry owns the node functions they point to, so it
// lives as long.
struct ProjectPipelines {
    kiln::core::ConfigLayout layout;
    std::string origin;  // the pipelines file, for messages
    std::unique_ptr<kiln::core::Registry> registry = std::make_unique<kiln::core::Registry>();
    kiln::core::PipelineSet pipelines;
};

// The layout the query names (the project found, the environment chosen). Throws
// kiln::ConfigError for an unknown project or environment.
kiln::core::ConfigLayout project_layout(const ProjectQuery& query);

// Loads the plugins and builds every pipeline (each node function must resolve). Refuses a
// malformed --params as `kiln run` does. Throws kiln::ConfigError or kiln::PipelineError.
ProjectPipelines load_project_pipelines(const ProjectQuery& query);

// The catalog entries: the flat layout's catalog.json, or conf/base merged with the
// environment, interpolated, with credentials in place (credential values are registered
// for redaction as they are read).
struct ProjectCatalog {
    std::map<std::string, kiln::core::CatalogEntry> entries;  // patterns included, by key
    std::string origin;                                       // the file(s), for messages
};

// `params_text`: --params as given. Throws kiln::ConfigError naming the file and key for
// anything the loaders refuse.
ProjectCatalog read_project_catalog(const kiln::core::ConfigLayout& layout, const std::string& params_text);
