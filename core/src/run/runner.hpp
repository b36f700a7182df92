// The runner interface the host drives, and the built-in runners.
//
// Contract (Kedro's): run every node of the plan once, each after its producers; stop
// scheduling at the first failure, let running nodes finish, and report what ran.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "run/node_event_stream.hpp"
#include "run/run_plan.hpp"

namespace kiln::core {

struct RunOutcome {
    std::vector<char> done;                  // per node: 1 when it completed
    std::vector<NodeFailure> failures;       // in the order they happened
    std::string runner_error;                // the runner itself failed (a plugin runner threw)
    bool ok() const { return failures.empty() && runner_error.empty(); }
};

struct RunnerOptions {
    std::optional<int> max_workers;  // unset: the runner's default
    bool is_async = false;           // load inputs and save outputs of a node concurrently
    bool keep_going = false;         // after a failure, run every node that does not depend on it
    // Caps on what nodes declare in "resources" (e.g. {"gpu": 1}); a resource without a
    // cap is unlimited.
    std::map<std::string, double> resources;
    // ParallelRunner: "fork" (default; re-execs instead when threads already exist) or
    // "spawn" (workers re-exec kiln and re-load plugins). Empty: KILN_START_METHOD or fork.
    std::string start_method;
    // ParallelRunner "spawn": the command line that re-creates this run in a worker
    // process (kiln's own argv).
    std::vector<std::string> worker_command;
};

class Runner {
public:
    virtual ~Runner() = default;
    virtual std::string name() const = 0;
    // Every node event goes into `events` (node_event_stream.hpp); null for none.
    virtual RunOutcome run(RunPlan& plan, const NodeEventStream* events) = 0;
    // Put before `kiln` in the resume commands printed after a failure (e.g. "mpirun -np 4").
    virtual std::string launcher() const { return {}; }
};

}  // namespace kiln::core
