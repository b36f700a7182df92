// File helpers for dataset authors.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <sys/stat.h>
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

namespace detail {
// What a path names, in words for a message: "a FIFO", "a directory", ...
inline const char* file_kind(const struct ::stat& st) {
    switch (st.st_mode & S_IFMT) {
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO (named pipe)";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFSOCK: return "a socket";
    case S_IFLNK: return "a symbolic link";
    default: return "not a regular file";
    }
}

// A path cut short by the C library: everything after a NUL would be ignored.
inline void refuse_nul(const std::filesystem::path& path) {
    const auto& s = path.native();
    if (s.find('\0') != std::string::npos)
        throw DatasetError("the path '" + s.substr(0, s.find('\0')) +
                           "\\0...' contains a NUL character, which no file name can hold; fix the path");
}

// The file a write to `path` must replace: `path` itself, or the final target of the
// symbolic links it goes through (a dangling link's target is created). Replacing the
// link itself would silently cut what it points to off from the new data.
inline std::filesystem::path write_target(const std::filesystem::path& path) {
    namespace fs = std::filesystem;
    fs::path target = path;
    for (int hops = 0;; ++hops) {
        struct ::stat st {};
        if (::lstat(target.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return target;
        if (hops == 40)
            throw DatasetError("cannot write '" + path.string() + "': too many levels of symbolic links");
        std::error_code ec;
        fs::path next = fs::read_symlink(target, ec);
        if (ec) throw DatasetError("cannot follow the symbolic link '" + target.string() + "': " + ec.message());
        target = next.is_absolute() ? next : target.parent_path() / next;
    }
}
}  // namespace detail

// Writes a whole file atomically: the bytes go to a temporary file beside the target
// (`<target>.kiln-tmp-<pid>-<n>`), are flushed to disk, then renamed over it, and the
// directory is synced so the rename itself is durable. Readers see the old file or the
// new one, never half of one; a failure leaves the old file untouched and no temporary
// behind. Creates missing parent directories. A symbolic link is written through: its
// final target is replaced (in the target's folder) and the link stays. A path that names
// a directory, FIFO, device or socket, or holds a NUL, is refused with a DatasetError
// (replacing a FIFO or device with a file is never what was meant). The new file keeps the
// mode of the file it replaces. (A process killed between creating and renaming the
// temporary cannot remove it: the next `kiln run` does, see core/src/catalog/temp_files.hpp.)
inline void write_file_atomic(const std::filesystem::path& given, std::span<const std::byte> bytes) {
    namespace fs = std::filesystem;
    detail::refuse_nul(given);
    const fs::path path = detail::write_target(given);
    const std::string through = path == given ? "" : " (the target of the link '" + given.string() + "')";
    std::error_code ec;
    if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
    if (ec) throw DatasetError("cannot create directory '" + path.parent_path().string() + "': " + ec.message());
    mode_t mode = 0666;  // less the umask, as for any new file
    bool keep_mode = false;
    struct ::stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        if (!S_ISREG(st.st_mode))
            throw DatasetError("cannot write '" + path.string() + "'" + through + ": it is " + detail::file_kind(st) +
                               "; datasets are written by replacing a regular file, so point the path at one");
        mode = st.st_mode & 07777;
        keep_mode = true;
    }
    static std::atomic<unsigned> counter{0};
    fs::path tmp = path;
    tmp += ".kiln-tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    // O_EXCL|O_NOFOLLOW: never write through something planted under the temporary's name.
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) throw DatasetError("cannot write '" + tmp.string() + "': " + std::strerror(errno));
    bool ok = !keep_mode || ::fchmod(fd, mode) == 0;
    const char* data = reinterpret_cast<const char*>(bytes.data());
    for (std::size_t left = bytes.size(); ok && left > 0;) {
        const ssize_t n = ::write(fd, data, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) ok = false;
        else data += n, left -= static_cast<std::size_t>(n);
    }
    ok = ok && ::fsync(fd) == 0;
    int saved = errno;
    ok = (::close(fd) == 0) && ok;
    if (!ok) {
        fs::remove(tmp, ec);
        throw DatasetError("cannot write '" + path.string() + "'" + through + ": " +
                           std::strerror(saved ? saved : EIO));
    }
    fs::rename(tmp, path, ec);
    if (ec) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw DatasetError("cannot replace '" + path.string() + "'" + through + ": " + ec.message());
    }
    detail::sync_directory(path.parent_path());
}

inline void write_file_atomic(const std::filesystem::path& path, std::string_view text) {
    write_file_atomic(path, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

// Reads a whole file; throws kiln::DatasetError naming the file when it cannot.
// A path that names a FIFO, device, socket or directory is refused: reading one could
// block forever or never end.
inline std::vector<std::byte> read_file_bytes(const std::filesystem::path& path) {
    detail::refuse_nul(path);
    struct ::stat st {};
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
        throw DatasetError("cannot read '" + path.string() + "': it is " + detail::file_kind(st) +
                           ", not a regular file; point the path at a file");
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
