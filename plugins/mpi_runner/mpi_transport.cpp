#include "mpi_transport.hpp"

#include <climits>
#include <cstring>

#include <kiln/error.hpp>

namespace kiln::mpi {

void check(int rc, const char* call) {
    if (rc == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    throw RunnerError(std::string("MpiRunner: ") + call + " failed: " + std::string(text, static_cast<std::size_t>(len)));
}

std::string Reader::str() {
    std::uint32_t n = u32();
    if (bytes_.remaining() < n) malformed();
    auto text = bytes_.take(n);
    return std::string(reinterpret_cast<const char*>(text.data()), text.size());
}

void Reader::malformed() { throw RunnerError("MpiRunner: a malformed message from another rank"); }

Transport::Transport() {
    check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
}

void Transport::send(int to, Tag tag, std::vector<std::byte> bytes) {
    // MPI counts are int. Values travel in chunks (send_value); a control message this
    // large (a node with tens of millions of inputs) is refused rather than cut.
    if (bytes.size() > static_cast<std::size_t>(INT_MAX))
        throw RunnerError("MpiRunner: a message of " + std::to_string(bytes.size()) + " bytes (tag " +
                          std::to_string(tag) + ") to rank " + std::to_string(to) +
                          " is larger than one MPI message can be (2 GiB); split the node's inputs over several nodes");
    Pending& p = outbox_.emplace_back();
    p.bytes = std::move(bytes);
    MPI_Request r;
    check(MPI_Isend(p.bytes.data(), static_cast<int>(p.bytes.size()), MPI_BYTE, to, tag, MPI_COMM_WORLD, &r),
          "MPI_Isend");
    p.requests.push_back(r);
}

void Transport::send_value(int to, const std::string& name, std::shared_ptr<const std::vector<std::byte>> bytes) {
    send(to, data, Writer().str(name).u64(bytes->size()).take());
    Pending& p = outbox_.emplace_back();
    p.shared = std::move(bytes);
    const std::byte* at = p.shared->data();
    std::size_t left = p.shared->size();
    do {  // an empty value is still one (empty) chunk, so the receiver's count is simple
        std::size_t n = std::min(left, max_chunk);
        MPI_Request r;
        check(MPI_Isend(at, static_cast<int>(n), MPI_BYTE, to, payload, MPI_COMM_WORLD, &r), "MPI_Isend");
        p.requests.push_back(r);
        at += n;
        left -= n;
    } while (left > 0);
}

bool Transport::pump() {
    bool progressed = false;
    for (auto it = outbox_.begin(); it != outbox_.end();) {
        int complete = 0;
        check(MPI_Testall(static_cast<int>(it->requests.size()), it->requests.data(), &complete, MPI_STATUSES_IGNORE),
              "MPI_Testall");
        if (complete) {
            it = outbox_.erase(it);
            progressed = true;
        } else {
            ++it;
        }
    }
    return progressed;
}

std::optional<Message> Transport::poll() {
    // Any tag, so messages from one rank are handled in the order it sent them. A PAYLOAD
    // is never seen here: it is read right after its DATA header, which precedes it.
    int flag = 0;
    MPI_Status status;
    check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &status), "MPI_Iprobe");
    if (!flag) return std::nullopt;
    int count = 0;
    check(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
    if (count < 0)  // MPI_UNDEFINED: more than an int counts; no rank sends that
        throw RunnerError("MpiRunner: a message from rank " + std::to_string(status.MPI_SOURCE) +
                          " is larger than one MPI message can be (2 GiB)");
    Message m{status.MPI_SOURCE, status.MPI_TAG, std::vector<std::byte>(static_cast<std::size_t>(count))};
    check(MPI_Recv(m.bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
                   MPI_STATUS_IGNORE),
          "MPI_Recv");
    return m;
}

std::shared_ptr<std::vector<std::byte>> Transport::receive_payload(int source, std::uint64_t size) {
    auto bytes = std::make_shared<std::vector<std::byte>>(size);
    std::byte* at = bytes->data();
    std::size_t left = size;
    do {
        std::size_t n = std::min<std::size_t>(left, max_chunk);
        check(MPI_Recv(at, static_cast<int>(n), MPI_BYTE, source, payload, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
              "MPI_Recv");
        at += n;
        left -= n;
    } while (left > 0);
    return bytes;
}

}  // namespace kiln::mpi
