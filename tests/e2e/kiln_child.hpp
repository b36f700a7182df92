// The real kiln binary as a child process the test controls: started with fork/exec in a
// process group of its own (so its worker processes can be found, also after they are
// orphaned), output captured to a file, signals on demand, and a bounded wait that kills
// the whole group and FAILS the test instead of hanging.
//
// Also the process and shared-memory inspection the runner tests need: /proc/*/stat
// (parent, process group, state, start time) and /dev/shm/kiln-<pid>-* segments.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace kiln::test {

// ------------------------------------------------------------------ /proc

struct ProcInfo {
    pid_t pid = 0;
    std::string comm;
    char state = '?';  // R, S, D, Z, ...
    pid_t ppid = 0;
    pid_t pgrp = 0;
    unsigned long long start_time = 0;  // clock ticks after boot: tells a reused pid apart
    bool zombie() const { return state == 'Z' || state == 'X' || state == 'x'; }
};

// One process's /proc/PID/stat, or nullopt when it is gone.
inline std::optional<ProcInfo> read_proc(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!in || !std::getline(in, line)) return std::nullopt;
    // "pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    //  utime stime cutime cstime priority nice threads itrealvalue starttime ..."; comm may
    //  hold spaces and parentheses, so parse from the last ')'.
    auto open = line.find('(');
    auto close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
    ProcInfo p;
    p.pid = pid;
    p.comm = line.substr(open + 1, close - open - 1);
    std::istringstream rest(line.substr(close + 1));
    std::vector<std::string> f;
    for (std::string w; rest >> w;) f.push_back(w);
    // f[0] = state (field 3), f[1] = ppid (4), f[2] = pgrp (5), f[19] = starttime (22).
    if (f.size() < 20) return std::nullopt;
    p.state = f[0].empty() ? '?' : f[0][0];
    p.ppid = static_cast<pid_t>(std::stol(f[1]));
    p.pgrp = static_cast<pid_t>(std::stol(f[2]));
    p.start_time = std::stoull(f[19]);
    return p;
}

inline std::vector<ProcInfo> all_processes() {
    std::vector<ProcInfo> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = e.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        if (auto p = read_proc(static_cast<pid_t>(std::stol(name)))) out.push_back(*p);
    }
    return out;
}

// Live (not zombie) processes whose parent is `parent`.
inline std::vector<ProcInfo> children_of(pid_t parent) {
    std::vector<ProcInfo> out;
    for (const auto& p : all_processes())
        if (p.ppid == parent && !p.zombie()) out.push_back(p);
    return out;
}

// Live (not zombie) processes of process group `pgrp`, except `except`.
inline std::vector<ProcInfo> live_in_group(pid_t pgrp, pid_t except = 0) {
    std::vector<ProcInfo> out;
    for (const auto& p : all_processes())
        if (p.pgrp == pgrp && p.pid != except && !p.zombie()) out.push_back(p);
    return out;
}

// True once the process recorded in `p` no longer runs (gone, a zombie, or its pid reused).
inline bool has_ended(const ProcInfo& p) {
    auto now = read_proc(p.pid);
    return !now || now->start_time != p.start_time || now->zombie();
}

inline std::string describe(const std::vector<ProcInfo>& procs) {
    std::string s;
    for (const auto& p : procs)
        s += (s.empty() ? "" : ", ") + std::to_string(p.pid) + " (" + p.comm + ", state " + p.state + ", parent " +
             std::to_string(p.ppid) + ")";
    return s.empty() ? "none" : s;
}

// /dev/shm entries of the run whose host process is `pid`: kiln-<pid>-*.
inline std::vector<std::string> shm_segments_of(pid_t pid) {
    std::vector<std::string> out;
    const std::string prefix = "kiln-" + std::to_string(pid) + "-";
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/dev/shm", ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind(prefix, 0) == 0) out.push_back(name);
    }
    return out;
}

inline std::string join_names(const std::vector<std::string>& names) {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
    return s.empty() ? "none" : s;
}

