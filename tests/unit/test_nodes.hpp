// Pipeline nodes for unit tests: nodes calling functions a test registers in a Registry,
// nodes built directly for the pipeline model, and the names of a pipeline's nodes.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "model/pipeline.hpp"
#include "plugins/registry.hpp"

namespace kiln::test {

// Node `name` calling `function` (qualified, e.g. "t.inc") of `registry`.
inline core::Node make_node(const core::Registry& registry, const std::string& name, const std::string& function,
                            std::vector<std::string> inputs, std::vector<std::string> outputs) {
    std::string hint;
    core::Node n;
    n.name = name;
    n.func = registry.find_node(function, hint);
    REQUIRE_MESSAGE(n.func, hint);
    n.inputs = std::move(inputs);
    n.outputs = std::move(outputs);
    return n;
}

// A node of the pipeline model, as the loader would build it: `ns` prefixes the name.
inline core::Node node(std::string name, std::vector<std::string> inputs, std::vector<std::string> outputs,
                       const core::NodeFunction* func = nullptr, std::vector<std::string> tags = {},
                       std::string ns = "") {
    core::Node n;
    n.name = ns.empty() ? name : ns + "." + name;
    n.namespace_ = std::move(ns);
    n.func = func;
    n.inputs = std::move(inputs);
    n.outputs = std::move(outputs);
    n.tags = std::move(tags);
    return n;
}

// The pipeline's node names, in run order.
inline std::vector<std::string> names_of(const core::Pipeline& p) {
    std::vector<std::string> out;
    for (const core::Node& n : p.nodes()) out.push_back(n.name);
    return out;
}

}  // namespace kiln::test
