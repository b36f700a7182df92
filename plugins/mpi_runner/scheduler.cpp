#include "scheduler.hpp"

#include <algorithm>
#include <thread>

#include <kiln/error.hpp>

namespace kiln::mpi {

void Backoff::idle() {
    if (rounds_ < 16) ++rounds_;
    // 1 µs, 2, 4 ... up to 1 ms after ten idle rounds.
    std::this_thread::sleep_for(std::chrono::microseconds(1 << std::min(rounds_, 10)));
}

Scheduler::Scheduler(RunContext& context, Transport& transport, RankService& local, bool locality)
    : ctx_(context), remote_(context.distributed()), transport_(transport), local_(local), locality_(locality),
      ready_(context.ready_set()), running_(static_cast<std::size_t>(transport.size())) {
    const std::size_t n = ctx_.node_count();
    std::set<std::string> read;
    for (std::size_t i = 0; i < n; ++i) {
        NodeView node = ctx_.node(i);
        for (const auto& name : node.inputs) read.insert(name);
        for (const auto* names : {&node.inputs, &node.outputs})
            for (const auto& name : *names)
                if (remote_.value_type(name) && ctx_.catalog().describe(name) == "MemoryDataset") memory_.insert(name);
    }
    for (std::size_t i = 0; i < n; ++i) {
        NodeView node = ctx_.node(i);
        for (const auto& name : node.inputs)
            if (memory_.count(name)) ++readers_left_[name];
        for (const auto& name : node.outputs)
            if (memory_.count(name) && !read.count(name)) free_outputs_.insert(name);
    }
}

bool Scheduler::rank_idle(int rank) const {
    return !running_[static_cast<std::size_t>(rank)] && (rank != 0 || local_.idle());
}

bool Scheduler::any_busy() const {
    for (int r = 0; r < transport_.size(); ++r)
        if (!rank_idle(r)) return true;
    return false;
}

std::optional<std::pair<std::size_t, int>> Scheduler::choose() const {
    // The ready nodes that fit now, in pipeline order (the first ones are enough to place).
    std::size_t ready[256];
    const std::size_t n_ready = ready_.candidates(ready, std::size(ready));
    if (n_ready == 0) return std::nullopt;
    const int ranks = transport_.size();
    // Rank 0 runs nodes only when it is alone: otherwise it stays free to answer at once,
    // also when the job is being torn down (a rank died) and it must report.
    const int first = ranks > 1 ? 1 : 0;
    if (!locality_) {
        for (int k = 0; k < ranks - first; ++k) {
            int r = first + (next_rank_ + k) % (ranks - first);
            if (rank_idle(r)) {
                next_rank_ = (r - first + 1) % (ranks - first);
                return std::make_pair(ready[0], r);
            }
        }
        return std::nullopt;
    }
    std::optional<std::pair<std::size_t, int>> best;
    std::uint64_t best_bytes = 0;
    for (int r = first; r < ranks; ++r) {
        if (!rank_idle(r)) continue;
        for (std::size_t k = 0; k < n_ready; ++k) {
            const std::size_t node = ready[k];
            std::uint64_t held = 0;
            for (const auto& in : ctx_.node(node).inputs)
                if (auto h = holders_.find(in); h != holders_.end() && h->second.count(r)) held += bytes_.at(in);
            if (!best || held > best_bytes || (held == best_bytes && node < best->first)) {
                best = std::make_pair(node, r);
                best_bytes = held;
            }
        }
    }
    return best;
}

void Scheduler::dispatch(std::size_t node, int rank) {
    if (!ready_.take(node)) return;  // cannot happen: choose() offers only what may start
    std::string error;
    if (rank != 0 && !remote_.remote_started(node, static_cast<unsigned>(rank), &error)) {
        failed_ = true;  // the host recorded why (a hook failed)
        ready_.settle(node);
        return;
    }
    // Inputs the rank lacks come straight from a rank that holds them.
    Writer message;
    std::set<std::string> awaited;
    for (const auto& in : ctx_.node(node).inputs) {
        auto h = holders_.find(in);
        if (!memory_.count(in) || h == holders_.end() || h->second.empty() || h->second.count(rank)) continue;
        if (!awaited.insert(in).second) continue;
        const int from = *h->second.begin();
        if (from == 0) local_.send_value(in, rank);
        else transport_.send(from, fetch, Writer().str(in).i32(rank).take());
        h->second.insert(rank);
    }
    running_[static_cast<std::size_t>(rank)] = node;
    if (rank == 0) {
        local_.expect_node(node, std::move(awaited));
        return;
    }
    message.u32(static_cast<std::uint32_t>(node)).u32(static_cast<std::uint32_t>(awaited.size()));
    for (const auto& in : awaited) message.str(in);
    transport_.send(rank, Tag::run, message.take());
}

void Scheduler::finished(int rank, const NodeResult& r,
                         const std::vector<std::pair<std::string, std::uint64_t>>& outputs) {
    if (running_[static_cast<std::size_t>(rank)] != r.node)
        throw RunnerError("MpiRunner: rank " + std::to_string(rank) + " reported node " + std::to_string(r.node) +
                          ", which it was not running");
    running_[static_cast<std::size_t>(rank)].reset();
    if (r.bytes_received) {
        transfers_.bytes += r.bytes_received;
        transfers_.seconds += r.seconds_waiting;
    }
    bool ok = r.ok;
    if (rank != 0) {  // the local rank's run_node reported itself
        std::string failure = r.error + " (on MPI rank " + std::to_string(rank) + ")";
        // False also when a hook failed the node in the host.
        ok = remote_.remote_finished(r.node, static_cast<unsigned>(rank), ok ? nullptr : &failure, r.max_rss_bytes);
    }
    ready_.settle(r.node);  // its dependents become ready, or the failure stops what it must
    if (!ok) {
        failed_ = true;
        return;
    }
    for (const auto& [name, size] : outputs) {
        holders_[name] = {rank};
        bytes_[name] = size;
    }
    for (const auto& in : ctx_.node(r.node).inputs) {
        auto left = readers_left_.find(in);
        if (left == readers_left_.end() || --left->second > 0 || free_outputs_.count(in)) continue;
        for (int h : holders_[in])
            if (h != 0) transport_.send(h, free_value, Writer().str(in).take());
        holders_.erase(in);  // rank 0's own copy goes with its last reader (the host frees it)
    }
}

void Scheduler::stop_remote_nodes() {
    for (int r = 1; r < transport_.size(); ++r) {
        auto& node = running_[static_cast<std::size_t>(r)];
        if (!node) continue;
        std::string why = "the run was stopped while node '" + std::string(ctx_.node(*node).name) + "' ran on MPI rank " +
                          std::to_string(r) + " (a rank died, or the job was interrupted)";
        remote_.remote_finished(*node, static_cast<unsigned>(r), &why, 0);
        ready_.settle(*node);
        node.reset();
    }
}

void Scheduler::run() {
    Backoff backoff;
    for (;;) {
        bool active = transport_.pump();
        if (ctx_.stop_requested() && !stopped_) {
            stopped_ = true;
            stop_remote_nodes();
        }
        while (!stopped_) {
            auto choice = choose();
            if (!choice) break;
            dispatch(choice->first, choice->second);
            active = true;
        }
        if (auto r = local_.step()) {
            finished(0, *r, r->ok ? local_.output_sizes(r->node) : decltype(local_.output_sizes(0)){});
            active = true;
        }
        while (auto m = transport_.poll()) {
            active = true;
            if (local_.handle(*m)) continue;
            if (m->tag != done)
                throw RunnerError("MpiRunner: unexpected message (tag " + std::to_string(m->tag) + ") from rank " +
                                  std::to_string(m->source));
            Reader in(m->bytes);
            NodeResult r;
            r.node = in.u32();
            r.ok = in.u32() != 0;
            r.max_rss_bytes = in.u64();
            r.bytes_received = in.u64();
            r.seconds_waiting = in.f64();
            r.error = in.str();
            std::vector<std::pair<std::string, std::uint64_t>> outputs(in.u32());
            for (auto& [name, size] : outputs) {
                name = in.str();
                size = in.u64();
            }
            if (!stopped_) finished(m->source, r, outputs);
        }
        if (!any_busy() && (stopped_ || ready_.finished())) break;
        if (active) backoff.reset();
        else backoff.idle();
    }
    if (!failed_ && !stopped_) collect_free_outputs();
}

// The run's free outputs end up on rank 0, where kiln reports them.
void Scheduler::collect_free_outputs() {
    std::set<std::string> missing;
    for (const auto& name : free_outputs_) {
        auto h = holders_.find(name);
        if (h == holders_.end() || h->second.empty() || h->second.count(0)) continue;
        transport_.send(*h->second.begin(), fetch, Writer().str(name).i32(0).take());
        missing.insert(name);
    }
    Backoff backoff;
    while (!missing.empty() && !ctx_.stop_requested()) {
        bool active = transport_.pump();
        while (auto m = transport_.poll()) {
            active = true;
            if (!local_.handle(*m))
                throw RunnerError("MpiRunner: unexpected message (tag " + std::to_string(m->tag) + ") from rank " +
                                  std::to_string(m->source) + " while collecting outputs");
        }
        for (auto it = missing.begin(); it != missing.end();) it = remote_.value(*it) ? missing.erase(it) : std::next(it);
        if (active) backoff.reset();
        else backoff.idle();
    }
}

}  // namespace kiln::mpi
