#include "terminal/progress_line.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <poll.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

namespace kiln::core {

// ------------------------------------------------------------------ rendering

namespace {

constexpr std::size_t kBarCells = 10;
constexpr std::size_t kMaxListedNames = 64;

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The longest prefix of `text` that takes at most `columns` columns, cut between code points.
std::string_view prefix_of_width(std::string_view text, std::size_t columns) {
    std::size_t used = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (is_continuation(text[i])) continue;
        if (used == columns) return text.substr(0, i);
        ++used;
    }
    return text;
}

void append_number(std::string& out, std::size_t n, std::size_t min_digits = 1) {
    char digits[24];
    std::size_t k = 0;
    do {
        digits[k++] = static_cast<char>('0' + n % 10);
        n /= 10;
    } while (n > 0);
    while (k < min_digits) digits[k++] = '0';
    while (k > 0) out += digits[--k];
}

std::string number(std::size_t n) {
    std::string s;
    append_number(s, n);
    return s;
}

// "running: a, b (+3)" in at most `budget` columns, or shorter forms, or "".
std::string running_section(const ProgressSnapshot& s, std::size_t budget, bool unicode) {
    constexpr std::string_view label = "running: ";
    const std::size_t known = std::min(s.running.size(), s.running_count);
    auto suffix = [&](std::size_t listed) {
        return listed < s.running_count ? " (+" + number(s.running_count - listed) + ")" : std::string();
    };
    // As many whole names as fit, with "(+N)" for the rest.
    std::size_t width = label.size(), best = 0;
    for (std::size_t k = 1; k <= known; ++k) {
        width += (k > 1 ? 2 : 0) + display_width(s.running[k - 1]);
        if (width + suffix(k).size() > budget) break;
        best = k;
    }
    if (best > 0) {
        std::string out(label);
        for (std::size_t k = 0; k < best; ++k) {
            if (k > 0) out += ", ";
            out += s.running[k];
        }
        return out + suffix(best);
    }
    // The first name, cut short.
    const std::string_view ellipsis = unicode ? "\u2026" : "...";
    const std::size_t ellipsis_width = unicode ? 1 : 3;
    if (known > 0) {
        const std::string rest = suffix(1);
        const std::size_t fixed = label.size() + rest.size() + ellipsis_width;
        if (budget > fixed) {
            std::string out(label);
            out += prefix_of_width(s.running[0], budget - fixed);
            out += ellipsis;
            return out + rest;
        }
    }
    std::string compact = number(s.running_count) + " running";
    return compact.size() <= budget ? compact : std::string();
}

bool locale_is_utf8() {
    for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
        const char* value = std::getenv(name);
        if (!value || !*value) continue;
        std::string v(value);
        std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
        return v.find("utf-8") != std::string::npos || v.find("utf8") != std::string::npos;
    }
    return false;
}

}  // namespace

std::size_t display_width(std::string_view text) noexcept {
    std::size_t n = 0;
    for (char c : text) n += is_continuation(c) ? 0 : 1;
    return n;
}

std::string format_elapsed(double seconds) {
    if (!(seconds > 0)) seconds = 0;  // NaN too
    // Truncated, not rounded: the clock never shows a tenth that has not passed. The
    // epsilon keeps 2.3 s from printing as 00:02.2 through binary rounding.
    const auto tenths = static_cast<std::size_t>(seconds * 10 + 1e-6);
    std::string out;
    if (tenths < 36000) {
        append_number(out, tenths / 600, 2);
        out += ':';
        append_number(out, tenths / 10 % 60, 2);
        out += '.';
        append_number(out, tenths % 10);
    } else {
        const std::size_t s = tenths / 10;
        append_number(out, s / 3600);
        out += ':';
        append_number(out, s / 60 % 60, 2);
        out += ':';
        append_number(out, s % 60, 2);
    }
    return out;
}

std::string render_progress_line(const ProgressSnapshot& s, std::size_t width, bool unicode) {
    const std::string_view sep = unicode ? " \u00b7 " : " | ";
    constexpr std::size_t sep_width = 3;
    const std::size_t avail = width > 0 ? width - 1 : 0;

    std::string head = "[";
    const std::size_t filled = s.total > 0 ? std::min(kBarCells, s.finished * kBarCells / s.total) : 0;
    head.append(filled, '#');
    head.append(kBarCells - filled, '.');
    head += "] ";
    append_number(head, s.finished);
    head += '/';
    append_number(head, s.total);
    head += " nodes";
    if (s.failed > 0) {
        head += sep;
        append_number(head, s.failed);
        head += " failed";
    }
    std::string tail(sep);
    tail += format_elapsed(s.elapsed_s);

    std::string running;
    const std::size_t fixed = display_width(head) + display_width(tail) + sep_width;
    if (s.running_count > 0 && fixed < avail) running = running_section(s, avail - fixed, unicode);

    std::string line = std::move(head);
    if (!running.empty()) {
        line += sep;
        line += running;
    }
    line += tail;
    // Only when even the counts and the clock do not fit.
    if (display_width(line) > avail) line.resize(prefix_of_width(line, avail).size());
    return line;
}

