// Where a project keeps its configuration: flat (pipelines.json, catalog.json, ... in the
// project folder, as before) or in environments, as Kedro does:
//
//     project/conf/base/    catalog.json catalog_*.json parameters.json parameters_*.json
//                           globals.json credentials.json pipelines.json settings.json
//     project/conf/local/   the same, overriding base (the default environment)
//     project/conf/prod/    chosen with --env prod or KILN_ENV=prod
//
// --conf-source DIR points at a conf folder (holding base/) kept elsewhere.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace kiln::core {

struct ConfigLayout {
    std::filesystem::path project;  // absolute
    std::filesystem::path conf;     // absolute; empty for the flat layout
    std::string env;                // the environment over base ("local" unless chosen)
    std::filesystem::path env_dir;  // conf/env; empty when that folder does not exist
    bool flat() const { return conf.empty(); }
    std::filesystem::path base_dir() const { return conf / "base"; }
};

// A folder a project can be run from: it holds pipelines.json or conf/base/.
bool is_project_root(const std::filesystem::path& dir);

// `start` or the nearest folder above it that is a project root (as Kedro finds its
// project from a subfolder); nullopt when there is none.
std::optional<std::filesystem::path> find_project_root(const std::filesystem::path& start);

// The layout of `project` (absolute). `conf_source` (--conf-source, may be empty) and
// `env` (--env, may be empty: then KILN_ENV, then "local"). Throws kiln::ConfigError
// naming the folder for a --conf-source without base/, an environment chosen that has no
// folder, or an environment chosen for a flat project.
ConfigLayout config_layout(const std::filesystem::path& project, const std::filesystem::path& conf_source,
                           const std::string& env);

}  // namespace kiln::core
