#include "shm_arena.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <boost/interprocess/managed_external_buffer.hpp>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace bip = boost::interprocess;

namespace kiln::runners {

namespace {
constexpr const char* name_prefix = "kiln-";
constexpr const char* control_name = "kiln.control";
// Segments for small values: each twice the last (1 MiB, 2, 4, ... 16 MiB), so that many
// values need few segments and few values reserve little. A value larger than that gets a
// segment of its own size.
constexpr std::size_t min_segment_bytes = 1u << 20;
constexpr std::size_t max_small_segment_bytes = 16u << 20;
// Room in a segment for the heap's own bookkeeping besides a value.
constexpr std::size_t heap_overhead_bytes = 64u << 10;
// Segments this large are made for one value about to be written whole.
constexpr std::size_t populate_bytes = 16u << 20;

// Not guessable: another user cannot name a run's segments in advance.
std::string random_tag() {
    std::uint64_t r = 0;
    if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r))
        r = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) * 0x9e3779b97f4a7c15ull;
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(r));
    return text;
}

struct Space {
    std::size_t free_bytes = 0, total_bytes = 0;
};
Space shm_space() {
    struct statvfs fs {};
    if (::statvfs("/dev/shm", &fs) != 0) return {};
    return {static_cast<std::size_t>(fs.f_bavail) * fs.f_frsize, static_cast<std::size_t>(fs.f_blocks) * fs.f_frsize};
}

// The write lock over the whole object, without waiting: false when another open file
// (a live run) holds a lock on it.
bool try_lock(int fd) {
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    while (::fcntl(fd, F_OFD_SETLK, &lock) != 0)
        if (errno != EINTR) return false;
    return true;
}

// Whether /dev/shm/<name> is still the object open as `fd` (a cleanup may have removed it).
bool still_named(int fd, const std::string& name) {
    struct stat open_one {}, named {};
    return ::fstat(fd, &open_one) == 0 && ::stat(("/dev/shm/" + name).c_str(), &named) == 0 &&
           open_one.st_dev == named.st_dev && open_one.st_ino == named.st_ino;
}

// A new object, readable and writable by this user only (O_EXCL: a name someone else made
// first is never reused). -1 with errno on failure.
int create_object(const std::string& name) {
    int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) ::fchmod(fd, 0600);  // exactly 0600 whatever the umask
    return fd;
}

// Allocates the object's pages now, so that writing to them later cannot fail.
void reserve(int fd, std::size_t bytes) {
    int rc = 0;
    do rc = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));  // returns the error; errno is untouched
    while (rc == EINTR);
    if (rc == 0) return;
    if (rc == ENOSPC || rc == ENOMEM || rc == EFBIG) {
        const Space space = shm_space();
        throw ShmExhausted(bytes, space.free_bytes, space.total_bytes);
    }
    throw RunnerError("cannot reserve " + mib(bytes) + " of shared memory in /dev/shm: " + std::strerror(rc));
}
}  // namespace

std::string mib(std::size_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1u << 20));
    return text;
}

std::string shm_room_hint() {
    return "Enlarge /dev/shm (e.g. `mount -o remount,size=8G /dev/shm`, or docker --shm-size), run fewer workers "
           "(--max-workers), or run with --runner ThreadRunner, which needs no shared memory";
}

ShmExhausted::ShmExhausted(std::size_t segment, std::size_t free, std::size_t total)
    : RunnerError("not enough shared memory: " + mib(segment) + " needed but /dev/shm has " + mib(free) + " free (of " +
                  mib(total) + "). " + shm_room_hint()),
      segment_bytes(segment),
      free_bytes(free),
      total_bytes(total) {}

// A mapped object with a heap in it. Unmapped when the last value reading it is gone.
struct ShmArena::Segment {
    Segment(int fd, std::size_t bytes, const std::string& name) : size(bytes) {
        address = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (address == MAP_FAILED)
            throw RunnerError("cannot map shared memory segment '" + name + "': " + std::strerror(errno));
    }
    ~Segment() {
        if (address != MAP_FAILED) ::munmap(address, size);
    }
    Segment(const Segment&) = delete;
    Segment& operator=(const Segment&) = delete;

    void* address = MAP_FAILED;
    std::size_t size;
    bip::managed_external_buffer heap;  // only its creator allocates in it, under ShmArena::mutex_
};

// Lives in segment 0: how many segments the run's processes have created. Lock-free, so a
// process dying while it counts harms no one.
struct ShmArena::Control {
    std::atomic<std::uint32_t> segments{1};
};
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

std::shared_ptr<ShmArena::Segment> ShmArena::build_segment(int fd, const std::string& name, std::size_t bytes) {
    reserve(fd, bytes);
    auto seg = std::make_shared<ShmArena::Segment>(fd, bytes, name);
    try {
        seg->heap = bip::managed_external_buffer(bip::create_only, seg->address, bytes);
    } catch (const bip::interprocess_exception& e) {
        throw RunnerError("cannot set up shared memory segment '" + name + "': " + e.what());
    }
    return seg;
}

