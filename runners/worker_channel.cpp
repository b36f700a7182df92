#include "worker_channel.hpp"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

#include "kiln/error.hpp"

namespace kiln::runners {

namespace {
enum class Kind : std::uint32_t { run = 1, quit = 2, reply = 3, free = 4 };
// Error texts are cut to keep every message well under the socket buffer.
constexpr std::size_t max_error_bytes = 32 * 1024;

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

class Reader {
public:
    explicit Reader(const std::vector<std::byte>& b) : bytes_(b) {}
    template <class T>
    T get() {
        if (pos_ + sizeof(T) > bytes_.size()) throw RunnerError("truncated message between kiln processes");
        T v;
        std::memcpy(&v, bytes_.data() + pos_, sizeof v);
        pos_ += sizeof v;
        return v;
    }
    std::vector<SlotBlock> get_blocks() {
        auto n = get<std::uint32_t>();
        std::vector<SlotBlock> blocks(n);
        for (auto& b : blocks) b = get<SlotBlock>();
        return blocks;
    }
    std::string rest() {
        std::string s(reinterpret_cast<const char*>(bytes_.data()) + pos_, bytes_.size() - pos_);
        pos_ = bytes_.size();
        return s;
    }

private:
    const std::vector<std::byte>& bytes_;
    std::size_t pos_ = 0;
};
}  // namespace

void WorkerChannel::make_pair(int fds[2]) {
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
        throw RunnerError(std::string("cannot create a socket pair for a worker process: ") + std::strerror(errno));
}

bool WorkerChannel::send(const std::vector<std::byte>& message) {
    while (true) {
        ssize_t n = ::send(fd_, message.data(), message.size(), MSG_NOSIGNAL);
        if (n >= 0) return static_cast<std::size_t>(n) == message.size();
        if (errno != EINTR) return false;
    }
}

bool WorkerChannel::receive(std::vector<std::byte>& message) {
    message.resize(64 * 1024 + max_error_bytes);
    while (true) {
        ssize_t n = ::recv(fd_, message.data(), message.size(), 0);
        if (n > 0) {
            message.resize(static_cast<std::size_t>(n));
            return true;
        }
        if (n == 0) return false;
        if (errno != EINTR) return false;
    }
}

bool WorkerChannel::send_request(const RunRequest& request) {
    Writer w;
    w.put(Kind::run);
    w.put(request.node);
    w.put_blocks(request.inputs);
    return send(w.bytes);
}

bool WorkerChannel::send_quit() {
    Writer w;
    w.put(Kind::quit);
    return send(w.bytes);
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
    std::vector<std::byte> message;
    if (!receive(message)) return std::nullopt;
    Reader r(message);
    WorkerMessage m{WorkerMessage::Kind::quit, {}, {}};
    switch (r.get<Kind>()) {
        case Kind::run:
            m.kind = WorkerMessage::Kind::run;
            m.run.node = r.get<std::uint32_t>();
            m.run.inputs = r.get_blocks();
            break;
        case Kind::free: {
            m.kind = WorkerMessage::Kind::free;
            auto n = r.get<std::uint32_t>();
            m.blocks.resize(n);
            for (auto& b : m.blocks) b = r.get<ShmBlock>();
            break;
        }
        default: break;
    }
    return m;
}

std::optional<RunReply> WorkerChannel::receive_reply() {
    std::vector<std::byte> message;
    if (!receive(message)) return std::nullopt;
    Reader r(message);
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
