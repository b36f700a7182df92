// Hook plugins: code that runs around a pipeline run, each node and each dataset load or
// save, with the arguments Kedro's hooks get. Override only what you need:
//
//     class NodeTimer : public kiln::Hooks {
//     public:
//         explicit NodeTimer(const kiln::HookConfig& config) : limit_(config.options.value("limit_s", 1.0)) {}
//         void after_node_run(const kiln::NodeRunInfo& run) override { ... }
//     };
//     KILN_PLUGIN(timing) { reg.hooks<NodeTimer>("NodeTimer"); }
//
// A project enables hooks in settings.json ({"hooks": ["timing.NodeTimer"]}, or
// {"hooks": [{"name": "timing.NodeTimer", "options": {"limit_s": 2}}]}) or per run with
// `kiln run --hooks timing.NodeTimer`. One object is made per run.
//
// Where they fire: always in the kiln host process, under every runner. SequentialRunner
// calls them from its one thread; ThreadRunner and plugin runners from their worker
// threads, concurrently for different nodes: guard shared state. Under ParallelRunner the
// nodes run in worker processes and the host fires the node and dataset hooks around
// each node (before when it is sent to a worker, after when its result is back), with
// null values: the data stays in the workers.
//
// An exception thrown by a node or dataset hook fails that node (its message names the
// hook); one thrown by a pipeline hook fails the run. It never crashes the host.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "kiln/run_view.hpp"

namespace kiln {

// What a hook object is constructed from.
struct HookConfig {
    std::string name;                   // qualified, e.g. "timing.NodeTimer"
    nlohmann::json options;             // from settings.json; an empty object when none
    std::filesystem::path project_dir;  // relative paths are relative to this
};

struct PipelineRunInfo {
    std::string_view run_id;
    std::string_view pipeline_name;
    std::string_view runner;
    std::filesystem::path project_dir;
    // Kedro's run_params: run_id, project_path, kiln_version, pipeline_name, runner,
    // node_names, from_nodes, to_nodes, tags, from_inputs, to_outputs, namespaces,
    // runtime_params, only_missing_outputs, is_async.
    const nlohmann::json* run_params = nullptr;
    std::span<const NodeView> nodes;  // what will run, in order
    const CatalogView* catalog = nullptr;
};

struct NodeRunInfo {
    NodeView node;
    std::span<const NamedValue> inputs;   // the loaded inputs
    std::span<const NamedValue> outputs;  // after_node_run only: what it returned
    const CatalogView* catalog = nullptr;
    std::string_view run_id;
    bool is_async = false;
    unsigned worker = 0;  // which worker thread or process ran it (0 for SequentialRunner)
    // after_node_run and on_node_error: the peak resident memory of the process that ran
    // the node, in bytes (0 when unknown).
    std::uint64_t max_rss_bytes = 0;
};

class Hooks {
public:
    virtual ~Hooks() = default;
    virtual void before_pipeline_run(const PipelineRunInfo& run) { (void)run; }
    // `outputs`: the pipeline's free outputs (values null when persisted in the catalog).
    virtual void after_pipeline_run(const PipelineRunInfo& run, std::span<const NamedValue> outputs) {
        (void)run, (void)outputs;
    }
    virtual void on_pipeline_error(const PipelineRunInfo& run, std::string_view error) { (void)run, (void)error; }

    virtual void before_node_run(const NodeRunInfo& node) { (void)node; }
    virtual void after_node_run(const NodeRunInfo& node) { (void)node; }
    virtual void on_node_error(const NodeRunInfo& node, std::string_view error) { (void)node, (void)error; }

