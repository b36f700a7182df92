// A live progress line at the bottom of the terminal while `kiln run` runs:
//
//   [#####.....] 12/40 nodes · 1 failed · running: tokenize, count (+3) · 00:07.3
//
// redrawn in place about ten times a second, with log lines scrolling above it.
//
//   std::optional<ProgressLine> progress;
//   if (ProgressLine::wanted()) observers.add(&progress.emplace(plan.pipeline()));
//   outcome = runner->run(plan, &observers);
//   progress.reset();  // erases the line, before the run's closing log lines
//
// Three pieces: render_progress_line() (pure: the text for given counts and width),
// StatusLine (the bottom line of a terminal, shared with the log sink so that a log line
// erases the status line, prints, and redraws it below), and ProgressLine (a NodeObserver
// that counts, plus a ticker thread that draws).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <thread>
#include <vector>

#include "model/pipeline.hpp"
#include "run/fork_safe_threads.hpp"
#include "run/node_observer.hpp"
#include "terminal/logging.hpp"

namespace kiln::core {

// What one progress line shows.
struct ProgressSnapshot {
    std::size_t finished = 0;  // nodes that ended, failed ones included
    std::size_t total = 0;
    std::size_t failed = 0;
    std::vector<std::string_view> running;  // names of running nodes, in start order (maybe not all)
    std::size_t running_count = 0;          // every running node: those past running.size() show as "(+N)"
    double elapsed_s = 0;
};

// The progress line for `s`, at most `width - 1` display columns (the last column is left
// free: writing it makes some terminals wrap). Bar, counts, the failed count and the time
// always stay; the running names take what is left, then become "(+N)", "N running", or
// go. `unicode` picks the separator: " · " or ASCII " | ".
//
//   render_progress_line({.finished = 12, .total = 40, .running = {"a", "b"}, .running_count = 5,
//                         .elapsed_s = 7.36}, 80)
//   == "[###.......] 12/40 nodes · running: a, b (+3) · 00:07.3"
std::string render_progress_line(const ProgressSnapshot& s, std::size_t width, bool unicode = true);

// "MM:SS.t" below an hour ("00:07.3", tenths truncated so the clock never runs ahead),
// "H:MM:SS" from there.
std::string format_elapsed(double seconds);

// Columns `text` takes on a terminal: its UTF-8 code points (wide characters count one).
std::size_t display_width(std::string_view text) noexcept;

// The bottom line of a terminal (or of any fd), shared by everything that writes there:
// print_above() output scrolls up while the status line set by show() stays below it.
// Each print and each redraw is a single write(2), so a line is never cut by another
// writer's bytes on a terminal.
//
// Thread safe. Fork safe: pthread_atfork handlers take every StatusLine's lock before a
// fork and release it after, so no child inherits it locked. In a child the line is
// disabled (show() does nothing), and when the parent had it in use each print first
// erases the terminal's current line (where the parent may have drawn), so the child's
// log lines go through plainly.
//
//   StatusLine& line = StatusLine::standard_error();
//   line.show("[#.........] 1/9 nodes");        // "\r[#.........] 1/9 nodes\x1b[K"
//   const std::string_view parts[] = {"a log line\n"};
//   line.print_above(parts);                     // "\r\x1b[Ka log line\n\r[#.........] 1/9 nodes\x1b[K"
//   line.clear();                                // "\r\x1b[K"
class StatusLine {
public:
    // The status line of stderr: the one the log sink (configure_logging) prints through
    // and ProgressLine draws on by default. Never destroyed (logging at exit stays safe).
    static StatusLine& standard_error();

    explicit StatusLine(int fd);
    ~StatusLine();
    StatusLine(const StatusLine&) = delete;
    StatusLine& operator=(const StatusLine&) = delete;

    int fd() const noexcept { return fd_; }

    // The lock serialising all writes to fd(); print_above() takes it as proof. Held by
    // callers that must do more under it (the log sink formats under it).
    using Lock = std::unique_lock<std::mutex>;
    [[nodiscard]] Lock lock() { return Lock(mutex_); }

    // Writes `parts` (gathered; up to 12 in one write) above the status line: erases it,
    // writes, redraws it.
    void print_above(const Lock& held, std::span<const std::string_view> parts) noexcept;
    void print_above(std::span<const std::string_view> parts) noexcept;

    // Shows `text` (one line, no '\n') as the status line, now and after every print.
    // Text past 4 KiB is cut. Does nothing in a forked child.
    void show(std::string_view text) noexcept;
    // Erases the status line, if one is shown, and shows none.
    void clear() noexcept;
    bool shown() noexcept;