ShmArena::ShmArena(std::string run_name, bool owner) : run_name_(std::move(run_name)), owner_(owner) {}

std::string ShmArena::segment_name(std::uint32_t index) const { return run_name_ + "-" + std::to_string(index); }

std::unique_ptr<ShmArena> ShmArena::create(std::size_t first_segment_bytes) {
    const std::size_t bytes = std::max<std::size_t>(first_segment_bytes, 64 * 1024);
    for (int attempt = 0; attempt < 16; ++attempt) {
        std::unique_ptr<ShmArena> arena(
            new ShmArena(name_prefix + std::to_string(::getpid()) + "-" + random_tag(), true));
        const std::string name = arena->segment_name(0);
        const int fd = create_object(name);
        if (fd < 0 && errno == EEXIST) continue;
        if (fd < 0) throw RunnerError("cannot create shared memory segment '" + name + "': " + std::strerror(errno));
        // A cleanup by another kiln may have found the object before it was locked: then
        // that kiln holds the lock, or has removed the name already. Start again under another.
        if (!try_lock(fd) || !still_named(fd, name)) {
            ::close(fd);
            continue;
        }
        arena->lock_fd_ = fd;  // from here the destructor removes the segment
        try {
            auto seg = build_segment(fd, name, bytes);
            arena->control_ = seg->heap.construct<Control>(control_name)();
            arena->segments_.push_back(std::move(seg));
        } catch (const ShmExhausted& e) {
            throw RunnerError("not enough shared memory to start worker processes: /dev/shm has " + mib(e.free_bytes) +
                              " free (of " + mib(e.total_bytes) + "). " + shm_room_hint());
        } catch (const bip::interprocess_exception& e) {
            throw RunnerError("cannot set up shared memory segment '" + name + "': " + e.what());
        }
        return arena;
    }
    throw RunnerError("cannot create a shared memory segment in /dev/shm: 16 new names in a row were taken");
}

std::unique_ptr<ShmArena> ShmArena::attach(const std::string& run_name) {
    if (run_name.rfind(name_prefix, 0) != 0 || run_name.find('/') != std::string::npos)
        throw RunnerError("'" + run_name + "' is not the name of a kiln run's shared memory");
    std::unique_ptr<ShmArena> arena(new ShmArena(run_name, false));
    arena->control_ = arena->segment(0).heap.find<Control>(control_name).first;
    if (!arena->control_) throw RunnerError("shared memory segment '" + arena->segment_name(0) + "' has no control block");
    return arena;
}

ShmArena::~ShmArena() {
    if (owner_) {
        std::uint32_t count = 1;
        try {
            count = segment_count();
        } catch (...) {
        }
        segments_.clear();
        // Segment 0 last: while it is there, its lock tells a cleanup that the others are in use.
        for (std::uint32_t i = count; i-- > 1;) ::shm_unlink(segment_name(i).c_str());
        ::shm_unlink(segment_name(0).c_str());
    }
    if (lock_fd_ >= 0) ::close(lock_fd_);
}

ShmArena::Segment& ShmArena::segment(std::uint32_t index) {
    if (index >= segments_.size()) segments_.resize(index + 1);
    if (!segments_[index]) {
        const std::string name = segment_name(index);
        const int fd = ::shm_open(name.c_str(), O_RDWR | O_CLOEXEC, 0);
        if (fd < 0) throw RunnerError("cannot open shared memory segment '" + name + "': " + std::strerror(errno));
        struct stat st {};
        std::shared_ptr<Segment> seg;
        try {
            if (::fstat(fd, &st) != 0)
                throw RunnerError("cannot open shared memory segment '" + name + "': " + std::strerror(errno));
            seg = std::make_shared<Segment>(fd, static_cast<std::size_t>(st.st_size), name);
            seg->heap = bip::managed_external_buffer(bip::open_only, seg->address, seg->size);
        } catch (const bip::interprocess_exception& e) {
            ::close(fd);
            throw RunnerError("cannot open shared memory segment '" + name + "': " + e.what());
        } catch (...) {
            ::close(fd);
            throw;
        }
        ::close(fd);
        segments_[index] = std::move(seg);
    }
    return *segments_[index];
}

std::uint32_t ShmArena::segment_count() { return control_ ? control_->segments.load() : 1; }

