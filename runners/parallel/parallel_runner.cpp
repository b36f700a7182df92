// ParallelRunner: nodes run in worker processes; in-memory values travel through shared
// memory (written once by the producer, read in place by consumers); the host process
// schedules and frees each value after its last reader; the host's node lifecycle
// (RunContext::remote_started / remote_finished) fires the node's events into the run's
// one stream (observers and hooks) and records each node, as for every other runner.
//
// Start methods. "fork" (default): workers are forked after the pipeline and catalog are
// built, so they need no set-up of their own. Forking a process that runs threads can
// deadlock the child (a lock held by a thread that does not exist in it), so when a plugin
// has started threads the runner re-execs instead. "spawn": workers are fresh kiln
// processes that re-load the plugins and rebuild the same plan from the same command line
// (checked by the plan's fingerprint, the one the MpiRunner's ranks compare too).
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builtin_runners.hpp"
#include "catalog/temp_files.hpp"
#include "kiln/error.hpp"
#include "run/fork_safe_threads.hpp"
#include "run/host_run_context.hpp"
#include "run/run_guard.hpp"
#include "run/run_views.hpp"
#include "shm_arena.hpp"
#include "worker_channel.hpp"

namespace kiln::runners {
using core::workers_for;
using core::RunOutcome;
using core::RunPlan;
using SlotKind = core::RunPlan::SlotKind;

namespace {

// After Ctrl-C or SIGTERM, how long the nodes in progress get to finish (and save their
// outputs whole) before their workers are killed.
constexpr std::chrono::milliseconds interrupt_grace{2000};

extern "C" char** environ;

// The host's plan for spawned workers, in an anonymous memory file they inherit: nothing
// on disk to clean up, and nothing they could read that changed since the run started.
int write_snapshot(const RunPlan& plan) {
    const std::string text = plan.worker_snapshot().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    int fd = ::memfd_create("kiln-plan", MFD_CLOEXEC);
    if (fd < 0) throw RunnerError(std::string("cannot pass the plan to worker processes: ") + std::strerror(errno));
    for (std::size_t at = 0; at < text.size();) {
        ssize_t n = ::write(fd, text.data() + at, text.size() - at);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ::close(fd);
            throw RunnerError(std::string("cannot pass the plan to worker processes: ") + std::strerror(errno));
        }
        at += static_cast<std::size_t>(n);
    }
    // Above the numbers the worker's descriptors are moved to (3 and 4).
    int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
    ::close(fd);
    return high;
}

std::size_t thread_count() {
    std::error_code ec;
    std::size_t n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/task", ec); !ec && it != decltype(it)(); ++it) ++n;
    return n == 0 ? 1 : n;
}

std::string describe_exit(int status) {
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        const char* name = sigabbrev_np(sig);
        return "was killed by signal " + std::to_string(sig) + " (SIG" + (name ? name : "?") + ": " + strsignal(sig) + ")";
    }
    if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
    return "stopped (status " + std::to_string(status) + ")";
}

// Moves dataset `name`'s value into shared memory: measured, allocated, encoded in place
// (one copy).
ShmBlock to_shared_memory(ShmArena& arena, const Value& value, const std::string& name) {
    const std::string what = "output '" + name + "'";
    const TypeOps& type = *value.type();
    std::string error;
    std::size_t size = type.encoded_size(value.raw(), &error);
    if (!error.empty()) throw NodeError("cannot encode " + what + " ('" + std::string(type.name) + "'): " + error);
    ShmBlock block;
    try {
        block = arena.allocate(size);
    } catch (const ShmExhausted& e) {
        throw RunnerError("not enough shared memory for dataset '" + name + "': its value needs " +
                          (size < (1u << 20) ? std::to_string(size) + " bytes"
                                             : mib(size) + " (" + std::to_string(size) + " bytes)") +
                          " but /dev/shm has " + mib(e.free_bytes) + " free (of " +
                          mib(e.total_bytes) + "). " + shm_room_hint());
    }
    auto bytes = arena.bytes(block);
    if (!type.encode(value.raw(), bytes.data(), size, &error)) {
        arena.deallocate(block);
        throw NodeError("cannot encode " + what + " ('" + std::string(type.name) + "'): " + error);
    }
    return block;
}