// ------------------------------------------------------------------ StatusLine

namespace {

// Every StatusLine, so that the fork handlers can take their locks.
std::mutex lines_mutex;
StatusLine* lines_head = nullptr;
std::once_flag fork_handlers_installed;

// Writes all of `iov`, retrying after EINTR, partial writes and a full non-blocking fd.
void write_all(int fd, iovec* iov, int count) noexcept {
    int stalls = 0;
    while (count > 0) {
        ssize_t n = ::writev(fd, iov, count);
        if (n < 0) {
            if (errno == EINTR) continue;
            if ((errno == EAGAIN || errno == EWOULDBLOCK) && stalls++ < 20) {
                pollfd p{fd, POLLOUT, 0};
                ::poll(&p, 1, 50);
                continue;
            }
            return;  // a closed or broken terminal: output is lost, the run goes on
        }
        auto left = static_cast<std::size_t>(n);
        while (count > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            ++iov;
            --count;
        }
        if (count > 0) {
            iov->iov_base = static_cast<char*>(iov->iov_base) + left;
            iov->iov_len -= left;
        }
    }
}

iovec io(std::string_view s) { return {const_cast<char*>(s.data()), s.size()}; }

}  // namespace

// Before a fork every line's lock is taken (waiting for a writer, e.g. the progress
// ticker, to finish its write), so the child never inherits one held by a thread it does
// not have. The child unlocks them and stops drawing: it has no ticker, and its parent
// still owns the terminal's last line.
struct StatusLineForkHandlers {
    static void prepare() {
        lines_mutex.lock();
        for (StatusLine* l = lines_head; l; l = l->next_) l->mutex_.lock();
    }
    static void parent() {
        for (StatusLine* l = lines_head; l; l = l->next_) l->mutex_.unlock();
        lines_mutex.unlock();
    }
    static void child() {
        for (StatusLine* l = lines_head; l; l = l->next_) {
            l->forked_child_ = true;
            l->erase_first_ = l->erase_first_ || l->shown_ || l->in_use_;
            l->shown_ = false;
            l->mutex_.unlock();
        }
        lines_mutex.unlock();
    }
};

StatusLine& StatusLine::standard_error() {
    static StatusLine* line = new StatusLine(STDERR_FILENO);
    return *line;
}

StatusLine::StatusLine(int fd) : fd_(fd) {
    std::call_once(fork_handlers_installed, [] {
        ::pthread_atfork(&StatusLineForkHandlers::prepare, &StatusLineForkHandlers::parent,
                         &StatusLineForkHandlers::child);
    });
    std::lock_guard<std::mutex> lock(lines_mutex);
    next_ = lines_head;
    if (lines_head) lines_head->prev_ = this;
    lines_head = this;
}

StatusLine::~StatusLine() {
    std::lock_guard<std::mutex> lock(lines_mutex);
    if (prev_) prev_->next_ = next_;
    else lines_head = next_;
    if (next_) next_->prev_ = prev_;
}

void StatusLine::write_locked(std::span<const std::string_view> parts, bool erase, bool redraw) noexcept {
    constexpr std::size_t kMaxParts = 12;
    iovec iov[kMaxParts + 4];
    int n = 0;
    if (erase) iov[n++] = io(kEraseLine);
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (static_cast<std::size_t>(n) == kMaxParts + 1) {  // more parts than fit: write these first
            write_all(fd_, iov, n);
            n = 0;
        }
        if (!parts[i].empty()) iov[n++] = io(parts[i]);
    }
    if (redraw) {
        iov[n++] = io("\r");
        iov[n++] = io(std::string_view(text_.data(), text_size_));
        iov[n++] = io(kEraseToEnd);
    }
    if (n > 0) write_all(fd_, iov, n);
}

void StatusLine::print_above(const Lock&, std::span<const std::string_view> parts) noexcept {
    write_locked(parts, shown_ || erase_first_, shown_);
}

void StatusLine::print_above(std::span<const std::string_view> parts) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    write_locked(parts, shown_ || erase_first_, shown_);
}

void StatusLine::show(std::string_view text) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    if (forked_child_) return;
    if (text.size() > text_.size()) {
        std::size_t cut = text_.size();
        while (cut > 0 && is_continuation(text[cut])) --cut;  // between code points
        text = text.substr(0, cut);
    }
    std::copy(text.begin(), text.end(), text_.begin());
    text_size_ = text.size();
    shown_ = true;
    write_locked({}, false, true);
}

void StatusLine::clear() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!shown_) return;
    shown_ = false;
    write_locked({}, true, false);
}

bool StatusLine::shown() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    return shown_;
}

