// Messages between the ParallelRunner's host and its worker processes, over a
// SOCK_SEQPACKET socket pair: each send is one whole message, so there is no framing to
// get wrong, and a dead peer shows up as end-of-file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shm_arena.hpp"

namespace kiln::runners {

// A shared-memory value for one slot of the run plan.
struct SlotBlock {
    std::uint32_t slot;
    ShmBlock block;
};

struct RunRequest {  // host -> worker
    std::uint32_t node;
    std::vector<SlotBlock> inputs;  // in-memory inputs, as shared memory
};

// What a worker is asked: run a node, free blocks it allocated, or stop.
struct WorkerMessage {
    enum class Kind { run, free, quit } kind;
    RunRequest run;
    std::vector<ShmBlock> blocks;  // for free
};

struct RunReply {  // worker -> host
    std::uint32_t node;
    bool ok;
    std::vector<SlotBlock> outputs;  // in-memory outputs, written to shared memory
    std::string error;
    std::uint64_t max_rss_bytes = 0;  // the worker's peak resident memory so far
};

class WorkerChannel {
public:
    // Makes a connected pair: [0] for the host, [1] for the worker.
    static void make_pair(int fds[2]);

    explicit WorkerChannel(int fd) : fd_(fd) {}
    int fd() const { return fd_; }

    // Each returns false when the peer is gone.
    bool send_request(const RunRequest& request);
    bool send_quit();
    bool send_free(const std::vector<ShmBlock>& blocks);
    bool send_reply(const RunReply& reply);
    // nullopt: the peer closed the socket.
    std::optional<WorkerMessage> receive_message();
    std::optional<RunReply> receive_reply();

private:
    bool send(const std::vector<std::byte>& message);
    bool receive(std::vector<std::byte>& message);
    int fd_;
};

}  // namespace kiln::runners
