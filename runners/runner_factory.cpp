#include "builtin_runners.hpp"

namespace kiln::runners {

std::unique_ptr<core::Runner> make_builtin_runner(const std::string& name, const core::RunnerOptions& options) {
    if (name == "SequentialRunner" || name == "kiln.SequentialRunner") return make_sequential_runner(options);
    if (name == "ThreadRunner" || name == "kiln.ThreadRunner") return make_thread_runner(options);
    if (name == "ParallelRunner" || name == "kiln.ParallelRunner") return make_parallel_runner(options);
    return nullptr;
}

std::vector<std::string> builtin_runner_names() { return {"SequentialRunner", "ThreadRunner", "ParallelRunner"}; }

}  // namespace kiln::runners
