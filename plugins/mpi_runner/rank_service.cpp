#include "rank_service.hpp"

#include <sys/resource.h>

#include <kiln/error.hpp>

namespace kiln::mpi {

namespace {
std::uint64_t max_rss_bytes() {
    struct rusage usage {};
    return ::getrusage(RUSAGE_SELF, &usage) == 0 ? static_cast<std::uint64_t>(usage.ru_maxrss) * 1024 : 0;
}
}  // namespace

Executor::Executor() : thread_([this] { loop(); }) {}

Executor::~Executor() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void Executor::start(std::function<NodeResult()> job) {
    {
        std::lock_guard lock(mutex_);
        job_ = std::move(job);
        busy_ = true;
        finished_ = false;
    }
    wake_.notify_one();
}

std::optional<NodeResult> Executor::take_result() {
    if (!finished_.load(std::memory_order_acquire)) return std::nullopt;
    std::lock_guard lock(mutex_);
    finished_ = false;
    busy_ = false;
    return std::exchange(result_, std::nullopt);
}

void Executor::loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return stopping_ || job_; });
        if (!job_) return;
        auto job = std::exchange(job_, nullptr);
        lock.unlock();
        NodeResult r = job();
        lock.lock();
        result_ = std::move(r);
        finished_.store(true, std::memory_order_release);
    }
}

RankService::RankService(RunContext& context, Transport& transport, RunHere run_here)
    : ctx_(context), remote_(context.distributed()), transport_(transport), run_here_(std::move(run_here)) {}

bool RankService::handle(const Message& m) {
    Reader in(m.bytes);
    switch (m.tag) {
        case fetch: {
            std::string dataset = in.str();
            int to = in.i32();
            send_value(dataset, to);
            return true;
        }
        case data: receive_value(m); return true;
        case free_value: remote_.set_value(in.str(), Value()); return true;
        default: return false;
    }
}

void RankService::send_value(const std::string& dataset, int to) {
    const Value* v = remote_.value(dataset);
    if (!v) throw RunnerError("MpiRunner: rank " + std::to_string(transport_.rank()) + " was asked for '" + dataset +
                              "', which it does not hold");
    const TypeOps& type = *v->type();
    std::string error;
    std::size_t size = type.encoded_size(v->raw(), &error);
    auto bytes = std::make_shared<std::vector<std::byte>>(size);
    if (!error.empty() || !type.encode(v->raw(), bytes->data(), size, &error))
        throw RunnerError("MpiRunner: cannot encode '" + dataset + "' (" + std::string(type.name) + "): " + error);
    transport_.send_value(to, dataset, std::move(bytes));
}

void RankService::receive_value(const Message& header) {
    Reader in(header.bytes);
    std::string dataset = in.str();
    std::uint64_t size = in.u64();
    auto bytes = transport_.receive_payload(header.source, size);
    const TypeOps* type = remote_.value_type(dataset);
    if (!type) throw RunnerError("MpiRunner: received '" + dataset + "', which this pipeline does not know");
    // The value may point into the received bytes (a kiln::Tensor does): they stay alive with it.
    Value v = Value::decode(*type, std::span<const std::byte>(bytes->data(), bytes->size()), bytes);
    if (!remote_.set_value(dataset, std::move(v)))
        throw RunnerError("MpiRunner: cannot keep '" + dataset + "' in memory on rank " +
                          std::to_string(transport_.rank()));
    if (waiting_ && waiting_->awaited.erase(dataset)) {
        waiting_->bytes_received += size;
    } else {
        arrived_early_[dataset] = size;
    }
}

void RankService::expect_node(std::size_t node, std::set<std::string> awaited) {
    if (waiting_ || executor_.busy())
        throw RunnerError("MpiRunner: rank " + std::to_string(transport_.rank()) + " was sent a node while busy");
    std::uint64_t early_bytes = 0;
    for (auto it = awaited.begin(); it != awaited.end();) {
        if (auto early = arrived_early_.find(*it); early != arrived_early_.end()) {
            early_bytes += early->second;
            arrived_early_.erase(early);
            it = awaited.erase(it);
        } else {
            it = remote_.value(*it) ? awaited.erase(it) : std::next(it);
        }
    }
    waiting_ = Waiting{node, std::move(awaited), std::chrono::steady_clock::now(), early_bytes};
}

std::optional<NodeResult> RankService::step() {
    if (waiting_ && waiting_->awaited.empty() && !executor_.busy()) {
        Waiting w = std::move(*waiting_);
        waiting_.reset();
        const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - w.since).count();
        executor_.start([this, w, waited] {
            NodeResult r;
            r.node = w.node;
            r.ok = run_here_(w.node, &r.error);
            r.max_rss_bytes = max_rss_bytes();
            r.bytes_received = w.bytes_received;
            r.seconds_waiting = waited;
            return r;
        });
    }
    return executor_.take_result();
}

std::vector<std::pair<std::string, std::uint64_t>> RankService::output_sizes(std::size_t node) const {
    std::vector<std::pair<std::string, std::uint64_t>> sizes;
    for (const auto& out : ctx_.node(node).outputs) {
        const Value* v = remote_.value(out);
        if (!v) continue;
        std::string error;
        sizes.emplace_back(out, v->type()->encoded_size(v->raw(), &error));
    }
    return sizes;
}

}  // namespace kiln::mpi
