#include "kiln/runners/builtin.hpp"

namespace kiln::runners {

std::unique_ptr<core::Runner> make_builtin_runner(const std::string& name, const core::RunnerOptions& options) {
    if (name == "SequentialRunner" || name == "kiln.SequentialRunner") return make_sequential_runner(options);
    return nullptr;
}

std::vector<std::string> builtin_runner_names() { return {"SequentialRunner"}; }

}  // namespace kiln::runners
