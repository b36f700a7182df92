// `kiln registry`: the project's pipelines, as Kedro's `kedro registry` shows them,
// without running anything.
//
//     kiln registry list                 # every pipeline name, one a line, sorted
//     kiln registry describe [PIPELINE]  # its nodes in run order (default: __default__)
//
// Both read pipelines.json as `kiln run` would (--env, --conf-source) and load the plugins,
// since every node function must resolve for a pipeline to be built.
#pragma once

#include <string>

#include "commands/project_query.hpp"

struct RegistryCommandOptions {
    ProjectQuery project;                  // the project and its configuration, as for `kiln run`
    std::string pipeline = "__default__";  // `describe`
};

// The names of the project's pipelines, "__default__" included, one a line, sorted.
// Returns 0; throws kiln::ConfigError (or kiln::PipelineError) for a project or
// pipelines.json that `kiln run` would refuse.
int list_registered_pipelines(const RegistryCommandOptions& options);

// Kedro's `registry describe`: "Nodes:" then "- NAME (FUNCTION)" for each node, in the
// order `kiln run` runs them. Returns 0; throws as list does, and kiln::ConfigError for
// an unknown pipeline (with close matches).
int describe_registered_pipeline(const RegistryCommandOptions& options);
