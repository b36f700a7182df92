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

}  // namespace kiln