void serve(RunPlan& plan, ShmArena& arena, WorkerChannel& channel);

// The worker process: run what the host asks, until it says quit or goes away.
[[noreturn]] void worker_main(RunPlan& plan, ShmArena& arena, int fd, pid_t host) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the host, even if it is SIGKILLed
    if (::getppid() != host) ::_exit(1);
    core::forget_run_guard_in_child();  // the host reports this process's crashes
    // Ctrl-C, or SIGTERM to the whole process group (a service manager stopping the run),
    // reaches every worker too: the host decides. It lets the node in hand finish (a save
    // is never cut off by the signal itself), and kills a worker only after a grace period,
    // then removes the temporary file of any save it cut short.
    core::leave_interrupts_to_host();
    arena.disown();
    arena.forget_own_segments();
    WorkerChannel channel(fd);
    try {
        serve(plan, arena, channel);
    } catch (const std::exception& e) {
        // The host sees this worker exit and fails its node; say why on stderr.
        spdlog::error("worker process {}: {}", ::getpid(), e.what());
        ::_exit(1);
    }
    ::_exit(0);
}

// Runs nodes until the host says quit or goes away.
void serve(RunPlan& plan, ShmArena& arena, WorkerChannel& channel) {
    while (auto message = channel.receive_message()) {
        if (message->kind == WorkerMessage::Kind::quit) break;
        if (message->kind == WorkerMessage::Kind::free) {
            for (const auto& block : message->blocks) arena.deallocate(block);
            continue;
        }
        const RunRequest* request = &message->run;
        const std::size_t node = request->node;
        RunReply reply{request->node, true, {}, {}};
        try {
            for (const auto& in : request->inputs)
                plan.set_slot_value(in.slot, Value::decode(*plan.slot_type(in.slot), arena.bytes(in.block),
                                                           arena.keep_alive(in.block)));
            plan.execute(node);  // no event stream: the host fires this node's events
            for (std::uint32_t slot : plan.step_outputs(node)) {
                if (plan.slot_kind(slot) != SlotKind::memory) continue;
                reply.outputs.push_back({slot, to_shared_memory(arena, plan.slot_value(slot), plan.slot_name(slot))});
            }
        } catch (const std::exception& e) {
            for (const auto& out : reply.outputs) arena.deallocate(out.block);
            reply = RunReply{request->node, false, {}, e.what()};
        }
        // Values live in shared memory now (or nowhere): drop this process's copies.
        for (std::uint32_t slot : plan.step_inputs(node))
            if (plan.slot_kind(slot) == SlotKind::memory) plan.set_slot_value(slot, {});
        for (std::uint32_t slot : plan.step_outputs(node))
            if (plan.slot_kind(slot) == SlotKind::memory) plan.set_slot_value(slot, {});
        struct rusage usage {};
        if (::getrusage(RUSAGE_SELF, &usage) == 0) reply.max_rss_bytes = static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
        if (!channel.send_reply(reply)) break;
    }
}

struct Worker {
    pid_t pid = -1;
    std::unique_ptr<WorkerChannel> channel;
    std::optional<std::size_t> node;  // running now
    std::uint32_t generation = 0;     // a replaced worker is another process: it owns no old blocks
    std::vector<ShmBlock> frees;      // to free once it is idle (a busy worker is not reading)
    bool alive() const { return pid > 0; }
};

// A value in shared memory, and the worker process whose segment holds it: only that
// process may free it.
struct OwnedBlock {
    ShmBlock block;
    std::size_t worker;
    std::uint32_t generation;
};

class ParallelRunner final : public core::Runner {
public:
    explicit ParallelRunner(core::RunnerOptions options) : options_(std::move(options)) {
        if (options_.max_workers && *options_.max_workers < 1)
            throw RunnerError("max_workers should be positive (got " + std::to_string(*options_.max_workers) + ")");
        const char* env = std::getenv("KILN_START_METHOD");
        if (options_.start_method.empty() && env) options_.start_method = env;
        if (options_.start_method.empty()) options_.start_method = "fork";
        if (options_.start_method != "fork" && options_.start_method != "spawn")
            throw RunnerError("unknown start method '" + options_.start_method +
                              "' for ParallelRunner (KILN_START_METHOD); use 'fork' or 'spawn'");
    }
    std::string name() const override { return "ParallelRunner"; }

