// The ThreadRunner: a pool of threads sharing the run's ready set under one mutex. A worker
// reports the node it finished and takes the next one in the same critical section, so a
// node costs one lock round trip (less when batched, see below); a node starts as soon as
// its last producer is reported, on whichever worker is free, with no layer barrier.
// Written against the SDK's RunContext, like any runner plugin: the host's lifecycle runs
// each node (observers, hooks, load, call, save, release, failure records).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <spdlog/spdlog.h>
#include <thread>

#include "builtin_runners.hpp"
#include "kiln/error.hpp"
#include "run/host_run_context.hpp"
#include "run/run_guard.hpp"

namespace kiln::runners {

namespace {

// Batching: a worker that reports one node and takes the next pays one lock round trip,
// which is noticeable next to nodes of a microsecond when several workers contend for the
// lock. So when a worker's recent nodes ran fast and many nodes are ready, it takes a
// batch (at most 1/(2 x workers) of the ready nodes, as in guided self-scheduling, so the
// others still find work) and reports them together. Slow nodes always go one at a time:
// a long node never holds others back on its worker.
constexpr std::size_t max_batch = 32;
constexpr auto fast_node = std::chrono::microseconds(10);
using Clock = std::chrono::steady_clock;

// Takes the lock again after running a node. The critical sections are short (a few
// scheduler updates), so a brief spin usually gets the lock before the holder would even
// have been woken from a futex sleep; only then fall back to blocking.
void relock(std::unique_lock<std::mutex>& lock) {
    for (int spin = 0; spin < 32; ++spin) {
        if (lock.try_lock()) return;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield");
#endif
    }
    lock.lock();
}

// One run: the shared state of the workers. Everything below mutex_ is guarded by it;
// the context's run_node is thread safe for distinct nodes by contract.
class ThreadRun {
public:
    ThreadRun(RunContext& ctx, std::size_t workers)
        : ctx_(ctx), workers_(workers), keep_going_(ctx.settings().keep_going), ready_(ctx.ready_set()) {}

    // A worker's whole life. Never throws: an exception escaping a std::thread would
    // terminate the process, so anything unexpected is kept for run() to rethrow.
    void work(unsigned worker) noexcept {
        // The thread that made the RunGuard has one; a pool thread needs its own, or a
        // node overflowing its stack would kill kiln without a word.
        std::optional<core::SignalStack> signal_stack;
        if (worker > 0) signal_stack.emplace();
        try {
            loop(worker);
        } catch (...) {
            std::lock_guard lock(mutex_);
            if (!fatal_) fatal_ = std::current_exception();
            // The nodes this worker held will never be reported: wake everyone so that
            // they see fatal_ and leave instead of waiting for them.
            cv_.notify_all();
        }
    }

    void rethrow_fatal() {
        if (fatal_) std::rethrow_exception(fatal_);
    }

private:
    // Nodes a worker took in one critical section. Every node in it was ready when taken,
    // so none depends on another: they may run in any order, and a failure among them
    // cancels none of the others under keep_going.
    struct Batch {
        std::size_t nodes[max_batch];
        bool ok[max_batch];
        std::size_t size = 0, started = 0;
    };

    void loop(unsigned worker) {
        Batch batch;
        bool fast = false;                  // this worker's last timed batch ran fast nodes
        unsigned untimed = 0;
        std::unique_lock lock(mutex_);
        for (;;) {
            if (fatal_) return;
            // After Ctrl-C / SIGTERM the ready set starts nothing more, and is finished
            // once the nodes in progress are reported.
            take(batch, fast);
            if (batch.size == 0) {
                if (ready_.finished()) {
                    // Done (or stopped and drained): whoever sleeps must see it too.
                    if (idle_ > 0) {
                        lock.unlock();
                        cv_.notify_all();
                    }
                    return;
                }
                // Nothing to start until a running node finishes; its reporter wakes us.
                ++idle_;
                cv_.wait(lock);
                --idle_;
                continue;
            }
            // More startable work and a sleeping worker: wake one, which in turn wakes the
            // next if work is still left (a chain rather than a herd). Notify after
            // unlocking, so the woken thread does not block on the mutex we hold.
            const bool wake = idle_ > 0 && ready_.ready_count() > 0;
            lock.unlock();
            if (wake) cv_.notify_one();

            // Reading the clock costs about as much as a trivial node: single nodes are
            // timed only now and then, which is enough to notice that batching would pay.
            const bool timed = workers_ > 1 && (batch.size > 1 || ++untimed % 8 == 0);
            const Clock::time_point t0 = timed ? Clock::now() : Clock::time_point();
            run_batch(batch, worker);
            if (timed && batch.started > 0)
                fast = Clock::now() - t0 < fast_node * static_cast<int>(batch.started);

            relock(lock);
            report(batch);
        }
    }

