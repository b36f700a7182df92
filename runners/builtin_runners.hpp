// The runners built into kiln, by name.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "run/runner.hpp"

namespace kiln::runners {

// Runs nodes one at a time in the pipeline's order, in the calling thread.
std::unique_ptr<core::Runner> make_sequential_runner(const core::RunnerOptions& options);

// A pool of threads; a node starts the moment its inputs exist.
std::unique_ptr<core::Runner> make_thread_runner(const core::RunnerOptions& options);

// Worker processes; in-memory values pass through shared memory.
std::unique_ptr<core::Runner> make_parallel_runner(const core::RunnerOptions& options);

// In a process started by a ParallelRunner in spawn mode (KILN_WORKER_FD is set): serves
// the host's requests with this process's own plan, built from the same command line.
// Returns the process exit code.
bool is_spawned_worker();
int serve_spawned_worker(core::RunPlan& plan);

// "SequentialRunner", ...; returns nullptr for a name that is not built in.
std::unique_ptr<core::Runner> make_builtin_runner(const std::string& name, const core::RunnerOptions& options);
std::vector<std::string> builtin_runner_names();

}  // namespace kiln::runners
