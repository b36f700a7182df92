// The live progress line of `kiln run`, end to end: the real binary on a pipe with
// KILN_PROGRESS=1, and on a real pseudo-terminal (forkpty), for every runner. What the
// user would see is reconstructed by a small terminal emulator (\r, \n, ESC[K, colours):
// at the end no status line is left and every log line is whole; while the run goes the
// status line is redrawn with the running node's name and a ticking clock.

#include <doctest/doctest.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <regex>
#include <set>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "kiln_process.hpp"
#include "project_builder.hpp"
#include "test_skip.hpp"

extern char** environ;

namespace progress_test_cases {

using namespace kiln::test;
using namespace std::chrono_literals;

namespace {

const std::string kEraseLine = "\r\x1b[K";

// ------------------------------------------------------------------ a tiny terminal

// The lines a terminal would show after `bytes`: \r to column 0, \n to the next line
// (column 0: a pty's onlcr, or a pipe read as a log file), ESC[K erases to the end of the
// line, other CSI sequences (colours) are dropped. A code point takes one cell.
std::vector<std::string> screen(const std::string& bytes) {
    std::vector<std::vector<std::string>> rows(1);
    std::size_t row = 0, col = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const char c = bytes[i];
        if (c == '\r') {
            col = 0;
        } else if (c == '\n') {
            ++row;
            col = 0;
            if (rows.size() <= row) rows.resize(row + 1);
        } else if (c == '\x1b' && i + 1 < bytes.size() && bytes[i + 1] == '[') {
            std::size_t j = i + 2;
            while (j < bytes.size() && !(bytes[j] >= '@' && bytes[j] <= '~')) ++j;
            if (j < bytes.size() && bytes[j] == 'K' && rows[row].size() > col) rows[row].resize(col);
            i = j;
        } else if ((static_cast<unsigned char>(c) & 0xC0) == 0x80) {
            if (col > 0 && col <= rows[row].size()) rows[row][col - 1] += c;  // continuation byte
        } else {
            if (rows[row].size() <= col) rows[row].resize(col + 1);
            rows[row][col++] = std::string(1, c);
        }
    }
    std::vector<std::string> out;
    for (const auto& cells : rows) {
        std::string line;
        for (const auto& cell : cells) line += cell.empty() ? " " : cell;
        out.push_back(line);
    }
    while (!out.empty() && out.back().empty()) out.pop_back();
    return out;
}

std::string strip_colours(const std::string& s) { return std::regex_replace(s, std::regex("\x1b\\[[0-9;]*m"), ""); }

// Every status line drawn: the text between "\r" and ESC[K that starts with the bar.
std::vector<std::string> status_draws(const std::string& output) {
    std::vector<std::string> out;
    static const std::regex draw("\r(\\[[#.]{10}\\] [^\r\x1b]*)\x1b\\[K");
    const std::string plain = strip_colours(output);
    for (std::sregex_iterator it(plain.begin(), plain.end(), draw), end; it != end; ++it) out.push_back((*it)[1]);
    return out;
}

std::size_t columns(const std::string& s) {
    std::size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) == 0x80 ? 0 : 1;
    return n;
}

bool has(const std::vector<std::string>& lines, const std::string& part) {
    for (const auto& l : lines)
        if (l.find(part) != std::string::npos) return true;
    return false;
}

std::string text_of(const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& l : lines) s += l + "\n";
    return s;
}

// What the user is left with: no status line, and every log line whole ("[HH:MM:SS.mmm] level ...").
void check_final_screen(const std::string& output) {
    const auto lines = screen(strip_colours(output));
    INFO("screen:\n" << text_of(lines) << "raw output: " << output);
    for (const auto& l : lines) {
        CHECK_MESSAGE(!std::regex_search(l, std::regex("^\\[[#.]{10}\\] ")), "a status line was left: " << l);
        const auto stamp = l.find("] info ");
        if (stamp != std::string::npos) CHECK_MESSAGE(std::regex_search(l, std::regex("^\\[\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\] ")),
                                                      "a log line was cut or mixed: " << l);
    }
}

