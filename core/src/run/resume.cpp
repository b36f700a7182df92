#include <algorithm>

#include "run/run_selection.hpp"
#include "run/upstream_walk.hpp"

namespace kiln::core {

std::vector<std::string> suggest_resume_nodes(const Pipeline& pipeline, const std::vector<char>& done,
                                              const DataCatalog& catalog) {
    const auto& nodes = pipeline.nodes();
    const auto& names = pipeline.dataset_names();
    bool any_done = std::any_of(done.begin(), done.end(), [](char d) { return d != 0; });
    bool all_done = std::all_of(done.begin(), done.end(), [](char d) { return d != 0; });
    if (!any_done || all_done) return {};

    // Start from what did not run and walk up through inputs that only lived in memory:
    // their producers must run again.
    std::vector<char> chosen = mark_upstream(
        pipeline, done, [&](std::uint32_t d) { return !is_parameter_name(names[d]) && !catalog.persists(names[d]); });
    std::vector<std::size_t> queue;
    // Kedro then takes everything downstream of those (what --from-nodes will run) and
    // suggests the first layer of that: the nodes with no producer inside it.
    for (std::size_t i = 0; i < nodes.size(); ++i)
        if (chosen[i]) queue.push_back(i);
    while (!queue.empty()) {
        std::size_t i = queue.back();
        queue.pop_back();
        for (std::uint32_t d : nodes[i].output_ids)
            for (std::size_t c : pipeline.consumers_of(d))
                if (!chosen[c]) {
                    chosen[c] = 1;
                    queue.push_back(c);
                }
    }
    std::vector<std::string> starts;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (!chosen[i]) continue;
        bool has_chosen_parent = false;
        for (std::uint32_t d : nodes[i].input_ids) {
            std::size_t producer = pipeline.producer_of(d);
            if (producer != Pipeline::npos && chosen[producer]) {
                has_chosen_parent = true;
                break;
            }
        }
        if (!has_chosen_parent) starts.push_back(nodes[i].name);
    }
    std::sort(starts.begin(), starts.end());
    return starts;
}

}  // namespace kiln::core
