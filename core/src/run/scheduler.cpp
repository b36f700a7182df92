#include "run/scheduler.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <thread>

#include "kiln/error.hpp"

namespace kiln::core {

namespace {

// 2 rather than 2.0, 0.5 rather than 0.500000: the shortest form that reads back.
std::string number(double v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

// Sums of fractional needs drift (0.1 + 0.2 - 0.1 ...); a need that fits exactly must
// not be refused for a rounding error.
constexpr double slack = 1e-9;

// Validates a node's "resources" and returns its needs, by resource name.
std::vector<std::pair<std::string, double>> needs_of(const Node& node) {
    std::vector<std::pair<std::string, double>> out;
    const nlohmann::json& r = node.resources;
    if (r.is_null()) return out;
    if (!r.is_object())
        throw RunnerError("node '" + node.name + "': \"resources\" must be an object of non-negative numbers such as " +
                          "{\"gpu\": 1}, got " + r.dump());
    for (const auto& [key, value] : r.items()) {
        const bool ok = value.is_number() && std::isfinite(value.get<double>()) && value.get<double>() >= 0;
        if (!ok)
            throw RunnerError("node '" + node.name + "': resource \"" + key +
                              "\" must be a non-negative number, got " + value.dump() + " (in \"resources\": " +
                              r.dump() + ")");
        out.emplace_back(key, value.get<double>());
    }
    return out;
}

}  // namespace

void IndexSet::reset(std::size_t n) {
    levels_.clear();
    size_ = 0;
    std::size_t words = (n + 63) / 64;
    for (;;) {
        levels_.emplace_back(std::max<std::size_t>(words, 1), 0);
        if (words <= 1) break;
        words = (words + 63) / 64;
    }
}

void IndexSet::insert(std::size_t i) {
    ++size_;
    for (auto& level : levels_) {
        std::uint64_t& word = level[i >> 6];
        const bool was_empty = word == 0;
        word |= std::uint64_t{1} << (i & 63);
        if (!was_empty) return;  // the levels above already mark this word
        i >>= 6;
    }
}

void IndexSet::erase(std::size_t i) {
    --size_;
    for (auto& level : levels_) {
        std::uint64_t& word = level[i >> 6];
        word &= ~(std::uint64_t{1} << (i & 63));
        if (word != 0) return;  // the word still has members: the levels above stay
        i >>= 6;
    }
}

std::size_t IndexSet::lowest() const {
    std::size_t i = 0;
    for (auto level = levels_.rbegin(); level != levels_.rend(); ++level)
        i = (i << 6) | static_cast<std::size_t>(std::countr_zero((*level)[i]));
    return i;
}

std::size_t IndexSet::find_from(std::size_t level, std::size_t i) const {
    const auto& words = levels_[level];
    const std::size_t w = i >> 6;
    if (w >= words.size()) return npos;
    if (const std::uint64_t bits = words[w] & (~std::uint64_t{0} << (i & 63)); bits != 0)
        return (w << 6) | static_cast<std::size_t>(std::countr_zero(bits));
    if (level + 1 == levels_.size()) return npos;
    // The next non-empty word of this level, found one level up.
    const std::size_t next_word = find_from(level + 1, w + 1);
    if (next_word == npos) return npos;
    return (next_word << 6) | static_cast<std::size_t>(std::countr_zero(words[next_word]));
}

ResourceNeeds read_resource_needs(const Pipeline& pipeline, const std::map<std::string, double>& caps) {
    ResourceNeeds out;
    for (const auto& [name, cap] : caps) {
        if (!std::isfinite(cap) || cap < 0)
            throw RunnerError("the cap on resource \"" + name + "\" must be a non-negative number, got " + number(cap));
        out.names.push_back(name);
        out.caps.push_back(cap);
    }
    const auto& nodes = pipeline.nodes();
    out.constrained.assign(nodes.size(), 0);
    // Every node's resources are validated, capped or not: a typo shows up before the run.
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (nodes[i].resources.is_null()) continue;
        for (const auto& [key, need] : needs_of(nodes[i])) {
            auto it = caps.find(key);
            if (it == caps.end() || need == 0) continue;  // no cap: unlimited
            if (need > it->second + slack)
                throw RunnerError("node '" + nodes[i].name + "' needs " + key + "=" + number(need) + " but the cap is " +
                                  key + "=" + number(it->second) + ", so it could never run. Raise the cap (--resources " +
                                  key + "=" + number(need) + ") or lower the node's \"resources\".");
            if (out.needs.empty()) out.needs.assign(nodes.size() * out.names.size(), 0.0);
            const auto r = static_cast<std::size_t>(std::distance(caps.begin(), it));
            out.needs[i * out.names.size() + r] = need;
            out.constrained[i] = 1;
        }
    }
    return out;
}

bool ResourceNeeds::fits(std::size_t node, const std::vector<double>& in_use) const {
    if (!constrains(node)) return true;
    for (std::size_t r = 0; r < names.size(); ++r)
        if (in_use[r] + need(node, r) > caps[r] + slack) return false;
    return true;
}

void ResourceNeeds::add(std::size_t node, std::vector<double>& in_use, double sign) const {
    if (!constrains(node)) return;
    for (std::size_t r = 0; r < names.size(); ++r) in_use[r] += sign * need(node, r);
}

Scheduler::Scheduler(const Pipeline& pipeline, const std::map<std::string, double>& caps, bool keep_going)
    : Scheduler(read_resource_needs(pipeline, caps), pipeline, keep_going) {}

Scheduler::Scheduler(ResourceNeeds resources, const Pipeline& pipeline, bool keep_going)
    : keep_going_(keep_going), resources_(std::move(resources)) {
    const auto& nodes = pipeline.nodes();
    const std::size_t n = nodes.size();
    in_use_.assign(resources_.caps.size(), 0.0);
    if (n >= UINT32_MAX) throw RunnerError("the pipeline has too many nodes to schedule");
    unfinished_parents_.assign(n, 0);
    child_start_.assign(n + 1, 0);
    std::size_t constrained = 0;
    for (char c : resources_.constrained) constrained += c != 0;

    // The graph, built from the datasets rather than from the (large) nodes: their
    // producers and consumers sit in flat arrays, so a big pipeline costs few cache misses.
    // One edge per (dataset, consumer): consumers_of lists a node once per dataset even
    // when it reads it twice, and in-degrees count exactly the edges succeeded() walks.
    // The transcoded forms of one dataset share producer and consumers: one edge for all.
    const auto datasets = static_cast<std::uint32_t>(pipeline.dataset_names().size());
    for (std::uint32_t d = 0; d < datasets; ++d) {
        const std::size_t producer = pipeline.producer_of(d);
        if (producer != Pipeline::npos && pipeline.underlying_id(d) == d)
            child_start_[producer + 1] += static_cast<std::uint32_t>(pipeline.consumers_of(d).size());
    }
    for (std::size_t i = 0; i < n; ++i) child_start_[i + 1] += child_start_[i];
    children_.resize(child_start_[n]);
    std::vector<std::uint32_t> fill(child_start_.begin(), child_start_.end() - 1);
    for (std::uint32_t d = 0; d < datasets; ++d) {
        const std::size_t producer = pipeline.producer_of(d);
        if (producer == Pipeline::npos || pipeline.underlying_id(d) != d) continue;
        for (std::size_t c : pipeline.consumers_of(d)) {
            children_[fill[producer]++] = static_cast<std::uint32_t>(c);
            ++unfinished_parents_[c];
        }
    }

    state_.assign(n, State::waiting);
    ready_.reset(n);
    blocked_.reserve(constrained);
    for (std::size_t i = 0; i < n; ++i)
        if (unfinished_parents_[i] == 0) make_ready(i);
}

void Scheduler::make_ready(std::size_t node) {
    state_[node] = State::ready;
    ready_.insert(node);
}

bool Scheduler::fits(std::size_t node) const {
    return resources_.fits(node, in_use_);
}

void Scheduler::claim_resources(std::size_t node, double sign) {
    if (!resources_.constrains(node)) return;
    resources_.add(node, in_use_, sign);
    if (sign < 0) {
        // Resources came back: the nodes that did not fit get another chance, in order.
        for (std::size_t b : blocked_) ready_.insert(b);
        blocked_.clear();
    }
}

std::optional<std::size_t> Scheduler::next() {
    if (stopped()) return std::nullopt;
    while (!ready_.empty()) {
        const std::size_t node = ready_.lowest();
        ready_.erase(node);
        if (!fits(node)) {
            blocked_.push_back(node);
            continue;
        }
        state_[node] = State::running;
        ++running_;
        claim_resources(node, +1);
        return node;
    }
    return std::nullopt;
}

std::size_t Scheduler::candidates(std::size_t* out, std::size_t limit) const {
    std::size_t n = 0;
    if (stopped()) return 0;
    for (std::size_t i = ready_.lowest_from(0); n < limit && i != IndexSet::npos; i = ready_.lowest_from(i + 1))
        if (fits(i)) out[n++] = i;
    return n;
}

bool Scheduler::take(std::size_t node) {
    if (stopped() || !ready_.contains(node) || !fits(node)) return false;
    ready_.erase(node);
    state_[node] = State::running;
    ++running_;
    claim_resources(node, +1);
    return true;
}

void Scheduler::succeeded(std::size_t node) {
    state_[node] = State::done;
    --running_;
    ++settled_;
    claim_resources(node, -1);
    for (std::uint32_t e = child_start_[node]; e < child_start_[node + 1]; ++e) {
        const std::uint32_t c = children_[e];
        // A node skipped under keep_going stays skipped when its other parents finish.
        if (--unfinished_parents_[c] == 0 && state_[c] == State::waiting) make_ready(c);
    }
}

void Scheduler::unstart(std::size_t node) {
    --running_;
    claim_resources(node, -1);
    // Back among the ready nodes even after a fail-fast stop: not_run() lists it.
    make_ready(node);
}

void Scheduler::failed(std::size_t node) {
    state_[node] = State::failed;
    --running_;
    ++settled_;
    ++failures_;
    claim_resources(node, -1);
    if (keep_going_) skip_downstream_of(node);
}

// Marks every waiting node reachable from `node` skipped. Each node is pushed at most
// once over the whole run (only waiting nodes are), so all failures together cost O(N+E).
// A ready or running node never depends on a failed one: all its ancestors succeeded.
void Scheduler::skip_downstream_of(std::size_t node) {
    stack_.push_back(node);
    while (!stack_.empty()) {
        const std::size_t cur = stack_.back();
        stack_.pop_back();
        for (std::uint32_t e = child_start_[cur]; e < child_start_[cur + 1]; ++e) {
            const std::uint32_t c = children_[e];
            if (state_[c] == State::waiting) {
                state_[c] = State::skipped;
                ++settled_;
                stack_.push_back(c);
            }
        }
    }
}

bool Scheduler::finished() const {
    if (running_ > 0) return false;
    // Once nothing runs every resource is free, so a ready node would fit: with nothing
    // running and nothing ready, only stopping or settling everything can be the reason.
    return stopped() || settled_ == state_.size();
}

std::vector<std::size_t> Scheduler::not_run() const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < state_.size(); ++i)
        if (state_[i] == State::waiting || state_[i] == State::ready || state_[i] == State::skipped) out.push_back(i);
    return out;
}

std::size_t workers_for(const Pipeline& pipeline, std::optional<int> max_workers) {
    if (max_workers && *max_workers < 1)
        throw RunnerError("max_workers should be positive (got " + std::to_string(*max_workers) + ")");
    std::size_t limit = max_workers ? static_cast<std::size_t>(*max_workers)
                                    : std::max<std::size_t>(1, std::thread::hardware_concurrency());
    // At most nodes - layers + 1 nodes can ever run at once: the deepest node has a chain
    // of one ancestor per layer above it, and nodes on one chain never overlap.
    const std::size_t required = pipeline.size() - pipeline.layer_count() + 1;
    return std::min(limit, required);
}

}  // namespace kiln::core
