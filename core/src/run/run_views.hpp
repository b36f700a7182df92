// The read-only views of a run that runner and hook plugins get (kiln/run_view.hpp),
// built over the host's RunPlan.
#pragma once

#include <string>
#include <vector>

#include "kiln/run_view.hpp"
#include "run/run_plan.hpp"

namespace kiln::core {

// One NodeView per node of the plan, pointing into its Pipeline (which must outlive it).
std::vector<NodeView> make_node_views(const Pipeline& pipeline);

// The plan's fingerprint as a distributed runner's DistributedRunContext::plan_fingerprint
// computes it (kiln/detail/plan_fingerprint.hpp): spawned workers compare it with the host's.
std::string plan_fingerprint(const RunPlan& plan);

class PlanCatalogView final : public CatalogView {
public:
    explicit PlanCatalogView(const RunPlan& plan) : plan_(plan) {}
    bool is_persisted(std::string_view dataset) const noexcept override;
    std::string describe(std::string_view dataset) const noexcept override;
    bool exists(std::string_view dataset) const noexcept override;

private:
    const RunPlan& plan_;
};

}  // namespace kiln::core
