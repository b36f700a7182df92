// The run journal: what a run did, appended as it happens, in PROJECT/.kiln/journal.
//
// The file starts with a header (one JSON document: the invocation, the project's
// fingerprint and the run's nodes), padded to a page; fixed-size records follow, one per
// event: a node started, one of its persisted outputs was saved (with the file's size and
// mtime), it completed, it failed, it crashed, the run ended. Records are written into a
// shared file mapping: an append is a 32-byte copy (no system call), it survives a
// SIGKILL of the process the moment it is made, and it is async-signal-safe, so a fatal
// signal handler can still record the crash. A record carries a checksum: after a power
// loss a torn or missing record reads as absent, which can only make --resume re-run more,
// never trust an output whose save did not finish (a node's "done" record is written
// after its outputs were saved and synced). The journal observer syncs the done record
// of a node that saved files, so a power loss does not make --resume redo finished,
// persisted work either.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kiln::core {

enum class JournalEvent : std::uint8_t {
    started = 1,  // a: worker
    output = 2,   // c: output position, a: file size, b: mtime (ns since the epoch)
    done = 3,
    failed = 4,
    crashed = 5,  // a: signal number (c = 1) or exit status (c = 0)
    ended = 6,    // node unused; a: RunEnding
};

enum class RunEnding : std::uint64_t { success = 0, failed = 1, interrupted = 2 };

struct JournalRecord {
    std::uint8_t event = 0;
    std::uint8_t reserved[3] = {0, 0, 0};
    std::uint32_t node = 0;
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::uint32_t c = 0;
    std::uint32_t check = 0;  // set by append
};
static_assert(sizeof(JournalRecord) == 32);

std::filesystem::path journal_path(const std::filesystem::path& project_dir);

class RunJournal {
public:
    // Writes a new journal with this header, a JSON object with at least "nodes" (the run's
    // node names, which records refer to by index), atomically: a temporary file renamed
    // over the previous journal. Throws kiln::Error when the file cannot be written.
    static std::unique_ptr<RunJournal> create(const std::filesystem::path& project_dir, const nlohmann::json& header);
    // The same with the header already serialised (one line of JSON).
    static std::unique_ptr<RunJournal> create(const std::filesystem::path& project_dir, std::string header_json);
    ~RunJournal();
    RunJournal(const RunJournal&) = delete;
    RunJournal& operator=(const RunJournal&) = delete;

    // Thread safe and lock-free while the current chunk of the file lasts. With
    // `in_signal_handler`, never allocates, locks or grows the file (a record that does
    // not fit is dropped).
    void append(JournalRecord record, bool in_signal_handler = false) noexcept;

    // Makes the records so far durable on disk (fdatasync).
    void sync() noexcept;

private:
    RunJournal(int fd, std::uint64_t header_size);
    char* map_chunk(std::size_t chunk) noexcept;

    static constexpr std::size_t chunk_bytes = 256 * 1024;
    static constexpr std::size_t records_per_chunk = chunk_bytes / sizeof(JournalRecord);
    static constexpr std::size_t max_chunks = 16384;  // 4 GiB of records

    int fd_;
    std::uint64_t header_size_;
    std::atomic<std::uint64_t> next_{0};
    std::array<std::atomic<char*>, max_chunks> chunks_{};
    std::mutex grow_;
    std::atomic<bool> full_{false};
};

// One output's stamp: position among the node's outputs, file size and mtime.
struct OutputStamp {
    std::uint32_t output = 0;
    std::uint64_t size = 0;
    std::uint64_t mtime_ns = 0;
};

// A journal read back: the header and what each node (index into header["nodes"]) did.
struct JournalState {
    nlohmann::json header;
    std::vector<char> started, done, failed;
    std::vector<std::vector<OutputStamp>> outputs;  // per node, from its last completion
    std::optional<RunEnding> ending;                // unset: the process died mid-run
    std::optional<std::size_t> crashed_node;
    int crash_signal = 0;   // 0: the node called exit()
    int crash_status = 0;
    std::size_t records = 0;
};

// Reads PROJECT/.kiln/journal; nullopt when there is none. Throws kiln::ConfigError naming
// the file when it is not a journal (a truncated header, not a damaged record).
std::optional<JournalState> read_journal(const std::filesystem::path& project_dir);

// A file's stamp now: nullopt when it does not exist. Directories too (a folder dataset).
std::optional<OutputStamp> stamp_file(const std::filesystem::path& file, std::uint32_t output = 0);

}  // namespace kiln::core
