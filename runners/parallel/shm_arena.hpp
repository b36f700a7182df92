// Shared memory for values crossing worker processes: POSIX shared-memory objects in
// /dev/shm, each holding a Boost.Interprocess heap, named kiln-<host pid>-<random>-<n>.
//
// Each worker allocates only in segments it created itself, and only it frees blocks in
// them (the host asks it to). So no allocator lock is ever shared between processes: a
// worker killed in the middle of an allocation cannot leave a lock that blocks anyone
// else. Blocks are addressed by (segment, offset), which means the same thing in every
// process. When a value does not fit, the worker creates a new segment sized for it:
// segments never move or grow in place, so no reader ever sees memory change under it.
// Segment 0 holds only the run's segment counter (a lock-free atomic).
//
// Every segment's memory is reserved (posix_fallocate) before anything is written to it:
// tmpfs allocates pages on first touch, so without that a full /dev/shm kills the writer
// with SIGBUS instead of failing with a message.
//
// While a run lives, its host holds an OFD lock on segment 0 (forked workers share it);
// the kernel drops the lock when they are all gone. A later run removes the segments of
// runs whose lock it can take: not by process id, which means nothing to a kiln in
// another PID namespace sharing /dev/shm (a container).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "kiln/error.hpp"

namespace kiln::runners {

struct ShmBlock {
    std::uint32_t segment = 0;
    std::uint64_t offset = 0;  // of the block from the segment's base
    std::uint64_t size = 0;    // bytes of the value
};

// /dev/shm cannot hold a segment. The caller knows which value it was for and says so.
class ShmExhausted : public RunnerError {
public:
    ShmExhausted(std::size_t segment_bytes, std::size_t free_bytes, std::size_t total_bytes);
    std::size_t segment_bytes, free_bytes, total_bytes;
};

// How to get more room, for every message about a full /dev/shm.
std::string shm_room_hint();
// "12.0 MiB".
std::string mib(std::size_t bytes);

class ShmArena {
public:
    // Creates the first segment and takes the run's lock: the host calls this once per run.
    static std::unique_ptr<ShmArena> create(std::size_t first_segment_bytes);
    // Joins the arena named `run_name` (a spawned worker): see run_name().
    static std::unique_ptr<ShmArena> attach(const std::string& run_name);
    // Removes /dev/shm segments of runs that no process holds the lock of. Returns how many.
    static std::size_t remove_stale();

    ~ShmArena();  // unmaps; the host also removes every segment of the run
    ShmArena(const ShmArena&) = delete;
    ShmArena& operator=(const ShmArena&) = delete;

    // Room for `size` bytes in this process's own segments. Throws ShmExhausted when
    // /dev/shm is too small.
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
    // kiln-<host pid>-<random>: what a spawned worker needs to attach.
    const std::string& run_name() const { return run_name_; }
    std::string segment_name(std::uint32_t index) const;
    std::uint32_t segment_count();  // segments created so far by any process of the run
    std::size_t bytes_in_use();      // allocated, not yet freed (host's view, all segments)

private:
    struct Segment;
    ShmArena(std::string run_name, bool owner);
    Segment& segment(std::uint32_t index);
    std::uint32_t create_segment(std::size_t bytes);
    // Reserves, maps and sets up a heap in a new object. Throws ShmExhausted when it does not fit.
    static std::shared_ptr<Segment> build_segment(int fd, const std::string& name, std::size_t bytes);

    struct Control;
    std::string run_name_;
    bool owner_;
    int lock_fd_ = -1;            // the host's: segment 0, OFD-locked while the run lives
    Control* control_ = nullptr;  // in segment 0
    std::size_t last_small_segment_bytes_ = 0;  // see allocate()
    std::vector<std::uint32_t> own_;  // segments this process created, newest last
    std::mutex mutex_;
    std::vector<std::shared_ptr<Segment>> segments_;  // index = segment number; null until mapped here
};

}  // namespace kiln::runners
