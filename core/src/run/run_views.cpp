#include "run/run_views.hpp"

#include "kiln/detail/plan_fingerprint.hpp"

namespace kiln::core {

std::vector<NodeView> make_node_views(const Pipeline& pipeline) {
    std::vector<NodeView> views;
    views.reserve(pipeline.size());
    for (std::size_t i = 0; i < pipeline.size(); ++i) {
        const Node& n = pipeline.nodes()[i];
        views.push_back(NodeView{i, n.name, n.func ? std::string_view(n.func->qualified_name) : std::string_view(),
                                 n.inputs, n.outputs, n.tags});
    }
    return views;
}

std::string plan_fingerprint(const RunPlan& plan) {
    const std::vector<NodeView> views = make_node_views(plan.pipeline());
    return kiln::detail::plan_fingerprint(
        views.size(), [&](std::size_t i) { return views[i]; },
        [&](std::string_view dataset) {
            const TypeOps* type = plan.dataset_type(dataset);
            return type ? type->name : std::string_view();
        });
}

namespace {
std::optional<std::uint32_t> slot_of(const RunPlan& plan, std::string_view dataset) {
    auto id = plan.pipeline().dataset_id(std::string(dataset));
    if (!id) return std::nullopt;
    std::uint32_t slot = plan.dataset_slot(*id);
    if (slot == UINT32_MAX) return std::nullopt;
    return slot;
}
}  // namespace

bool PlanCatalogView::is_persisted(std::string_view dataset) const noexcept {
    try {
        auto slot = slot_of(plan_, dataset);
        return slot && plan_.slot_kind(*slot) == RunPlan::SlotKind::persisted;
    } catch (...) {
        return false;
    }
}

std::string PlanCatalogView::describe(std::string_view dataset) const noexcept {
    try {
        auto slot = slot_of(plan_, dataset);
        if (!slot) return {};
        switch (plan_.slot_kind(*slot)) {
            case RunPlan::SlotKind::persisted: return plan_.slot_dataset(*slot)->description();
            case RunPlan::SlotKind::parameter: return "parameter";
            case RunPlan::SlotKind::memory: return "MemoryDataset";
        }
    } catch (...) {
    }
    return {};
}

bool PlanCatalogView::exists(std::string_view dataset) const noexcept {
    try {
        auto slot = slot_of(plan_, dataset);
        if (!slot) return false;
        if (auto* ds = plan_.slot_dataset(*slot)) return ds->exists();
        return !plan_.slot_value(*slot).empty();
    } catch (...) {
        return false;
    }
}

}  // namespace kiln::core
