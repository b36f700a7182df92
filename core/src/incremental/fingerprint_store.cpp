#include "incremental/fingerprint_store.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

#include "incremental/parallel_for.hpp"
#include "kiln/error.hpp"
#include "kiln/file_io.hpp"

namespace kiln::core {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view format_tag = "kiln-fingerprint-1";

// Fields are separated by tabs; a field's own tabs, newlines and backslashes are escaped.
void put(std::string& line, std::string_view field) {
    line += '\t';
    if (field.find_first_of("\\\t\n") == std::string_view::npos) {
        line += field;
        return;
    }
    for (char c : field) {
        if (c == '\\') line += "\\\\";
        else if (c == '\t') line += "\\t";
        else if (c == '\n') line += "\\n";
        else line += c;
    }
}

void put(std::string& line, std::uint64_t n) { put(line, std::to_string(n)); }
void put_signed(std::string& line, std::int64_t n) { put(line, std::to_string(n)); }

std::string unescape(std::string_view field) {
    if (field.find('\\') == std::string_view::npos) return std::string(field);
    std::string out;
    out.reserve(field.size());
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] != '\\' || i + 1 == field.size()) {
            out += field[i];
            continue;
        }
        const char next = field[++i];
        out += next == 't' ? '\t' : next == 'n' ? '\n' : next;
    }
    return out;
}

std::string checksum(std::string_view text) { return hash_text(text).substr(0, 16); }

// Reads the fields of a decoded line in order; any misfit makes ok false.
struct FieldReader {
    std::vector<std::string_view> fields;
    std::size_t at = 0;
    bool ok = true;

    std::string text() {
        if (at >= fields.size()) {
            ok = false;
            return {};
        }
        return unescape(fields[at++]);
    }
    template <class Int>
    Int number() {
        if (at >= fields.size()) {
            ok = false;
            return 0;
        }
        std::string_view f = fields[at++];
        Int n = 0;
        auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), n);
        if (ec != std::errc() || end != f.data() + f.size()) ok = false;
        return n;
    }
};

bool valid_kind(char c) { return c == 'f' || c == 'n' || c == 'p' || c == 'd' || c == 'o' || c == 'r'; }

}  // namespace

FingerprintStore::FingerprintStore(fs::path project_dir)
    : project_dir_(std::move(project_dir)), file_(file_in(project_dir_)) {}

FingerprintStore::~FingerprintStore() {
    try {
        std::lock_guard lock(mutex_);
        write_pending();
    } catch (const std::exception&) {
        // Unrecorded nodes run again next time; the run already warned if writing failed.
    }
    if (fd_ >= 0) ::close(fd_);
}

std::string FingerprintStore::encode(const NodeRecord& r) {
    std::string line(format_tag);
    put(line, r.node);
    put(line, r.fingerprint);
    put(line, r.run_id);
    put(line, r.signature);
    put(line, r.code);
    put(line, r.inputs.size());
    for (const InputPart& in : r.inputs) {
        put(line, in.name);
        put(line, std::string_view(reinterpret_cast<const char*>(&in.kind), 1));
        put(line, in.ref);
        put(line, in.path);
        put(line, in.stamp.size);
        put_signed(line, in.stamp.mtime_ns);
        put(line, in.stamp.files);
        put(line, in.shown);
    }
    put(line, r.outputs.size());
    for (const OutputPart& out : r.outputs) {
        put(line, out.name);
        put(line, out.path);
        put(line, out.stamp.size);
        put_signed(line, out.stamp.mtime_ns);
        put(line, out.stamp.files);
        put(line, out.hash);
    }
    const std::string sum = checksum(line);
    line += '\t';
    line += sum;
    line += '\n';
    return line;
}

bool FingerprintStore::decode(std::string_view line, NodeRecord& r) {
    const auto last_tab = line.rfind('\t');
    if (last_tab == std::string_view::npos || line.substr(last_tab + 1) != checksum(line.substr(0, last_tab)))
        return false;
    FieldReader in;
    in.fields.reserve(32);
    for (std::size_t start = 0; start <= last_tab;) {
        const auto tab = line.find('\t', start);
        in.fields.push_back(line.substr(start, tab - start));
        start = tab + 1;
        if (tab == last_tab) break;
    }
    if (in.fields.empty() || in.fields[0] != format_tag) return false;
    in.at = 1;
    r = {};
    r.node = in.text();
    r.fingerprint = in.text();
    r.run_id = in.text();
    r.signature = in.text();
    r.code = in.text();
    const auto n_inputs = in.number<std::size_t>();
    if (!in.ok || n_inputs > in.fields.size()) return false;
    r.inputs.resize(n_inputs);
    for (InputPart& part : r.inputs) {
        part.name = in.text();
        const std::string_view kind = in.at < in.fields.size() ? in.fields[in.at++] : std::string_view();
        if (kind.size() != 1 || !valid_kind(kind[0])) return false;
        part.kind = static_cast<InputPart::Kind>(kind[0]);
        part.ref = in.text();
        part.path = in.text();
        part.stamp.size = in.number<std::uint64_t>();
        part.stamp.mtime_ns = in.number<std::int64_t>();
        part.stamp.files = in.number<std::uint64_t>();
        part.shown = in.text();
    }
    const auto n_outputs = in.number<std::size_t>();
    if (!in.ok || n_outputs > in.fields.size()) return false;
    r.outputs.resize(n_outputs);
    for (OutputPart& part : r.outputs) {
        part.name = in.text();
        part.path = in.text();
        part.stamp.size = in.number<std::uint64_t>();
        part.stamp.mtime_ns = in.number<std::int64_t>();
        part.stamp.files = in.number<std::uint64_t>();
        part.hash = in.text();
    }
    return in.ok && in.at == in.fields.size() && !r.node.empty();
}

