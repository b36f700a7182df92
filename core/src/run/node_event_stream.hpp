// The one stream of node events in the host. The session adds every observer to it (hooks,
// journal, report timeline, progress line); the node lifecycle fires node_started and
// node_finished, RunPlan::execute the dataset and node-run events of a node it runs here,
// and the remote_* entry points the same events for a node that ran in another process.
//
//   NodeEventStream events{&hooks, &journal, &timeline};
//   runner.run(plan, &events);
//
// Each event goes to the observers that listen to its group, in the order they were added.
// A group nobody listens to costs an empty loop; a run without observers passes no stream.
//
// Thread safety: add() only before the run; the events may then be fired from any thread
// (the stream itself is only read).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "run/node_observer.hpp"

namespace kiln::core {

class RunPlan;

class NodeEventStream {
public:
    NodeEventStream() = default;
    NodeEventStream(std::initializer_list<NodeObserver*> observers);

    // Adds an observer (null is ignored) for the groups it listens_to(); it must outlive
    // the run.
    void add(NodeObserver* observer);

    bool wants_dataset_io() const noexcept { return !dataset_io_.empty(); }
    bool wants_node_run() const noexcept { return !node_run_.empty(); }
    // Whether RunPlan::execute has anything to tell (else it takes its fast path).
    bool wants_execution_events() const noexcept { return wants_dataset_io() || wants_node_run(); }

    // Each throws what an observer throws, and then tells no later observer.
    void node_started(std::size_t node, unsigned worker) const {
        for (NodeObserver* o : progress_) o->node_started(node, worker);
    }
    void node_finished(std::size_t node, unsigned worker, const NodeFailure* failure) const {
        for (NodeObserver* o : progress_) o->node_finished(node, worker, failure);
    }
    void before_load(std::size_t node, const std::string& dataset) const;
    void after_load(std::size_t node, const std::string& dataset, const Value* data) const;
    void before_save(std::size_t node, const std::string& dataset, const Value* data) const;
    void after_save(std::size_t node, const std::string& dataset, const Value* data) const;
    // `replacements`: where observers put inputs the node receives instead (checked
    // against its inputs), or null for a node run in another process, which refuses them.
    void before_node(std::size_t node, unsigned worker, std::span<const NamedValue> inputs,
                     std::vector<InputReplacement>* replacements) const;
    void after_node(std::size_t node, unsigned worker, std::span<const NamedValue> inputs,
                    std::span<const NamedValue> outputs, std::uint64_t max_rss_bytes) const;
    void node_error(std::size_t node, unsigned worker, std::span<const NamedValue> inputs, const std::string& error,
                    std::uint64_t max_rss_bytes) const noexcept;

    // A node that runs in another process (a ParallelRunner worker, an MPI rank): the
    // host fires its dataset and node-run events itself, in Kedro's order, with dataset
    // names and no values (the data stays where the node ran), and no input replacements
    // (an observer giving one fails the node). remote_before when the node
    // is sent (loads, then before_node), remote_after when its result is back (after_node,
    // then every before_save, then every after_save). A throw (a hook failed) is told to
    // node_error first, then rethrown. remote_error: the node failed over there.
    void remote_before(const RunPlan& plan, std::size_t node, unsigned worker) const;
    void remote_after(const RunPlan& plan, std::size_t node, unsigned worker, std::uint64_t max_rss_bytes) const;
    void remote_error(const RunPlan& plan, std::size_t node, unsigned worker, const std::string& error,
                      std::uint64_t max_rss_bytes) const noexcept;

private:
    std::vector<NodeObserver*> progress_, dataset_io_, node_run_;
};

}  // namespace kiln::core
