// The hooks enabled for one run, and the calls into them. Hook code is plugin code: every
// call goes through its noexcept handle, and a failure is reported with the hook's name.
// The node hooks are a NodeObserver of the run's one event stream: it listens only to the
// groups some enabled hook implements. A hook is told only of the points its plugin's ABI
// minor has (docs/abi.md), whatever its points() says.
//
//   HookDispatcher hooks(enable_hooks(registry, requests, project));
//   hooks.after_context_created(context);   // before the catalog exists
//   hooks.bind(plan, catalog_view);         // then the node events and the rest
//   hooks.after_catalog_created(catalog);
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/detail/abi.hpp"
#include "kiln/detail/handles.hpp"
#include "kiln/hooks.hpp"
#include "run/node_observer.hpp"
#include "run/run_plan.hpp"

namespace kiln::core {

// The SDK's plumbing (kiln/detail/handles.hpp): the host's side of a hook object.
using kiln::detail::HookEvent;
using kiln::detail::HookHandle;
using kiln::detail::HookPoint;

struct EnabledHook {
    std::string name;         // qualified, e.g. "trace.ChromeTrace"
    std::string plugin_file;  // for messages
    std::unique_ptr<HookHandle> handle;
    std::uint32_t plugin_abi_minor = kiln::detail::abi_minor;
};

class HookDispatcher final : public NodeObserver {
public:
    // Unbound: only after_context_created may be fired until bind().
    explicit HookDispatcher(std::vector<EnabledHook> hooks);
    // Bound at once; `plan` and `catalog` must outlive the dispatcher (node views point
    // into the plan's pipeline).
    HookDispatcher(std::vector<EnabledHook> hooks, const RunPlan& plan, const CatalogView& catalog);
    void bind(const RunPlan& plan, const CatalogView& catalog);

    bool empty() const { return hooks_.empty(); }
    const std::vector<NodeView>& node_views() const { return views_; }

    // Pipeline hooks. Return "" or the failure message naming the hook.
    std::string after_context_created(const ContextInfo& context);
    std::string after_catalog_created(const CatalogInfo& catalog);
    std::string before_pipeline_run(const PipelineRunInfo& run);
    std::string after_pipeline_run(const PipelineRunInfo& run, std::span<const NamedValue> outputs);
    void on_pipeline_error(const PipelineRunInfo& run, std::string_view error) noexcept;

    unsigned listens_to() const noexcept override { return listens_to_; }
    // Each throws kiln::NodeError naming the node and the hook that failed.
    void before_load(std::size_t node, const std::string& dataset) override;
    void after_load(std::size_t node, const std::string& dataset, const Value* data) override;
    void before_node(std::size_t node, unsigned worker, std::span<const NamedValue> inputs) override;
    // Each hook's replace_input values are checked (an input of the node, of its type) and
    // added to `replacements`; with null `replacements` any is refused.
    void before_node_replacing(std::size_t node, unsigned worker, std::span<const NamedValue> inputs,
                               std::vector<InputReplacement>* replacements) override;
    void after_node(std::size_t node, unsigned worker, std::span<const NamedValue> inputs,
                    std::span<const NamedValue> outputs, std::uint64_t max_rss_bytes) override;
    void before_save(std::size_t node, const std::string& dataset, const Value* data) override;
    void after_save(std::size_t node, const std::string& dataset, const Value* data) override;
    void node_error(std::size_t node, unsigned worker, std::span<const NamedValue> inputs, const std::string& error,
                    std::uint64_t max_rss_bytes) noexcept override;

private:
    struct Hook {
        EnabledHook enabled;
        std::uint32_t points;
    };
    // Calls every hook that implements the event's point; returns "" or the first failure.
    std::string fire(const HookEvent& event) noexcept;
    void fire_or_throw(const HookEvent& event, std::size_t node);
    // "" or why `given` cannot replace the node's inputs (`remote`: it runs elsewhere).
    std::string replacement_problem(const Hook& hook, std::size_t node, const std::vector<InputReplacement>& given,
                                    bool remote) const;
    void dataset_event(HookPoint point, std::size_t node, const std::string& dataset, const Value* data);
    NodeRunInfo node_run_info(std::size_t node, unsigned worker, std::span<const NamedValue> inputs,
                         std::span<const NamedValue> outputs, std::uint64_t max_rss) const;

    std::vector<Hook> hooks_;
    std::uint32_t points_ = 0;
    unsigned listens_to_ = 0;
    const RunPlan* plan_ = nullptr;
    const CatalogView* catalog_ = nullptr;
    std::vector<NodeView> views_;
};

// The peak resident memory of this process, in bytes.
std::uint64_t max_rss_bytes() noexcept;

}  // namespace kiln::core
