// File helpers for dataset authors.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include "kiln/error.hpp"

namespace kiln {

namespace detail {
// Flushes a directory's entries to disk, so that a rename inside it survives a crash of
// the machine. File systems that cannot sync a directory (EINVAL, ENOTSUP, EROFS) and a
// directory that cannot be opened for reading are not an error; an I/O error is.
inline void sync_directory(const std::filesystem::path& dir) {
    const std::filesystem::path d = dir.empty() ? std::filesystem::path(".") : dir;
    int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;  // e.g. writable but not readable: there is no way to sync it
    int rc;
    while ((rc = ::fsync(fd)) != 0 && errno == EINTR) {
    }
    const int saved = errno;
    ::close(fd);
    if (rc != 0 && saved != EINVAL && saved != EROFS && saved != ENOTSUP && saved != EOPNOTSUPP && saved != EBADF)
        throw DatasetError("cannot sync directory '" + d.string() + "' after replacing a file in it: " +
                           std::strerror(saved));
}
}  // namespace detail

// Writes a whole file atomically: the bytes go to a temporary file beside the target
// (`<target>.kiln-tmp-<pid>-<n>`), are flushed to disk, then renamed over it, and the
// directory is synced so the rename itself is durable. Readers see the old file or the
// new one, never half of one; a failure leaves the old file untouched and no temporary
// behind. Creates missing parent directories. (A process killed between creating and
// renaming the temporary cannot remove it: the next `kiln run` does, see
// kiln/core/temp_files.hpp.)
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
    detail::sync_directory(path.parent_path());
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
