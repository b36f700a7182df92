// The MpiRunner's messages between ranks, over MPI point-to-point calls on
// MPI_COMM_WORLD. Control messages are small byte strings; a value travels as a DATA
// header followed by its encoded bytes in PAYLOAD chunks. Every send is non-blocking (two
// ranks sending large values to each other at once must not wait on each other); the
// buffers live in an outbox until MPI says they are sent.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <list>
#include <memory>
#include <mpi.h>
#include <optional>
#include <string>
#include <vector>

#include <kiln/codec.hpp>
#include <kiln/error.hpp>

namespace kiln::mpi {

enum Tag : int {
    run = 1,      // scheduler -> rank: run a node; which inputs come from where
    fetch = 2,    // scheduler -> holder: send a value to a rank
    data = 3,     // holder -> rank: a value's name and size; PAYLOAD chunks follow
    payload = 4,  // the encoded bytes
    done = 5,     // rank -> scheduler: a node finished
    free_value = 6,  // scheduler -> holder: drop a value
    quit = 7,     // scheduler -> rank: the run is over
};

// Builds a message: fixed-width numbers and length-prefixed strings, in host byte order
// (all ranks run the same kiln build).
class Writer {
public:
    Writer& u32(std::uint32_t v) { return raw(&v, sizeof v); }
    Writer& i32(std::int32_t v) { return raw(&v, sizeof v); }
    Writer& u64(std::uint64_t v) { return raw(&v, sizeof v); }
    Writer& f64(double v) { return raw(&v, sizeof v); }
    Writer& str(const std::string& s) {
        u32(static_cast<std::uint32_t>(s.size()));
        return raw(s.data(), s.size());
    }
    std::vector<std::byte> take() { return std::move(bytes_); }

private:
    Writer& raw(const void* p, std::size_t n) {
        auto b = static_cast<const std::byte*>(p);
        bytes_.insert(bytes_.end(), b, b + n);
        return *this;
    }
    std::vector<std::byte> bytes_;
};

// Reads a message; throws kiln::RunnerError on a short or malformed one. The bounds are
// the SDK's kiln::Decoder's (the ParallelRunner's messages are read with it too), checked
// first so that a short message is a RunnerError, not a codec's out_of_range.
class Reader {
public:
    explicit Reader(const std::vector<std::byte>& bytes) : bytes_(bytes) {}
    std::uint32_t u32() { return get<std::uint32_t>(); }
    std::int32_t i32() { return get<std::int32_t>(); }
    std::uint64_t u64() { return get<std::uint64_t>(); }
    double f64() { return get<double>(); }
    std::string str();

private:
    template <class T>
    T get() {
        if (bytes_.remaining() < sizeof(T)) malformed();
        return bytes_.get<T>();
    }
    [[noreturn]] static void malformed();
    Decoder bytes_;
};

struct Message {
    int source = -1;
    int tag = 0;
    std::vector<std::byte> bytes;
};

class Transport {
public:
    Transport();
    int rank() const { return rank_; }
    int size() const { return size_; }

    // Queues a message (or a value's bytes, shared so one encoding can go to one rank at
    // a time without a copy); the bytes are kept until sent.
    void send(int to, Tag tag, std::vector<std::byte> bytes);
    void send_value(int to, const std::string& name, std::shared_ptr<const std::vector<std::byte>> bytes);
    // Drives pending sends; true when something completed.
    bool pump();
    bool sends_pending() const { return !outbox_.empty(); }

    // The next message of any kind except PAYLOAD, if one has arrived.
    std::optional<Message> poll();
    // The bytes of a value whose DATA header came from `source` (its PAYLOAD chunks follow).
    std::shared_ptr<std::vector<std::byte>> receive_payload(int source, std::uint64_t size);

private:
    struct Pending {
        std::vector<std::byte> bytes;
        std::shared_ptr<const std::vector<std::byte>> shared;
        std::vector<MPI_Request> requests;
    };
    int rank_ = 0, size_ = 1;
    std::list<Pending> outbox_;
};

// Largest chunk of one MPI message (MPI counts are int).
inline constexpr std::size_t max_chunk = std::size_t{1} << 29;

// Throws kiln::RunnerError naming the call when an MPI call fails.
void check(int rc, const char* call);

}  // namespace kiln::mpi