std::uint32_t ShmArena::create_segment(std::size_t bytes) {
    const std::uint32_t index = control_->segments.fetch_add(1);
    const std::string name = segment_name(index);
    const int fd = create_object(name);
    if (fd < 0)
        throw RunnerError("cannot create shared memory segment '" + name + "' of " + mib(bytes) + ": " +
                          std::strerror(errno));
    std::shared_ptr<Segment> seg;
    try {
        seg = build_segment(fd, name, bytes);
    } catch (...) {
        ::close(fd);
        ::shm_unlink(name.c_str());
        throw;
    }
    ::close(fd);
    // A segment made for one large value is about to be written whole: map its pages in
    // one call rather than one fault at a time. Best effort: older kernels lack it.
#ifdef MADV_POPULATE_WRITE
    if (bytes > populate_bytes) ::madvise(seg->address, seg->size, MADV_POPULATE_WRITE);
#endif
    if (index >= segments_.size()) segments_.resize(index + 1);
    segments_[index] = std::move(seg);
    own_.push_back(index);
    spdlog::debug("Created shared memory segment {} ({})", name, mib(bytes));
    return index;
}

ShmBlock ShmArena::allocate(std::size_t size) {
    std::lock_guard lock(mutex_);
    const std::size_t request = std::max<std::size_t>(size, 1);
    // Newest segments first: older ones are the likeliest to be full.
    for (auto it = own_.rbegin(); it != own_.rend(); ++it) {
        const std::uint32_t i = *it;
        auto& heap = segment(i).heap;
        if (void* p = heap.allocate(request, std::nothrow))
            return ShmBlock{i, static_cast<std::uint64_t>(static_cast<char*>(p) - static_cast<char*>(heap.get_address())),
                            size};
    }
    const std::size_t small = std::clamp(2 * last_small_segment_bytes_, min_segment_bytes, max_small_segment_bytes);
    const std::size_t page = 4096;
    const std::size_t own = (request + heap_overhead_bytes + page - 1) / page * page;
    std::uint32_t index = 0;
    if (own < small) {
        try {
            index = create_segment(small);
            last_small_segment_bytes_ = small;
        } catch (const ShmExhausted&) {
            index = create_segment(own);  // a nearly full /dev/shm may still hold the value itself
        }
    } else {
        index = create_segment(own);
    }
    auto& heap = segment(index).heap;
    void* p = heap.allocate(request, std::nothrow);
    if (!p) throw RunnerError("shared memory segment '" + segment_name(index) + "' cannot hold " + mib(size));
    return ShmBlock{index, static_cast<std::uint64_t>(static_cast<char*>(p) - static_cast<char*>(heap.get_address())),
                    size};
}

void ShmArena::deallocate(const ShmBlock& block) {
    std::lock_guard lock(mutex_);
    auto& heap = segment(block.segment).heap;
    heap.deallocate(static_cast<char*>(heap.get_address()) + block.offset);
}

std::span<std::byte> ShmArena::bytes(const ShmBlock& block) {
    std::lock_guard lock(mutex_);
    auto& seg = segment(block.segment);
    if (block.offset > seg.size || block.size > seg.size - block.offset)
        throw RunnerError("shared memory block outside segment '" + segment_name(block.segment) + "'");
    return {static_cast<std::byte*>(seg.address) + block.offset, static_cast<std::size_t>(block.size)};
}

std::shared_ptr<const void> ShmArena::keep_alive(const ShmBlock& block) {
    std::lock_guard lock(mutex_);
    segment(block.segment);
    return segments_[block.segment];
}

std::size_t ShmArena::bytes_in_use() {
    std::lock_guard lock(mutex_);
    std::size_t used = 0;
    for (auto& seg : segments_)
        if (seg) used += seg->heap.get_size() - seg->heap.get_free_memory();
    return used;
}

std::size_t ShmArena::remove_stale() {
    // kiln-<pid>-<tag>-<n>, grouped by run (everything before the last dash).
    std::map<std::string, std::vector<std::string>> runs;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(name_prefix, 0) != 0) continue;
        const auto dash = name.rfind('-');
        if (dash == std::string::npos || dash < 5 || dash + 1 == name.size() ||
            name.find_first_not_of("0123456789", dash + 1) != std::string::npos)
            continue;
        runs[name.substr(0, dash)].push_back(name);
    }
    std::size_t removed = 0;
    for (const auto& [run, names] : runs) {
        // A live run holds the lock of its segment 0; without segment 0 the run has ended
        // (its host removes segment 0 last).
        const std::string first = run + "-0";
        const int fd = ::shm_open(first.c_str(), O_RDWR | O_CLOEXEC, 0);
        if (fd < 0 && errno != ENOENT) continue;  // another user's, say: not ours to judge
        if (fd >= 0 && !try_lock(fd)) {
            ::close(fd);
            continue;
        }
        std::size_t of_run = 0;
        for (const auto& name : names)
            if (name != first && ::shm_unlink(name.c_str()) == 0) ++of_run;
        if (fd >= 0 && ::shm_unlink(first.c_str()) == 0) ++of_run;
        if (fd >= 0) ::close(fd);
        if (of_run > 0)
            spdlog::info("Removed shared memory '{}-*' left by an earlier run (no process holds its lock)", run);
        removed += of_run;
    }
    return removed;
}

}  // namespace kiln::runners
