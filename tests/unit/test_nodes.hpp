// Pipeline nodes for unit tests, calling functions a test registers in a Registry.
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

}  // namespace kiln::test
