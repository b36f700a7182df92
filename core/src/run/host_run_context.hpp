// The host's side of a run, as every runner sees it: the SDK's RunContext (kiln/runner.hpp)
// over the one node lifecycle (node_lifecycle.hpp) and the ready set (scheduler.hpp).
// Plugin runners get it through the SDK; the built-in runners are written against the
// same contract, so they all check, record and report nodes the same way.
#pragma once

#include <functional>
#include <mutex>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kiln/runner.hpp"
#include "run/node_lifecycle.hpp"
#include "run/run_views.hpp"
#include "run/scheduler.hpp"

namespace kiln::core {

class HostRunContext;

// The SDK's ReadySet over a Scheduler: reads each settled node's outcome from the
// lifecycle, and starts nothing once the run is interrupted.
class HostReadySet final : public ReadySet {
public:
    HostReadySet(const Pipeline& pipeline, const NodeLifecycle& lifecycle, ResourceNeeds resources, bool keep_going)
        : scheduler_(std::move(resources), pipeline, keep_going), lifecycle_(lifecycle) {}

    std::size_t next() noexcept override;
    std::size_t candidates(std::size_t* out, std::size_t limit) const noexcept override;
    bool take(std::size_t node) noexcept override;
    void give_back(std::size_t node) noexcept override;
    void settle(std::size_t node) noexcept override;
    std::size_t running() const noexcept override { return scheduler_.running(); }
    std::size_t ready_count() const noexcept override { return scheduler_.ready_count(); }
    bool finished() const noexcept override;

private:
    Scheduler scheduler_;
    const NodeLifecycle& lifecycle_;
};

class HostRunContext final : public RunContext {
public:
    // Throws kiln::RunnerError, before anything runs, when a node's "resources" are
    // malformed or exceed a cap (it could never run), or a cap is not a number >= 0.
    HostRunContext(RunPlan& plan, const NodeEventStream* events, const RunnerOptions& options, std::string runner,
                   NodeLifecycle::Checks checks = NodeLifecycle::Checks::all);

    std::size_t node_count() const noexcept override { return lifecycle_.size(); }
    NodeView node(std::size_t i) const noexcept override;
    std::span<const std::size_t> dependencies(std::size_t i) const noexcept override {
        return i < lifecycle_.size() ? lifecycle_.dependencies(i) : std::span<const std::size_t>();
    }
    const CatalogView& catalog() const noexcept override { return catalog_; }
    const RunSettings& settings() const noexcept override { return settings_; }
    bool stop_requested() const noexcept override;

    bool run_node(std::size_t i, unsigned worker, std::string* error) noexcept override {
        return lifecycle_.run_here(i, worker, error);
    }
    bool run_delegated(std::size_t i, unsigned worker, std::string* error) noexcept override {
        return lifecycle_.run_delegated(i, worker, error);
    }
    bool remote_started(std::size_t i, unsigned worker, std::string* error) noexcept override {
        return lifecycle_.start_remote(i, worker, error);
    }
    bool remote_finished(std::size_t i, unsigned worker, const std::string* failure,
                         std::uint64_t max_rss_bytes) noexcept override {
        return lifecycle_.finish_remote(i, worker, failure, max_rss_bytes);
    }

    const Value* value(std::string_view dataset) const noexcept override;
    bool set_value(std::string_view dataset, Value value) noexcept override;
    const TypeOps* value_type(std::string_view dataset) const noexcept override;

    ReadySet& ready_set() noexcept override;

    // For the built-in runners, which also move values themselves (the ParallelRunner).
    RunPlan& plan() const { return lifecycle_.plan(); }
    const RunnerOptions& options() const { return options_; }
    RunOutcome outcome() const { return lifecycle_.outcome(); }

private:
    std::optional<std::uint32_t> memory_slot(std::string_view dataset) const noexcept;

    RunnerOptions options_;
    NodeLifecycle lifecycle_;
    PlanCatalogView catalog_;
    // Built on first use, as the dependency lists: the built-in runners never ask.
    mutable std::once_flag views_built_;
    mutable std::vector<NodeView> views_;
    std::vector<ResourceCap> caps_;  // views of options_.resources
    RunSettings settings_;
    // Built before the run when anything constrains it (which validates the resources);
    // otherwise on first use, so a runner that needs no ready set pays nothing for it.
    std::optional<HostReadySet> ready_;
};

// A run: the runner's scheduling part over a fresh context; what the nodes did.
// Exceptions from `schedule` propagate (the built-in runners' own errors).
RunOutcome run_in_context(RunPlan& plan, const NodeEventStream* events, const RunnerOptions& options,
                          const std::string& runner, const std::function<void(HostRunContext&)>& schedule,
                          NodeLifecycle::Checks checks = NodeLifecycle::Checks::all);

}  // namespace kiln::core
