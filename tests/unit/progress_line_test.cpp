// The progress line of `kiln run`: the rendered text for given counts and widths
// (truncation, "(+N)", the failed count, the clock), the status line's escape sequences
// around log lines, the observer's counting under concurrent callbacks, the ticker, the
// log sink, and fork safety (a child forked while the ticker and a logger are busy never
// inherits the lock, never draws, and erases the parent's line before printing).
#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <optional>
#include <random>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "kiln/logger.hpp"
#include "run/fork_safe_threads.hpp"
#include "terminal/logging.hpp"
#include "terminal/progress_line.hpp"
#include "test_support.hpp"

using kiln::test::contains;

using namespace kiln::core;
using namespace std::chrono_literals;
using Views = std::vector<std::string_view>;

namespace progress_line_test_cases {

namespace {

const std::string kErase = "\r\x1b[K";
const std::string kEraseToEnd = "\x1b[K";

ProgressSnapshot snap(std::size_t finished, std::size_t total, Views running = {}, std::size_t running_count = 0,
                      double elapsed = 0, std::size_t failed = 0) {
    ProgressSnapshot s;
    s.finished = finished;
    s.total = total;
    s.failed = failed;
    s.running = std::move(running);
    s.running_count = std::max(running_count, s.running.size());
    s.elapsed_s = elapsed;
    return s;
}

std::size_t count_of(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
    return n;
}

// A pipe whose read end is drained into a string.
class Pipe {
public:
    Pipe() {
        REQUIRE(::pipe2(fds_, O_CLOEXEC) == 0);
        ::fcntl(fds_[0], F_SETFL, O_NONBLOCK);
    }
    ~Pipe() {
        close_write();
        ::close(fds_[0]);
    }
    int write_fd() const { return fds_[1]; }
    void close_write() {
        if (fds_[1] >= 0) ::close(fds_[1]);
        fds_[1] = -1;
    }
    // What was written since the last call.
    std::string drain() {
        std::string out;
        char buf[4096];
        for (;;) {
            ssize_t n = ::read(fds_[0], buf, sizeof buf);
            if (n > 0) out.append(buf, static_cast<std::size_t>(n));
            else if (n < 0 && errno == EINTR) continue;
            else break;
        }
        return out;
    }

private:
    int fds_[2] = {-1, -1};
};

kiln::core::Node named(std::string name, std::vector<std::string> in, std::vector<std::string> out) {
    kiln::core::Node n;
    n.name = std::move(name);
    n.inputs = std::move(in);
    n.outputs = std::move(out);
    return n;
}

// Three independent nodes: a, b, c (indices in that order).
Pipeline three_nodes() { return Pipeline({named("a", {}, {"x"}), named("b", {}, {"y"}), named("c", {}, {"z"})}); }

// Sets an environment variable for the life of the object.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value) ::setenv(name, value, 1);
        else ::unsetenv(name);
    }
    ~ScopedEnv() {
        if (old_) ::setenv(name_, old_->c_str(), 1);
        else ::unsetenv(name_);
    }

private:
    const char* name_;
    std::optional<std::string> old_;
};

}  // namespace

// ------------------------------------------------------------------ rendering

TEST_CASE("progress.format_elapsed") {
    CHECK(format_elapsed(0) == "00:00.0");
    CHECK(format_elapsed(7.36) == "00:07.3");
    CHECK(format_elapsed(2.3) == "00:02.3");
    CHECK(format_elapsed(0.99) == "00:00.9");
    CHECK(format_elapsed(59.99) == "00:59.9");
    CHECK(format_elapsed(61.5) == "01:01.5");
    CHECK(format_elapsed(3599.95) == "59:59.9");
    CHECK(format_elapsed(3600) == "1:00:00");
    CHECK(format_elapsed(3723.9) == "1:02:03");
    CHECK(format_elapsed(360000) == "100:00:00");
    CHECK(format_elapsed(-1) == "00:00.0");
    CHECK(format_elapsed(std::nan("")) == "00:00.0");
}