    RunOutcome run(RunPlan& plan, const core::NodeEventStream* events) override;

private:
    void validate(const RunPlan& plan) const;
    void run_workers(core::HostRunContext& ctx);
    void start_worker(std::size_t index, RunPlan& plan);
    void spawn_worker(std::size_t index, const RunPlan& plan);
    void dispatch(std::size_t worker, std::size_t node, core::HostRunContext& ctx);
    void finish(std::size_t worker, const RunReply& reply, core::HostRunContext& ctx);
    void settle(std::size_t worker, const RunReply& reply, core::HostRunContext& ctx);
    void send_frees_to_idle_workers();
    void end_node(std::size_t worker, std::size_t node, const std::string* failure, std::uint64_t max_rss,
                  core::HostRunContext& ctx);
    void stop_workers(bool kill);
    void drain_after_interrupt(core::HostRunContext& ctx);
    void worker_died(std::size_t w, core::HostRunContext& ctx, bool stopping);
    void remove_temp_files_of_ended_workers(const RunPlan& plan) noexcept;

    core::RunnerOptions options_;
    std::unique_ptr<ShmArena> arena_;
    std::vector<Worker> workers_;
    std::vector<std::optional<OwnedBlock>> blocks_;  // per plan slot, in-memory values
    std::vector<std::uint32_t> pending_reads_;     // per plan slot
    bool any_failed_ = false;
    bool spawn_ = false;
    int snapshot_fd_ = -1;  // spawn mode: the host's plan for workers (see write_snapshot)
    std::vector<pid_t> ended_workers_;  // killed or crashed: a save of theirs may have been cut short
};

// Refuses, all at once, what cannot cross processes: single-process dataset types, and
// in-memory values of types whose codec declares them process-local.
void ParallelRunner::validate(const RunPlan& plan) const {
    std::vector<std::string> offenders;
    for (std::uint32_t slot = 0; slot < plan.slot_count(); ++slot) {
        if (auto* ds = plan.slot_dataset(slot); ds && ds->options().single_process)
            offenders.push_back("dataset '" + ds->name() + "': its type " + ds->type() + " is single-process");
        else if (plan.slot_kind(slot) == SlotKind::memory && plan.slot_type(slot)->process_local)
            offenders.push_back("dataset '" + plan.slot_name(slot) + "': values of type '" +
                                std::string(plan.slot_type(slot)->name) + "' cannot leave their process");
    }
    if (offenders.empty()) return;
    std::sort(offenders.begin(), offenders.end());
    std::string list;
    for (const auto& s : offenders) list += "\n  - " + s;
    throw RunnerError("ParallelRunner cannot run this pipeline in worker processes:" + list +
                      "\n  Run it with --runner ThreadRunner or SequentialRunner, or persist those datasets in the "
                      "catalog with a type that can.");
}

