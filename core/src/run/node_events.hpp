// What happens around one node's execution, for hooks: fired by RunPlan::execute in the
// process that runs the node, or by the ParallelRunner's host around a worker's run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "kiln/run_view.hpp"

namespace kiln::core {

class NodeEvents {
public:
    virtual ~NodeEvents() = default;
    // Which groups of events anyone listens to; the rest are not fired at all.
    virtual bool wants_dataset_events() const noexcept = 0;
    virtual bool wants_node_events() const noexcept = 0;

    // Each may throw kiln::NodeError (a hook failed), which fails the node.
    virtual void before_load(std::size_t node, const std::string& dataset) = 0;
    virtual void after_load(std::size_t node, const std::string& dataset, const Value* data) = 0;
    virtual void before_node(std::size_t node, unsigned worker, std::span<const NamedValue> inputs) = 0;
    // max_rss_bytes: measured where the node ran; 0 to measure this process.
    virtual void after_node(std::size_t node, unsigned worker, std::span<const NamedValue> inputs,
                            std::span<const NamedValue> outputs, std::uint64_t max_rss_bytes) = 0;
    virtual void before_save(std::size_t node, const std::string& dataset, const Value* data) = 0;
    virtual void after_save(std::size_t node, const std::string& dataset, const Value* data) = 0;
    // The node failed (after any of the above); reports hook failures itself.
    virtual void node_error(std::size_t node, unsigned worker, std::span<const NamedValue> inputs,
                            const std::string& error, std::uint64_t max_rss_bytes) noexcept = 0;
};

}  // namespace kiln::core
