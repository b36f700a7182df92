#include "run/host_run_context.hpp"

#include <algorithm>

#include "run/run_guard.hpp"

namespace kiln::core {

// ---------------------------------------------------------------------- HostReadySet

std::size_t HostReadySet::next() noexcept {
    if (interrupt_signal()) return none;
    const std::optional<std::size_t> node = scheduler_.next();
    return node ? *node : none;
}

std::size_t HostReadySet::candidates(std::size_t* out, std::size_t limit) const noexcept {
    if (interrupt_signal() || !out) return 0;
    return scheduler_.candidates(out, limit);
}

bool HostReadySet::take(std::size_t node) noexcept {
    if (interrupt_signal()) return false;
    return scheduler_.take(node);
}

void HostReadySet::give_back(std::size_t node) noexcept {
    if (scheduler_.is_running(node)) scheduler_.unstart(node);
}

void HostReadySet::settle(std::size_t node) noexcept {
    // Only a node the set started; settling one twice changes nothing.
    if (!scheduler_.is_running(node)) return;
    switch (lifecycle_.state(node)) {
        case NodeLifecycle::State::done: scheduler_.succeeded(node); break;
        case NodeLifecycle::State::failed: scheduler_.failed(node); break;
        // Refused before it started (the run was interrupted): it may run another time.
        case NodeLifecycle::State::pending: scheduler_.unstart(node); break;
        // Still running by the lifecycle's account: the runner settles it too early;
        // keep it running, so that the run cannot end with it unaccounted for.
        case NodeLifecycle::State::running: break;
    }
}

bool HostReadySet::finished() const noexcept {
    return scheduler_.finished() || (interrupt_signal() && scheduler_.running() == 0);
}

// -------------------------------------------------------------------- HostRunContext

namespace {
// Anything that constrains which nodes may run together: then the needs are read (and
// validated) before the run, for the lifecycle and the ready set.
bool constrained(const Pipeline& pipeline, const RunnerOptions& options) {
    const auto& nodes = pipeline.nodes();
    return !options.resources.empty() ||
           std::any_of(nodes.begin(), nodes.end(), [](const Node& n) { return !n.resources.is_null(); });
}
}  // namespace

HostRunContext::HostRunContext(RunPlan& plan, const NodeEventStream* events, const RunnerOptions& options,
                               std::string runner, NodeLifecycle::Checks checks)
    : options_(options),
      lifecycle_(plan, events, std::move(runner),
                 constrained(plan.pipeline(), options) ? read_resource_needs(plan.pipeline(), options.resources)
                                                       : ResourceNeeds{},
                 checks),
      catalog_(plan) {
    for (const auto& [name, cap] : options_.resources) caps_.push_back(ResourceCap{name, cap});
    settings_.run_id = plan.run_id();
    settings_.max_workers = options_.max_workers.value_or(0);
    settings_.is_async = options_.is_async;
    settings_.keep_going = options_.keep_going;
    settings_.resources = caps_;
    // The needs were read (and validated) once, for the lifecycle: the ready set shares them.
    if (constrained(plan.pipeline(), options_))
        ready_.emplace(plan.pipeline(), lifecycle_, lifecycle_.resources(), options_.keep_going);
}

bool HostRunContext::stop_requested() const noexcept { return interrupt_signal() != 0; }

NodeView HostRunContext::node(std::size_t i) const noexcept {
    if (i >= lifecycle_.size()) return {};
    std::call_once(views_built_, [this] { views_ = make_node_views(plan().pipeline()); });
    return views_[i];
}

ReadySet& HostRunContext::ready_set() noexcept {
    // Unconstrained, so building it cannot throw but for memory, like any allocation here.
    if (!ready_)
        ready_.emplace(plan().pipeline(), lifecycle_, read_resource_needs(plan().pipeline(), options_.resources),
                       options_.keep_going);
    return *ready_;
}

std::optional<std::uint32_t> HostRunContext::memory_slot(std::string_view dataset) const noexcept {
    try {
        auto id = plan().pipeline().dataset_id(std::string(dataset));
        if (!id) return std::nullopt;
        std::uint32_t slot = plan().dataset_slot(*id);
        if (slot == UINT32_MAX || plan().slot_kind(slot) != RunPlan::SlotKind::memory) return std::nullopt;
        return slot;
    } catch (...) {
        return std::nullopt;
    }
}

const Value* HostRunContext::value(std::string_view dataset) const noexcept {
    auto slot = memory_slot(dataset);
    if (!slot) return nullptr;
    const Value& v = plan().slot_value(*slot);
    return v.empty() ? nullptr : &v;
}

bool HostRunContext::set_value(std::string_view dataset, Value value) noexcept {
    auto slot = memory_slot(dataset);
    if (!slot) return false;
    if (!value.empty() && value.type_name() != plan().slot_type(*slot)->name) return false;
    plan().set_slot_value(*slot, std::move(value));
    return true;
}

const TypeOps* HostRunContext::value_type(std::string_view dataset) const noexcept {
    try {
        return plan().dataset_type(dataset);
    } catch (...) {
        return nullptr;
    }
}

RunOutcome run_in_context(RunPlan& plan, const NodeEventStream* events, const RunnerOptions& options,
                          const std::string& runner, const std::function<void(HostRunContext&)>& schedule,
                          NodeLifecycle::Checks checks) {
    HostRunContext context(plan, events, options, runner, checks);
    schedule(context);
    return context.outcome();
}

}  // namespace kiln::core
