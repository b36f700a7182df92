// Runner plugins: decide which node runs when, and where.
//
//     class DryRunner : public kiln::Runner {
//     public:
//         void run(kiln::RunContext& ctx) override {
//             for (std::size_t i = 0; i < ctx.node_count(); ++i)
//                 kiln::log::info("would run " + std::string(ctx.node(i).name));
//         }
//     };
//     KILN_PLUGIN(dry) { reg.runner<DryRunner>("DryRunner"); }
//
// `kiln run --runner DryRunner` (or dry.DryRunner) then uses it. The host prepares
// everything before run(): plugins, pipeline, filters, catalog, parameters; the runner
// only orders the work. RunContext::run_node does the rest for one node: loads its inputs,
// calls it, saves its outputs, fires the hooks and frees values nothing needs any more.
//
// Contract (Kedro's AbstractRunner): run each node at most once and only after its
// dependencies completed (run_node refuses otherwise); after a failure start no new node
// unless settings().keep_going, and return once running nodes finished. Exceptions thrown
// by run() fail the run with the runner's name; they never reach the host.
//
// RunContext::ready_set() does that bookkeeping for you, as it does for kiln's own
// runners: ask it for the next node that may start, and tell it when a node settled.
//
//     kiln::ReadySet& ready = ctx.ready_set();
//     for (std::size_t i; (i = ready.next()) != kiln::ReadySet::none;) {
//         ctx.run_node(i, 0, nullptr);
//         ready.settle(i);
//     }
//
// A runner that runs nodes in other processes (an MPI rank, a remote host) also uses
// kiln/distributed.hpp.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "kiln/dataset.hpp"
#include "kiln/run_view.hpp"

namespace kiln {

class DistributedRunContext;

// A cap from --resources (e.g. gpu=2): the nodes running at once may together declare at
// most `cap` of `name` in their "resources". A resource without a cap is unlimited.
struct ResourceCap {
    std::string_view name;
    double cap = 0;
};

struct RunSettings {
    std::string_view run_id;
    int max_workers = 0;      // --max-workers; 0 when not given (choose your default)
    bool is_async = false;    // --async: run_node loads and saves a node's datasets concurrently
    bool keep_going = false;  // --keep-going: after a failure, still run what does not depend on it
    // ABI 1.2. The --resources caps; ReadySet honours them.
    std::span<const ResourceCap> resources;
};

// The nodes that may start now, kept by the host for a runner (ABI 1.2): a node is ready
// once every dependency completed, and starts only while the resources it declares fit
// under the caps. Nodes come in pipeline order. After a failure nothing more starts,
// unless keep_going, when only the nodes downstream of it are dropped; after Ctrl-C
// nothing more starts. Not thread safe: use it from one thread, or under your own lock.
class ReadySet {
public:
    static constexpr std::size_t none = static_cast<std::size_t>(-1);

    // The next node that may start, marked started; `none` when nothing can start until a
    // running node settles (or ever: see finished()).
    virtual std::size_t next() noexcept = 0;
    // For runners that place nodes themselves (e.g. by data locality): up to `limit` nodes
    // that may start now, lowest first, into `out`, not marked; take() starts one.
    virtual std::size_t candidates(std::size_t* out, std::size_t limit) const noexcept = 0;
    // Marks a node given by candidates() started; false when it may not start now.
    virtual bool take(std::size_t node) noexcept = 0;
    // A node from next() or take() that the runner did not start after all.
    virtual void give_back(std::size_t node) noexcept = 0;
    // A started node settled: run_node, remote_finished, or a refused remote_started
    // returned for it. The set reads its outcome from the host: success makes dependents
    // ready; a failure stops the run or, with keep_going, drops what depends on it.
    virtual void settle(std::size_t node) noexcept = 0;

    virtual std::size_t running() const noexcept = 0;
    // Ready nodes not started yet (some may wait for resources): a hint for batching.
    virtual std::size_t ready_count() const noexcept = 0;
    // Nothing runs and nothing more will start: the runner may return.
    virtual bool finished() const noexcept = 0;

protected:
    ~ReadySet() = default;
};

// The host's side of a run. Implemented by the host; never throws.
class RunContext {
public:
    // The nodes, in a topological order (Kedro's layers, then names).
    virtual std::size_t node_count() const noexcept = 0;
    virtual NodeView node(std::size_t i) const noexcept = 0;
    // The nodes that must complete before node i can run (the producers of its inputs);
    // all lower than i.
    virtual std::span<const std::size_t> dependencies(std::size_t i) const noexcept = 0;
    virtual const CatalogView& catalog() const noexcept = 0;
    virtual const RunSettings& settings() const noexcept = 0;

    // Runs node i in the calling thread and returns true when it succeeded. On failure it
    // returns false with the message (already naming the node) in *error; the host has
    // recorded the failure. Safe to call from several threads for different nodes. Waits
    // while the resources the node declares do not fit under the caps next to the nodes
    // running now (never, for nodes from the ready set). After Ctrl-C it starts nothing:
    // false, and the node stays unrun for --resume.
    // `worker` labels where it ran, for the progress line, the report and trace hooks.
    virtual bool run_node(std::size_t i, unsigned worker, std::string* error) noexcept = 0;
    // True once the user interrupted the run (Ctrl-C): start no more nodes.
    virtual bool stop_requested() const noexcept = 0;

    // For runners that run nodes in other processes (kiln/distributed.hpp).
    DistributedRunContext distributed() noexcept;

protected:
    // The functions behind distributed(), documented there. They stay here, in this order,
    // because their places in the vtable are part of the ABI (docs/abi.md).
    virtual const Value* value(std::string_view dataset) const noexcept = 0;
    virtual bool set_value(std::string_view dataset, Value value) noexcept = 0;
    virtual const TypeOps* value_type(std::string_view dataset) const noexcept = 0;
    virtual bool run_delegated(std::size_t i, unsigned worker, std::string* error) noexcept = 0;
    virtual bool remote_started(std::size_t i, unsigned worker, std::string* error) noexcept = 0;
    virtual bool remote_finished(std::size_t i, unsigned worker, const std::string* failure,
                                 std::uint64_t max_rss_bytes) noexcept = 0;
    friend class DistributedRunContext;

public:
    // ABI 1.2. The run's ready set (one per run; see ReadySet).
    virtual ReadySet& ready_set() noexcept = 0;

protected:
    ~RunContext() = default;
};

class Runner {
public:
    virtual ~Runner() = default;
    // Runs the pipeline's nodes through context.run_node.
    virtual void run(RunContext& context) = 0;
    // Kedro's create_default_dataset: the dataset for a value the catalog does not name
    // (an intermediate or a free output), or nullptr to keep it in memory (the default).
    // `config.value_type` is the value's type; `config.args` is null.
    virtual std::unique_ptr<Dataset> create_default_dataset(const DatasetConfig& config) {
        (void)config;
        return nullptr;
    }
};

}  // namespace kiln

#include "kiln/detail/runner_adaptor.hpp"
