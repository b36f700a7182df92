#include <spdlog/spdlog.h>

#include "kiln/core/run_guard.hpp"
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
        const bool progress = spdlog::should_log(spdlog::level::info);
        const auto& nodes = plan.pipeline().nodes();
        // With --keep-going: nodes downstream of a failure are skipped, all others run.
        std::vector<char> blocked;
        for (std::size_t i = 0; i < total; ++i) {
            if (core::interrupt_signal()) break;  // Ctrl-C / SIGTERM: start nothing more
            if (!blocked.empty() && blocked[i]) continue;
            if (observer) observer->node_started(i, 0);
            try {
                plan.execute(i);
            } catch (const std::exception& e) {
                outcome.failures.push_back(NodeFailure{i, e.what()});
                if (observer) observer->node_finished(i, 0, &outcome.failures.back());
                if (!options_.keep_going) return outcome;
                if (blocked.empty()) blocked.assign(total, 0);
                blocked[i] = 1;
                // Nodes come in topological order, so marking direct readers as we go
                // reaches every descendant.
                for (std::size_t j = i; j < total; ++j) {
                    if (!blocked[j]) continue;
                    for (std::uint32_t d : nodes[j].output_ids)
                        for (std::size_t c : plan.pipeline().consumers_of(d)) blocked[c] = 1;
                }
                continue;
            }
            plan.release_after(i);
            outcome.done[i] = 1;
            if (observer) observer->node_finished(i, 0, nullptr);
            if (progress) {
                spdlog::info("Completed node: {}", nodes[i].name);
                spdlog::info("Completed {} out of {} tasks", i + 1, total);
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
