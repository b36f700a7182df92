// Hooks around a node that runs in another process (a ParallelRunner worker, an MPI
// rank): the host fires them in its own process, in Kedro's order, with no values (the
// data stays where the node ran). "before" when the node is sent, "after" when its result
// is back.
#pragma once

#include <cstdint>
#include <string>

#include "run/run_plan.hpp"

namespace kiln::core {

// Each may throw kiln::NodeError (a hook failed).
void fire_remote_before(NodeEvents& events, const RunPlan& plan, std::size_t node, unsigned worker);
void fire_remote_after(NodeEvents& events, const RunPlan& plan, std::size_t node, unsigned worker,
                       std::uint64_t max_rss_bytes);
void fire_remote_error(NodeEvents& events, const RunPlan& plan, std::size_t node, unsigned worker,
                       const std::string& error, std::uint64_t max_rss_bytes) noexcept;

}  // namespace kiln::core
