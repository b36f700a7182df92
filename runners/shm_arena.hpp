// Shared memory for values crossing worker processes: Boost.Interprocess managed
// segments, named after the run's host process so a later run can remove what a killed
// one left in /dev/shm.
//
// Any process of the run (host or worker) may allocate; blocks are addressed by
// (segment, offset), which means the same thing in every process. When a value does not
// fit in the existing segments, a new one is created, sized for it: segments never move
// or grow in place, so no process ever sees memory change under it.
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

    // Room for `size` bytes. Throws kiln::RunnerError with what to do when /dev/shm is
    // too small.
    ShmBlock allocate(std::size_t size);
    void deallocate(const ShmBlock& block);
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

    pid_t owner_pid_;
    bool owner_;
    std::mutex mutex_;
    std::vector<std::shared_ptr<Segment>> segments_;  // index = segment number; null until mapped here
};

}  // namespace kiln::runners
