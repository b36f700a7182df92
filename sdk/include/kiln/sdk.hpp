// The Kiln SDK: what a node plugin includes.
//
//     #include <kiln/sdk.hpp>
//     double add(double a, double b) { return a + b; }
//     KILN_PLUGIN(mynodes) { reg.node("add", &add); }
//
// Build it with kiln_add_plugin(mynodes SOURCES nodes.cpp) from find_package(Kiln).
//
// A node that reads or writes a folder of files (kiln.PartitionedDataset) one partition at a
// time takes or returns kiln::Partitions<T>, from <kiln/partitions.hpp>.
//
// Other kinds of plugin add the header of what they define:
//     <kiln/dataset.hpp>      a dataset type (kiln::Dataset, kiln::DatasetConfig)
//     <kiln/dataset_file.hpp> a dataset that reads and writes one file, as the shipped ones
//     <kiln/file_io.hpp>      atomic file writes, for any plugin that writes files itself
//     <kiln/hooks.hpp>        hooks (kiln::Hooks, kiln::HookConfig)
//     <kiln/runner.hpp>       a runner (kiln::Runner, kiln::RunContext)
//     <kiln/distributed.hpp>  a runner whose nodes run in other processes
// Those use nlohmann::json for configuration and include <nlohmann/json.hpp>. This header
// does not, so that a node file compiles quickly; a node that takes or returns
// nlohmann::json values includes <nlohmann/json.hpp> itself.
//
// The headers beside this one are the API a plugin author uses; kiln/detail/ holds the
// plumbing between plugin and host (the descriptor, the handles, the adaptors), which
// plugin code never names.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include "kiln/codec.hpp"
#include "kiln/error.hpp"
#include "kiln/logger.hpp"
#include "kiln/node.hpp"
#include "kiln/plugin.hpp"
#include "kiln/registrar.hpp"
#include "kiln/tensor.hpp"
#include "kiln/value.hpp"
