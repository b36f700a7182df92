#include "incremental/content_hash.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

// The Debian package's header carries the implementation; inlined, nothing to link.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "kiln/error.hpp"

namespace kiln::core {
namespace fs = std::filesystem;

namespace {

XXH3_state_t* state_of(void* p) { return static_cast<XXH3_state_t*>(p); }

std::string to_hex(XXH128_hash_t h) {
    char buf[33];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                  static_cast<unsigned long long>(h.low64));
    return buf;
}

constexpr std::size_t buffer_size = 1 << 20;

// Returns the number of bytes hashed.
std::uint64_t hash_regular_file(const fs::path& path, ContentHasher& hasher, std::vector<char>& buffer) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw DatasetError("cannot read '" + path.string() + "' to hash it: " + std::strerror(errno));
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    std::uint64_t total = 0;
    for (;;) {
        const ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            throw DatasetError("cannot read '" + path.string() + "' to hash it: " + std::strerror(err));
        }
        if (n == 0) break;
        hasher.add_raw(buffer.data(), static_cast<std::size_t>(n));
        total += static_cast<std::uint64_t>(n);
    }
    ::close(fd);
    return total;
}

std::vector<fs::path> regular_files_under(const fs::path& dir) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
        if (it->is_regular_file(ec)) files.push_back(it->path());
    if (ec) throw DatasetError("cannot list '" + dir.string() + "' to hash it: " + ec.message());
    std::sort(files.begin(), files.end());
    return files;
}

std::int64_t mtime_ns_of(const struct stat& st) {
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

}  // namespace

ContentHasher::ContentHasher() : state_(XXH3_createState()) {
    if (!state_) throw std::bad_alloc();
    XXH3_128bits_reset(state_of(state_));
}

ContentHasher::~ContentHasher() { XXH3_freeState(state_of(state_)); }

void ContentHasher::add(std::string_view piece) {
    const std::uint64_t size = piece.size();
    XXH3_128bits_update(state_of(state_), &size, sizeof size);
    XXH3_128bits_update(state_of(state_), piece.data(), piece.size());
}

void ContentHasher::add_raw(const void* data, std::size_t size) { XXH3_128bits_update(state_of(state_), data, size); }

std::string ContentHasher::hex() const { return to_hex(XXH3_128bits_digest(state_of(state_))); }

std::string hash_text(std::string_view text) { return to_hex(XXH3_128bits(text.data(), text.size())); }

std::string hash_file(const fs::path& path) {
    // Reused, never zeroed: most files hashed are small, and a fresh zeroed megabyte each
    // time would cost more than hashing them.
    thread_local std::vector<char> buffer;
    if (buffer.size() < buffer_size) buffer.resize(buffer_size);
    ContentHasher hasher;
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        for (const fs::path& file : regular_files_under(path)) {
            hasher.add(file.lexically_relative(path).string());
            // The length after the content ends it: no file's bytes can pass for the next name.
            hasher.add(std::to_string(hash_regular_file(file, hasher, buffer)));
        }
        return hasher.hex();
    }
    hash_regular_file(path, hasher, buffer);
    return hasher.hex();
}

FileState file_state(const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};
    if (!S_ISDIR(st.st_mode)) return {true, {static_cast<std::uint64_t>(st.st_size), mtime_ns_of(st)}};
    // The folders' own mtimes count too: a file removed below leaves its folder's changed.
    FileState state{true, {0, mtime_ns_of(st), 0}};
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        struct stat f {};
        if (::stat(it->path().c_str(), &f) != 0) continue;
        if (S_ISREG(f.st_mode)) {
            state.stamp.size += static_cast<std::uint64_t>(f.st_size);
            ++state.stamp.files;
        }
        if (S_ISREG(f.st_mode) || S_ISDIR(f.st_mode)) state.stamp.mtime_ns = std::max(state.stamp.mtime_ns, mtime_ns_of(f));
    }
    if (ec) throw DatasetError("cannot list '" + path.string() + "' to hash it: " + ec.message());
    return state;
}

}  // namespace kiln::core