NodeRecords FingerprintStore::load() {
    NodeRecords records;
    auto unreadable = [&](int err) {
        return Error("cannot read " + file_.string() + ": " + std::strerror(err) +
                     ". Remove it (or fix its permissions): the next incremental run then runs every node");
    };
    const int fd = ::open(file_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return records;
        throw unreadable(errno);
    }
    // Read at once into a buffer of the file's size (a 100,000-record store is ~30 MB),
    // left uninitialised: filling it first would cost as much as the read.
    struct stat st {};
    std::size_t capacity = ::fstat(fd, &st) == 0 && st.st_size > 0 ? static_cast<std::size_t>(st.st_size) + 1 : 1 << 16;
    auto buffer = std::make_unique_for_overwrite<char[]>(capacity);
    std::size_t size = 0;
    for (;;) {
        if (size == capacity) {  // it grew since the fstat
            auto bigger = std::make_unique_for_overwrite<char[]>(capacity * 2);
            std::memcpy(bigger.get(), buffer.get(), size);
            buffer = std::move(bigger);
            capacity *= 2;
        }
        const ssize_t n = ::read(fd, buffer.get() + size, capacity - size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            throw unreadable(err);
        }
        if (n == 0) break;
        size += static_cast<std::size_t>(n);
    }
    ::close(fd);
    const std::string_view text(buffer.get(), size);
    // Decoded in pieces of whole lines on all cores, then kept in file order: the last
    // line of a node wins.
    std::vector<std::size_t> cuts{0};
    constexpr std::size_t piece = 1 << 20;
    while (cuts.back() < text.size()) {
        const std::size_t next = text.find('\n', std::min(cuts.back() + piece, text.size()) - 1);
        cuts.push_back(next == std::string_view::npos ? text.size() : next + 1);
    }
    std::vector<std::vector<NodeRecord>> decoded(cuts.size() - 1);
    std::vector<std::size_t> line_counts(decoded.size());
    parallel_for(decoded.size(), [&](std::size_t k) {
        NodeRecord record;
        for (std::size_t start = cuts[k]; start < cuts[k + 1];) {
            auto end = text.find('\n', start);
            if (end == std::string_view::npos) end = text.size();  // a torn last line: its checksum fails
            if (decode(text.substr(start, end - start), record)) decoded[k].push_back(std::move(record));
            ++line_counts[k];
            start = end + 1;
        }
    }, 1);
    std::size_t lines = 0;
    for (std::size_t n : line_counts) lines += n;
    records.reserve(lines);
    for (auto& piece_records : decoded)
        for (NodeRecord& record : piece_records) records[record.node] = std::move(record);
    std::lock_guard lock(mutex_);
    lines_ = lines;
    return records;
}

void FingerprintStore::open_for_append() {
    std::error_code ec;
    fs::create_directories(file_.parent_path(), ec);
    fd_ = ::open(file_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);  // RDWR: to read the last byte
    if (fd_ < 0) throw Error("cannot write " + file_.string() + ": " + std::strerror(errno));
    // A line torn by a crash must not swallow the next record: start on a fresh line.
    const off_t size = ::lseek(fd_, 0, SEEK_END);
    char last = '\n';
    if (size > 0 && ::pread(fd_, &last, 1, size - 1) != 1) last = '\n';
    if (last != '\n' && ::write(fd_, "\n", 1) != 1) {
        /* the next line then fails its checksum: that node runs again */
    }
}

void FingerprintStore::append(const NodeRecord& record, bool now) {
    const std::string line = encode(record);
    std::lock_guard lock(mutex_);
    pending_ += line;
    ++lines_;
    if (now || pending_.size() >= (64u << 10) ||
        std::chrono::steady_clock::now() - last_write_ >= std::chrono::milliseconds(20))
        write_pending();
}

void FingerprintStore::write_pending() {
    last_write_ = std::chrono::steady_clock::now();
    if (pending_.empty()) return;
    if (fd_ < 0) open_for_append();
    std::size_t written = 0;
    while (written < pending_.size()) {
        const ssize_t n = ::write(fd_, pending_.data() + written, pending_.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int err = n < 0 ? errno : ENOSPC;
            // A partial line fails its checksum; the next append starts on a fresh line.
            pending_.clear();
            ::close(fd_);
            fd_ = -1;
            throw Error("cannot write " + file_.string() + ": " + std::strerror(err));
        }
        written += static_cast<std::size_t>(n);
    }
    pending_.clear();
}

void FingerprintStore::sync() {
    std::lock_guard lock(mutex_);
    write_pending();
    if (fd_ >= 0) ::fdatasync(fd_);
}

void FingerprintStore::compact(const NodeRecords& latest) {
    std::lock_guard lock(mutex_);
    write_pending();
    // Rewrite once at least half the lines are superseded (and there are enough to matter).
    if (lines_ < 1024 || lines_ < 2 * latest.size()) return;
    std::string text;
    for (const auto& [_, record] : latest) text += encode(record);
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    write_file_atomic(file_, text);
    lines_ = latest.size();
}

}  // namespace kiln::core