void ParallelRunner::spawn_worker(std::size_t index, const RunPlan& plan) {
    if (options_.worker_command.empty())
        throw RunnerError("ParallelRunner spawn mode needs the kiln command line to start workers");
    int fds[2];
    WorkerChannel::make_pair(fds);
    constexpr int worker_fd = 3;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // dup2 onto the fixed number clears close-on-exec for it; a socket already numbered 3
    // would keep the flag, so it goes to another number first.
    int child_end = fds[1];
    if (child_end == worker_fd) {
        child_end = ::fcntl(fds[1], F_DUPFD_CLOEXEC, 10);
        ::close(fds[1]);
        fds[1] = child_end;
    }
    posix_spawn_file_actions_adddup2(&actions, child_end, worker_fd);
    constexpr int snapshot_fd = 4;
    if (snapshot_fd_ < 0 && !plan.worker_snapshot().is_null()) snapshot_fd_ = write_snapshot(plan);
    if (snapshot_fd_ >= 0) posix_spawn_file_actions_adddup2(&actions, snapshot_fd_, snapshot_fd);

    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e)
        if (std::strncmp(*e, "KILN_WORKER_", 12) != 0) env_strings.emplace_back(*e);
    env_strings.push_back("KILN_WORKER_FD=" + std::to_string(worker_fd));
    if (snapshot_fd_ >= 0) env_strings.push_back("KILN_WORKER_SNAPSHOT_FD=" + std::to_string(snapshot_fd));
    env_strings.push_back("KILN_WORKER_HOST=" + std::to_string(::getpid()));
    env_strings.push_back("KILN_WORKER_ARENA=" + arena_->run_name());
    env_strings.push_back("KILN_WORKER_PLAN=" + plan_fingerprint(plan));
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = options_.worker_command;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(child_end);
    if (rc != 0) {
        ::close(fds[0]);
        throw RunnerError(std::string("cannot start a worker process: ") + std::strerror(rc));
    }
    workers_[index].pid = pid;
    workers_[index].channel = std::make_unique<WorkerChannel>(fds[0]);
    workers_[index].node.reset();
    workers_[index].frees.clear();
    ++workers_[index].generation;
}

void ParallelRunner::start_worker(std::size_t index, RunPlan& plan) {
    if (spawn_) return spawn_worker(index, plan);
    int fds[2];
    WorkerChannel::make_pair(fds);
    std::fflush(nullptr);  // no buffered output duplicated into the child
    const pid_t host = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        throw RunnerError(std::string("cannot start a worker process: ") + std::strerror(errno));
    }
    if (pid == 0) {
        ::close(fds[0]);
        for (auto& w : workers_)
            if (w.channel) ::close(w.channel->fd());
        worker_main(plan, *arena_, fds[1], host);
    }
    ::close(fds[1]);
    workers_[index].pid = pid;
    workers_[index].channel = std::make_unique<WorkerChannel>(fds[0]);
    workers_[index].node.reset();
    workers_[index].frees.clear();
    ++workers_[index].generation;
}

// The host's lifecycle fires the "before" hooks when a node is sent, the rest when its
// result is back.
void ParallelRunner::dispatch(std::size_t w, std::size_t node, core::HostRunContext& ctx) {
    if (!ctx.remote_started(node, static_cast<unsigned>(w), nullptr)) {  // a hook failed it
        any_failed_ = true;
        ctx.ready_set().settle(node);
        return;
    }
    const RunPlan& plan = ctx.plan();
    RunRequest request{static_cast<std::uint32_t>(node), {}};
    for (std::uint32_t slot : plan.step_inputs(node))
        if (plan.slot_kind(slot) == SlotKind::memory && blocks_[slot])
            request.inputs.push_back({slot, blocks_[slot]->block});
    workers_[w].node = node;
    workers_[w].channel->send_request(request);  // a dead worker shows up in poll
}

// The node left the worker: the lifecycle records it, the ready set moves on.
void ParallelRunner::end_node(std::size_t w, std::size_t node, const std::string* failure, std::uint64_t max_rss,
                              core::HostRunContext& ctx) {
    workers_[w].node.reset();
    if (!ctx.remote_finished(node, static_cast<unsigned>(w), failure, max_rss)) any_failed_ = true;
    ctx.ready_set().settle(node);
}

void ParallelRunner::finish(std::size_t w, const RunReply& reply, core::HostRunContext& ctx) {
    settle(w, reply, ctx);
    send_frees_to_idle_workers();
}

// One message per worker with everything it may free now. Only to idle workers: a busy
// one reads nothing until its node is done, and a long message to it could block the
// host while that worker blocks sending its reply.
void ParallelRunner::send_frees_to_idle_workers() {
    for (auto& worker : workers_) {
        if (worker.frees.empty() || !worker.alive() || worker.node) continue;
        worker.channel->send_free(worker.frees);  // a dead worker shows up in poll
        worker.frees.clear();
    }
}

