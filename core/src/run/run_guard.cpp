#include "run/run_guard.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <unistd.h>

#include "journal/run_journal.hpp"
#include "model/pipeline.hpp"

namespace kiln::core {

namespace {

// Everything the handlers read is set before they are installed and cleared after they
// are removed; they only read it.
volatile std::sig_atomic_t interrupt_received = 0;
volatile std::sig_atomic_t interrupts_seen = 0;
volatile std::sig_atomic_t repeats_handled = 0;  // a runner reacts to a second interrupt itself
std::atomic<RunJournal*> active_journal{nullptr};
const Pipeline* active_nodes = nullptr;
std::vector<std::size_t> active_map;
std::string active_hint;
std::atomic<bool> guard_active{false};
bool exit_handler_registered = false;
bool quick_exit_handler_registered = false;
// The plugin file being loaded (dlopen and its register block), or null.
std::atomic<const char*> loading_plugin{nullptr};
int interrupt_scopes = 0;  // nesting depth; only the outermost installs the handlers

// The node this thread runs. initial-exec: reading it in a signal handler never allocates.
thread_local std::size_t current_node __attribute__((tls_model("initial-exec"))) = SIZE_MAX;

constexpr int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
struct sigaction previous_int {}, previous_term {}, previous_fatal[std::size(fatal_signals)];

// Async-signal-safe output: a message put together in a buffer on the (signal) stack,
// with hand-made numbers, and written with one write(2), so that a log line of another
// thread cannot land in the middle of it.
class Say {
public:
    Say& operator<<(const char* text) noexcept {
        while (*text && len_ < sizeof buf_) buf_[len_++] = *text++;
        return *this;
    }
    Say& operator<<(long long v) noexcept {
        char digits[24];
        char* p = digits + sizeof digits;
        *--p = '\0';
        const bool negative = v < 0;
        unsigned long long u = negative ? 0ull - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v);
        do {
            *--p = static_cast<char>('0' + u % 10);
            u /= 10;
        } while (u);
        if (negative) *--p = '-';
        return *this << p;
    }
    Say& signal(int sig) noexcept {
        *this << "signal " << static_cast<long long>(sig);
        if (const char* name = sigabbrev_np(sig)) *this << " (SIG" << name << ")";
        return *this;
    }
    Say& node(std::size_t node) noexcept {
        *this << "node '";
        if (active_nodes && node < active_nodes->size()) *this << active_nodes->nodes()[node].name.c_str();
        return *this << "'";
    }
    Say& hint() noexcept {
        if (active_hint.empty()) return *this;
        return *this << "kiln: the run journal keeps what completed; finish the run with:\n  " << active_hint.c_str()
                     << "\n";
    }
    ~Say() {
        const char* text = buf_;
        std::size_t n = len_;
        while (n > 0) {
            ssize_t w = ::write(STDERR_FILENO, text, n);
            if (w <= 0) return;
            text += w;
            n -= static_cast<std::size_t>(w);
        }
    }

private:
    char buf_[4096];
    std::size_t len_ = 0;
};

std::uint32_t journal_index(std::size_t node) noexcept {
    return static_cast<std::uint32_t>(node < active_map.size() ? active_map[node] : node);
}

void record_crash(std::size_t node, std::uint64_t what, bool is_signal) noexcept {
    RunJournal* journal = active_journal.load();
    if (!journal || node == SIZE_MAX) return;
    JournalRecord r;
    r.event = static_cast<std::uint8_t>(JournalEvent::crashed);
    r.node = journal_index(node);
    r.a = what;
    r.c = is_signal ? 1 : 0;
    journal->append(r, true);
}

extern "C" void kiln_on_interrupt(int sig) {
    interrupts_seen = interrupts_seen + 1;
    if (interrupt_received == 0) {
        interrupt_received = sig;
        return;
    }
    if (repeats_handled) return;
    // A second interrupt: stop now. The journal already knows every node's state.
    {
        Say say;
        (say << "\nkiln: interrupted again (").signal(sig) << "): stopping at once\n";
        say.hint();
    }
    if (RunJournal* journal = active_journal.load()) {
        JournalRecord r;
        r.event = static_cast<std::uint8_t>(JournalEvent::ended);
        r.a = static_cast<std::uint64_t>(RunEnding::interrupted);
        r.b = static_cast<std::uint64_t>(sig);
        journal->append(r, true);
    }
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

// A plugin that crashes or calls exit() while it loads: kiln cannot go on without it, and
// ends with the exit code of any other bad plugin.
constexpr int bad_plugin_exit_code = 2;

[[noreturn]] void stop_loading(const char* file, const char* what, long long status) noexcept {
    {
        Say say;
        say << "\nkiln: plugin '" << file << "' " << what;
        if (status >= 0) say << "(" << status << ")";
        say << " while being loaded; kiln stops.\n  Fix the plugin or move it out of the plugin path.\n";
    }
    ::_exit(bad_plugin_exit_code);
}

extern "C" void kiln_on_fatal(int sig) {
    if (const char* file = loading_plugin.load()) {
        {
            Say say;  // writes when it goes out of scope
            (say << "\nkiln: plugin '" << file << "' crashed while being loaded: ").signal(sig)
                << "\n  Fix the plugin or move it out of the plugin path.\n";
        }
        ::_exit(bad_plugin_exit_code);
    }
    // SA_RESETHAND put the default action back: raising again below (or returning to the
    // faulting instruction) ends the process with this signal, as without kiln.
    const std::size_t node = current_node;
    {
        Say say;
        say << "\nkiln: ";
        if (node != SIZE_MAX) say.node(node) << " crashed: ";
        else say << "crashed outside any node: ";
        say.signal(sig) << "\n";
        say.hint();
    }
    record_crash(node, static_cast<std::uint64_t>(sig), true);
    ::raise(sig);
}

// exit() called by a node: the process would end with whatever status the node chose,
// possibly 0, having not finished the run. Name the node and end with 1 (a node failed).
void on_process_exit(int status, void*) {
    if (const char* file = loading_plugin.load()) {
        std::fflush(nullptr);
        stop_loading(file, "called exit", status);
    }
    const std::size_t node = current_node;
    if (!guard_active.load() || node == SIZE_MAX) return;
    std::fflush(nullptr);
    {
        Say say;
        say << "\nkiln: ";
        say.node(node) << " called exit(" << static_cast<long long>(status) << ") while running; the run did not finish\n";
        say.hint();
    }
    record_crash(node, static_cast<std::uint64_t>(status), false);
    ::_exit(1);
}

void on_quick_exit() {
    if (const char* file = loading_plugin.load()) stop_loading(file, "called quick_exit()", -1);
}

void install(int sig, void (*handler)(int), int flags, struct sigaction* previous) {
    struct sigaction sa {};
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, previous);
}

// The RunGuard and a PluginLoadGuard both name a crash: each keeps the handlers it replaced.
void install_fatal_handlers(struct sigaction (&previous)[std::size(fatal_signals)]) {
    for (std::size_t i = 0; i < std::size(fatal_signals); ++i)
        install(fatal_signals[i], kiln_on_fatal, SA_RESETHAND | SA_ONSTACK, &previous[i]);
}

void restore_fatal_handlers(const struct sigaction (&previous)[std::size(fatal_signals)]) {
    for (std::size_t i = 0; i < std::size(fatal_signals); ++i) ::sigaction(fatal_signals[i], &previous[i], nullptr);
}

// once per process: on_exit handlers cannot be removed, and one is enough
void register_exit_handler() {
    if (!exit_handler_registered) exit_handler_registered = ::on_exit(on_process_exit, nullptr) == 0;
}

// Room for the fatal handler when the main thread's stack overflowed.
std::optional<SignalStack> alt_stack;

}  // namespace

