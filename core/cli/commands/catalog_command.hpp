// `kiln catalog`: where each dataset of the project's pipelines lives, without running
// anything.
//
//     kiln catalog list [--pipeline NAME]   # per pipeline: each dataset and where it lives
//     kiln catalog resolve                  # the catalog with its patterns expanded, as JSON
//
// Each reads the configuration `kiln run` would (--env, --conf-source, --params).
//     kiln catalog patterns                 # the dataset factory patterns, in the order tried
#pragma once

#include <string>

#include "commands/project_query.hpp"

struct CatalogCommandOptions {
    ProjectQuery project;  // the project and its configuration, as for `kiln run`
    std::string pipeline;  // `list`: only this pipeline; empty: every pipeline
};

// Each pipeline (or --pipeline's), then each dataset it uses, sorted, and where it lives:
// its catalog entry, the pattern it matches, the runner's default dataset, or a parameter.
// Loads the plugins (node functions must resolve, as for `kiln run`); reads no data.
// Returns 0; throws kiln::ConfigError for an unknown project or pipeline, or a pattern
// whose placeholders do not fit a dataset it matches.
int list_catalog(const CatalogCommandOptions& options);

// Kedro's `catalog resolve`: the explicit entries, and an entry made from its pattern for
// every dataset a pipeline uses that only a pattern matches, as one JSON object on
// standard output, credential values shown as ***. Returns 0; throws as list_catalog does.
int resolve_catalog(const CatalogCommandOptions& options);

// The patterns of the catalog, one a line, in the order a dataset name is tried against
// them (the catch-all last). Needs no plugins. Returns 0; throws kiln::ConfigError for an
// unknown project or a catalog.json that cannot be read.
int print_catalog_patterns(const CatalogCommandOptions& options);
