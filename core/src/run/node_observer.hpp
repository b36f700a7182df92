// One listener to what happens to a run's nodes. The run journal, the report's timeline,
// the progress line and the hooks all implement it; the session registers them in one
// NodeEventStream (node_event_stream.hpp), and the lifecycle and the plan fire each event
// once into that stream.
//
//   class Counter final : public NodeObserver {
//   public:
//       unsigned listens_to() const noexcept override { return node_progress; }
//       void node_finished(std::size_t, unsigned, const NodeFailure* f) override { failed += f != nullptr; }
//       std::atomic<int> failed{0};
//   };
//
// Thread safety: under a concurrent runner every event may come from any worker thread,
// several at once (never two for the same node at once). Events a class does not list in
// listens_to() never reach it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kiln/hooks.hpp"
#include "kiln/run_view.hpp"

namespace kiln::core {

// Where a node failure is reported; runners catch nothing else.
struct NodeFailure {
    std::size_t node = 0;  // index into pipeline().nodes()
    std::string message;   // already names the node and, for I/O, the dataset
};

class NodeObserver {
public:
    // Groups of events, as bits of listens_to().
    enum Events : unsigned {
        node_progress = 1u << 0,  // node_started, node_finished
        dataset_io = 1u << 1,     // before_load, after_load, before_save, after_save
        node_run = 1u << 2,       // before_node, after_node, node_error
    };

    virtual ~NodeObserver() = default;

    // Read once, when the observer joins a stream.
    virtual unsigned listens_to() const noexcept = 0;

    // node_progress: the node starts, and ends (`failure` null when it completed). Told on
    // the thread that runs the node, or that learns of it when it ran in another process.
    // A throw fails the node.
    virtual void node_started(std::size_t node, unsigned worker);
    virtual void node_finished(std::size_t node, unsigned worker, const NodeFailure* failure);

    // dataset_io, between node_started and node_finished. `data` is null when the value
    // lives in another process. A throw (kiln::NodeError) fails the node.
    virtual void before_load(std::size_t node, const std::string& dataset);
    virtual void after_load(std::size_t node, const std::string& dataset, const Value* data);
    virtual void before_save(std::size_t node, const std::string& dataset, const Value* data);
    virtual void after_save(std::size_t node, const std::string& dataset, const Value* data);

    // node_run: around the node's function. max_rss_bytes: measured where the node ran; 0
    // to measure this process. before_node and after_node may throw kiln::NodeError, which
    // fails the node; node_error (the node failed, after any of the above) reports its own
    // failures.
    virtual void before_node(std::size_t node, unsigned worker, std::span<const NamedValue> inputs);
    // before_node for an observer that may give the node other inputs (the hooks): it adds
    // them to `replacements`, checked against the node's inputs. `replacements` is null
    // when the node runs in another process, where none can be given (the observer then
    // throws kiln::NodeError if it has some). The default calls before_node.
    virtual void before_node_replacing(std::size_t node, unsigned worker, std::span<const NamedValue> inputs,
                                       std::vector<InputReplacement>* replacements);
    virtual void after_node(std::size_t node, unsigned worker, std::span<const NamedValue> inputs,
                            std::span<const NamedValue> outputs, std::uint64_t max_rss_bytes);
    virtual void node_error(std::size_t node, unsigned worker, std::span<const NamedValue> inputs,
                            const std::string& error, std::uint64_t max_rss_bytes) noexcept;
};

}  // namespace kiln::core