void StatusLine::set_in_use(bool in_use) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    in_use_ = in_use;
}

void StatusLine::set_erase_before_print(bool erase) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    erase_first_ = erase;
}

// ------------------------------------------------------------------ ProgressLine

bool ProgressLine::wanted(Verbosity verbosity) {
    if (verbosity == Verbosity::quiet) return false;
    if (const char* env = std::getenv("KILN_PROGRESS"); env && *env) {
        const std::string_view value(env);
        if (value == "0") return false;
        if (value == "1") return true;
        static std::atomic<bool> warned{false};
        if (!warned.exchange(true))
            spdlog::warn("KILN_PROGRESS='{}' is ignored: set it to 1 to always show the progress line, or 0 to never "
                         "show it",
                         value);
    }
    if (!::isatty(STDERR_FILENO)) return false;
    const char* term = std::getenv("TERM");
    return !(term && std::string_view(term) == "dumb");  // no cursor control there
}

bool ProgressLine::wanted() {
    return wanted(spdlog::should_log(spdlog::level::info) ? Verbosity::normal : Verbosity::quiet);
}

ProgressLine::ProgressLine(const Pipeline& pipeline, Options options)
    : pipeline_(pipeline),
      line_(options.line ? *options.line : StatusLine::standard_error()),
      options_(options),
      unicode_(options.unicode.value_or(locale_is_utf8())),
      start_(std::chrono::steady_clock::now()),
      owner_(::getpid()) {
    running_.reserve(kMaxListedNames);
    line_.set_in_use(true);  // before any worker is forked: workers must erase the line before printing
    if (options_.interval.count() <= 0) return;
    // Counted before it starts, so that a fork decision never sees it uncounted.
    fork_safe_ = std::make_unique<ForkSafeThread>();
    // The ticker takes no signal: Ctrl-C and SIGTERM go to the threads that handle them.
    sigset_t all, old;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    try {
        ticker_ = std::make_unique<std::thread>([this] { ticker_main(); });
    } catch (...) {
        ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
        line_.set_in_use(false);
        throw;
    }
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::finish() noexcept {
    if (::getpid() != owner_) {
        // A forked child's copy: the ticker thread exists only in the parent.
        (void)ticker_.release();
        fork_safe_.reset();
        return;
    }
    if (finished_run_) return;
    finished_run_ = true;
    if (ticker_) {
        {
            std::lock_guard<std::mutex> lock(ticker_mutex_);
            stop_ = true;
        }
        ticker_wake_.notify_all();
        ticker_->join();
        ticker_.reset();
    }
    fork_safe_.reset();
    if (drawn_.load()) {
        try {
            tick();  // the final counts, for a moment (and for whoever records the output)
        } catch (...) {
        }
        line_.clear();
    }
    line_.set_in_use(false);
}

void ProgressLine::node_started(std::size_t node, unsigned) {
    std::lock_guard<std::mutex> lock(running_mutex_);
    running_.push_back(node);
}

void ProgressLine::node_finished(std::size_t node, unsigned, const NodeFailure* failure) {
    {
        std::lock_guard<std::mutex> lock(running_mutex_);
        auto it = std::find(running_.begin(), running_.end(), node);
        if (it != running_.end()) running_.erase(it);
    }
    if (failure) failed_.fetch_add(1, std::memory_order_relaxed);
    finished_.fetch_add(1, std::memory_order_relaxed);
}

ProgressSnapshot ProgressLine::snapshot() const {
    ProgressSnapshot s;
    std::array<std::size_t, kMaxListedNames> listed;
    std::size_t n = 0;
    {
        std::lock_guard<std::mutex> lock(running_mutex_);
        s.running_count = running_.size();
        n = std::min(running_.size(), listed.size());
        std::copy_n(running_.begin(), n, listed.begin());
    }
    s.finished = finished_.load(std::memory_order_relaxed);
    s.failed = failed_.load(std::memory_order_relaxed);
    s.total = pipeline_.size();
    s.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    s.running.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        s.running.push_back(listed[i] < pipeline_.size() ? std::string_view(pipeline_.nodes()[listed[i]].name)
                                                         : std::string_view("?"));
    return s;
}

std::size_t ProgressLine::width() const {
    if (options_.width > 0) return options_.width;
    winsize ws{};
    if (::ioctl(line_.fd(), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 80;
}

std::string ProgressLine::render() const { return render_progress_line(snapshot(), width(), unicode_); }

void ProgressLine::tick() {
    line_.show(render());
    drawn_.store(true);
}

void ProgressLine::ticker_main() {
    std::unique_lock<std::mutex> lock(ticker_mutex_);
    while (!stop_) {
        if (ticker_wake_.wait_for(lock, options_.interval, [this] { return stop_; })) break;
        lock.unlock();
        try {
            tick();
        } catch (...) {
            // Out of memory while rendering: skip this frame.
        }
        lock.lock();
    }
}

}  // namespace kiln::core
