// `kiln status` and `kiln explain NODE`: what `kiln run --incremental` would run, and why,
// without running anything. Both take `kiln run`'s selection options (pipeline, filters,
// --env, --params, ...), since parameters and filters decide what is stale.
//
//     kiln status                     # every node: up to date, stale (why), or needed
//     kiln explain count_words        # why that node runs (or why not), with what changed
#pragma once

#include <string>

#include "session/session.hpp"

// Lists every selected node with its state and first reason. Returns 0; throws kiln::Error
// for a project `kiln run` would refuse.
int show_status(kiln::core::SessionOptions options);

// Every reason `node` is stale, following in-memory inputs up to the producers whose
// fingerprints changed; or what makes it up to date. Returns 0; throws kiln::ConfigError
// naming close matches for a node that is not selected.
int explain_node(kiln::core::SessionOptions options, const std::string& node);
