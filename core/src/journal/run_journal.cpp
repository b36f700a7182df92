#include "journal/run_journal.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "incremental/content_hash.hpp"
#include "kiln/error.hpp"

namespace kiln::core {
namespace fs = std::filesystem;

namespace {

constexpr char magic[] = "KILN-JOURNAL 1 ";  // then the header size and '\n'
constexpr std::uint64_t page = 4096;

// A word at a time: an append costs a few instructions, not a loop over bytes.
std::uint32_t checksum(const JournalRecord& r) noexcept {
    std::uint64_t w[3];
    std::uint32_t c;
    std::memcpy(w, &r, sizeof w);
    std::memcpy(&c, reinterpret_cast<const char*>(&r) + sizeof w, sizeof c);
    std::uint64_t h = 0x9e3779b97f4a7c15ull;
    for (std::uint64_t x : {w[0], w[1], w[2], std::uint64_t{c}}) {
        h ^= x;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return static_cast<std::uint32_t>(h) | 1u;  // never 0: an all-zero record is never valid
}

bool write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

fs::path journal_path(const fs::path& project_dir) { return project_dir / ".kiln" / "journal"; }

std::optional<OutputStamp> stamp_file(const fs::path& file, std::uint32_t output) {
    // A folder dataset (kiln.PartitionedDataset) is stamped by every file and folder below
    // it, as incremental runs' fast check does, so that a file edited in place, added or
    // removed anywhere below changes the stamp.
    FileState state;
    try {
        state = file_state(file);
    } catch (const Error&) {  // a folder that cannot be listed: its own stamp
        struct stat st {};
        if (::stat(file.c_str(), &st) != 0) return std::nullopt;
        return OutputStamp{output, 0, static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000ull +
                                          static_cast<std::uint64_t>(st.st_mtim.tv_nsec)};
    }
    if (!state.present) return std::nullopt;
    return OutputStamp{output, state.stamp.size, static_cast<std::uint64_t>(state.stamp.mtime_ns)};
}

std::unique_ptr<RunJournal> RunJournal::create(const fs::path& project_dir, const nlohmann::json& header) {
    return create(project_dir, header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::unique_ptr<RunJournal> RunJournal::create(const fs::path& project_dir, std::string header_json) {
    const fs::path file = journal_path(project_dir);
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    // The name write_file_atomic gives its temporaries: a killed run's is removed by the next.
    const fs::path tmp = file.string() + ".kiln-tmp-" + std::to_string(::getpid()) + "-0";
    std::string text = std::move(header_json) + "\n";
    // The first line says how long the header is, padded to a page so that the records'
    // chunks can be mapped at page offsets.
    std::string first = std::string(magic);
    std::uint64_t size = 0;
    for (;;) {  // the size's own digits count too
        std::string line = first + std::to_string(size) + "\n";
        std::uint64_t need = (line.size() + text.size() + page - 1) / page * page;
        if (need == size) break;
        size = need;
    }
    std::string block = first + std::to_string(size) + "\n" + text;
    block.resize(size, '\n');

    int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw Error("cannot write the run journal '" + file.string() + "': " + std::strerror(errno));
    if (!write_all(fd, block.data(), block.size()) || ::fdatasync(fd) != 0 || ::rename(tmp.c_str(), file.c_str()) != 0) {
        const int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        throw Error("cannot write the run journal '" + file.string() + "': " + std::strerror(err));
    }
    if (int dir = ::open(file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
    std::unique_ptr<RunJournal> journal(new RunJournal(fd, size));
    journal->map_chunk(0);
    return journal;
}

RunJournal::RunJournal(int fd, std::uint64_t header_size) : fd_(fd), header_size_(header_size) {}

RunJournal::~RunJournal() {
    for (auto& c : chunks_)
        if (char* p = c.load()) ::munmap(p, chunk_bytes);
    ::close(fd_);
}

// Under grow_ (or at creation). The file gets its blocks now (fallocate), so that a write
// into the mapping can never hit a full disk (which would be a SIGBUS, not an error).
char* RunJournal::map_chunk(std::size_t chunk) noexcept {
    if (chunk >= max_chunks) return nullptr;
    if (char* p = chunks_[chunk].load(std::memory_order_acquire)) return p;
    const off_t offset = static_cast<off_t>(header_size_ + chunk * chunk_bytes);
    if (int err = ::posix_fallocate(fd_, offset, chunk_bytes); err != 0) {
        if (!full_.exchange(true))
            spdlog::warn("the run journal cannot grow ({}); the rest of this run is not recorded, so --resume may "
                         "re-run nodes that completed",
                         std::strerror(err));
        return nullptr;
    }
    void* p = ::mmap(nullptr, chunk_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, offset);
    if (p == MAP_FAILED) {
        if (!full_.exchange(true)) spdlog::warn("cannot map the run journal: {}", std::strerror(errno));
        return nullptr;
    }
    chunks_[chunk].store(static_cast<char*>(p), std::memory_order_release);
    return static_cast<char*>(p);
}

void RunJournal::append(JournalRecord record, bool in_signal_handler) noexcept {
    record.check = checksum(record);
    const std::uint64_t index = next_.fetch_add(1, std::memory_order_relaxed);
    const std::size_t chunk = index / records_per_chunk;
    if (chunk >= max_chunks) return;
    char* base = chunks_[chunk].load(std::memory_order_acquire);
    if (!base && !in_signal_handler) {
        std::lock_guard lock(grow_);
        base = map_chunk(chunk);
    }
    if (!base) return;
    std::memcpy(base + (index % records_per_chunk) * sizeof(JournalRecord), &record, sizeof record);
    // Entering a chunk: map the next one ahead, so that a signal handler finds it mapped.
    if (!in_signal_handler && index % records_per_chunk == 0 && chunk + 1 < max_chunks &&
        !chunks_[chunk + 1].load(std::memory_order_acquire)) {
        std::lock_guard lock(grow_);
        map_chunk(chunk + 1);
    }
}

void RunJournal::sync() noexcept { ::fdatasync(fd_); }

std::optional<JournalState> read_journal(const fs::path& project_dir) {
    const fs::path file = journal_path(project_dir);
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        throw ConfigError("cannot read the run journal '" + file.string() + "': " + std::strerror(errno));
    }
    std::string data;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        data.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);

    auto bad = [&](const std::string& why) {
        return ConfigError(file.string() + ": not a kiln run journal (" + why +
                           "); delete it and run the pipeline without --resume");
    };
    const std::size_t magic_len = sizeof(magic) - 1;
    const std::size_t eol = data.find('\n');
    if (data.compare(0, magic_len, magic) != 0 || eol == std::string::npos) throw bad("no journal header");
    std::uint64_t header_size = 0;
    try {
        header_size = std::stoull(data.substr(magic_len, eol - magic_len));
    } catch (const std::exception&) {
        throw bad("bad header size");
    }
    if (header_size > data.size() || header_size % page != 0) throw bad("truncated header");
    JournalState state;
    state.header = nlohmann::json::parse(data.begin() + static_cast<std::ptrdiff_t>(eol + 1),
                                         data.begin() + static_cast<std::ptrdiff_t>(header_size), nullptr, false);
    if (!state.header.is_object() || !state.header.contains("nodes") || !state.header["nodes"].is_array())
        throw bad("unreadable header");
    const std::size_t n = state.header["nodes"].size();
    state.started.assign(n, 0);
    state.done.assign(n, 0);
    state.failed.assign(n, 0);
    state.outputs.resize(n);
    std::vector<std::vector<OutputStamp>> pending(n);  // outputs saved since the node last started
    for (std::size_t at = header_size; at + sizeof(JournalRecord) <= data.size(); at += sizeof(JournalRecord)) {
        JournalRecord r;
        std::memcpy(&r, data.data() + at, sizeof r);
        if (r.event == 0 || r.check != checksum(r)) continue;  // never written, or torn
        ++state.records;
        const auto event = static_cast<JournalEvent>(r.event);
        if (event == JournalEvent::ended) {
            state.ending = static_cast<RunEnding>(r.a);
            continue;
        }
        if (r.node >= n) continue;
        switch (event) {
        case JournalEvent::started:
            state.started[r.node] = 1;
            state.done[r.node] = 0;  // running again: an earlier completion no longer counts
            pending[r.node].clear();
            break;
        case JournalEvent::output:
            pending[r.node].push_back(OutputStamp{r.c, r.a, r.b});
            break;
        case JournalEvent::done:
            state.done[r.node] = 1;
            state.failed[r.node] = 0;
            state.outputs[r.node] = std::move(pending[r.node]);
            pending[r.node].clear();
            break;
        case JournalEvent::failed:
            state.failed[r.node] = 1;
            break;
        case JournalEvent::crashed:
            state.failed[r.node] = 1;
            state.crashed_node = r.node;
            state.crash_signal = r.c ? static_cast<int>(r.a) : 0;
            state.crash_status = r.c ? 0 : static_cast<int>(r.a);
            break;
        default:
            break;
        }
    }
    return state;
}

}  // namespace kiln::core
