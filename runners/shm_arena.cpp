#include "shm_arena.hpp"

#include <atomic>
#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "kiln/error.hpp"

namespace bip = boost::interprocess;

namespace kiln::runners {

namespace {
constexpr const char* name_prefix = "kiln-";
constexpr const char* control_name = "kiln.control";
constexpr std::size_t min_segment_bytes = 16u << 20;  // sparse on tmpfs: pages cost only when written


// Segments hold the run's values: readable and writable by this user only (created with
// O_EXCL, so a name someone else made first is never reused).
bip::permissions owner_only() { return bip::permissions(0600); }

std::string mib(std::size_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

// tmpfs allocates pages on first touch: a segment larger than what is free would fail
// with SIGBUS in the middle of a write. Refuse up front instead.
void check_room(std::size_t bytes) {
    struct statvfs fs {};
    if (::statvfs("/dev/shm", &fs) != 0) return;  // cannot tell; let creation decide
    std::size_t free_bytes = static_cast<std::size_t>(fs.f_bavail) * fs.f_frsize;
    if (bytes > free_bytes)
        throw RunnerError("not enough shared memory: a value needs " + mib(bytes) + " but /dev/shm has " +
                          mib(free_bytes) +
                          " free. Enlarge /dev/shm (e.g. `mount -o remount,size=8G /dev/shm`, or docker "
                          "--shm-size), or run with --runner ThreadRunner, which needs no shared memory");
}
}  // namespace

struct ShmArena::Segment {
    bip::managed_shared_memory memory;
};

// Lives in segment 0: how many segments the run's processes have created. Lock-free, so a
// process dying while it counts harms no one.
struct ShmArena::Control {
    std::atomic<std::uint32_t> segments{1};
};
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

ShmArena::ShmArena(pid_t owner_pid, bool owner) : owner_pid_(owner_pid), owner_(owner) {}

std::string ShmArena::segment_name(std::uint32_t index) const {
    return name_prefix + std::to_string(owner_pid_) + "-" + std::to_string(index);
}

std::unique_ptr<ShmArena> ShmArena::create(std::size_t first_segment_bytes) {
    std::unique_ptr<ShmArena> arena(new ShmArena(::getpid(), true));
    std::size_t bytes = std::max<std::size_t>(first_segment_bytes, 64 * 1024);
    check_room(bytes);
    bip::shared_memory_object::remove(arena->segment_name(0).c_str());  // a leftover of a reused pid
    auto seg = std::make_shared<Segment>();
    try {
        seg->memory = bip::managed_shared_memory(bip::create_only, arena->segment_name(0).c_str(), bytes, nullptr,
                                                   owner_only());
        arena->control_ = seg->memory.construct<Control>(control_name)();
    } catch (const bip::interprocess_exception& e) {
        throw RunnerError("cannot create shared memory segment '" + arena->segment_name(0) + "': " + e.what());
    }
    arena->segments_.push_back(std::move(seg));
    return arena;
}

std::unique_ptr<ShmArena> ShmArena::attach(pid_t owner) {
    std::unique_ptr<ShmArena> arena(new ShmArena(owner, false));
    arena->control_ = arena->segment(0).memory.find<Control>(control_name).first;
    if (!arena->control_) throw RunnerError("shared memory segment '" + arena->segment_name(0) + "' has no control block");
    return arena;
}

ShmArena::~ShmArena() {
    if (!owner_) return;
    std::uint32_t count = 1;
    try {
        count = segment_count();
    } catch (...) {
    }
    segments_.clear();
    for (std::uint32_t i = 0; i < count; ++i) bip::shared_memory_object::remove(segment_name(i).c_str());
}

ShmArena::Segment& ShmArena::segment(std::uint32_t index) {
    if (index >= segments_.size()) segments_.resize(index + 1);
    if (!segments_[index]) {
        auto seg = std::make_shared<Segment>();
        try {
            seg->memory = bip::managed_shared_memory(bip::open_only, segment_name(index).c_str());
        } catch (const bip::interprocess_exception& e) {
            throw RunnerError("cannot open shared memory segment '" + segment_name(index) + "': " + e.what());
        }
        segments_[index] = std::move(seg);
    }
    return *segments_[index];
}

std::uint32_t ShmArena::segment_count() { return control_ ? control_->segments.load() : 1; }

std::uint32_t ShmArena::create_segment(std::size_t bytes) {
    check_room(bytes);
    std::uint32_t index = control_->segments.fetch_add(1);
    auto seg = std::make_shared<Segment>();
    try {
        seg->memory = bip::managed_shared_memory(bip::create_only, segment_name(index).c_str(), bytes, nullptr, owner_only());
    } catch (const bip::interprocess_exception& e) {
        throw RunnerError("cannot create shared memory segment '" + segment_name(index) + "' of " + mib(bytes) + ": " +
                          e.what());
    }
    // A segment made for one large value is about to be written whole: fault its pages
    // in one call rather than one page at a time (a large part of the cost of passing a
    // big value). Best effort: older kernels lack MADV_POPULATE_WRITE.
#ifdef MADV_POPULATE_WRITE
    if (bytes > min_segment_bytes)
        ::madvise(seg->memory.get_address(), seg->memory.get_size(), MADV_POPULATE_WRITE);
#endif
    if (index >= segments_.size()) segments_.resize(index + 1);
    segments_[index] = std::move(seg);
    own_.push_back(index);
    spdlog::debug("Created shared memory segment {} ({})", segment_name(index), mib(bytes));
    return index;
}

ShmBlock ShmArena::allocate(std::size_t size) {
    std::lock_guard lock(mutex_);
    const std::size_t request = std::max<std::size_t>(size, 1);
    // Newest segments first: older ones are the likeliest to be full.
    for (auto it = own_.rbegin(); it != own_.rend(); ++it) {
        const std::uint32_t i = *it;
        auto& mem = segment(i).memory;
        if (void* p = mem.allocate(request, std::nothrow))
            return ShmBlock{i, static_cast<std::uint64_t>(static_cast<char*>(p) - static_cast<char*>(mem.get_address())),
                            size};
    }
    // Room for the value plus the allocator's bookkeeping.
    std::size_t bytes = std::max(min_segment_bytes, request + request / 16 + (1u << 20));
    std::uint32_t index = create_segment(bytes);
    auto& mem = segment(index).memory;
    void* p = mem.allocate(request, std::nothrow);
    if (!p) throw RunnerError("shared memory segment '" + segment_name(index) + "' cannot hold " + mib(size));
    return ShmBlock{index, static_cast<std::uint64_t>(static_cast<char*>(p) - static_cast<char*>(mem.get_address())),
                    size};
}

void ShmArena::deallocate(const ShmBlock& block) {
    std::lock_guard lock(mutex_);
    auto& mem = segment(block.segment).memory;
    mem.deallocate(static_cast<char*>(mem.get_address()) + block.offset);
}

std::span<std::byte> ShmArena::bytes(const ShmBlock& block) {
    std::lock_guard lock(mutex_);
    auto& mem = segment(block.segment).memory;
    if (block.offset + block.size > mem.get_size())
        throw RunnerError("shared memory block outside segment '" + segment_name(block.segment) + "'");
    return {static_cast<std::byte*>(mem.get_address()) + block.offset, static_cast<std::size_t>(block.size)};
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
        if (seg) used += seg->memory.get_size() - seg->memory.get_free_memory();
    return used;
}

std::size_t ShmArena::remove_stale() {
    std::size_t removed = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(name_prefix, 0) != 0) continue;
        auto dash = name.find('-', 5);
        if (dash == std::string::npos) continue;
        pid_t pid = 0;
        try {
            pid = static_cast<pid_t>(std::stol(name.substr(5, dash - 5)));
        } catch (...) {
            continue;
        }
        if (pid <= 0 || pid == ::getpid()) continue;
        if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // its run is still alive
        if (bip::shared_memory_object::remove(name.c_str())) {
            ++removed;
            spdlog::info("Removed shared memory '{}' left by an earlier run (process {} is gone)", name, pid);
        }
    }
    return removed;
}

}  // namespace kiln::runners
