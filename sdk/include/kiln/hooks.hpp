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
// Kedro's before_node_run may return new inputs; here the hook calls replace_input on the
// NodeRunInfo it gets (the node then receives that value instead of the loaded one):
//
//     void before_node_run(const kiln::NodeRunInfo& run) override {
//         if (run.node.name == "train") run.replace_input("params:epochs", kiln::Value::make(1.0));
//     }
//
// Only the inputs named are replaced. A name that is not an input of the node, or a value
// of another type than the node reads, fails the node (the message names the hook, the
// node and the dataset). Every hook sees the loaded inputs; when two replace the same
// input, the one enabled later wins. Where the node runs in another process (under
// ParallelRunner or a runner spanning processes, as MpiRunner) a replacement fails the
// node: use SequentialRunner or ThreadRunner.
//
// Once per run, in the host, before any other hook: after_context_created (what Kedro's
// KedroContext holds: the project, environment, parameters), then after_catalog_created
// (the catalog and the versions of versioned datasets), then before_pipeline_run.
// Credentials are never in either.
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
#include <vector>

#include "kiln/error.hpp"
#include "kiln/type_options.hpp"
#include "kiln/run_view.hpp"
#include "kiln/value.hpp"

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

// after_context_created: what Kedro's KedroContext would give a hook. No credentials.
struct ContextInfo {
    std::filesystem::path project_dir;
    std::string_view env;              // the configuration environment; "" for a flat project
    std::filesystem::path conf_source; // the conf folder read; empty for a flat project
    // The parameters after merging environments and applying --params (Kedro's
    // context.params), and --params alone as an object (Kedro's runtime_params).
    const nlohmann::json* params = nullptr;
    const nlohmann::json* runtime_params = nullptr;
};

// after_catalog_created: the catalog the run uses, and its versioned datasets' versions.
struct CatalogInfo {
    const CatalogView* catalog = nullptr;
    std::string_view run_id;
    std::string_view save_version;                   // "" when the run saves no versioned dataset
    const nlohmann::json* load_versions = nullptr;   // {"dataset": "version"} of those it reads
    const nlohmann::json* runtime_params = nullptr;  // --params as an object
};

// A value a before_node_run hook gives in place of a loaded input (NodeRunInfo::replace_input).
struct InputReplacement {
    std::string dataset;
    Value value;
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
    // before_node_run only (ABI 1.5): where replace_input puts its values; null elsewhere.
    std::vector<InputReplacement>* replacements = nullptr;

    // before_node_run: the node receives `value` for its input `dataset` instead of the
    // loaded value. Throws kiln::Error at any other hook point.
    void replace_input(std::string_view dataset, Value value) const {
        if (!replacements) throw Error("replace_input is only for before_node_run");
        replacements->push_back({std::string(dataset), std::move(value)});
    }
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

    // Once per run, before the catalog is built (ABI 1.5).
    virtual void after_context_created(const ContextInfo& context) { (void)context; }
    // Once per run, after the catalog is built and before before_pipeline_run (ABI 1.5).
    virtual void after_catalog_created(const CatalogInfo& catalog) { (void)catalog; }
};

}  // namespace kiln

#include "kiln/detail/hook_adaptor.hpp"