    // Under the lock.
    void take(Batch& batch, bool fast) {
        std::size_t want = 1;
        if (fast) want = std::clamp<std::size_t>(ready_.ready_count() / (2 * workers_), 1, max_batch);
        batch.size = batch.started = 0;
        while (batch.size < want) {
            const std::size_t node = ready_.next();
            if (node == ReadySet::none) break;
            batch.nodes[batch.size++] = node;
        }
    }

    void run_batch(Batch& batch, unsigned worker) {
        while (batch.started < batch.size) {
            // Another worker's failure stopped the run: what this one has not started yet,
            // it hands back (a relaxed read is enough: the ready set stops the run anyway,
            // this only spares nodes that would start after the stop).
            if (batch.started > 0 && (stop_.load(std::memory_order_relaxed) || ctx_.stop_requested())) break;
            const std::size_t node = batch.nodes[batch.started];
            const bool ok = ctx_.run_node(node, worker, nullptr);
            batch.ok[batch.started++] = ok;
            if (!ok && !keep_going_) break;  // report it now: the run stops
        }
    }

    // Under the lock: the batch's nodes settle in the order they ran; what it did not
    // start goes back.
    void report(Batch& batch) {
        for (std::size_t k = 0; k < batch.started; ++k) {
            ready_.settle(batch.nodes[k]);
            if (!batch.ok[k] && !keep_going_) stop_.store(true, std::memory_order_relaxed);
        }
        for (std::size_t k = batch.started; k < batch.size; ++k) ready_.give_back(batch.nodes[k]);
    }

    RunContext& ctx_;
    const std::size_t workers_;
    const bool keep_going_;
    std::atomic<bool> stop_{false};  // a failure stopped the run (fail fast); a hint, see run_batch

    std::mutex mutex_;
    std::condition_variable cv_;
    ReadySet& ready_;             // guarded by mutex_
    unsigned idle_ = 0;           // guarded by mutex_: workers waiting on cv_
    std::exception_ptr fatal_;    // guarded by mutex_
};

class ThreadRunner final : public core::Runner {
public:
    explicit ThreadRunner(const core::RunnerOptions& options) : options_(options) {
        if (options_.is_async) {
            spdlog::warn("ThreadRunner doesn't support loading and saving the node inputs and outputs "
                         "asynchronously with threads; --async is ignored");
            options_.is_async = false;
        }
    }
    std::string name() const override { return "ThreadRunner"; }

    core::RunOutcome run(core::RunPlan& plan, const core::NodeEventStream* events) override {
        plan.set_async(false);  // as announced: the pool's threads already overlap I/O
        // Throws kiln::RunnerError before any node runs.
        const std::size_t workers = core::workers_for(plan.pipeline(), options_.max_workers);
        return core::run_in_context(plan, events, options_, name(),
                                    [workers](core::HostRunContext& ctx) { run_pool(ctx, workers); },
                                    core::NodeLifecycle::Checks::trusted_runner);
    }

private:
    static void run_pool(RunContext& ctx, std::size_t workers) {
        ThreadRun state(ctx, workers);
        // The calling thread is worker 0; a pool of one starts no thread at all.
        std::vector<std::thread> pool;
        pool.reserve(workers - 1);
        for (unsigned w = 1; w < workers; ++w) {
            try {
                pool.emplace_back([&state, w] { state.work(w); });
            } catch (const std::exception& e) {
                // Fewer threads still finish the run: the ones we have share the work (and
                // leaving here would destroy running threads: std::terminate).
                spdlog::warn("ThreadRunner could start only {} of {} workers: {}", w, workers, e.what());
                break;
            }
        }
        state.work(0);
        for (auto& t : pool) t.join();
        state.rethrow_fatal();
    }

    core::RunnerOptions options_;
};

}  // namespace

std::unique_ptr<core::Runner> make_thread_runner(const core::RunnerOptions& options) {
    return std::make_unique<ThreadRunner>(options);
}

}  // namespace kiln::runners
