// The Kiln SDK: the one header a plugin includes.
//
//     #include <kiln/sdk.hpp>
//     double add(double a, double b) { return a + b; }
//     KILN_PLUGIN(mynodes) { reg.node("add", &add); }
//
// Build it with kiln_add_plugin(mynodes SOURCES nodes.cpp) from find_package(Kiln).
//
// The headers beside this one are the API a plugin author uses; kiln/detail/ holds the
// plumbing between plugin and host (the descriptor, the handles, the adaptors), which
// plugin code never names.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include "kiln/codec.hpp"
#include "kiln/dataset.hpp"
#include "kiln/dataset_file.hpp"
#include "kiln/distributed.hpp"
#include "kiln/error.hpp"
#include "kiln/file_io.hpp"
#include "kiln/hooks.hpp"
#include "kiln/logger.hpp"
#include "kiln/node.hpp"
#include "kiln/plugin.hpp"
#include "kiln/registrar.hpp"
#include "kiln/runner.hpp"
#include "kiln/tensor.hpp"
#include "kiln/value.hpp"
