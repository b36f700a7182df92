// The life of one node in a run, written once for every runner: the check that it may
// start, its events into the run's one stream (node_event_stream.hpp: journal, progress,
// report, hooks), loading, calling and saving (RunPlan::execute), freeing values nothing
// reads any more, recording a failure, and the "Completed node" log. It also holds every runner to the --resources caps: a
// node starts only when what it declares fits (runners that use the ready set never wait
// here; a plugin runner that ignores it does). Runners only decide which node runs when, and where; they
// reach this through the RunContext (kiln/runner.hpp) that HostRunContext implements.
//
// Thread safe for distinct nodes: a concurrent runner calls it from its workers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "run/runner.hpp"
#include "run/scheduler.hpp"

namespace kiln::core {

class NodeLifecycle {
public:
    enum class State : std::uint8_t { pending, running, done, failed };

    // `runner` names the runner in refusals ("runner X started node 'b' before ...");
    // `resources`: what nodes need of the capped resources (read_resource_needs).
    // A `trusted` runner (a built-in one: it orders nodes through the ready set or in
    // topological order) is not checked for starting a node early or twice, which saves
    // reading every node's inputs again; the caps are enforced all the same.
    enum class Checks { all, trusted_runner };
    // `events`: where the node events go (null for none); it must outlive the lifecycle.
    NodeLifecycle(RunPlan& plan, const NodeEventStream* events, std::string runner, ResourceNeeds resources = {},
                  Checks checks = Checks::all);
    NodeLifecycle(const NodeLifecycle&) = delete;
    NodeLifecycle& operator=(const NodeLifecycle&) = delete;

    RunPlan& plan() const { return plan_; }
    std::size_t size() const { return states_.size(); }
    // The producers of node i's inputs, ascending (all lower than i). Built on first use:
    // the built-in runners never ask, and a run should not pay for it per node.
    std::span<const std::size_t> dependencies(std::size_t i) const;
    State state(std::size_t i) const { return states_[i].load(std::memory_order_acquire); }
    const ResourceNeeds& resources() const { return resources_; }

    // Runs node i in the calling thread. False, with the message in *error, when it did
    // not complete: it failed (recorded), the runner broke the contract (recorded, naming
    // the runner), or the run was interrupted before it started (nothing recorded: it
    // stays pending, for --resume).
    bool run_here(std::size_t i, unsigned worker, std::string* error) noexcept;
    // For a node that runs in another process (a worker, an MPI rank): start_remote does
    // what comes before it (claim, node_started, the stream's remote_before); finish_remote
    // what comes after (`failure`: nullptr on success). Both return whether the node is
    // still good.
    bool start_remote(std::size_t i, unsigned worker, std::string* error) noexcept;
    bool finish_remote(std::size_t i, unsigned worker, const std::string* failure, std::uint64_t max_rss) noexcept;
    // Runs node i here for a scheduler elsewhere: no checks, no record, no node_started or
    // node_finished (its dataset and node-run events fire if this process has listeners).
    bool run_delegated(std::size_t i, unsigned worker, std::string* error) noexcept;

    // What the run did: per node done, the failures in order. `runner_error` is set when
    // the runner broke its contract (refused request, a node left unfinished).
    RunOutcome outcome() const;

private:
    bool claim(std::size_t i, std::string* error);
    [[gnu::cold, gnu::noinline]] bool claim_refused(std::size_t i, bool taken, std::string* error);
    bool acquire_resources(std::size_t i);
    void release_resources(std::size_t i) noexcept;
    void succeeded(std::size_t i, unsigned worker);
    [[gnu::cold]] void log_completed(std::size_t i) noexcept;
    void record_failure(std::size_t i, const std::string& message, unsigned worker) noexcept;
    bool refuse(std::string* error, const std::string& what, std::size_t node = SIZE_MAX) noexcept;

    RunPlan& plan_;
    const NodeEventStream* events_;
    const std::string runner_;
    const bool progress_;  // "Completed node" lines at info level
    const bool check_requests_;
    // Dependencies as flat arrays: node i's are deps_[dep_start_[i] .. dep_start_[i + 1]).
    mutable std::once_flag deps_built_;
    mutable std::vector<std::uint32_t> dep_start_;
    mutable std::vector<std::size_t> deps_;
    std::unique_ptr<std::atomic<State>[]> states_storage_;
    std::span<std::atomic<State>> states_;
    std::atomic<std::size_t> completed_{0};  // for the progress lines only

    // The caps, enforced for constrained nodes only: others never touch the lock.
    const ResourceNeeds resources_;
    std::mutex gate_mutex_;
    std::condition_variable gate_cv_;
    std::vector<double> in_use_;  // guarded by gate_mutex_, per capped resource
    std::vector<char> holding_;   // guarded by gate_mutex_, per node: its resources are taken

    mutable std::mutex mutex_;               // guards the two lists, and orders the progress lines
    std::vector<NodeFailure> failures_;      // in the order they happened
    std::vector<std::string> contract_errors_;  // refusals not tied to a node
};

}  // namespace kiln::core
