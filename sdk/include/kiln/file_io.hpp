// File helpers for dataset authors.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include "kiln/error.hpp"

namespace kiln {

// Writes a whole file atomically: the bytes go to a temporary file beside the target,
// are flushed to disk, then renamed over it. Readers see the old file or the new one,
// never half of one; a failure leaves the old file untouched and no temporary behind.
// Creates missing parent directories.
inline void write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> bytes) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
    if (ec) throw DatasetError("cannot create directory '" + path.parent_path().string() + "': " + ec.message());
    static std::atomic<unsigned> counter{0};
    fs::path tmp = path;
    tmp += ".kiln-tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw DatasetError("cannot write '" + tmp.string() + "': " + std::strerror(errno));
    bool ok = bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    ok = (std::fflush(f) == 0) && ok;
    ok = (::fsync(::fileno(f)) == 0) && ok;
    int saved = errno;
    ok = (std::fclose(f) == 0) && ok;
    if (!ok) {
        fs::remove(tmp, ec);
        throw DatasetError("cannot write '" + path.string() + "': " + std::strerror(saved ? saved : EIO));
    }
    fs::rename(tmp, path, ec);
    if (ec) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw DatasetError("cannot replace '" + path.string() + "': " + ec.message());
    }
}

inline void write_file_atomic(const std::filesystem::path& path, std::string_view text) {
    write_file_atomic(path, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

// Reads a whole file; throws kiln::DatasetError naming the file when it cannot.
inline std::vector<std::byte> read_file_bytes(const std::filesystem::path& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw DatasetError("cannot read '" + path.string() + "': " + std::strerror(errno));
    std::vector<std::byte> bytes;
    std::byte chunk[65536];
    std::size_t n;
    while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) bytes.insert(bytes.end(), chunk, chunk + n);
    bool failed = std::ferror(f);
    std::fclose(f);
    if (failed) throw DatasetError("error reading '" + path.string() + "'");
    return bytes;
}

inline std::string read_file_text(const std::filesystem::path& path) {
    auto bytes = read_file_bytes(path);
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace kiln