TEST_CASE("progress.display_width") {
    CHECK(display_width("") == 0);
    CHECK(display_width("abc") == 3);
    CHECK(display_width("\u00b7") == 1);
    CHECK(display_width("caf\u00e9 \u2026") == 6);
}

TEST_CASE("progress.render_the_documented_example") {
    CHECK(render_progress_line(snap(12, 40, {"tokenize", "count"}, 5, 7.36), 80) ==
          "[###.......] 12/40 nodes \u00b7 running: tokenize, count (+3) \u00b7 00:07.3");
    CHECK(render_progress_line(snap(12, 40, {"tokenize", "count"}, 5, 7.36), 80, false) ==
          "[###.......] 12/40 nodes | running: tokenize, count (+3) | 00:07.3");
}

TEST_CASE("progress.render_bar_counts_and_failed") {
    CHECK(render_progress_line(snap(0, 40), 80, false) == "[..........] 0/40 nodes | 00:00.0");
    CHECK(render_progress_line(snap(40, 40), 80, false) == "[##########] 40/40 nodes | 00:00.0");
    CHECK(render_progress_line(snap(39, 40), 80, false) == "[#########.] 39/40 nodes | 00:00.0");
    CHECK(render_progress_line(snap(0, 0), 80, false) == "[..........] 0/0 nodes | 00:00.0");
    CHECK(render_progress_line(snap(7, 3), 80, false) == "[##########] 7/3 nodes | 00:00.0");  // never past full
    SUBCASE("the failed count only when some failed") {
        CHECK(render_progress_line(snap(3, 4, {"d"}, 1, 1.25, 2), 80, false) ==
              "[#######...] 3/4 nodes | 2 failed | running: d | 00:01.2");
        CHECK(!contains(render_progress_line(snap(3, 4, {"d"}, 1, 1.25, 0), 80, false), "failed"));
    }
    SUBCASE("nothing running: no running section") {
        CHECK(!contains(render_progress_line(snap(1, 2), 80), "running"));
    }
}

TEST_CASE("progress.render_truncates_running_names_to_the_width") {
    const Views names = {"tokenize", "count_words", "normalise", "join"};
    // Fixed parts: "[##........] 1/5 nodes | " (25) ... " | 00:03.0" (10).
    const auto at = [&](std::size_t width) { return render_progress_line(snap(1, 5, names, 4, 3), width, false); };
    CHECK(at(120) == "[##........] 1/5 nodes | running: tokenize, count_words, normalise, join | 00:03.0");
    // Each form at the narrowest width that still holds it (the line takes width - 1 columns).
    CHECK(at(71) == "[##........] 1/5 nodes | running: tokenize, count_words (+2) | 00:03.0");
    CHECK(at(70) == "[##........] 1/5 nodes | running: tokenize (+3) | 00:03.0");
    CHECK(at(58) == "[##........] 1/5 nodes | running: tokenize (+3) | 00:03.0");
    CHECK(at(57) == "[##........] 1/5 nodes | running: toke... (+3) | 00:03.0");
    CHECK(at(54) == "[##........] 1/5 nodes | running: t... (+3) | 00:03.0");
    CHECK(at(53) == "[##........] 1/5 nodes | 4 running | 00:03.0");
    CHECK(at(45) == "[##........] 1/5 nodes | 4 running | 00:03.0");
    CHECK(at(44) == "[##........] 1/5 nodes | 00:03.0");
    CHECK(at(33) == "[##........] 1/5 nodes | 00:03.0");
    // Too narrow even for the counts and the clock: cut.
    CHECK(at(12) == "[##........");
    CHECK(at(1).empty());
    CHECK(at(0).empty());
    SUBCASE("unicode ellipsis") {
        CHECK(render_progress_line(snap(1, 5, names, 4, 3), 54, true) ==
              "[##........] 1/5 nodes \u00b7 running: tok\u2026 (+3) \u00b7 00:03.0");
    }
    SUBCASE("more running than names given") {
        CHECK(render_progress_line(snap(0, 9, {"a", "b"}, 7), 80, false) ==
              "[..........] 0/9 nodes | running: a, b (+5) | 00:00.0");
        CHECK(render_progress_line(snap(0, 9, {}, 7), 80, false) == "[..........] 0/9 nodes | 7 running | 00:00.0");
    }
}

