// Shared memory for values crossing worker processes: Boost.Interprocess managed
// segments, named after the run's host process so a later run can remove what a killed
// one left in /dev/shm.
//
// Each worker allocates only in segments it created itself, and only it frees blocks in
// them (the host asks it to). So no allocator lock is ever shared between processes: a
// worker killed in the middle of an allocation cannot leave a lock that blocks anyone
// else. Blocks are addressed by (segment, offset), which means the same thing in every
// process. When a value does not fit, the worker creates a new segment sized for it:
// segments never move or grow in place, so no reader ever sees memory change under it.
// Segment 0 holds only the run's segment counter (a lock-free atomic).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <sys/types.h>
#include <vector>

namespace kiln::runners {

struct ShmBlock {
    std::uint32_t segment = 0;
    std::uint64_t offset = 0;  // of the block from the segment's base
    std::uint64_t size = 0;    // bytes of the value
};

class ShmArena {
public:
    // Creates the first segment: the host calls this once per run.
    static std::unique_ptr<ShmArena> create(std::size_t first_segment_bytes);
    // Joins the arena of host process `owner` (a spawned worker).
    static std::unique_ptr<ShmArena> attach(pid_t owner);
    // Removes /dev/shm segments whose host process no longer exists. Returns how many.
    static std::size_t remove_stale();

    ~ShmArena();  // unmaps; the host also removes every segment of the run
    ShmArena(const ShmArena&) = delete;
    ShmArena& operator=(const ShmArena&) = delete;

    // Room for `size` bytes in this process's own segments. Throws kiln::RunnerError with
    // what to do when /dev/shm is too small.
    ShmBlock allocate(std::size_t size);
    // Frees a block that this process allocated.
    void deallocate(const ShmBlock& block);
    // Forgets segments created by another process (a forked worker inherits none of its own).
    void forget_own_segments() { own_.clear(); }
    std::span<std::byte> bytes(const ShmBlock& block);
    // Keeps the block's segment mapped while a value refers to its bytes.
    std::shared_ptr<const void> keep_alive(const ShmBlock& block);

    // Forget the segments mapped in this process without removing them (a forked worker
    // must not remove the host's segments when it exits).
    void disown() { owner_ = false; }
    pid_t owner_pid() const { return owner_pid_; }
    std::string segment_name(std::uint32_t index) const;
    std::uint32_t segment_count();  // segments created so far by any process of the run
    std::size_t bytes_in_use();      // allocated, not yet freed (host's view, all segments)

private:
    struct Segment;
    ShmArena(pid_t owner_pid, bool owner);
    Segment& segment(std::uint32_t index);
    std::uint32_t create_segment(std::size_t bytes);

    struct Control;
    pid_t owner_pid_;
    bool owner_;
    Control* control_ = nullptr;  // in segment 0, found once: lookups by name take a shared lock
    std::vector<std::uint32_t> own_;  // segments this process created, newest last
    std::mutex mutex_;
    std::vector<std::shared_ptr<Segment>> segments_;  // index = segment number; null until mapped here
};

}  // namespace kiln::runners