// The clock readings of the draws that show `running` ("00:01.3" from "... · 00:01.3").
std::set<std::string> clocks_while(const std::vector<std::string>& draws, const std::string& running) {
    std::set<std::string> out;
    static const std::regex clock("(\\d+:\\d\\d[.:]\\d+)$");
    for (const auto& d : draws) {
        std::smatch m;
        if (d.find(running) != std::string::npos && std::regex_search(d, m, clock)) out.insert(m[1]);
    }
    return out;
}

// ------------------------------------------------------------------ projects

// Three sleeping nodes in a chain, then one that logs from the node (a plugin log line).
void chain_project(Project& p, int ms = 400) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first_sleeper", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "a"},
        {"name": "second_sleeper", "func": "testnodes.sleep_ms", "inputs": "a", "outputs": "b"},
        {"name": "last_sleeper", "func": "testnodes.sleep_ms", "inputs": "b", "outputs": "c"},
        {"name": "drain", "func": "testnodes.sink", "inputs": "c"}
    ]}}})");
    p.parameters(R"({"ms": )" + std::to_string(ms) + "}");
}

// Four nodes sleeping side by side under long names, then one that fails, with a node
// that keeps going beside it.
void wide_project(Project& p) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "a_rather_long_node_name_one", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "w1"},
        {"name": "a_rather_long_node_name_two", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "w2"},
        {"name": "a_rather_long_node_name_three", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "w3"},
        {"name": "a_rather_long_node_name_four", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "w4"},
        {"name": "breaks", "func": "testnodes.fail", "inputs": "w1", "outputs": "f"},
        {"name": "keeps_going", "func": "testnodes.sleep_ms", "inputs": "w2", "outputs": "k"}
    ]}}})");
    p.parameters(R"({"ms": 500})");
}

std::vector<std::string> run_args(const Project& p, const std::vector<std::string>& extra) {
    std::vector<std::string> all = {"run", "--project", p.dir(), "--plugin-path", test_plugins("good")};
    all.insert(all.end(), extra.begin(), extra.end());
    return all;
}

// ------------------------------------------------------------------ a pseudo-terminal

// Containers without /dev/pts have no pseudo-terminals; the pty cases say so and stop.
bool pty_available() {
    int fd = ::posix_openpt(O_RDWR | O_NOCTTY);
    if (fd < 0) return false;
    ::close(fd);
    return true;
}

#define KILN_REQUIRE_PTY()                                                                       \
    if (!pty_available()) KILN_SKIP_TEST("no pseudo-terminal here (" << std::strerror(errno) << "; /dev/pts?)");

struct PtyRun {
    int exit_code = -1;
    std::string output;
    bool contains(const std::string& s) const { return output.find(s) != std::string::npos; }
};