TEST_CASE("progress.render_never_exceeds_width_minus_one") {
    std::mt19937 rng(7);
    const std::vector<std::string> pool = {"a", "tokenize", "n\u00e9ud_\u00e9t\u00e9", "x_very_long_node_name_indeed",
                                           "ns.inner.step", "\u2603\u2603\u2603"};
    for (int round = 0; round < 200; ++round) {
        Views running;
        const std::size_t n = rng() % 8;
        for (std::size_t i = 0; i < n; ++i) running.push_back(pool[rng() % pool.size()]);
        const std::size_t total = rng() % 200000;
        const std::size_t finished = total ? rng() % (total + 1) : 0;
        const auto s = snap(finished, total, running, n + rng() % 3, (rng() % 100000) / 7.0, rng() % 3);
        for (std::size_t width = 0; width < 130; ++width) {
            for (bool unicode : {true, false}) {
                const std::string line = render_progress_line(s, width, unicode);
                INFO("width " << width << ": " << line);
                CHECK(display_width(line) <= (width ? width - 1 : 0));
                CHECK(line.find('\n') == std::string::npos);
                if (width >= 80 && s.failed == 0 && n == 0) CHECK(contains(line, format_elapsed(s.elapsed_s)));
            }
        }
    }
}

// ------------------------------------------------------------------ StatusLine

TEST_CASE("progress.status_line_prints_above_and_redraws") {
    Pipe pipe;
    StatusLine line(pipe.write_fd());
    const std::string_view log1[] = {"log one\n"};
    line.print_above(log1);
    CHECK(pipe.drain() == "log one\n");  // no status line: plain
    line.show("[#.........] 1/9 nodes");
    CHECK(pipe.drain() == "\r[#.........] 1/9 nodes" + kEraseToEnd);
    CHECK(line.shown());
    const std::string_view log2[] = {"[12:00:00] ", "info", " two\n"};
    line.print_above(log2);
    CHECK(pipe.drain() == kErase + "[12:00:00] info two\n\r[#.........] 1/9 nodes" + kEraseToEnd);
    line.show("[##........] 2/9 nodes");
    CHECK(pipe.drain() == "\r[##........] 2/9 nodes" + kEraseToEnd);
    line.clear();
    CHECK(pipe.drain() == kErase);
    CHECK(!line.shown());
    line.clear();
    CHECK(pipe.drain().empty());
    line.print_above(log1);
    CHECK(pipe.drain() == "log one\n");
    // A process sharing the terminal with one that draws (a spawned worker).
    line.set_erase_before_print(true);
    line.print_above(log1);
    CHECK(pipe.drain() == kErase + "log one\n");
}

TEST_CASE("progress.status_line_in_a_forked_child_never_draws_and_erases_first") {
    Pipe pipe;
    StatusLine line(pipe.write_fd());
    line.show("STATUS");
    CHECK(pipe.drain() == "\rSTATUS" + kEraseToEnd);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        const std::string_view msg[] = {"from the child\n"};
        line.show("CHILD STATUS");  // ignored
        line.print_above(msg);
        line.print_above(msg);
        line.clear();  // nothing shown here: nothing to erase
        ::_exit(line.shown() ? 1 : 0);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(pipe.drain() == kErase + "from the child\n" + kErase + "from the child\n");
    // The parent still shows its line.
    CHECK(line.shown());
    line.clear();
    CHECK(pipe.drain() == kErase);
}

TEST_CASE("progress.status_line_in_use_makes_a_forked_child_erase_first") {
    // Workers are forked before the first draw: they must erase whatever the parent may
    // have drawn by the time they print.
    Pipe pipe;
    StatusLine line(pipe.write_fd());
    line.set_in_use(true);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        const std::string_view msg[] = {"from the child\n"};
        line.print_above(msg);
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(pipe.drain() == kErase + "from the child\n");
    // In the parent nothing is shown: its prints stay plain.
    const std::string_view msg[] = {"from the parent\n"};
    line.print_above(msg);
    CHECK(pipe.drain() == "from the parent\n");
    line.set_in_use(false);
}

