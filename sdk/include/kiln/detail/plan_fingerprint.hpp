// The fingerprint of a run's plan, compared by processes that must all have built the same
// plan before they share a run: the ParallelRunner's spawned workers, the MpiRunner's ranks.
// One definition on both sides of the plugin boundary, so the host and a distributed runner
// plugin agree on what "the same plan" means.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <cstddef>
#include <string>
#include <string_view>

#include "kiln/detail/fnv.hpp"
#include "kiln/run_view.hpp"

namespace kiln::detail {

// The nodes in run order, each with its name, function, inputs and outputs, and the type
// name of every value it reads or writes (type_of(dataset): "" where unknown, e.g. a
// persisted dataset's). "<node count>-<hash>": the count makes a mismatch easy to read.
template <class NodeAt, class TypeOf>
std::string plan_fingerprint(std::size_t node_count, NodeAt&& node_at, TypeOf&& type_of) {
    std::uint64_t h = fnv_offset_basis;
    auto datasets = [&](const auto& names) {
        h = fingerprint_word(h, names.size());
        for (const std::string& name : names) {
            h = fingerprint_text(h, name);
            h = fingerprint_text(h, std::string_view(type_of(std::string_view(name))));
        }
    };
    for (std::size_t i = 0; i < node_count; ++i) {
        const NodeView node = node_at(i);
        h = fingerprint_text(h, node.name);
        h = fingerprint_text(h, node.function);
        datasets(node.inputs);
        datasets(node.outputs);
    }
    return std::to_string(node_count) + "-" + std::to_string(h);
}

}  // namespace kiln::detail
