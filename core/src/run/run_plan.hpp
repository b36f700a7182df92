// A run plan: a pipeline bound to its datasets, with every dataset name resolved to a
// slot once, before the run, so running a node touches no map and no string.
//
// Runners drive it: execute(i) runs node i (load inputs, call, save outputs);
// release_after(i) drops values whose last reader was node i. Both are safe to call from
// several threads for different nodes whose dependencies have finished.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "model/pipeline.hpp"

namespace kiln::core {

class NodeEventStream;

class RunPlan {
public:
    // Binds every dataset: catalog entries become their datasets, parameters their values
    // converted to the reading node's type, anything else an in-memory value. Throws
    // kiln::ConfigError listing every free input the catalog lacks (with the nodes that
    // read it), a transcoded dataset whose forms would pass in memory
    // (run/transcoded_storage.hpp), and for parameters or dataset entries that do not fit.
    RunPlan(const Pipeline& pipeline, DataCatalog& catalog, std::string run_id);
    RunPlan(const RunPlan&) = delete;
    RunPlan& operator=(const RunPlan&) = delete;

    const Pipeline& pipeline() const { return pipeline_; }
    // The catalog the plan was bound to (it must outlive the plan).
    const DataCatalog& catalog() const { return catalog_; }
    const std::string& run_id() const { return run_id_; }
    std::size_t size() const { return steps_.size(); }

    // Runs node i; `worker` labels where, for hooks. Fires node i's dataset and node-run
    // events into `events` (null: none, as in a worker process). Throws kiln::NodeError
    // (message names the node) when the function, one of its datasets or a hook fails.
    void execute(std::size_t i, unsigned worker = 0, const NodeEventStream* events = nullptr);
    // After node i finished: intermediate values whose readers have all run are dropped.
    void release_after(std::size_t i);

    // Datasets the plan keeps on disk (catalog entries) versus in memory.
    bool is_persisted(std::uint32_t dataset) const;
    // The slot of a pipeline dataset id (a parameter: its first reader's slot).
    std::uint32_t dataset_slot(std::uint32_t dataset) const { return dataset_slot_[dataset]; }

    struct FreeOutput {
        std::string name;
        Value value;              // set for in-memory outputs
        std::string persisted_in; // dataset description for catalog outputs
    };
    // The pipeline's free outputs after a run, sorted by name.
    std::vector<FreeOutput> free_outputs() const;

    // Observability for tests and the report: values currently held in memory.
    std::size_t live_values() const;

    // Loads inputs and saves outputs of a node concurrently (--async).
    void set_async(bool on) { async_ = on; }
    bool is_async() const { return async_; }

    // Everything a freshly started worker process needs to build this same plan without
    // reading the project's files again (they may have changed since the run started): the
    // invocation, the nodes, the catalog and the parameters. Set by the session; null JSON
    // when none was set.
    void set_worker_snapshot(std::function<nlohmann::json()> make) { worker_snapshot_ = std::move(make); }
    nlohmann::json worker_snapshot() const { return worker_snapshot_ ? worker_snapshot_() : nlohmann::json(); }

    // Slots, for runners that keep in-memory values elsewhere (the ParallelRunner keeps
    // them in shared memory and moves them in and out around execute()).
    enum class SlotKind { memory, persisted, parameter };
    std::size_t slot_count() const { return slot_count_; }
    SlotKind slot_kind(std::uint32_t slot) const;
    const std::string& slot_name(std::uint32_t slot) const { return slots_[slot].name; }
    const TypeOps* slot_type(std::uint32_t slot) const { return slots_[slot].type; }
    // The type of a dataset's values by name; nullptr when the plan has no slot for it.
    const TypeOps* dataset_type(std::string_view dataset) const;
    DatasetRef* slot_dataset(std::uint32_t slot) const { return slots_[slot].dataset; }
    // Free inputs and outputs (and parameters) are never released.
    bool slot_kept(std::uint32_t slot) const { return slots_[slot].keep; }
    const Value& slot_value(std::uint32_t slot) const { return slots_[slot].value; }
    void set_slot_value(std::uint32_t slot, Value value) { slots_[slot].value = std::move(value); }
    const std::vector<std::uint32_t>& step_inputs(std::size_t node) const { return steps_[node].in; }
    const std::vector<std::uint32_t>& step_outputs(std::size_t node) const { return steps_[node].out; }
    // How many (node, input) reads each slot has in the whole plan.
    std::uint32_t slot_reads(std::uint32_t slot) const { return total_reads_[slot]; }

private:
    struct Slot {
        std::string name;
        const TypeOps* type = nullptr;
        DatasetRef* dataset = nullptr;  // persisted when set
        Value value;                    // in-memory value, or a parameter's constant
        std::atomic<std::uint32_t> pending_reads{0};
        bool keep = false;              // free inputs/outputs and parameters stay
    };
    struct Step {
        const Node* node;
        std::vector<std::uint32_t> in;
        std::vector<std::uint32_t> out;
    };

    const Pipeline& pipeline_;
    const DataCatalog& catalog_;
    std::string run_id_;
    std::unique_ptr<Slot[]> slots_;
    std::size_t slot_count_ = 0;
    std::vector<Step> steps_;
    std::vector<std::uint32_t> dataset_slot_;  // pipeline dataset id -> slot (params: first reader's)
    std::vector<std::uint32_t> total_reads_;
    bool async_ = false;
    std::function<nlohmann::json()> worker_snapshot_;

    // `events`: null unless someone listens to dataset events.
    void load_inputs(std::size_t i, const Step& s, Value* in, const NodeEventStream* events);
    void save_outputs(std::size_t i, const Step& s, Value* out, const NodeEventStream* events);
    void run_with_events(std::size_t i, unsigned worker, const Step& s, Value* in, Value* out,
                         const NodeEventStream& events);
};

}  // namespace kiln::core
