// For runners that run nodes in other processes (an MPI rank, a remote host), such as the
// MpiRunner in plugins/mpi_runner/. Everyday runners need none of this.
//
// Where a node runs elsewhere, the scheduling process reports it with remote_started and
// remote_finished (the host checks dependencies and fires observers and hooks as for
// RunContext::run_node, with no values); the process that runs it calls run_delegated and
// moves the values with value / set_value.
//
//     class RankRunner : public kiln::Runner, public kiln::DistributedRunner {
//     public:
//         void run(kiln::RunContext& ctx) override {
//             kiln::DistributedRunContext remote = ctx.distributed();
//             if (!remote.remote_started(i, rank, &error)) ...;   // sent node i to `rank`
//             ...
//             remote.remote_finished(i, rank, ok ? nullptr : &failure, max_rss);
//         }
//         bool primary() const override { return rank_ == 0; }
//         std::string launcher() const override { return "mpirun -np 4"; }
//     };
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kiln/detail/plan_fingerprint.hpp"
#include "kiln/runner.hpp"
#include "kiln/value.hpp"

namespace kiln {

// The distributed side of a RunContext, from RunContext::distributed(). A small view: copy
// it freely; valid while the RunContext is (the runner's run()). Thread safety as for
// RunContext: different nodes may be handled from different threads.
class DistributedRunContext {
public:
    // The in-memory value of a dataset in this process, or nullptr (none yet, or the
    // dataset is persisted or a parameter).
    const Value* value(std::string_view dataset) const noexcept { return context_->value(dataset); }
    // Puts a value into this process (e.g. received from another rank), or drops it with an
    // empty Value. False for a dataset that is not in memory, or a value of another type.
    bool set_value(std::string_view dataset, Value value) noexcept { return context_->set_value(dataset, std::move(value)); }
    // The type of the values a dataset holds (to decode received bytes); nullptr if unknown.
    const TypeOps* value_type(std::string_view dataset) const noexcept { return context_->value_type(dataset); }

    // Runs node i here for a scheduler elsewhere: no dependency check, no hooks, and its
    // inputs stay (drop them with set_value when done).
    bool run_delegated(std::size_t i, unsigned worker, std::string* error) noexcept {
        return context_->run_delegated(i, worker, error);
    }
    // Node i starts on `worker` elsewhere: false (with *error) when it may not, e.g. a
    // before-node hook failed it; settle it in the ready set then.
    bool remote_started(std::size_t i, unsigned worker, std::string* error) noexcept {
        return context_->remote_started(i, worker, error);
    }
    // Node i ended elsewhere. `failure`: nullptr on success, else the error (name the node
    // and where it ran). Returns whether the node succeeded (a hook can still fail it).
    bool remote_finished(std::size_t i, unsigned worker, const std::string* failure,
                         std::uint64_t max_rss_bytes) noexcept {
        return context_->remote_finished(i, worker, failure, max_rss_bytes);
    }

    // Identifies the plan this process built: the nodes in order (name, function, inputs,
    // outputs) and the types of the values they pass. Processes that share a run compare it
    // before they start (the ParallelRunner's spawned workers use the same definition).
    std::string plan_fingerprint() const {
        return detail::plan_fingerprint(
            context_->node_count(), [this](std::size_t i) { return context_->node(i); },
            [this](std::string_view dataset) {
                const TypeOps* type = context_->value_type(dataset);
                return type ? type->name : std::string_view();
            });
    }

private:
    friend class RunContext;
    explicit DistributedRunContext(RunContext& context) noexcept : context_(&context) {}
    RunContext* context_;
};

inline DistributedRunContext RunContext::distributed() noexcept { return DistributedRunContext(*this); }

// Mix-in for a runner whose run spans several processes started together (mpirun):
//     class MpiRunner : public kiln::Runner, public kiln::DistributedRunner { ... };
class DistributedRunner {
public:
    virtual ~DistributedRunner() = default;
    // False in a process that only serves another one (an MPI rank other than 0): there
    // kiln fires no hooks and writes no run record, report or summary.
    virtual bool primary() const = 0;
    // The command that starts kiln for this runner, put before `kiln` in the resume
    // commands kiln prints after a failure (e.g. "mpirun -np 4"); empty for none.
    virtual std::string launcher() const = 0;
};

}  // namespace kiln
