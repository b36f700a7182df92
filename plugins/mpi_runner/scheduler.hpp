// Rank 0 of an MpiRunner run: hands ready nodes to idle ranks one at a time, as their
// dependencies complete (not a static partition; the host's ready set decides what may
// start, so --resources caps and --keep-going hold as under every runner), moves in-memory values
// between ranks as nodes need them, frees them after their last reader, and reports every
// node to the host (hooks, progress, report) as if it had run here.
//
// Rank 0 only schedules when there are other ranks (so it always answers at once, and can
// report when the job is torn down); alone, it runs the nodes itself.
//
// Placement: a ready node goes to the idle rank that already holds the most bytes of its
// in-memory inputs; ties go to the earlier node in the pipeline's order and to the lower
// rank. KILN_MPI_LOCALITY=0 turns this off (round robin), e.g. to measure transfers.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "rank_service.hpp"

namespace kiln::mpi {

struct TransferStats {
    std::uint64_t bytes = 0;
    double seconds = 0;  // summed over the nodes that waited for inputs from other ranks
};

class Scheduler {
public:
    Scheduler(RunContext& context, Transport& transport, RankService& local, bool locality);
    // Runs the pipeline; returns when every node ran, or after a failure (once running
    // nodes finished), or at once when the run is stopped.
    void run();
    const TransferStats& transfers() const { return transfers_; }

private:
    std::optional<std::pair<std::size_t, int>> choose() const;
    void dispatch(std::size_t node, int rank);
    void finished(int rank, const NodeResult& result, const std::vector<std::pair<std::string, std::uint64_t>>& outputs);
    void stop_remote_nodes();
    void collect_free_outputs();
    bool rank_idle(int rank) const;
    bool any_busy() const;

    RunContext& ctx_;
    DistributedRunContext remote_;  // ctx_.distributed()
    Transport& transport_;
    RankService& local_;
    bool locality_;
    ReadySet& ready_;
    std::vector<std::optional<std::size_t>> running_;  // per rank
    std::set<std::string> memory_;                      // datasets kept in memory
    std::set<std::string> free_outputs_;
    std::map<std::string, std::set<int>> holders_;
    std::map<std::string, std::uint64_t> bytes_;
    std::map<std::string, std::size_t> readers_left_;
    bool failed_ = false, stopped_ = false;
    mutable int next_rank_ = 0;  // round robin without locality
    TransferStats transfers_;
};

// Sleeps a little longer each idle round (MPI has no blocking wait for "any message or my
// own thread"): short latency when busy, little CPU when idle.
class Backoff {
public:
    void idle();
    void reset() { rounds_ = 0; }

private:
    int rounds_ = 0;
};

}  // namespace kiln::mpi
