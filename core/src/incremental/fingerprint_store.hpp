// The fingerprint store: PROJECT/.kiln/fingerprints, one line per completed node, appended
// after the node's outputs were saved (so a crash leaves at worst an old record, never a
// new one for outputs that were not written). A node that saved files is recorded at once;
// others may be batched (a write(2) per 64 KiB or 20 ms): a record lost to a SIGKILL only
// makes its node run again. The last line for a node wins. A line that
// is torn, edited or of an unknown format fails its checksum and is ignored: that node
// just runs again. Deleting the file means the next incremental run runs everything.
//
//   FingerprintStore store(project);
//   auto records = store.load();             // node name -> latest record
//   store.append(record);                    // written at once
//   store.append(record, false);             // may wait up to 20 ms (or 64 KiB)
//   store.sync();                            // written and on disk
//   store.compact(records);                  // at the end of a run, when mostly superseded
#pragma once

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <unordered_map>

#include "incremental/node_record.hpp"

namespace kiln::core {

using NodeRecords = std::unordered_map<std::string, NodeRecord>;

class FingerprintStore {
public:
    explicit FingerprintStore(std::filesystem::path project_dir);
    ~FingerprintStore();
    FingerprintStore(const FingerprintStore&) = delete;
    FingerprintStore& operator=(const FingerprintStore&) = delete;

    const std::filesystem::path& file() const { return file_; }
    static std::filesystem::path file_in(const std::filesystem::path& project_dir) {
        return project_dir / ".kiln" / "fingerprints";
    }

    // The latest record of every node; empty when there is no store. Counts the lines
    // read (see compact). Throws kiln::Error only when the file exists but cannot be read.
    NodeRecords load();
    // Appends one record (thread safe): written out at once, or without `now` within 20 ms
    // or 64 KiB. Throws kiln::Error naming the file when it cannot be written (a full disk).
    void append(const NodeRecord& record, bool now = true);
    // Writes out what was appended and syncs it to the disk.
    void sync();
    // Rewrites the store with just `latest` (atomically) when most lines read or appended
    // since are superseded; otherwise does nothing.
    void compact(const NodeRecords& latest);

    // One record as a line of the file, and back (nullopt-like: false for a bad line).
    static std::string encode(const NodeRecord& record);
    static bool decode(std::string_view line, NodeRecord& record);

private:
    void open_for_append();
    void write_pending();  // with mutex_ held

    std::filesystem::path project_dir_;
    std::filesystem::path file_;
    std::mutex mutex_;
    int fd_ = -1;
    std::size_t lines_ = 0;  // read by load() plus appended since
    std::string pending_;    // appended, not written yet
    std::chrono::steady_clock::time_point last_write_{};
};

}  // namespace kiln::core