void ParallelRunner::settle(std::size_t w, const RunReply& reply, core::HostRunContext& ctx) {
    const std::size_t node = reply.node;
    const RunPlan& plan = ctx.plan();
    if (!reply.ok) return end_node(w, node, &reply.error, reply.max_rss_bytes, ctx);
    for (const auto& out : reply.outputs) blocks_[out.slot] = OwnedBlock{out.block, w, workers_[w].generation};
    workers_[w].node.reset();
    if (!ctx.remote_finished(node, static_cast<unsigned>(w), nullptr, reply.max_rss_bytes)) {  // a hook failed it
        any_failed_ = true;
        ctx.ready_set().settle(node);
        return;
    }
    // Free each in-memory input after its last reader (Kedro keeps them all to the end),
    // by asking the worker that allocated it. A block of a worker that has died since
    // stays until the run's segments are removed.
    for (std::uint32_t slot : plan.step_inputs(node)) {
        if (--pending_reads_[slot] == 0 && !plan.slot_kept(slot) && blocks_[slot]) {
            const OwnedBlock& owned = *blocks_[slot];
            Worker& owner = workers_[owned.worker];
            if (owner.alive() && owner.generation == owned.generation) owner.frees.push_back(owned.block);
            blocks_[slot].reset();
            spdlog::debug("Releasing {}", plan.slot_name(slot));
        }
    }
    ctx.ready_set().settle(node);
}

void ParallelRunner::stop_workers(bool kill) {
    for (auto& w : workers_) {
        if (!w.alive()) continue;
        if (kill) {
            ::kill(w.pid, SIGKILL);
            ended_workers_.push_back(w.pid);
        } else {
            w.channel->send_quit();
        }
    }
    for (auto& w : workers_) {
        if (!w.alive()) continue;
        int status = 0;
        while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
        }
        w.pid = -1;
        if (w.channel) ::close(w.channel->fd());
        w.channel.reset();
    }
}

// A worker's channel closed: it exited or was killed. Fails the node it was running,
// naming how the worker died (`stopping`: after an interrupt, the node was interrupted).
void ParallelRunner::worker_died(std::size_t w, core::HostRunContext& ctx, bool stopping) {
    int status = 0;
    while (::waitpid(workers_[w].pid, &status, 0) < 0 && errno == EINTR) {
    }
    std::string how = "worker process " + std::to_string(w) + " (pid " + std::to_string(workers_[w].pid) + ") " +
                      describe_exit(status);
    ended_workers_.push_back(workers_[w].pid);
    workers_[w].pid = -1;
    ::close(workers_[w].channel->fd());
    workers_[w].channel.reset();
    if (auto node = workers_[w].node) {
        const std::string message =
            stopping ? std::string("interrupted") : "node '" + ctx.plan().pipeline().nodes()[*node].name + "' crashed: " + how;
        end_node(w, *node, &message, 0, ctx);
    } else if (!stopping) {
        spdlog::warn("{} while idle", how);
    }
}

// Ctrl-C or SIGTERM: nothing new starts. Idle workers are told to quit; the nodes in
// progress get interrupt_grace to finish (their results count, so --resume skips them),
// unless another signal comes; whatever still runs then is reported as interrupted, and
// stop_workers kills it.
void ParallelRunner::drain_after_interrupt(core::HostRunContext& ctx) {
    const int signal_count = core::interrupt_count();
    spdlog::warn("Interrupted (signal {}): stopping worker processes", core::interrupt_signal());
    std::size_t busy = 0;
    for (auto& w : workers_) {
        if (!w.alive()) continue;
        w.channel->send_quit();  // a busy worker reads it after its node
        if (w.node) ++busy;
    }
    if (busy > 0)
        spdlog::warn("Waiting up to {:.0f} s for {} node(s) in progress to finish (interrupt again to stop at once)",
                     std::chrono::duration<double>(interrupt_grace).count(), busy);
    const auto deadline = std::chrono::steady_clock::now() + interrupt_grace;
    std::vector<pollfd> fds;
    std::vector<std::size_t> fd_worker;
    for (;;) {
        fds.clear();
        fd_worker.clear();
        for (std::size_t w = 0; w < workers_.size(); ++w)
            if (workers_[w].alive() && workers_[w].node) {
                fds.push_back({workers_[w].channel->fd(), POLLIN, 0});
                fd_worker.push_back(w);
            }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (fds.empty() || left.count() <= 0 || core::interrupt_count() != signal_count) break;
        // Short waits, so that a second signal is noticed at once.
        int ready = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(left.count(), 50)));
        if (ready < 0 && errno != EINTR) break;
        for (std::size_t i = 0; ready > 0 && i < fds.size(); ++i) {
            if (!fds[i].revents) continue;
            const std::size_t w = fd_worker[i];
            if (std::optional<RunReply> reply = workers_[w].channel->receive_reply()) finish(w, *reply, ctx);
            else worker_died(w, ctx, true);
        }
    }
    const std::string interrupted = "interrupted";
    for (std::size_t w = 0; w < workers_.size(); ++w)
        if (workers_[w].alive() && workers_[w].node) end_node(w, *workers_[w].node, &interrupted, 0, ctx);
}

