#include "hooks/remote_node_events.hpp"

namespace kiln::core {

namespace {
std::vector<NamedValue> names_only(const RunPlan& plan, const std::vector<std::uint32_t>& slots) {
    std::vector<NamedValue> named;
    named.reserve(slots.size());
    for (std::uint32_t slot : slots) named.push_back({plan.slot_name(slot), nullptr});
    return named;
}
}  // namespace

void fire_remote_before(NodeEvents& events, const RunPlan& plan, std::size_t node, unsigned worker) {
    auto inputs = names_only(plan, plan.step_inputs(node));
    if (events.wants_dataset_events())
        for (const auto& in : inputs) {
            events.before_load(node, std::string(in.name));
            events.after_load(node, std::string(in.name), nullptr);
        }
    if (events.wants_node_events()) events.before_node(node, worker, inputs);
}

void fire_remote_after(NodeEvents& events, const RunPlan& plan, std::size_t node, unsigned worker,
                       std::uint64_t max_rss) {
    auto inputs = names_only(plan, plan.step_inputs(node));
    auto outputs = names_only(plan, plan.step_outputs(node));
    if (events.wants_node_events()) events.after_node(node, worker, inputs, outputs, max_rss);
    if (events.wants_dataset_events()) {
        for (const auto& out : outputs) events.before_save(node, std::string(out.name), nullptr);
        for (const auto& out : outputs) events.after_save(node, std::string(out.name), nullptr);
    }
}

void fire_remote_error(NodeEvents& events, const RunPlan& plan, std::size_t node, unsigned worker,
                       const std::string& error, std::uint64_t max_rss) noexcept {
    try {
        events.node_error(node, worker, names_only(plan, plan.step_inputs(node)), error, max_rss);
    } catch (...) {
        // node_error reports hook failures itself; only allocation can fail here.
    }
}

}  // namespace kiln::core
