// Content hashes for incremental runs: XXH3-128 (the xxHash package), streamed, so a file
// of any size is hashed in a fixed 1 MiB buffer.
//
//   ContentHasher h;
//   h.add("wordcount.tokenize");
//   h.add(std::to_string(size));
//   std::string fingerprint = h.hex();   // 32 hex digits
//   std::string file_hash = hash_file("data/01_raw/poem.txt");
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace kiln::core {

// Accumulates bytes; add() frames each piece with its length, so ("ab","c") and ("a","bc")
// hash differently.
class ContentHasher {
public:
    ContentHasher();
    ~ContentHasher();
    ContentHasher(const ContentHasher&) = delete;
    ContentHasher& operator=(const ContentHasher&) = delete;

    void add(std::string_view piece);
    // Raw bytes, unframed (a file's content, streamed in pieces).
    void add_raw(const void* data, std::size_t size);
    std::string hex() const;  // 32 lowercase hex digits

private:
    void* state_;  // XXH3_state_t, kept out of this header
};

// How messages show a hash: its first 8 hex digits ("(none)" for an empty one).
inline std::string hash_prefix(const std::string& hash) { return hash.empty() ? "(none)" : hash.substr(0, 8); }

// The hash of one string (its bytes alone, unframed; one call, no state allocated).
std::string hash_text(std::string_view text);

// The content hash of a file; for a folder, of every regular file in it (names relative to
// the folder, sorted, and contents). Throws kiln::DatasetError naming the path when it
// cannot be read.
std::string hash_file(const std::filesystem::path& path);

// What the fast check compares before hashing: size and modification time (for a
// folder: the sum of its files' sizes, the latest mtime of them and of every folder, and
// how many files it holds). Throws kiln::DatasetError for a folder that cannot be listed.
struct FileStamp {
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::uint64_t files = 0;  // 0 for a plain file
    bool operator==(const FileStamp&) const = default;
};
// `present` is false when the path does not exist.
struct FileState {
    bool present = false;
    FileStamp stamp;
};
FileState file_state(const std::filesystem::path& path);

}  // namespace kiln::core
