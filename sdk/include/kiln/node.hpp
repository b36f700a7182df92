// How a plain C++ function becomes a node function: its parameter types are the node's
// inputs, its return type the outputs (void: none; std::tuple<A, B>: two; anything else:
// one). Parameters are taken by value or by const reference; const references read the
// shared value in place, with no copy. Every parameter and result type needs a codec
// (kiln/codec.hpp).
//
//     std::tuple<double, double> min_max(const std::vector<double>& xs);
//     reg.node("min_max", &min_max, {.doc = "smallest and largest value"});
//     reg.node("scale", [](double x, double k) { return x * k; }, {.args = {"x", "factor"}});
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <string>
#include <vector>

namespace kiln {

struct NodeOptions {
    // Names of the function's parameters, in order. Needed only when a pipeline maps
    // inputs by name ("inputs": {"x": "a", "y": "b"}): C++ cannot tell them otherwise.
    std::vector<std::string> args = {};
    std::string doc = {};  // one line shown by `kiln plugins`
    // The version of the node's code, for `kiln run --incremental`. Empty: the plugin file's
    // content stands for the code, so any rebuild of the plugin makes the node stale. Set:
    // the node stays current across rebuilds until the version changes; bump it whenever
    // the function's results would change.
    std::string version = {};
    // The node has side effects (sends mail, writes outside the catalog): it runs in every
    // incremental run, never skipped as up to date.
    bool always_run = false;
    // Names of the values the function returns (a std::tuple's elements), in order. Needed
    // only when a pipeline maps outputs by name, as Kedro's dict outputs do:
    // "outputs": {"train": "train_set", "test": "test_set"}.
    std::vector<std::string> outputs = {};
};

}  // namespace kiln
