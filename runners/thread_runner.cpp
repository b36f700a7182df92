// The ThreadRunner: a pool of threads sharing one Scheduler under one mutex. A worker
// reports the node it finished and takes the next one in the same critical section, so a
// node costs one lock round trip; a node starts as soon as its last producer is reported,
// on whichever worker is free, with no layer barrier.
#include <condition_variable>
#include <exception>
#include <mutex>
#include <spdlog/spdlog.h>
#include <thread>

#include "kiln/error.hpp"
#include "kiln/runners/builtin.hpp"
#include "scheduler.hpp"

namespace kiln::runners {
using core::NodeFailure;
using core::RunOutcome;
using core::RunPlan;

namespace {

// One run: the shared state of the workers. Everything below mutex_ is guarded by it;
// the plan and the observer are thread safe for distinct nodes by contract.
class ThreadRun {
public:
    ThreadRun(RunPlan& plan, core::RunObserver* observer, Scheduler& scheduler)
        : plan_(plan), observer_(observer), progress_(spdlog::should_log(spdlog::level::info)),
          scheduler_(scheduler) {
        outcome_.done.assign(plan.size(), 0);
    }

    // A worker's whole life. Never throws: an exception escaping a std::thread would
    // terminate the process, so anything unexpected is kept for run() to rethrow.
    void work(unsigned worker) noexcept {
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

    RunOutcome take_outcome() {
        if (fatal_) std::rethrow_exception(fatal_);
        return std::move(outcome_);
    }

private:
    void loop(unsigned worker) {
        std::unique_lock lock(mutex_);
        for (;;) {
            if (fatal_) return;
            const std::optional<std::size_t> node = scheduler_.next();
            if (!node) {
                if (scheduler_.finished()) {
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
            const bool wake = idle_ > 0 && scheduler_.ready_count() > 0;
            lock.unlock();
            if (wake) cv_.notify_one();

            NodeFailure failure{*node, {}};
            const bool ok = run_node(*node, worker, failure);

            lock.lock();
            report(*node, ok, std::move(failure));
        }
    }

    // Runs one node on this thread; false (and `failure` filled) when it failed.
    bool run_node(std::size_t node, unsigned worker, NodeFailure& failure) noexcept {
        bool ok = true;
        try {
            if (observer_) observer_->node_started(node, worker);
            plan_.execute(node);
            plan_.release_after(node);
        } catch (const std::exception& e) {
            ok = fail(failure, e.what());
        } catch (...) {
            ok = fail(failure, "node '" + plan_.pipeline().nodes()[node].name + "' failed with an unknown exception");
        }
        // An observer that throws on success fails the node (as a throwing after-node hook
        // does in Kedro); it is told about a node once, whatever happens.
        try {
            if (observer_) observer_->node_finished(node, worker, ok ? nullptr : &failure);
        } catch (const std::exception& e) {
            if (ok) ok = fail(failure, e.what());
        } catch (...) {
            if (ok) ok = fail(failure, "node '" + plan_.pipeline().nodes()[node].name + "': the run observer failed");
        }
        return ok;
    }

    static bool fail(NodeFailure& failure, std::string message) noexcept {
        try {
            failure.message = std::move(message);
        } catch (...) {  // out of memory for the message: still a failure
        }
        return false;
    }

    // Under the lock.
    void report(std::size_t node, bool ok, NodeFailure&& failure) {
        if (ok) {
            scheduler_.succeeded(node);
            outcome_.done[node] = 1;
            ++completed_;
            if (progress_) {
                // Under the lock, so the counts come out in order.
                spdlog::info("Completed node: {}", plan_.pipeline().nodes()[node].name);
                spdlog::info("Completed {} out of {} tasks", completed_, outcome_.done.size());
            }
        } else {
            scheduler_.failed(node);
            outcome_.failures.push_back(std::move(failure));
        }
    }

    RunPlan& plan_;
    core::RunObserver* observer_;
    const bool progress_;

    std::mutex mutex_;
    std::condition_variable cv_;
    Scheduler& scheduler_;        // guarded by mutex_
    RunOutcome outcome_;          // guarded by mutex_
    std::size_t completed_ = 0;   // guarded by mutex_
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

    RunOutcome run(RunPlan& plan, core::RunObserver* observer) override {
        // Both throw kiln::RunnerError before any node runs.
        Scheduler scheduler(plan.pipeline(), options_.resources, options_.keep_going);
        const std::size_t workers = workers_for(plan.pipeline(), options_.max_workers);

        ThreadRun state(plan, observer, scheduler);
        // The calling thread is worker 0; a pool of one starts no thread at all.
        std::vector<std::thread> pool;
        pool.reserve(workers - 1);
        for (unsigned w = 1; w < workers; ++w) {
            try {
                pool.emplace_back([&state, w] { state.work(w); });
            } catch (const std::system_error& e) {
                // Fewer threads still finish the run: the ones we have share the work.
                spdlog::warn("ThreadRunner could start only {} of {} workers: {}", w, workers, e.what());
                break;
            }
        }
        state.work(0);
        for (auto& t : pool) t.join();
        return state.take_outcome();
    }

private:
    core::RunnerOptions options_;
};

}  // namespace

std::unique_ptr<core::Runner> make_thread_runner(const core::RunnerOptions& options) {
    return std::make_unique<ThreadRunner>(options);
}

}  // namespace kiln::runners
