#include "plugins/plugin_runner.hpp"

#include <spdlog/spdlog.h>

#include "kiln/error.hpp"
#include "run/host_run_context.hpp"
#include "run/run_guard.hpp"

namespace kiln::core {

PluginRunner::PluginRunner(const RunnerType& type, RunnerOptions options) : type_(type), options_(std::move(options)) {
    if (options_.max_workers && *options_.max_workers < 1)
        throw RunnerError("max_workers should be positive (got " + std::to_string(*options_.max_workers) + ")");
    std::string error;
    handle_ = type.spec.create(&error);
    if (!handle_)
        throw PluginError("runner " + type.qualified_name + " (" + type.plugin_file + ") could not be created: " +
                          (error.empty() ? std::string("the plugin returned nothing") : error));
}

std::unique_ptr<DatasetHandle> PluginRunner::default_dataset(const DatasetConfig& config) {
    std::string error;
    auto handle = handle_->create_default_dataset(config, &error);
    if (!error.empty())
        throw ConfigError("runner " + type_.qualified_name + " (" + type_.plugin_file +
                          ") failed to create the default dataset for '" + config.name + "': " + error);
    return handle;
}

RunOutcome PluginRunner::run(RunPlan& plan, const NodeEventStream* events) {
    plan.set_async(options_.is_async);
    if (options_.is_async) spdlog::info("Asynchronous mode is enabled for loading and saving data.");
    InterruptScope interrupts;  // Ctrl-C asks the plugin to stop (stop_requested) instead of killing kiln
    std::string error;
    bool ok = true;
    RunOutcome outcome = run_in_context(plan, events, options_, type_.qualified_name,
                                        [&](HostRunContext& context) { ok = handle_->run(context, &error); });
    if (!ok)
        outcome.runner_error = "runner " + type_.qualified_name + " (" + type_.plugin_file + ") failed: " +
                               (error.empty() ? std::string("unknown error") : error);
    else if (int sig = interrupt_signal(); sig && outcome.runner_error.empty())
        outcome.runner_error = "interrupted (signal " + std::to_string(sig) + ")";
    return outcome;
}

}  // namespace kiln::core