// ------------------------------------------------------------------ ProgressLine

TEST_CASE("progress.observer_counts_finished_failed_and_running") {
    Pipe pipe;
    StatusLine line(pipe.write_fd());
    const Pipeline p = three_nodes();
    ProgressLine progress(p, {.line = &line, .interval = 0ms, .width = 80, .unicode = false});
    auto s = progress.snapshot();
    CHECK(s.total == 3);
    CHECK(s.finished == 0);
    CHECK(s.running_count == 0);

    progress.node_started(2, 0);
    progress.node_started(0, 1);
    s = progress.snapshot();
    CHECK(s.running_count == 2);
    CHECK(s.running == Views{"c", "a"});  // start order
    CHECK(contains(progress.render(), "0/3 nodes | running: c, a | "));

    progress.node_finished(2, 0, nullptr);
    s = progress.snapshot();
    CHECK(s.finished == 1);
    CHECK(s.running == Views{"a"});

    progress.node_started(1, 0);
    const NodeFailure failure{0, "boom"};
    progress.node_finished(0, 1, &failure);
    s = progress.snapshot();
    CHECK(s.finished == 2);
    CHECK(s.failed == 1);
    CHECK(s.running == Views{"b"});
    CHECK(contains(progress.render(), "[######....] 2/3 nodes | 1 failed | running: b | "));

    progress.node_finished(1, 0, nullptr);
    CHECK(contains(progress.render(), "[##########] 3/3 nodes | 1 failed | 00:"));
    CHECK(pipe.drain().empty());  // no ticker, no tick(): nothing drawn

    progress.tick();
    const std::string drawn = pipe.drain();
    CHECK(drawn.rfind("\r[##########] 3/3 nodes | 1 failed | 00:", 0) == 0);
    CHECK(drawn.size() >= kEraseToEnd.size());
    CHECK(drawn.substr(drawn.size() - kEraseToEnd.size()) == kEraseToEnd);
    progress.finish();
    // The final counts once more, then erased.
    const std::string end = pipe.drain();
    CHECK(contains(end, "3/3 nodes"));
    CHECK(end.substr(end.size() - kErase.size()) == kErase);
    CHECK(!line.shown());
}

TEST_CASE("progress.observer_tolerates_odd_callbacks") {
    Pipe pipe;
    StatusLine line(pipe.write_fd());
    const Pipeline p = three_nodes();
    ProgressLine progress(p, {.line = &line, .interval = 0ms, .width = 80});
    progress.node_finished(1, 0, nullptr);  // never started
    progress.node_started(7, 0);            // out of range
    auto s = progress.snapshot();
    CHECK(s.finished == 1);
    CHECK(s.running == Views{"?"});
    progress.node_finished(7, 0, nullptr);
    CHECK(progress.snapshot().running_count == 0);
}

TEST_CASE("progress.observer_counts_under_concurrent_callbacks") {
    Pipe pipe;
    StatusLine line(pipe.write_fd());
    std::vector<kiln::core::Node> nodes;
    constexpr std::size_t kThreads = 8, kPerThread = 5000;
    for (std::size_t i = 0; i < kThreads * kPerThread; ++i) nodes.push_back(named("n" + std::to_string(i), {}, {}));
    const Pipeline p(std::move(nodes));
    ProgressLine progress(p, {.line = &line, .interval = 0ms, .width = 100});
    std::atomic<bool> stop{false};
    std::atomic<int> bad_snapshots{0};
    // A reader drawing all the while, as the ticker does.
    std::thread reader([&] {
        while (!stop) {
            auto s = progress.snapshot();
            if (s.running_count > kThreads || s.finished > s.total || s.running.size() != s.running_count) ++bad_snapshots;
            (void)progress.render();
        }
    });
    std::vector<std::thread> workers;
    for (std::size_t t = 0; t < kThreads; ++t)
        workers.emplace_back([&, t] {
            const NodeFailure failure{0, "x"};
            for (std::size_t i = 0; i < kPerThread; ++i) {
                const std::size_t node = t * kPerThread + i;
                progress.node_started(node, static_cast<unsigned>(t));
                progress.node_finished(node, static_cast<unsigned>(t), i % 100 == 0 ? &failure : nullptr);
            }
        });
    for (auto& w : workers) w.join();
    stop = true;
    reader.join();
    CHECK(bad_snapshots == 0);
    const auto s = progress.snapshot();
    CHECK(s.finished == kThreads * kPerThread);
    CHECK(s.failed == kThreads * kPerThread / 100);
    CHECK(s.running_count == 0);
    CHECK(pipe.drain().empty());
}

