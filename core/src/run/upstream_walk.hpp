// The walk --resume and Kedro's resume suggestion share: from the nodes that did not run,
// up through the inputs whose producers must run again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/pipeline.hpp"

namespace kiln::core {

// One mark per node: 1 for every node not `done`, and, recursively, for the producer of
// each input of a marked node for which `must_rerun(dataset)` holds. `must_rerun` is
// asked only about inputs with a producer not marked yet, in a fixed order (it may log).
//   auto runs = mark_upstream(pipeline, done, [&](std::uint32_t d) { return !available(d); });
template <class MustRerun>
std::vector<char> mark_upstream(const Pipeline& pipeline, const std::vector<char>& done, MustRerun must_rerun) {
    const auto& nodes = pipeline.nodes();
    std::vector<char> marked(nodes.size(), 0);
    std::vector<std::size_t> queue;
    for (std::size_t i = 0; i < nodes.size(); ++i)
        if (!done[i]) {
            marked[i] = 1;
            queue.push_back(i);
        }
    while (!queue.empty()) {
        std::size_t i = queue.back();
        queue.pop_back();
        for (std::uint32_t d : nodes[i].input_ids) {
            std::size_t producer = pipeline.producer_of(d);
            if (producer == Pipeline::npos || marked[producer] || !must_rerun(d)) continue;
            marked[producer] = 1;
            queue.push_back(producer);
        }
    }
    return marked;
}

}  // namespace kiln::core