// Polls `done` every few milliseconds until it holds or `timeout` passes.
template <class Pred>
bool poll_until(Pred done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (done()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

// ------------------------------------------------------------------ the child

class KilnChild {
public:
    // Starts `kiln ARGS...` with KILN_PLUGIN_PATH cleared plus `env` ("K=V"), stdout and
    // stderr into one file, stdin from /dev/null, as the leader of a new process group.
    explicit KilnChild(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                       const std::string& binary = KILN_BINARY) {
        static std::atomic<int> counter{0};
        log_ = std::filesystem::temp_directory_path() /
               ("kiln-child-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".log");

        // Everything the child needs is built before fork: it only calls exec-safe functions.
        std::vector<std::string> argv_s;
        argv_s.push_back(binary);
        argv_s.insert(argv_s.end(), args.begin(), args.end());
        std::vector<std::string> env_s;
        for (char** e = environ; e && *e; ++e)
            if (std::strncmp(*e, "KILN_PLUGIN_PATH=", 17) != 0) env_s.emplace_back(*e);
        env_s.insert(env_s.end(), env.begin(), env.end());
        std::vector<char*> argv_p, env_p;
        for (auto& a : argv_s) argv_p.push_back(a.data());
        argv_p.push_back(nullptr);
        for (auto& e : env_s) env_p.push_back(e.data());
        env_p.push_back(nullptr);

        int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
        REQUIRE_MESSAGE(fd >= 0, "cannot create " << log_ << ": " << std::strerror(errno));
        int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        start_ = std::chrono::steady_clock::now();
        pid_ = ::fork();
        if (pid_ == 0) {
            ::setpgid(0, 0);
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            if (null_fd >= 0) ::dup2(null_fd, 0);
            // A test runner may start us with signals ignored or blocked; kiln gets defaults.
            for (int sig : {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGPIPE, SIGCHLD}) ::signal(sig, SIG_DFL);
            sigset_t none;
            sigemptyset(&none);
            ::sigprocmask(SIG_SETMASK, &none, nullptr);
            ::execve(argv_p[0], argv_p.data(), env_p.data());
            ::_exit(127);
        }
        ::close(fd);
        if (null_fd >= 0) ::close(null_fd);
        REQUIRE_MESSAGE(pid_ > 0, "fork failed: " << std::strerror(errno));
        ::setpgid(pid_, pid_);  // also here, so the group exists before we signal it
    }

    ~KilnChild() {
        if (pid_ > 0 && !reaped_) {
            if (!exited()) stop();
            // Leave nothing behind for the next test, even when this one found leftovers.
            if (!group_members().empty()) signal_group(SIGKILL);
            reap();
        }
        std::error_code ec;
        std::filesystem::remove(log_, ec);
    }
    KilnChild(const KilnChild&) = delete;
    KilnChild& operator=(const KilnChild&) = delete;

    pid_t pid() const { return pid_; }
    // The kiln process alone.
    void signal(int sig) const { ::kill(pid_, sig); }
    // Its whole process group, workers included: what Ctrl-C in a terminal does.
    void signal_group(int sig) const { ::kill(-pid_, sig); }

    // Everything kiln printed so far.
    std::string output() const {
        std::ifstream in(log_);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    bool contains(const std::string& s) const { return output().find(s) != std::string::npos; }

    // Whether kiln has exited. It stays a zombie (not reaped) until reap() or the
    // destructor, so its pid and process group cannot be reused while a test inspects them.
    bool exited() {
        if (exited_) return true;
        siginfo_t info{};
        if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid_) {
            exited_ = true;
            elapsed_ = std::chrono::steady_clock::now() - start_;
            exit_code_ = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
        }
        return exited_;
    }

    // Waits up to `timeout` for kiln to exit; nullopt when it is still running.
    std::optional<int> wait_for(std::chrono::milliseconds timeout) {
        if (!poll_until([&] { return exited(); }, timeout)) return std::nullopt;
        return exit_code_;
    }

    // Waits for kiln to exit and returns its exit code (128 + N when killed by signal N).
    // When it does not exit in time, kills its whole process group and FAILS the test.
    int wait_or_fail(std::chrono::milliseconds timeout) {
        if (auto code = wait_for(timeout)) return *code;
        const std::string out = output();
        const auto group = live_in_group(pid_);
        stop();
        reap();
        // What a killed run leaves in /dev/shm is this test's to remove.
        for (const auto& name : shm_segments_of(pid_)) {
            std::error_code ec;
            std::filesystem::remove(std::filesystem::path("/dev/shm") / name, ec);
        }
        FAIL("kiln did not finish within " << timeout.count() << " ms (killed it; its process group held: "
                                           << describe(group) << "). Its output:\n"
                                           << out);
        return -1;
    }

    // Ends a kiln that is still running: SIGTERM first, so that it can remove its shared
    // memory, then SIGKILL for its whole process group if it has not exited in 3 s.
    void stop() {
        signal(SIGTERM);
        if (!wait_for(std::chrono::milliseconds(3000))) {
            signal_group(SIGKILL);
            signal(SIGKILL);
        }
    }

    // Collects the exited (or killed) kiln process; its pid may be reused afterwards.
    void reap() {
        if (pid_ <= 0 || reaped_) return;
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        if (!exited_) {
            exited_ = true;
            elapsed_ = std::chrono::steady_clock::now() - start_;
            exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        reaped_ = true;
    }

    // SIGKILL now to kiln and its whole group (a crash or an OOM kill at this moment), then
    // a bounded wait until none of them is left, and the reap.
    void kill_everything() {
        signal_group(SIGKILL);
        signal(SIGKILL);
        wait_or_fail(std::chrono::seconds(30));
        REQUIRE(poll_until([&] { return group_members().empty(); }, std::chrono::seconds(10)));
        reap();
    }

    int exit_code() const { return exit_code_; }
    // From start to the moment exit was noticed.
    double elapsed_s() const { return std::chrono::duration<double>(elapsed_).count(); }

    // Live worker processes: children of kiln (only meaningful while kiln runs).
    std::vector<ProcInfo> workers() const { return children_of(pid_); }
    // Live processes left in kiln's process group, kiln itself excepted. After kiln has
    // exited this finds orphaned workers, which children_of() cannot (they are reparented).
    std::vector<ProcInfo> group_members() const { return live_in_group(pid_, pid_); }

private:
    std::filesystem::path log_;
    pid_t pid_ = -1;
    bool exited_ = false, reaped_ = false;
    int exit_code_ = -1;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::duration elapsed_{};
};

}  // namespace kiln::test