TEST_CASE("progress.ticker_draws_on_its_own_and_counts_as_fork_safe") {
    Pipe pipe;
    StatusLine line(pipe.write_fd());
    const Pipeline p = three_nodes();
    const std::size_t before = fork_safe_thread_count();
    {
        ProgressLine progress(p, {.line = &line, .interval = 5ms, .width = 80, .unicode = false});
        CHECK(fork_safe_thread_count() == before + 1);
        progress.node_started(1, 0);
        std::string seen;
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (count_of(seen, "running: b") < 3 && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(5ms);
            seen += pipe.drain();
        }
        CHECK(count_of(seen, "\r[..........] 0/3 nodes | running: b | 00:0") >= 3);  // redrawn while b runs
        CHECK(line.shown());
        progress.node_finished(1, 0, nullptr);
        progress.finish();
        CHECK(fork_safe_thread_count() == before);
        const std::string end = pipe.drain();
        CHECK(contains(end, "1/3 nodes"));
        CHECK(end.substr(end.size() - kErase.size()) == kErase);
        CHECK(!line.shown());
        progress.finish();  // again: nothing
        CHECK(pipe.drain().empty());
    }
    CHECK(fork_safe_thread_count() == before);
}

TEST_CASE("progress.a_run_shorter_than_one_interval_prints_nothing") {
    Pipe pipe;
    StatusLine line(pipe.write_fd());
    const Pipeline p = three_nodes();
    {
        ProgressLine progress(p, {.line = &line, .interval = 1h});
        progress.node_started(0, 0);
        progress.node_finished(0, 0, nullptr);
    }  // the destructor finishes
    CHECK(pipe.drain().empty());
    CHECK(!line.shown());
}