    virtual void before_dataset_loaded(std::string_view dataset, const NodeView& node) { (void)dataset, (void)node; }
    virtual void after_dataset_loaded(std::string_view dataset, const Value* data, const NodeView& node) {
        (void)dataset, (void)data, (void)node;
    }
    virtual void before_dataset_saved(std::string_view dataset, const Value* data, const NodeView& node) {
        (void)dataset, (void)data, (void)node;
    }
    virtual void after_dataset_saved(std::string_view dataset, const Value* data, const NodeView& node) {
        (void)dataset, (void)data, (void)node;
    }
};

struct HookTypeOptions {
    std::string doc = {};
};

// ---------------------------------------------------------------------------------------
// The host's view of a hook object: one noexcept entry for every hook point.
enum class HookPoint : std::uint8_t {
    before_pipeline_run,
    after_pipeline_run,
    on_pipeline_error,
    before_node_run,
    after_node_run,
    on_node_error,
    before_dataset_loaded,
    after_dataset_loaded,
    before_dataset_saved,
    after_dataset_saved,
};

struct HookEvent {
    HookPoint point = HookPoint::before_pipeline_run;
    const PipelineRunInfo* pipeline = nullptr;  // pipeline points
    std::span<const NamedValue> outputs;        // after_pipeline_run
    const NodeRunInfo* node_run = nullptr;      // node points
    const NodeView* node = nullptr;             // dataset points
    std::string_view dataset;                   // dataset points
    const Value* data = nullptr;                // dataset points
    std::string_view error;                     // on_*_error
};

class HookHandle {
public:
    virtual ~HookHandle() = default;
    virtual bool fire(const HookEvent& event, std::string* error) noexcept = 0;
    // Bit (1 << HookPoint) is set for each point the hook overrides; the host skips the rest.
    virtual std::uint32_t points() const noexcept = 0;
};

using HookFactory = std::unique_ptr<HookHandle> (*)(const HookConfig& config, std::string* error) noexcept;

struct HookTypeSpec {
    std::string name;  // unqualified, e.g. "NodeTimer"
    HookTypeOptions options;
    HookFactory create;
};

namespace detail {
template <class H>
class HookAdaptor final : public HookHandle {
public:
    explicit HookAdaptor(std::unique_ptr<H> h) : h_(std::move(h)) {}
    bool fire(const HookEvent& e, std::string* error) noexcept override {
        return guard(error, [&] {
            Hooks& h = *h_;
            switch (e.point) {
                case HookPoint::before_pipeline_run: h.before_pipeline_run(*e.pipeline); break;
                case HookPoint::after_pipeline_run: h.after_pipeline_run(*e.pipeline, e.outputs); break;
                case HookPoint::on_pipeline_error: h.on_pipeline_error(*e.pipeline, e.error); break;
                case HookPoint::before_node_run: h.before_node_run(*e.node_run); break;
                case HookPoint::after_node_run: h.after_node_run(*e.node_run); break;
                case HookPoint::on_node_error: h.on_node_error(*e.node_run, e.error); break;
                case HookPoint::before_dataset_loaded: h.before_dataset_loaded(e.dataset, *e.node); break;
                case HookPoint::after_dataset_loaded: h.after_dataset_loaded(e.dataset, e.data, *e.node); break;
                case HookPoint::before_dataset_saved: h.before_dataset_saved(e.dataset, e.data, *e.node); break;
                case HookPoint::after_dataset_saved: h.after_dataset_saved(e.dataset, e.data, *e.node); break;
            }
        });
    }
    std::uint32_t points() const noexcept override {
        // A method H does not override still has Hooks as its class.
        std::uint32_t p = 0;
        auto bit = [&](HookPoint point, bool overridden) {
            if (overridden) p |= 1u << static_cast<unsigned>(point);
        };
#define KILN_DETAIL_HOOK_BIT(NAME) bit(HookPoint::NAME, !std::is_same_v<decltype(&H::NAME), decltype(&Hooks::NAME)>)
        KILN_DETAIL_HOOK_BIT(before_pipeline_run);
        KILN_DETAIL_HOOK_BIT(after_pipeline_run);
        KILN_DETAIL_HOOK_BIT(on_pipeline_error);
        KILN_DETAIL_HOOK_BIT(before_node_run);
        KILN_DETAIL_HOOK_BIT(after_node_run);
        KILN_DETAIL_HOOK_BIT(on_node_error);
        KILN_DETAIL_HOOK_BIT(before_dataset_loaded);
        KILN_DETAIL_HOOK_BIT(after_dataset_loaded);
        KILN_DETAIL_HOOK_BIT(before_dataset_saved);
        KILN_DETAIL_HOOK_BIT(after_dataset_saved);
#undef KILN_DETAIL_HOOK_BIT
        return p;
    }

private:
    std::unique_ptr<H> h_;
};

template <class H>
std::unique_ptr<HookHandle> make_hooks(const HookConfig& config, std::string* error) noexcept {
    std::unique_ptr<HookHandle> handle;
    guard(error, [&] {
        if constexpr (std::is_constructible_v<H, const HookConfig&>)
            handle = std::make_unique<HookAdaptor<H>>(std::make_unique<H>(config));
        else
            handle = std::make_unique<HookAdaptor<H>>(std::make_unique<H>());
    });
    return handle;
}
}  // namespace detail

}  // namespace kiln
