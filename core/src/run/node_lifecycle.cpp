#include "run/node_lifecycle.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

#include "config/redaction.hpp"
#include "run/run_guard.hpp"

namespace kiln::core {

NodeLifecycle::NodeLifecycle(RunPlan& plan, const NodeEventStream* events, std::string runner,
                             ResourceNeeds resources, Checks checks)
    : plan_(plan), events_(events), runner_(std::move(runner)),
      progress_(spdlog::should_log(spdlog::level::info)), check_requests_(checks == Checks::all),
      resources_(std::move(resources)) {
    if (resources_.any()) {
        in_use_.assign(resources_.names.size(), 0.0);
        holding_.assign(plan.size(), 0);
    }
    const std::size_t n = plan.pipeline().size();
    states_storage_ = std::make_unique<std::atomic<State>[]>(n);
    states_ = {states_storage_.get(), n};
    for (auto& s : states_) s.store(State::pending, std::memory_order_relaxed);
}

std::span<const std::size_t> NodeLifecycle::dependencies(std::size_t i) const {
    std::call_once(deps_built_, [this] {
        const Pipeline& p = plan_.pipeline();
        const std::size_t n = p.size();
        dep_start_.assign(n + 1, 0);
        deps_.reserve(n);
        for (std::size_t k = 0; k < n; ++k) {
            const auto first = static_cast<std::ptrdiff_t>(deps_.size());
            for (std::uint32_t d : p.nodes()[k].input_ids)
                if (std::size_t producer = p.producer_of(d); producer < n) deps_.push_back(producer);
            std::sort(deps_.begin() + first, deps_.end());
            deps_.erase(std::unique(deps_.begin() + first, deps_.end()), deps_.end());
            dep_start_[k + 1] = static_cast<std::uint32_t>(deps_.size());
        }
    });
    return {deps_.data() + dep_start_[i], deps_.data() + dep_start_[i + 1]};
}

// Node i may start: it exists, has not started, its dependencies completed, and the run
// goes on. Otherwise the refusal is recorded (naming the runner) and false returned. The
// common case stays small enough to inline into run_here: it is paid once per node.
inline bool NodeLifecycle::claim(std::size_t i, std::string* error) {
    bool taken = false;
    if (!check_requests_ && !interrupt_signal()) [[likely]] {
        // Not even marked running: one store a node fewer on a cache line the workers
        // share. A trusted runner's node in progress reads as pending.
        taken = true;
        if (!resources_.constrains(i)) [[likely]]
            return true;
    } else if (i < size() && !interrupt_signal()) [[likely]] {
        State expected = State::pending;
        taken = states_[i].compare_exchange_strong(expected, State::running, std::memory_order_acq_rel);
        if (taken) [[likely]] {
            // Straight from the pipeline's producer table: no per-run lists to build.
            const Pipeline& p = plan_.pipeline();
            bool ready = true;
            for (std::uint32_t input : p.nodes()[i].input_ids)
                if (std::size_t d = p.producer_of(input); d < size() && state(d) != State::done) ready = false;
            if (ready && !resources_.constrains(i)) [[likely]]
                return true;
        }
    }
    return claim_refused(i, taken, error);
}

inline void NodeLifecycle::succeeded(std::size_t i, unsigned worker) {
    plan_.release_after(i);
    // Observers first: a journal that throws (it never does) or a report that cannot be
    // written fails the node rather than vanishing. The resources go back after: by the
    // report's times, nodes sharing a cap never overlap.
    if (events_) events_->node_finished(i, worker, nullptr);
    states_[i].store(State::done, std::memory_order_release);
    if (resources_.any()) release_resources(i);
    if (progress_) log_completed(i);
}

bool NodeLifecycle::run_here(std::size_t i, unsigned worker, std::string* error) noexcept {
    try {
        if (!claim(i, error)) return false;
        if (events_) events_->node_started(i, worker);
        plan_.execute(i, worker, events_);
        succeeded(i, worker);
        return true;
    } catch (const std::exception& e) {
        if (error) *error = redact(e.what());
        record_failure(i, e.what(), worker);
    } catch (...) {
        const std::string message = "node '" + plan_.pipeline().nodes()[i].name + "' failed with an unknown exception";
        if (error) *error = message;
        record_failure(i, message, worker);
    }
    return false;
}

bool NodeLifecycle::start_remote(std::size_t i, unsigned worker, std::string* error) noexcept {
    try {
        if (!claim(i, error)) return false;
        if (events_) {
            events_->node_started(i, worker);
            events_->remote_before(plan_, i, worker);
        }
        return true;
    } catch (const std::exception& e) {
        if (error) *error = redact(e.what());
        record_failure(i, e.what(), worker);
    }
    return false;
}

bool NodeLifecycle::finish_remote(std::size_t i, unsigned worker, const std::string* failure,
                                  std::uint64_t max_rss) noexcept {
    if (i >= size()) return false;
    if (const State s = state(i); s != State::running && !(s == State::pending && !check_requests_)) return false;
    if (failure) {
        if (events_) events_->remote_error(plan_, i, worker, redact(*failure), max_rss);
        record_failure(i, *failure, worker);
        return false;
    }
    try {
        if (events_) events_->remote_after(plan_, i, worker, max_rss);
        succeeded(i, worker);
        return true;
    } catch (const std::exception& e) {
        record_failure(i, e.what(), worker);
    }
    return false;
}

bool NodeLifecycle::run_delegated(std::size_t i, unsigned worker, std::string* error) noexcept {
    if (i >= size())
        return refuse(error, "asked to run node " + std::to_string(i) + " of a pipeline of " + std::to_string(size()) +
                                 " nodes");
    try {
        // The scheduling process keeps the node's state and fires its events (through
        // remote_started / remote_finished), so none fire here: a runner relaying nodes
        // within the host would otherwise run every hook twice.
        plan_.execute(i, worker, nullptr);
        return true;
    } catch (const std::exception& e) {
        if (error) *error = redact(e.what());
        return false;
    }
}

// The slow half of claim: which check failed, the refusal, or the wait for resources.
bool NodeLifecycle::claim_refused(std::size_t i, bool taken, std::string* error) {
    if (i >= size())
        return refuse(error, "asked to run node " + std::to_string(i) + " of a pipeline of " + std::to_string(size()) +
                                 " nodes");
    const std::string& name = plan_.pipeline().nodes()[i].name;
    const std::string not_started = "node '" + name + "' was not started: the run was interrupted";
    if (!taken) {
        if (interrupt_signal()) {
            // Not the runner's fault, nor the node's: it simply does not start.
            if (error) *error = not_started;
            return false;
        }
        return refuse(error, "ran node '" + name + "' twice");
    }
    const Pipeline& p = plan_.pipeline();
    if (check_requests_)
        for (std::uint32_t input : p.nodes()[i].input_ids)
            if (std::size_t d = p.producer_of(input); d < size() && state(d) != State::done)
                return refuse(error, "started node '" + name + "' before its dependency '" + p.nodes()[d].name +
                                         "' completed", i);
    if (!acquire_resources(i)) {
        states_[i].store(State::pending, std::memory_order_release);
        if (error) *error = not_started;
        return false;
    }
    return true;
}

// Waits until node i's declared resources fit under the caps, and takes them; false when
// the run is interrupted meanwhile.
bool NodeLifecycle::acquire_resources(std::size_t i) {
    if (!resources_.constrains(i)) return true;
    std::unique_lock lock(gate_mutex_);
    while (!resources_.fits(i, in_use_)) {
        if (interrupt_signal()) return false;
        gate_cv_.wait_for(lock, std::chrono::milliseconds(50));  // also to notice Ctrl-C
    }
    resources_.add(i, in_use_, +1);
    holding_[i] = 1;
    return true;
}

void NodeLifecycle::release_resources(std::size_t i) noexcept {
    if (!resources_.constrains(i)) return;
    {
        std::lock_guard lock(gate_mutex_);
        if (!holding_[i]) return;
        holding_[i] = 0;
        resources_.add(i, in_use_, -1);
    }
    gate_cv_.notify_all();
}

// Under the lock, so that the counts come out in order. The node is done whatever
// happens to the log line.
void NodeLifecycle::log_completed(std::size_t i) noexcept {
    std::lock_guard lock(mutex_);
    const std::size_t completed = completed_.fetch_add(1, std::memory_order_relaxed) + 1;
    try {
        spdlog::info("Completed node: {}", plan_.pipeline().nodes()[i].name);
        spdlog::info("Completed {} out of {} tasks", completed, size());
    } catch (...) {
    }
}

void NodeLifecycle::record_failure(std::size_t i, const std::string& message, unsigned worker) noexcept {
    if (i >= size()) return;
    // Only a node this run started can fail; told to observers once, whatever happens.
    State expected = State::running;
    if (!states_[i].compare_exchange_strong(expected, State::failed, std::memory_order_acq_rel)) {
        expected = State::pending;  // a trusted runner's nodes in progress are not marked running
        if (check_requests_ || !states_[i].compare_exchange_strong(expected, State::failed, std::memory_order_acq_rel))
            return;
    }
    try {
        NodeFailure failure{i, redact(message)};  // a dataset's error may quote its credentials
        {
            std::lock_guard lock(mutex_);
            failures_.push_back(failure);
        }
        if (events_) events_->node_finished(i, worker, &failure);
    } catch (...) {
        // Out of memory for the message: the node's state says failed; outcome() reports it.
    }
    release_resources(i);
}

bool NodeLifecycle::refuse(std::string* error, const std::string& what, std::size_t node) noexcept {
    try {
        const std::string message = "runner " + runner_ + " " + what;
        if (error) *error = message;
        if (node != SIZE_MAX) {
            record_failure(node, message, 0);
        } else {
            std::lock_guard lock(mutex_);
            contract_errors_.push_back(message);
        }
    } catch (...) {
    }
    return false;
}

RunOutcome NodeLifecycle::outcome() const {
    RunOutcome o;
    o.done.resize(size());
    std::optional<std::size_t> unfinished;
    std::size_t failed = 0;
    for (std::size_t i = 0; i < size(); ++i) {
        const State s = state(i);
        o.done[i] = s == State::done ? 1 : 0;
        failed += s == State::failed;
        if (s == State::running && !unfinished) unfinished = i;
    }
    std::lock_guard lock(mutex_);
    o.failures = failures_;
    // A failure whose message could not be kept (out of memory) still fails the run.
    if (failed > o.failures.size()) {
        std::vector<char> listed(size(), 0);
        for (const auto& f : o.failures) listed[f.node] = 1;
        for (std::size_t i = 0; i < size(); ++i)
            if (state(i) == State::failed && !listed[i])
                o.failures.push_back(NodeFailure{i, "node '" + plan_.pipeline().nodes()[i].name + "' failed"});
    }
    if (!contract_errors_.empty()) {
        o.runner_error = contract_errors_.front();
    } else if (unfinished && !interrupt_signal()) {
        o.runner_error = "runner " + runner_ + " returned while node '" + plan_.pipeline().nodes()[*unfinished].name +
                         "' had not finished";
    } else if (unfinished) {
        o.runner_error = "interrupted (signal " + std::to_string(interrupt_signal()) + ")";
    }
    return o;
}

}  // namespace kiln::core