// A worker killed mid-save leaves its temporary file (`<file>.kiln-tmp-<pid>-<n>`) in a
// dataset's folder; its pid is known here, so it goes now rather than at the next run.
void ParallelRunner::remove_temp_files_of_ended_workers(const RunPlan& plan) noexcept {
    if (ended_workers_.empty()) return;
    try {
        for (const auto& file : core::remove_temp_files_of(core::dataset_folders(plan.catalog()), ended_workers_))
            spdlog::debug("Removed {}: the temporary file of a save that a stopped worker did not finish",
                          file.string());
    } catch (const std::exception& e) {
        spdlog::debug("Looking for the temporary files of stopped workers failed: {}", e.what());
    }
    ended_workers_.clear();
}

RunOutcome ParallelRunner::run(RunPlan& plan, const core::NodeEventStream* events) {
    if (plan.size() == 0) return RunOutcome{};
    validate(plan);
    plan.set_async(options_.is_async);  // before forking: workers inherit it
    if (options_.is_async) spdlog::info("Asynchronous mode is enabled for loading and saving data.");
    return core::run_in_context(
        plan, events, options_, name(), [this](core::HostRunContext& ctx) { run_workers(ctx); },
        core::NodeLifecycle::Checks::trusted_runner);
}

void ParallelRunner::run_workers(core::HostRunContext& ctx) {
    RunPlan& plan = ctx.plan();
    const auto& pipeline = plan.pipeline();
    spawn_ = options_.start_method == "spawn";
    // Threads known to be fork safe (the progress line's ticker) do not count.
    const std::size_t all_threads = thread_count();
    if (std::size_t threads = all_threads - std::min(all_threads - 1, core::fork_safe_thread_count());
        !spawn_ && threads > 1) {
        if (options_.worker_command.empty())
            throw RunnerError("ParallelRunner cannot fork worker processes safely: this process already runs " +
                              std::to_string(threads) + " threads. Use --runner ThreadRunner.");
        spdlog::info("ParallelRunner: {} threads exist (started by a plugin), so workers are spawned, not forked",
                     threads);
        spawn_ = true;
    }

    struct CloseSnapshot {
        int& fd;
        ~CloseSnapshot() {
            if (fd >= 0) ::close(fd);
            fd = -1;
        }
    } close_snapshot{snapshot_fd_};
    // The handler first: a Ctrl-C from here on is seen, and the segments removed.
    core::InterruptScope interrupts(/*handles_repeats=*/true);  // a second signal cuts the grace short
    ShmArena::remove_stale();
    arena_ = ShmArena::create(0);
    ReadySet& ready = ctx.ready_set();
    blocks_.assign(plan.slot_count(), std::nullopt);
    pending_reads_.resize(plan.slot_count());
    for (std::uint32_t s = 0; s < plan.slot_count(); ++s) pending_reads_[s] = plan.slot_reads(s);
    any_failed_ = false;
    ended_workers_.clear();

    const std::size_t n_workers = workers_for(pipeline, options_.max_workers);
    spdlog::info("ParallelRunner: {} worker processes ({})", n_workers, spawn_ ? "spawned" : "forked");
    workers_.clear();
    workers_.resize(n_workers);
    try {
        for (std::size_t w = 0; w < n_workers; ++w) start_worker(w, plan);

        std::vector<pollfd> fds;
        std::vector<std::size_t> fd_worker;
        while (!ready.finished() && !core::interrupt_signal()) {
            for (std::size_t w = 0; w < workers_.size(); ++w) {
                if (!workers_[w].alive() || workers_[w].node) continue;
                const std::size_t node = ready.next();
                if (node == ReadySet::none) break;
                dispatch(w, node, ctx);
            }
            fds.clear();
            fd_worker.clear();
            for (std::size_t w = 0; w < workers_.size(); ++w)
                if (workers_[w].alive()) {
                    fds.push_back({workers_[w].channel->fd(), POLLIN, 0});
                    fd_worker.push_back(w);
                }
            if (fds.empty()) throw RunnerError("ParallelRunner: every worker process has died");
            // A timeout only so that Ctrl-C is noticed even without a worker event.
            const int events = ::poll(fds.data(), fds.size(), 200);
            if (events < 0 && errno != EINTR) throw RunnerError(std::string("poll failed: ") + std::strerror(errno));
            for (std::size_t i = 0; events > 0 && i < fds.size(); ++i) {
                if (!fds[i].revents) continue;
                std::size_t w = fd_worker[i];
                std::optional<RunReply> reply = workers_[w].channel->receive_reply();
                if (reply) {
                    finish(w, *reply, ctx);
                    continue;
                }
                worker_died(w, ctx, false);
                // With --keep-going the run continues, so the pool gets its worker back.
                if (!ready.finished() && (options_.keep_going || !any_failed_)) start_worker(w, plan);
            }
        }
        if (core::interrupt_signal()) drain_after_interrupt(ctx);
        stop_workers(core::interrupt_signal() != 0);
        remove_temp_files_of_ended_workers(plan);
    } catch (...) {
        stop_workers(true);
        remove_temp_files_of_ended_workers(plan);
        arena_.reset();
        throw;
    }

    // Free outputs leave shared memory as ordinary values before the segments go. Only
    // reads here: the workers are gone, and nothing of theirs is freed piecemeal (a worker
    // killed mid-allocation may hold its segment's lock forever); removing the segments
    // frees everything.
    const bool complete = !any_failed_ && !core::interrupt_signal();
    for (std::uint32_t slot = 0; slot < plan.slot_count(); ++slot)
        if (blocks_[slot] && plan.slot_kept(slot) && complete)
            plan.set_slot_value(slot, Value::decode(*plan.slot_type(slot), arena_->bytes(blocks_[slot]->block)));
    blocks_.clear();
    arena_.reset();
}

}  // namespace

bool is_spawned_worker() { return std::getenv("KILN_WORKER_FD") != nullptr; }

int serve_spawned_worker(RunPlan& plan) {
    const char* fd_text = std::getenv("KILN_WORKER_FD");
    const char* host_text = std::getenv("KILN_WORKER_HOST");
    const char* expected = std::getenv("KILN_WORKER_PLAN");
    const char* arena_name = std::getenv("KILN_WORKER_ARENA");
    if (!fd_text || !host_text || !expected || !arena_name) return 2;
    const int fd = std::atoi(fd_text);
    const pid_t host = static_cast<pid_t>(std::atol(host_text));
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (plan_fingerprint(plan) != expected) {
        // The host learns of it as a worker that exited; say why on stderr.
        spdlog::error("worker process: the plan built here ({}) differs from the host's ({}); did the project's files "
                      "change while the run started?",
                      plan_fingerprint(plan), expected);
        return 3;
    }
    auto arena = ShmArena::attach(arena_name);
    worker_main(plan, *arena, fd, host);
}

std::unique_ptr<core::Runner> make_parallel_runner(const core::RunnerOptions& options) {
    return std::make_unique<ParallelRunner>(options);
}

}  // namespace kiln::runners
