// The ready set shared by the runners: which nodes may start now under the resource caps,
// what a failure cancels. Not thread safe: a runner calls it under its own lock
// (ThreadRunner), from its single event loop (ParallelRunner) or in its one thread
// (SequentialRunner). Building one also validates every node's "resources" against the
// caps, which is how every runner, plugin runners included, refuses the same pipelines.
//
// A node becomes ready the moment its last producer finishes (no layer barrier). Ready
// nodes start in pipeline order (Kedro's deterministic order), as long as the resources
// they declare fit under the caps. After a failure the scheduler starts nothing more,
// unless keep_going, in which case it skips only the nodes downstream of the failure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/pipeline.hpp"

namespace kiln::core {

// A set of node indices with insert, erase and lowest element in O(log64 n): a bit per
// index, and above each level of 64-bit words a level with a bit per non-empty word. For
// 100k nodes that is three words to touch, against a binary heap's 17 levels of misses.
class IndexSet {
public:
    void reset(std::size_t n);
    void insert(std::size_t i);  // i must be absent
    void erase(std::size_t i);   // i must be present
    std::size_t lowest() const;  // the set must not be empty
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    // The lowest member >= i, or npos.
    std::size_t lowest_from(std::size_t i) const { return find_from(0, i); }
    bool contains(std::size_t i) const {
        return !levels_.empty() && (i >> 6) < levels_[0].size() && (levels_[0][i >> 6] >> (i & 63) & 1) != 0;
    }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }

private:
    std::size_t find_from(std::size_t level, std::size_t i) const;
    std::vector<std::vector<std::uint64_t>> levels_;  // [0]: a bit per index; the last has one word
    std::size_t size_ = 0;
};

// What each node declares of the capped resources, validated: the ready set orders nodes
// by it, and the node lifecycle holds every runner to it.
struct ResourceNeeds {
    std::vector<std::string> names;  // the capped resources
    std::vector<double> caps;        // per capped resource
    std::vector<char> constrained;   // per node: needs some capped resource
    std::vector<double> needs;       // node * names.size() + r; empty when no node is constrained
    double need(std::size_t node, std::size_t r) const { return needs[node * names.size() + r]; }
    bool any() const { return !needs.empty(); }
    bool constrains(std::size_t node) const { return any() && constrained[node]; }
    // Whether the node's needs fit next to `in_use` (per capped resource), and taking
    // (sign +1) or giving back (-1) its needs.
    bool fits(std::size_t node, const std::vector<double>& in_use) const;
    void add(std::size_t node, std::vector<double>& in_use, double sign) const;
};
// Throws kiln::RunnerError naming the node when a node's "resources" are not an object of
// non-negative numbers, or exceed a cap (it could never run), or a cap is not a number >= 0.
ResourceNeeds read_resource_needs(const Pipeline& pipeline, const std::map<std::string, double>& caps);

class Scheduler {
public:
    // Throws kiln::RunnerError naming the node when a node's "resources" are not an object
    // of non-negative numbers, or exceed a cap (it could never run).
    Scheduler(const Pipeline& pipeline, const std::map<std::string, double>& caps, bool keep_going);
    // With the needs already read (read_resource_needs).
    Scheduler(ResourceNeeds resources, const Pipeline& pipeline, bool keep_going);

    // The next node that may start now, marked running; nullopt when none can start yet.
    std::optional<std::size_t> next();
    void succeeded(std::size_t node);
    void failed(std::size_t node);
    // Up to `limit` ready nodes that fit now, lowest first (for runners that choose among
    // them); take() starts one: false unless it is ready and fits now.
    std::size_t candidates(std::size_t* out, std::size_t limit) const;
    bool take(std::size_t node);
    bool is_running(std::size_t node) const { return node < state_.size() && state_[node] == State::running; }
    // A node next() returned that the runner did not start after all (a batch cut short
    // by a failure): it is ready again, and counts as never started.
    void unstart(std::size_t node);

    // Nothing is running and nothing more will start.
    bool finished() const;
    std::size_t running() const { return running_; }
    bool any_failed() const { return failures_ > 0; }
    // Nodes that will never run because an upstream node failed (keep_going), or because
    // the run stopped (fail fast). Valid once finished().
    std::vector<std::size_t> not_run() const;

    // How many ready nodes are queued (a hint for batching: some may not fit their
    // resources yet). Zero once a fail-fast run has stopped.
    std::size_t ready_count() const { return stopped() ? 0 : ready_.size(); }

private:
    enum class State : char { waiting, ready, running, done, failed, skipped };

    bool stopped() const { return failures_ > 0 && !keep_going_; }
    bool fits(std::size_t node) const;
    void claim_resources(std::size_t node, double sign);
    void make_ready(std::size_t node);
    void skip_downstream_of(std::size_t node);

    bool keep_going_;
    ResourceNeeds resources_;
    std::vector<double> in_use_;                   // per capped resource
    // The dependency graph as flat arrays (children of node i: children_[child_start_[i] ..
    // child_start_[i + 1])), built once: finishing a node then reads contiguous memory
    // instead of chasing the pipeline's per-dataset vectors under the runner's lock.
    std::vector<std::uint32_t> child_start_, children_;
    std::vector<std::uint32_t> unfinished_parents_;  // per node: producer edges not yet done
    std::vector<State> state_;                     // per node
    // Ready nodes, lowest index (pipeline order) first, no allocation per node. Nodes taken
    // out because their resources did not fit wait in blocked_ and return when a
    // constrained node releases its resources, so a node waiting for a GPU lets the CPU
    // nodes after it pass, and is looked at again only when it might fit.
    IndexSet ready_;
    std::vector<std::size_t> blocked_;
    std::vector<std::size_t> stack_;               // scratch for skip_downstream_of
    std::size_t running_ = 0, failures_ = 0, settled_ = 0;
};

// How many workers a concurrent runner uses: Kedro's rule, min(max_workers, nodes -
// layers + 1), with max_workers defaulting to the CPU count. Throws kiln::RunnerError for
// a max_workers below 1.
std::size_t workers_for(const Pipeline& pipeline, std::optional<int> max_workers);

}  // namespace kiln::core
