// How a run ends when something outside the normal flow happens: Ctrl-C or SIGTERM, a
// fatal signal inside a node (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT), or a node that
// calls exit(). One place for all runners, built-in or plugin.
//
//   RunGuard guard(plan.pipeline(), journal_index, resume_hint);   // for the length of the run
//   ... runners poll interrupt_signal() and start no new node once it is non-zero ...
//   if (int sig = interrupt_signal()) exit code = 128 + sig
//
// Interrupts: the first SIGINT/SIGTERM only sets the flag, so running nodes finish and
// the run ends with its report and record; a second one ends the process at once (the
// journal already holds every node's state, so --resume still works).
// Fatal signals and exit() inside a node (in this process): the handler names the node
// and the signal on stderr and in the journal (async-signal-safe), then lets the process
// die as it would have. Nodes mark themselves with NodeInFlight.
#pragma once

#include <csignal>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace kiln::core {

class Pipeline;
class RunJournal;

// The signal that interrupted the run (SIGINT, SIGTERM), or 0.
int interrupt_signal() noexcept;
// How many interrupts arrived since the outermost scope began.
int interrupt_count() noexcept;

// Catches SIGINT/SIGTERM into interrupt_signal() while it lives, unless a RunGuard or an
// outer scope already does (then it changes nothing). For runners used without a session
// (an MPI rank that serves rank 0, tests).
class InterruptScope {
public:
    // `handles_repeats`: while this scope lives, a second interrupt only counts (the runner
    // reacts to interrupt_count(), e.g. by cutting a grace period short) instead of ending
    // the process at once.
    explicit InterruptScope(bool handles_repeats = false);
    ~InterruptScope();
    InterruptScope(const InterruptScope&) = delete;
    InterruptScope& operator=(const InterruptScope&) = delete;

private:
    bool installed_ = false;
    bool previous_handles_repeats_ = false;
};

class RunGuard {
public:
    // `nodes` (the plan's pipeline) must outlive the guard. `node_to_journal` maps a plan
    // index to the index the journal uses (empty: the same).
    RunGuard(const Pipeline& nodes, std::vector<std::size_t> node_to_journal, std::string resume_hint);
    ~RunGuard();
    RunGuard(const RunGuard&) = delete;
    RunGuard& operator=(const RunGuard&) = delete;

private:
    InterruptScope interrupts_;
};

// Gives the calling thread an alternate signal stack while it lives, so that the fatal
// handler can still name a node that overflowed this thread's stack. The RunGuard gives
// one to the thread that makes it; a runner's own threads take one each.
class SignalStack {
public:
    SignalStack() noexcept;
    ~SignalStack();
    SignalStack(const SignalStack&) = delete;
    SignalStack& operator=(const SignalStack&) = delete;

private:
    std::unique_ptr<char[]> memory_;
    stack_t previous_{};
    bool set_ = false;
};

// While a plugin file is loaded (dlopen, then its register block): a fatal signal or an
// exit() / quick_exit() from the plugin's code prints "plugin 'FILE' crashed while being
// loaded" (or "called exit(N)") and ends kiln with exit code 2, never with success or a
// bare signal.
class PluginLoadGuard {
public:
    explicit PluginLoadGuard(const std::filesystem::path& file);
    ~PluginLoadGuard();
    PluginLoadGuard(const PluginLoadGuard&) = delete;
    PluginLoadGuard& operator=(const PluginLoadGuard&) = delete;

private:
    std::string file_;
    const char* previous_file_ = nullptr;
    SignalStack stack_;  // a plugin overflowing the stack is named too
    struct sigaction previous_fatal_[5] {};
};

// Marks the calling thread as running plan node `node` while it lives.
class NodeInFlight {
public:
    explicit NodeInFlight(std::size_t node) noexcept;
    ~NodeInFlight();
    NodeInFlight(const NodeInFlight&) = delete;
    NodeInFlight& operator=(const NodeInFlight&) = delete;

private:
    std::size_t previous_;
};

// The journal the handlers record crashes in (null: none yet).
void set_guarded_journal(RunJournal* journal) noexcept;

// In a ParallelRunner worker process, forked or spawned: Ctrl-C, or SIGTERM to the whole
// process group, reaches the worker too, but the host decides what stops and when, so the
// worker ignores both.
void leave_interrupts_to_host() noexcept;

// In a forked worker process: the host's handlers and journal are not this process's.
void forget_run_guard_in_child() noexcept;

}  // namespace kiln::core