TEST_CASE("progress.fork_while_the_ticker_and_a_logger_write") {
    // A child forked at any moment must find the status line unlocked: it prints (taking
    // the lock) and exits. A child that inherited the lock held would hang: it is killed
    // after a deadline and the test fails.
    int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    REQUIRE(null_fd >= 0);
    {
        StatusLine line(null_fd);
        const Pipeline p = three_nodes();
        ProgressLine progress(p, {.line = &line, .interval = 1ms, .width = 80});
        progress.node_started(0, 0);
        std::atomic<bool> stop{false};
        std::thread logger([&] {
            const std::string_view msg[] = {"[12:00:00] info  a log line from another thread\n"};
            while (!stop) line.print_above(msg);
        });
        int hung = 0, failed = 0;
        for (int i = 0; i < 200; ++i) {
            pid_t pid = ::fork();
            REQUIRE(pid >= 0);
            if (pid == 0) {
                const std::string_view msg[] = {"child\n"};
                line.print_above(msg);
                line.show("never");
                ::_exit(line.shown() ? 1 : 0);
            }
            int status = 0;
            const auto deadline = std::chrono::steady_clock::now() + 5s;
            pid_t done = 0;
            while ((done = ::waitpid(pid, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(1ms);
            if (done == 0) {
                ++hung;
                ::kill(pid, SIGKILL);
                ::waitpid(pid, &status, 0);
                break;  // one is proof enough
            } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                ++failed;
            }
        }
        stop = true;
        logger.join();
        CHECK_MESSAGE(hung == 0, hung << " forked children hung on an inherited lock");
        CHECK(failed == 0);
        progress.finish();
    }
    ::close(null_fd);
}

// ------------------------------------------------------------------ wanted()

TEST_CASE("progress.wanted_follows_KILN_PROGRESS_the_terminal_and_verbosity") {
    const bool terminal = ::isatty(STDERR_FILENO) != 0;
    {
        ScopedEnv env("KILN_PROGRESS", "1");
        CHECK(ProgressLine::wanted(Verbosity::normal));
        CHECK(ProgressLine::wanted(Verbosity::verbose));
        CHECK(!ProgressLine::wanted(Verbosity::quiet));
    }
    {
        ScopedEnv env("KILN_PROGRESS", "0");
        CHECK(!ProgressLine::wanted(Verbosity::normal));
        CHECK(!ProgressLine::wanted(Verbosity::verbose));
    }
    {
        ScopedEnv env("KILN_PROGRESS", nullptr);
        ScopedEnv term("TERM", "xterm");
        CHECK(ProgressLine::wanted(Verbosity::normal) == terminal);
        CHECK(!ProgressLine::wanted(Verbosity::quiet));
    }
    {
        ScopedEnv env("KILN_PROGRESS", nullptr);
        ScopedEnv term("TERM", "dumb");
        CHECK(!ProgressLine::wanted(Verbosity::normal));
    }
    {
        // Any other value: a warning, once, and the automatic choice.
        std::ostringstream out;
        auto saved = spdlog::default_logger();
        auto capture = std::make_shared<spdlog::logger>("progress-capture",
                                                        std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
        capture->set_level(spdlog::level::info);
        spdlog::set_default_logger(capture);
        ScopedEnv env("KILN_PROGRESS", "yes");
        ScopedEnv term("TERM", "xterm");
        const bool first = ProgressLine::wanted(Verbosity::normal);
        const bool second = ProgressLine::wanted(Verbosity::normal);
        spdlog::set_default_logger(saved);
        CHECK(first == terminal);
        CHECK(second == terminal);
        CHECK(count_of(out.str(), "KILN_PROGRESS='yes' is ignored") == 1);
    }
}

// ------------------------------------------------------------------ the log sink

TEST_CASE("progress.log_lines_scroll_above_the_status_line") {
    // configure_logging's sink writes to fd 2: point fd 2 at a pipe for the test.
    Pipe pipe;
    const int saved_fd = ::dup(STDERR_FILENO);
    REQUIRE(saved_fd >= 0);
    auto saved_logger = spdlog::default_logger();
    const auto saved_level = spdlog::get_level();
    kiln::Logger* saved_plugin_logger = kiln::detail::plugin_logger();
    ::dup2(pipe.write_fd(), STDERR_FILENO);

    configure_logging(Verbosity::normal);
    StatusLine& line = StatusLine::standard_error();
    spdlog::info("before the line");
    line.show("[#####.....] 5/10 nodes");
    spdlog::warn("while it shows");
    kiln::log::info("from a plugin");
    line.clear();
    spdlog::info("after");

    ::dup2(saved_fd, STDERR_FILENO);
    ::close(saved_fd);
    spdlog::set_default_logger(saved_logger);
    spdlog::set_level(saved_level);
    kiln::detail::plugin_logger() = saved_plugin_logger;

    const std::string out = pipe.drain();
    INFO(out);
    // "[HH:MM:SS.mmm] info  before the line\n": the usual pattern, plain before the line shows.
    REQUIRE(out.size() > 15);
    CHECK(out[0] == '[');
    CHECK(contains(out, "] info  before the line\n\r[#####.....] 5/10 nodes" + kEraseToEnd + kErase + "["));
    CHECK(contains(out, "] warning while it shows\n\r[#####.....] 5/10 nodes" + kEraseToEnd + kErase + "["));
    CHECK(contains(out, "] info  from a plugin\n\r[#####.....] 5/10 nodes" + kEraseToEnd + kErase + "["));
    CHECK(out.substr(out.size() - std::string("] info  after\n").size()) == "] info  after\n");
    CHECK(count_of(out, "5/10 nodes") == 3);
}

}  // namespace progress_line_test_cases
