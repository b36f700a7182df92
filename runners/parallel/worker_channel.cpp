#include "worker_channel.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

#include "kiln/codec.hpp"
#include "kiln/error.hpp"

namespace kiln::runners {

namespace {
enum class Kind : std::uint32_t { run = 1, quit = 2, reply = 3, free = 4, long_message = 5 };
// Error texts are cut: a node's message is for people, and a huge one only costs.
constexpr std::size_t max_error_bytes = 32 * 1024;

struct LongHeader {
    Kind kind = Kind::long_message;
    std::uint64_t bytes = 0;  // of the message that follows
};

class Writer {
public:
    template <class T>
    void put(const T& v) {
        auto* p = reinterpret_cast<const std::byte*>(&v);
        bytes.insert(bytes.end(), p, p + sizeof v);
    }
    void put_blocks(const std::vector<SlotBlock>& blocks) {
        put(static_cast<std::uint32_t>(blocks.size()));
        for (const auto& b : blocks) put(b);
    }
    std::vector<std::byte> bytes;
};

// Reads through the SDK's bounds-checked kiln::Decoder (the MpiRunner's messages do too),
// checking first so that a short message is a RunnerError, not a codec's out_of_range.
class Reader {
public:
    explicit Reader(std::span<const std::byte> b) : bytes_(b) {}
    template <class T>
    T get() {
        if (bytes_.remaining() < sizeof(T)) truncated();
        return bytes_.get<T>();
    }
    // A count of `item_bytes` items: never more than the message holds, so a corrupt
    // count is an error rather than a huge allocation.
    std::uint32_t get_count(std::size_t item_bytes) {
        auto n = get<std::uint32_t>();
        if (n > bytes_.remaining() / item_bytes) truncated();
        return n;
    }
    std::vector<SlotBlock> get_blocks() {
        std::vector<SlotBlock> blocks(get_count(sizeof(SlotBlock)));
        for (auto& b : blocks) b = get<SlotBlock>();
        return blocks;
    }
    std::string rest() {
        auto all = bytes_.take(bytes_.remaining());
        return std::string(reinterpret_cast<const char*>(all.data()), all.size());
    }

private:
    [[noreturn]] static void truncated() { throw RunnerError("truncated message between kiln processes"); }
    Decoder bytes_;
};

[[noreturn]] void fail(const char* what, int error) {
    std::string text = std::string("cannot ") + what + " a message between kiln processes: " + std::strerror(error);
    if (error == EMSGSIZE)
        text += " (a packet of " + std::to_string(WorkerChannel::max_packet_bytes) +
                " bytes does not fit the socket buffer: raise net.core.wmem_default)";
    throw RunnerError(text);
}

bool peer_gone(int error) { return error == EPIPE || error == ECONNRESET; }
}  // namespace

void WorkerChannel::make_pair(int fds[2]) {
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
        throw RunnerError(std::string("cannot create a socket pair for a worker process: ") + std::strerror(errno));
}

bool WorkerChannel::send_packet(const std::byte* data, std::size_t size) {
    while (true) {
        ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
        if (n >= 0) {
            if (static_cast<std::size_t>(n) != size) fail("send", EMSGSIZE);  // a packet is all or nothing
            return true;
        }
        if (errno == EINTR) continue;
        if (peer_gone(errno)) return false;
        fail("send", errno);
    }
}

bool WorkerChannel::send(const std::vector<std::byte>& message) {
    if (message.size() <= max_packet_bytes) return send_packet(message.data(), message.size());
    const LongHeader header{Kind::long_message, message.size()};
    if (!send_packet(reinterpret_cast<const std::byte*>(&header), sizeof header)) return false;
    for (std::size_t at = 0; at < message.size(); at += max_packet_bytes)
        if (!send_packet(message.data() + at, std::min(max_packet_bytes, message.size() - at))) return false;
    return true;
}

std::optional<std::size_t> WorkerChannel::receive_packet(std::byte* into, std::size_t capacity) {
    while (true) {
        iovec io{into, capacity};
        msghdr msg{};
        msg.msg_iov = &io;
        msg.msg_iovlen = 1;
        ssize_t n = ::recvmsg(fd_, &msg, 0);
        if (n > 0) {
            if (msg.msg_flags & MSG_TRUNC) throw RunnerError("truncated message between kiln processes");
            return static_cast<std::size_t>(n);
        }
        if (n == 0) return std::nullopt;
        if (errno == EINTR) continue;
        if (peer_gone(errno)) return std::nullopt;
        fail("receive", errno);
    }
}

std::optional<std::span<const std::byte>> WorkerChannel::receive() {
    if (buffer_.size() < max_packet_bytes) buffer_.resize(max_packet_bytes);
    auto n = receive_packet(buffer_.data(), max_packet_bytes);
    if (!n) return std::nullopt;
    LongHeader header;
    if (*n != sizeof header || std::memcmp(buffer_.data(), &header.kind, sizeof header.kind) != 0)
        return std::span<const std::byte>(buffer_.data(), *n);
    std::memcpy(&header, buffer_.data(), sizeof header);
    const std::size_t total = header.bytes;
    // Room for a whole packet past the end, so that a longer message is seen as an error.
    if (buffer_.size() < total + max_packet_bytes) buffer_.resize(total + max_packet_bytes);
    for (std::size_t at = 0; at < total;) {
        auto got = receive_packet(buffer_.data() + at, max_packet_bytes);
        if (!got) return std::nullopt;
        at += *got;
        if (at > total) throw RunnerError("truncated message between kiln processes");
    }
    return std::span<const std::byte>(buffer_.data(), total);
}

bool WorkerChannel::send_request(const RunRequest& request) {
    Writer w;
    w.put(Kind::run);
    w.put(request.node);
    w.put_blocks(request.inputs);
    return send(w.bytes);
}

bool WorkerChannel::send_quit() {
    const Kind quit = Kind::quit;
    return send_packet(reinterpret_cast<const std::byte*>(&quit), sizeof quit);
}

bool WorkerChannel::send_free(const std::vector<ShmBlock>& blocks) {
    Writer w;
    w.put(Kind::free);
    w.put(static_cast<std::uint32_t>(blocks.size()));
    for (const auto& b : blocks) w.put(b);
    return send(w.bytes);
}

bool WorkerChannel::send_reply(const RunReply& reply) {
    Writer w;
    w.put(Kind::reply);
    w.put(reply.node);
    w.put(static_cast<std::uint32_t>(reply.ok));
    w.put(reply.max_rss_bytes);
    w.put_blocks(reply.outputs);
    std::string error = reply.error.substr(0, max_error_bytes);
    w.bytes.insert(w.bytes.end(), reinterpret_cast<const std::byte*>(error.data()),
                   reinterpret_cast<const std::byte*>(error.data()) + error.size());
    return send(w.bytes);
}

std::optional<WorkerMessage> WorkerChannel::receive_message() {
    auto message = receive();
    if (!message) return std::nullopt;
    Reader r(*message);
    WorkerMessage m{WorkerMessage::Kind::quit, {}, {}};
    switch (r.get<Kind>()) {
        case Kind::run:
            m.kind = WorkerMessage::Kind::run;
            m.run.node = r.get<std::uint32_t>();
            m.run.inputs = r.get_blocks();
            break;
        case Kind::free: {
            m.kind = WorkerMessage::Kind::free;
            m.blocks.resize(r.get_count(sizeof(ShmBlock)));
            for (auto& b : m.blocks) b = r.get<ShmBlock>();
            break;
        }
        case Kind::quit: break;
        default: throw RunnerError("unexpected message from the kiln host process");
    }
    return m;
}

std::optional<RunReply> WorkerChannel::receive_reply() {
    auto message = receive();
    if (!message) return std::nullopt;
    Reader r(*message);
    if (r.get<Kind>() != Kind::reply) throw RunnerError("unexpected message from a worker process");
    RunReply reply;
    reply.node = r.get<std::uint32_t>();
    reply.ok = r.get<std::uint32_t>() != 0;
    reply.max_rss_bytes = r.get<std::uint64_t>();
    reply.outputs = r.get_blocks();
    reply.error = r.rest();
    return reply;
}

}  // namespace kiln::runners