int interrupt_signal() noexcept { return interrupt_received; }
int interrupt_count() noexcept { return interrupts_seen; }

InterruptScope::InterruptScope(bool handles_repeats) : previous_handles_repeats_(repeats_handled != 0) {
    if (handles_repeats) repeats_handled = 1;
    if (interrupt_scopes++ > 0) return;
    interrupt_received = 0;
    interrupts_seen = 0;
    install(SIGINT, kiln_on_interrupt, 0, &previous_int);
    install(SIGTERM, kiln_on_interrupt, 0, &previous_term);
    installed_ = true;
}

InterruptScope::~InterruptScope() {
    repeats_handled = previous_handles_repeats_ ? 1 : 0;
    --interrupt_scopes;
    if (!installed_) return;
    ::sigaction(SIGINT, &previous_int, nullptr);
    ::sigaction(SIGTERM, &previous_term, nullptr);
}

RunGuard::RunGuard(const Pipeline& nodes, std::vector<std::size_t> node_to_journal, std::string resume_hint) {
    active_nodes = &nodes;
    active_map = std::move(node_to_journal);
    active_hint = std::move(resume_hint);
    alt_stack.emplace();
    install_fatal_handlers(previous_fatal);
    register_exit_handler();
    guard_active.store(true);
}

RunGuard::~RunGuard() {
    guard_active.store(false);
    restore_fatal_handlers(previous_fatal);
    alt_stack.reset();
    active_journal.store(nullptr);
    active_nodes = nullptr;
    active_map.clear();
    active_hint.clear();
}

SignalStack::SignalStack() noexcept {
    constexpr std::size_t size = 64 * 1024;
    memory_.reset(new (std::nothrow) char[size]);
    if (!memory_) return;  // no room: a crash on an overflowed stack goes unnamed
    stack_t st{};
    st.ss_sp = memory_.get();
    st.ss_size = size;
    set_ = ::sigaltstack(&st, &previous_) == 0;
}

SignalStack::~SignalStack() {
    if (set_) ::sigaltstack(&previous_, nullptr);
}

PluginLoadGuard::PluginLoadGuard(const std::filesystem::path& file) : file_(file.string()) {
    static_assert(std::size(fatal_signals) == std::extent_v<decltype(previous_fatal_)>);
    install_fatal_handlers(previous_fatal_);
    register_exit_handler();
    if (!quick_exit_handler_registered) quick_exit_handler_registered = std::at_quick_exit(on_quick_exit) == 0;
    previous_file_ = loading_plugin.exchange(file_.c_str());
}

PluginLoadGuard::~PluginLoadGuard() {
    loading_plugin.store(previous_file_);
    restore_fatal_handlers(previous_fatal_);
}

NodeInFlight::NodeInFlight(std::size_t node) noexcept : previous_(current_node) { current_node = node; }
NodeInFlight::~NodeInFlight() { current_node = previous_; }

void set_guarded_journal(RunJournal* journal) noexcept { active_journal.store(journal); }

void leave_interrupts_to_host() noexcept {
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGTERM, SIG_IGN);
}

void forget_run_guard_in_child() noexcept {
    guard_active.store(false);
    active_journal.store(nullptr);
    for (int sig : fatal_signals) ::signal(sig, SIG_DFL);
    current_node = SIZE_MAX;
}

}  // namespace kiln::core
