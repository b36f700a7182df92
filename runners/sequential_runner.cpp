#include <spdlog/spdlog.h>

#include "kiln/error.hpp"
#include "kiln/runners/builtin.hpp"

namespace kiln::runners {
using core::NodeFailure;
using core::RunOutcome;
using core::RunPlan;

namespace {

class SequentialRunner final : public core::Runner {
public:
    explicit SequentialRunner(const core::RunnerOptions& options) {
        if (options.max_workers && *options.max_workers != 1)
            spdlog::warn("SequentialRunner runs one node at a time; --max-workers {} is ignored", *options.max_workers);
    }
    std::string name() const override { return "SequentialRunner"; }

    RunOutcome run(RunPlan& plan, core::RunObserver* observer) override {
        const std::size_t total = plan.size();
        RunOutcome outcome;
        outcome.done.assign(total, 0);
        const bool progress = spdlog::should_log(spdlog::level::info);
        for (std::size_t i = 0; i < total; ++i) {
            if (observer) observer->node_started(i, 0);
            try {
                plan.execute(i);
            } catch (const std::exception& e) {
                outcome.failures.push_back(NodeFailure{i, e.what()});
                if (observer) observer->node_finished(i, 0, &outcome.failures.back());
                return outcome;
            }
            plan.release_after(i);
            outcome.done[i] = 1;
            if (observer) observer->node_finished(i, 0, nullptr);
            if (progress) {
                spdlog::info("Completed node: {}", plan.pipeline().nodes()[i].name);
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