    // Whether a status line may be shown at any time now (a ProgressLine uses this line).
    // A child forked meanwhile erases the terminal's current line before each print, even
    // when nothing was shown at the fork: its parent may draw at any moment.
    void set_in_use(bool in_use) noexcept;
    // Erase the terminal's current line before each print, as such a child does. For a
    // process sharing a terminal with one that may draw a status line, e.g. a spawned
    // ParallelRunner worker whose stderr is a terminal.
    void set_erase_before_print(bool erase) noexcept;

    // Escape sequences written: "\r" + text + kEraseToEnd draws, kEraseLine erases.
    static constexpr std::string_view kEraseLine = "\r\x1b[K";
    static constexpr std::string_view kEraseToEnd = "\x1b[K";

private:
    friend struct StatusLineForkHandlers;
    void write_locked(std::span<const std::string_view> parts, bool erase, bool redraw) noexcept;

    std::mutex mutex_;
    const int fd_;
    bool shown_ = false;          // a status line is on the terminal
    bool in_use_ = false;         // one may be shown at any time
    bool forked_child_ = false;   // this process was forked after the line was made
    bool erase_first_ = false;    // erase the current line before each print (see above)
    std::array<char, 4096> text_{};
    std::size_t text_size_ = 0;
    StatusLine* next_ = nullptr;  // every StatusLine, for the fork handlers
    StatusLine* prev_ = nullptr;
};

// A NodeObserver that counts finished, failed and running nodes, and a ticker thread that
// redraws the progress line on a StatusLine every `interval`. Node callbacks only count
// (an atomic add, and a short locked update of the running set: tens of nanoseconds), so
// a 100,000-node pipeline of trivial nodes does not slow down; all drawing is done by the
// ticker. The first draw comes one interval after construction, so a run shorter than
// that prints nothing.
//
// Thread safe: node_started/node_finished may be called from many threads at once.
// The ticker is fork safe (see StatusLine, and fork_safe_thread_count() which counts it
// while it runs); a forked child never draws.
// `pipeline` (node names, indexed as the runner reports them) must outlive this object.
// One ProgressLine per StatusLine at a time.
class ProgressLine final : public NodeObserver {
public:
    struct Options {
        StatusLine* line = nullptr;                  // nullptr: StatusLine::standard_error()
        std::chrono::milliseconds interval{100};     // redraw period; zero: no ticker (call tick())
        std::size_t width = 0;                       // 0: the terminal's (TIOCGWINSZ), else 80
        std::optional<bool> unicode = std::nullopt;  // unset: from LC_ALL / LC_CTYPE / LANG
    };

    // Whether `kiln run` should show the line: KILN_PROGRESS=0 never, =1 always (even when
    // stderr is no terminal: for tests), empty as unset, anything else is ignored with a
    // warning (once); otherwise when stderr is a terminal that is not TERM=dumb. Never
    // when quiet.
    static bool wanted(Verbosity verbosity);
    // The same, the verbosity read from spdlog's level (info logged: normal or verbose).
    static bool wanted();

    explicit ProgressLine(const Pipeline& pipeline, Options options);
    explicit ProgressLine(const Pipeline& pipeline) : ProgressLine(pipeline, Options{}) {}
    // finish().
    ~ProgressLine() override;
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;

    // Stops the ticker and erases the line; when the line was drawn, the final counts are
    // drawn once first. Idempotent. Call it before the run's closing log lines.
    void finish() noexcept;

    unsigned listens_to() const noexcept override { return node_progress; }
    void node_started(std::size_t node, unsigned worker) override;
    void node_finished(std::size_t node, unsigned worker, const NodeFailure* failure) override;

    // The counts now, with the names of up to 64 running nodes (views into the pipeline).
    ProgressSnapshot snapshot() const;
    // The line that would be drawn now.
    std::string render() const;
    // Draws the line now (what the ticker does each interval).
    void tick();

private:
    void ticker_main();
    std::size_t width() const;

    const Pipeline& pipeline_;
    StatusLine& line_;
    const Options options_;
    const bool unicode_;
    const std::chrono::steady_clock::time_point start_;
    const pid_t owner_;  // the process that made it; a forked child's copy never touches the ticker

    std::atomic<std::size_t> finished_{0};
    std::atomic<std::size_t> failed_{0};
    mutable std::mutex running_mutex_;
    std::vector<std::size_t> running_;  // node indices, in start order

    std::atomic<bool> drawn_{false};
    bool finished_run_ = false;
    std::mutex ticker_mutex_;
    std::condition_variable ticker_wake_;
    bool stop_ = false;
    std::unique_ptr<ForkSafeThread> fork_safe_;  // counts the ticker while it runs
    std::unique_ptr<std::thread> ticker_;
};

}  // namespace kiln::core
