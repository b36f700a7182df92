// A runner from a plugin (kiln/runner.hpp), driven like the built-in ones. The plugin
// orders the work through a RunContext; the host checks what it asks for, runs the nodes,
// fires hooks and observers, and turns anything the plugin throws into a failed run.
#pragma once

#include <memory>
#include <string>

#include "plugins/registry.hpp"
#include "run/runner.hpp"

namespace kiln::core {

using kiln::detail::DatasetHandle;
using kiln::detail::RunnerHandle;

class PluginRunner final : public Runner {
public:
    // Throws kiln::PluginError naming the runner when the plugin cannot make one.
    PluginRunner(const RunnerType& type, RunnerOptions options);
    std::string name() const override { return type_.qualified_name; }
    RunOutcome run(RunPlan& plan, const NodeEventStream* events) override;

    // Kedro's create_default_dataset for a value the catalog does not name: nullptr keeps
    // it in memory. Throws kiln::ConfigError naming the runner and the dataset.
    std::unique_ptr<DatasetHandle> default_dataset(const DatasetConfig& config);
    // False in a process that only serves another (an MPI rank other than 0).
    bool primary() const { return handle_->primary(); }
    std::string launcher() const override { return handle_->launcher(); }

private:
    const RunnerType& type_;
    RunnerOptions options_;
    std::unique_ptr<RunnerHandle> handle_;
};

}  // namespace kiln::core
