#include <algorithm>
#include <optional>
#include <spdlog/spdlog.h>

#include "kiln/core/run_guard.hpp"
#include "kiln/core/scheduler.hpp"
#include "kiln/error.hpp"
#include "kiln/runners/builtin.hpp"

namespace kiln::runners {
using core::NodeFailure;
using core::RunOutcome;
using core::RunPlan;

namespace {

class SequentialRunner final : public core::Runner {
public:
    explicit SequentialRunner(const core::RunnerOptions& options) : options_(options) {
        if (options.max_workers && *options.max_workers != 1)
            spdlog::warn("SequentialRunner runs one node at a time; --max-workers {} is ignored", *options.max_workers);
    }
    std::string name() const override { return "SequentialRunner"; }

private:
    core::RunnerOptions options_;

public:

    RunOutcome run(RunPlan& plan, core::RunObserver* observer) override {
        plan.set_async(options_.is_async);
        if (options_.is_async) spdlog::info("Asynchronous mode is enabled for loading and saving data.");
        const std::size_t total = plan.size();
        RunOutcome outcome;
        outcome.done.assign(total, 0);
        // With --keep-going or resources, the same ready set as the concurrent runners: it
        // refuses needs above the --resources caps before anything runs, yields nodes in
        // pipeline order, and after a failure skips only what depends on it. Without them
        // the ready set would always hand out the next node in order, so a plain loop does
        // the same without its bookkeeping (about 20 ns a node).
        const auto& nodes = plan.pipeline().nodes();
        const bool needs_ready_set = options_.keep_going || !options_.resources.empty() ||
                                     std::any_of(nodes.begin(), nodes.end(),
                                                 [](const core::Node& n) { return !n.resources.is_null(); });
        std::optional<core::Scheduler> ready;
        if (needs_ready_set) ready.emplace(plan.pipeline(), options_.resources, options_.keep_going);
        const bool progress = spdlog::should_log(spdlog::level::info);
        std::size_t completed = 0, in_order = 0;
        // One node at a time, so nothing is ever running when the ready set is asked: no
        // node means the run is over (done, or stopped by a failure).
        while (!core::interrupt_signal()) {  // Ctrl-C / SIGTERM: start nothing more
            std::size_t i = in_order;
            if (ready) {
                const std::optional<std::size_t> next = ready->next();
                if (!next) break;
                i = *next;
            } else if (i == total || !outcome.failures.empty()) {
                break;
            }
            ++in_order;
            if (observer) observer->node_started(i, 0);
            try {
                plan.execute(i);
            } catch (const std::exception& e) {
                outcome.failures.push_back(NodeFailure{i, e.what()});
                if (ready) ready->failed(i);
                if (observer) observer->node_finished(i, 0, &outcome.failures.back());
                continue;
            }
            plan.release_after(i);
            outcome.done[i] = 1;
            if (ready) ready->succeeded(i);
            if (observer) observer->node_finished(i, 0, nullptr);
            if (progress) {
                spdlog::info("Completed node: {}", nodes[i].name);
                spdlog::info("Completed {} out of {} tasks", ++completed, total);
            }
        }
        return outcome;
    }
};

}  // namespace

std::unique_ptr<core::Runner> make_sequential_runner(const core::RunnerOptions& options) {
    return std::make_unique<SequentialRunner>(options);
}

}  // namespace kiln::runners