// Runs kiln with a pseudo-terminal as stdin, stdout and stderr, `cols` columns wide,
// TERM=xterm (unless `env` sets TERM), KILN_PLUGIN_PATH and KILN_PROGRESS cleared, plus
// `env`. Kills it and FAILS the test when it does not finish within `timeout`.
PtyRun run_on_pty(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                  unsigned short cols = 100, std::chrono::milliseconds timeout = 60s) {
    std::vector<std::string> argv_s = {KILN_BINARY};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<std::string> env_s;
    for (char** e = environ; e && *e; ++e) {
        const std::string var(*e);
        if (var.rfind("KILN_PLUGIN_PATH=", 0) == 0 || var.rfind("KILN_PROGRESS=", 0) == 0 || var.rfind("TERM=", 0) == 0)
            continue;
        env_s.push_back(var);
    }
    bool term = false;
    for (const auto& e : env) term = term || e.rfind("TERM=", 0) == 0;
    if (!term) env_s.push_back("TERM=xterm");
    env_s.insert(env_s.end(), env.begin(), env.end());
    std::vector<char*> argv_p, env_p;
    for (auto& a : argv_s) argv_p.push_back(a.data());
    argv_p.push_back(nullptr);
    for (auto& e : env_s) env_p.push_back(e.data());
    env_p.push_back(nullptr);

    winsize ws{};
    ws.ws_row = 40;
    ws.ws_col = cols;
    int master = -1;
    const pid_t pid = ::forkpty(&master, nullptr, nullptr, &ws);
    REQUIRE_MESSAGE(pid >= 0, "forkpty failed: " << std::strerror(errno));
    if (pid == 0) {
        for (int sig : {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGPIPE, SIGCHLD}) ::signal(sig, SIG_DFL);
        ::execve(argv_p[0], argv_p.data(), env_p.data());
        ::_exit(127);
    }
    PtyRun r;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool timed_out = false;
    for (;;) {
        pollfd p{master, POLLIN, 0};
        const int ready = ::poll(&p, 1, 100);
        if (ready > 0) {
            char buf[4096];
            const ssize_t n = ::read(master, buf, sizeof buf);
            if (n > 0) {
                r.output.append(buf, static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            break;  // EIO: every holder of the terminal's other side has gone
        }
        if (std::chrono::steady_clock::now() > deadline) {
            timed_out = true;
            break;
        }
    }
    if (timed_out) ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ::close(master);
    if (timed_out) FAIL("kiln on a pty did not finish within " << timeout.count() << " ms. Output:\n" << r.output);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

}  // namespace

// ------------------------------------------------------------------ forced, on a pipe

TEST_CASE("progress.forced_on_a_pipe_draws_ticks_and_erases") {
    Project p;
    chain_project(p);
    KilnResult r = p.run({}, {"KILN_PROGRESS=1"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    const auto draws = status_draws(r.output);
    REQUIRE(!draws.empty());
    for (const std::string name : {"first_sleeper", "second_sleeper", "last_sleeper"})
        CHECK_MESSAGE(has(draws, "running: " + name), "no draw shows " << name << " running");
    CHECK(has(draws, "[#####.....] 2/4 nodes"));
    // The final counts are drawn once before the line is erased.
    CHECK(has(draws, "[##########] 4/4 nodes"));
    // The clock ticks while one node runs (400 ms each, a draw every 100 ms).
    CHECK(clocks_while(draws, "running: second_sleeper").size() >= 2);
    // Not a terminal: 80 columns.
    for (const auto& d : draws) CHECK(columns(d) <= 79);
    // Erased before the closing log lines, which stay.
    const auto completed = r.output.find("Pipeline execution completed successfully");
    REQUIRE(completed != std::string::npos);
    const auto last_draw = r.output.rfind("\x1b[K\r\x1b[K", completed);
    CHECK(last_draw != std::string::npos);
    CHECK(r.output.find("nodes", completed) == std::string::npos);
    check_final_screen(r.output);
    CHECK(has(screen(r.output), "sink received 400"));
}

TEST_CASE("progress.a_failed_node_is_counted") {
    Project p;
    wide_project(p);
    KilnResult r = p.run({"--runner", "ThreadRunner", "--max-workers", "4", "--keep-going"}, {"KILN_PROGRESS=1"});
    INFO(r.output);
    CHECK(r.exit_code == 1);
    const auto draws = status_draws(r.output);
    CHECK((has(draws, "6/6 nodes \u00b7 1 failed") || has(draws, "6/6 nodes | 1 failed")));
    CHECK(has(draws, "(+"));  // four long names do not fit in 80 columns
    for (const auto& d : draws) CHECK(columns(d) <= 79);
    check_final_screen(r.output);
}

// ------------------------------------------------------------------ not wanted

TEST_CASE("progress.nothing_changes_without_a_terminal") {
    Project p;
    chain_project(p, 150);
    for (const std::vector<std::string>& env : {std::vector<std::string>{}, {"KILN_PROGRESS=0"}}) {
        KilnResult r = p.run({}, env);
        INFO(r.output);
        CHECK(r.exit_code == 0);
        CHECK(r.output.find('\r') == std::string::npos);
        CHECK(r.output.find("\x1b[K") == std::string::npos);
        CHECK(status_draws(r.output).empty());
        CHECK(r.contains("Pipeline execution completed successfully"));
    }
}

TEST_CASE("progress.quiet_wins_over_KILN_PROGRESS") {
    Project p;
    chain_project(p, 150);
    KilnResult r = p.run({"--quiet"}, {"KILN_PROGRESS=1"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(status_draws(r.output).empty());
    CHECK(r.output.find("\x1b[K") == std::string::npos);
}

TEST_CASE("progress.an_unknown_KILN_PROGRESS_is_ignored_with_one_warning") {
    Project p;
    chain_project(p, 150);
    KilnResult r = p.run({}, {"KILN_PROGRESS=yes"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.contains("KILN_PROGRESS='yes' is ignored"));
    CHECK(r.output.find("is ignored") == r.output.rfind("is ignored"));
    CHECK(status_draws(r.output).empty());  // not a terminal
}

// ------------------------------------------------------------------ on a terminal

TEST_CASE("progress.on_a_terminal_every_runner") {
    KILN_REQUIRE_PTY()
    Project p;
    chain_project(p, 300);
    for (const std::vector<std::string>& runner :
         {std::vector<std::string>{}, {"--runner", "ThreadRunner"}, {"--parallel", "--max-workers", "2"},
          {"--parallel", "--start-method", "spawn"}}) {
        std::string what = "runner:";
        for (const auto& a : runner) what += " " + a;
        INFO(what);
        PtyRun r = run_on_pty(run_args(p, runner), {}, 100);
        INFO(r.output);
        CHECK(r.exit_code == 0);
        const auto draws = status_draws(r.output);
        CHECK(has(draws, "running: second_sleeper"));
        CHECK(has(draws, "[##########] 4/4 nodes"));
        for (const auto& d : draws) CHECK(columns(d) <= 99);
        CHECK(r.output.rfind(kEraseLine) != std::string::npos);
        check_final_screen(r.output);
        const bool spawned = runner.size() == 3 && runner[2] == "spawn";
        // The log line of the node itself, also from a forked worker process, is whole.
        // (Spawned workers log only warnings.)
        if (!spawned) CHECK(has(screen(strip_colours(r.output)), "sink received 300"));
        if (runner.size() == 3 && runner[1] == "--max-workers") {
            // The ticker is fork safe: the ParallelRunner still forks.
            CHECK(r.contains("worker processes (forked)"));
            CHECK(!r.contains("so workers are spawned"));
        }
    }
}

TEST_CASE("progress.on_a_narrow_terminal_names_are_cut") {
    KILN_REQUIRE_PTY()
    Project p;
    wide_project(p);
    PtyRun r = run_on_pty(run_args(p, {"--runner", "ThreadRunner", "--max-workers", "4"}), {}, 60);
    INFO(r.output);
    CHECK(r.exit_code == 1);
    const auto draws = status_draws(r.output);
    REQUIRE(!draws.empty());
    for (const auto& d : draws) CHECK(columns(d) <= 59);
    CHECK(has(draws, "(+"));
    check_final_screen(r.output);
}

TEST_CASE("progress.on_a_terminal_not_when_disabled_or_quiet") {
    KILN_REQUIRE_PTY()
    Project p;
    chain_project(p, 150);
    for (const auto& [args, env] :
         {std::pair<std::vector<std::string>, std::vector<std::string>>{{}, {"KILN_PROGRESS=0"}},
          {{"--quiet"}, {}},
          {{}, {"TERM=dumb"}}}) {
        PtyRun r = run_on_pty(run_args(p, args), env);
        INFO(r.output);
        CHECK(r.exit_code == 0);
        CHECK(status_draws(r.output).empty());
        CHECK(r.output.find("\x1b[K") == std::string::npos);
    }
}

}  // namespace progress_test_cases
