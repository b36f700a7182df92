// The SequentialRunner: one node at a time, in the pipeline's order, in the calling
// thread. Written against the SDK's RunContext, like any runner plugin: the host's node
// lifecycle runs each node, its ready set orders them when anything constrains the order.
#include <spdlog/spdlog.h>

#include "builtin_runners.hpp"
#include "run/host_run_context.hpp"

namespace kiln::runners {

namespace {

void run_one_at_a_time(RunContext& ctx) {
    const RunSettings& settings = ctx.settings();
    // With --keep-going or --resources caps, the ready set: it yields nodes in pipeline
    // order, and after a failure drops only what depends on it. Without them it would
    // always hand out the next node in order, so a plain loop does the same without its
    // bookkeeping (about 20 ns a node).
    if (settings.keep_going || !settings.resources.empty()) {
        ReadySet& ready = ctx.ready_set();
        // One node at a time, so nothing is running when it is asked: no node means the
        // run is over (done, stopped by a failure, or interrupted).
        for (std::size_t i; (i = ready.next()) != ReadySet::none;) {
            ctx.run_node(i, 0, nullptr);
            ready.settle(i);
        }
        return;
    }
    // run_node starts nothing once the run is interrupted (it returns false), so the loop
    // needs no check of its own.
    for (std::size_t i = 0; i < ctx.node_count(); ++i)
        if (!ctx.run_node(i, 0, nullptr)) break;
}

class SequentialRunner final : public core::Runner {
public:
    explicit SequentialRunner(const core::RunnerOptions& options) : options_(options) {
        if (options.max_workers && *options.max_workers != 1)
            spdlog::warn("SequentialRunner runs one node at a time; --max-workers {} is ignored", *options.max_workers);
    }
    std::string name() const override { return "SequentialRunner"; }

    core::RunOutcome run(core::RunPlan& plan, const core::NodeEventStream* events) override {
        plan.set_async(options_.is_async);
        if (options_.is_async) spdlog::info("Asynchronous mode is enabled for loading and saving data.");
        return core::run_in_context(plan, events, options_, name(),
                                    [](core::HostRunContext& ctx) { run_one_at_a_time(ctx); },
                                    core::NodeLifecycle::Checks::trusted_runner);
    }

private:
    core::RunnerOptions options_;
};

}  // namespace

std::unique_ptr<core::Runner> make_sequential_runner(const core::RunnerOptions& options) {
    return std::make_unique<SequentialRunner>(options);
}

}  // namespace kiln::runners
