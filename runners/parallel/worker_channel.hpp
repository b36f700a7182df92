// Messages between the ParallelRunner's host and its worker processes, over a
// SOCK_SEQPACKET socket pair: a dead peer shows up as end-of-file. A message that fits one
// packet (nearly all of them) is sent as it is; a longer one (a node with thousands of
// in-memory inputs or outputs) is announced by a header packet with its length and
// follows in packets of at most max_packet_bytes, which every socket buffer can take.
//
// Neither side ever sends a long message to a peer that is not reading: the host sends
// requests and frees only to idle workers, and a worker replies only to the host's
// request. So a sender blocked on a full socket always has a reader, and nothing hangs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
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
    // The largest packet sent: well under the smallest default socket send buffer.
    static constexpr std::size_t max_packet_bytes = 64 * 1024;

    // Makes a connected pair: [0] for the host, [1] for the worker.
    static void make_pair(int fds[2]);

    explicit WorkerChannel(int fd) : fd_(fd) {}
    int fd() const { return fd_; }

    // Each returns false when the peer is gone; any other failure throws kiln::RunnerError.
    bool send_request(const RunRequest& request);
    bool send_quit();
    bool send_free(const std::vector<ShmBlock>& blocks);
    bool send_reply(const RunReply& reply);
    // nullopt: the peer closed the socket. A malformed message throws kiln::RunnerError.
    std::optional<WorkerMessage> receive_message();
    std::optional<RunReply> receive_reply();

private:
    bool send(const std::vector<std::byte>& message);
    bool send_packet(const std::byte* data, std::size_t size);
    // The next whole message, in buffer_; empty when the peer is gone.
    std::optional<std::span<const std::byte>> receive();
    std::optional<std::size_t> receive_packet(std::byte* into, std::size_t capacity);
    int fd_;
    std::vector<std::byte> buffer_;  // reused: no allocation per message
};

}  // namespace kiln::runners
