// A node's fingerprint as of now: its signature (function, inputs and outputs with their
// types and catalog entries), its code (the declared version, or the plugin file's content
// hash) and each input (a file's content, a parameter's value, an in-memory value's
// producer fingerprint, Merkle-style). Used to decide what is stale before a run and to
// record what a node ran with after it completed.
//
//   FileHashes files(previous_records, project_dir);
//   Fingerprinter fp(pipeline, catalog, files, /*reuse_stat=*/true);
//   NodeRecord now = fp.record_now(i);           // producers' fingerprints computed as needed
//   fp.set_fingerprint(i, now.fingerprint);      // e.g. once the node ran
#pragma once

#include <cstddef>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalog/catalog.hpp"
#include "incremental/fingerprint_store.hpp"
#include "model/pipeline.hpp"

namespace kiln::core {

// Content hashes of files by path, trusted while the file's size and mtime are those they
// were taken at. Seeded from the records of earlier runs, so an unchanged file is never
// read. Thread safe.
class FileHashes {
public:
    FileHashes() = default;
    // Paths in records are relative to the project (or absolute).
    FileHashes(const NodeRecords& records, const std::filesystem::path& project_dir);

    struct Seen {
        bool present = false;
        FileStamp stamp;
        std::string hash;  // "" when absent
    };
    // One file's entry, found once by its path and then handed back to look(): a decision
    // over 100,000 files then hashes no path twice. It stays valid as long as this object.
    struct Slot {
        const std::string* file = nullptr;  // absolute and normal
        Seen seen;
        bool looked = false;  // stat'ed by this object
    };
    Slot& slot(const std::string& file);

    // The file now: stat, then hash only if the stamp differs from the one remembered. With
    // `reuse_stat`, a file already looked at is not even stat'ed again (one decision looks
    // at a file as output and as input). Throws kiln::DatasetError when it cannot be read.
    Seen look(Slot& slot, bool reuse_stat = false);
    // `file`: absolute and normal, as Fingerprinter passes it.
    Seen look(const std::string& file, bool reuse_stat = false) { return look(slot(file), reuse_stat); }
    // look(slot, true) for every slot, on several threads: a decision then makes no system
    // call of its own, and files that changed are hashed in parallel. Throws what look() throws.
    void look_all(const std::vector<Slot*>& slots);
    // How many files were hashed (for the log and the benchmark).
    std::size_t hashed() const;

private:
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Slot> known_;  // elements stay put: slots survive a rehash
    std::size_t hashed_ = 0;
};

// Where a persisted dataset's data is now: its file, or for a versioned dataset without a
// version chosen yet, the file of its latest version; nullopt for none.
std::optional<std::filesystem::path> current_data_file(const DataCatalog& catalog, const std::string& dataset,
                                                       const CatalogEntry& entry);

class Fingerprinter {
public:
    // `reuse_stat`: files do not change while it works (a decision before a run).
    Fingerprinter(const Pipeline& pipeline, DataCatalog& catalog, FileHashes& files, bool reuse_stat);

    // Node i's signature, code and inputs now; its outputs are left empty.
    NodeRecord record_now(std::size_t node);
    // The outputs of node i as they are now (files stamped and hashed).
    std::vector<OutputPart> outputs_now(std::size_t node);
    // Node i's fingerprint: the one set, or computed now (with its in-memory producers').
    std::string fingerprint(std::size_t node);
    void set_fingerprint(std::size_t node, std::string fingerprint);
    // Off once the run starts: files change under it from then on, and the catalog now has
    // the run's versions (what was learnt of each dataset is forgotten).
    void set_reuse_stat(bool reuse) {
        reuse_stat_ = reuse;
        if (!reuse) facts_.assign(facts_.size(), {});
    }

    // Learns what the catalog says of every dataset nodes (indices) read and write, and
    // looks at their files, on all cores.
    void look_at_files_of(const std::vector<std::size_t>& nodes);

private:
    // What the catalog says of one dataset, learnt once (a dataset is some node's output
    // and other nodes' input).
    struct DatasetFacts {
        bool known = false;
        bool persists = false;
        InputPart::Kind kind = InputPart::Kind::opaque;  // as an input
        std::string file;   // absolute and normal; "" when it has none
        std::string shown;  // as records write it: relative to the project when inside it
        std::string entry;  // its catalog entry: "type <hash prefix>", or "memory"
        FileHashes::Slot* slot = nullptr;  // with a file
    };
    const DatasetFacts& facts(std::uint32_t dataset);
    std::string signature(const Node& node);
    std::string code_of(const Node& node);
    InputPart input_part(const Node& node, std::size_t k);

    const Pipeline& pipeline_;
    DataCatalog& catalog_;
    FileHashes& files_;
    bool reuse_stat_;
    std::vector<std::string> fingerprints_;
    std::vector<DatasetFacts> facts_;  // by dataset id
    std::unordered_map<std::string, std::string> plugin_hashes_;  // by plugin file
};

}  // namespace kiln::core
