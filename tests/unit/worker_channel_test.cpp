// The ParallelRunner's host/worker channel over a real socket pair: messages far longer
// than one packet arrive whole, a peer that goes away mid-message is seen as gone (no
// hang, no SIGPIPE), and a packet that is not a whole message is an error. Every read has
// a socket timeout, so a lost message fails the test instead of hanging it.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>

#include "kiln/error.hpp"
#include "parallel/worker_channel.hpp"

using kiln::runners::RunReply;
using kiln::runners::RunRequest;
using kiln::runners::ShmBlock;
using kiln::runners::SlotBlock;
using kiln::runners::WorkerChannel;
using kiln::runners::WorkerMessage;

namespace worker_channel_test_cases {

namespace {

struct Pair {
    Pair() {
        int fds[2];
        WorkerChannel::make_pair(fds);
        host = fds[0];
        worker = fds[1];
        timeval limit{10, 0};
        for (int fd : fds) REQUIRE(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) == 0);
    }
    ~Pair() {
        if (host >= 0) ::close(host);
        if (worker >= 0) ::close(worker);
    }
    int host = -1, worker = -1;
};

RunRequest wide_request(std::uint32_t inputs) {
    RunRequest r{7, {}};
    for (std::uint32_t i = 0; i < inputs; ++i) r.inputs.push_back({i, ShmBlock{i % 5, 64ull * i, i + 1ull}});
    return r;
}

}  // namespace

TEST_CASE("worker_channel.messages_longer_than_a_packet_arrive_whole_both_ways") {
    Pair pair;
    WorkerChannel host(pair.host), worker(pair.worker);
    const RunRequest request = wide_request(200'000);  // about 6 MB: ~100 packets
    // The sender blocks until the reader drains the socket, so it runs on its own thread.
    std::thread sender([&] { CHECK(host.send_request(request)); });
    auto message = worker.receive_message();
    sender.join();
    REQUIRE(message);
    REQUIRE(message->kind == WorkerMessage::Kind::run);
    CHECK(message->run.node == 7);
    REQUIRE(message->run.inputs.size() == request.inputs.size());
    CHECK(message->run.inputs.back().slot == 199'999);
    CHECK(message->run.inputs.back().block.offset == 64ull * 199'999);

    RunReply reply{7, true, {}, {}};
    reply.outputs = request.inputs;
    std::thread replier([&] { CHECK(worker.send_reply(reply)); });
    auto back = host.receive_reply();
    replier.join();
    REQUIRE(back);
    CHECK(back->outputs.size() == 200'000);
    CHECK(back->outputs[123'456].block.size == 123'457);

    // A short one after long ones still arrives as itself.
    CHECK(host.send_quit());
    auto quit = worker.receive_message();
    REQUIRE(quit);
    CHECK(quit->kind == WorkerMessage::Kind::quit);
}

TEST_CASE("worker_channel.a_peer_gone_mid_message_is_seen_as_gone") {
    Pair pair;
    WorkerChannel worker(pair.worker);
    // The header of a 1 MB message and one packet of it, then the host dies.
    struct {
        std::uint32_t kind = 5;
        std::uint64_t bytes = 1 << 20;
    } header;
    REQUIRE(::send(pair.host, &header, sizeof header, 0) == static_cast<ssize_t>(sizeof header));
    std::vector<char> packet(WorkerChannel::max_packet_bytes, 'x');
    REQUIRE(::send(pair.host, packet.data(), packet.size(), 0) == static_cast<ssize_t>(packet.size()));
    ::close(pair.host);
    pair.host = -1;
    CHECK_FALSE(worker.receive_message().has_value());
    // And sending to it reports it gone (no SIGPIPE kills this process).
    CHECK_FALSE(worker.send_reply(RunReply{1, true, {}, {}}));
}

TEST_CASE("worker_channel.a_malformed_message_is_an_error_not_a_huge_allocation") {
    Pair pair;
    WorkerChannel worker(pair.worker);
    // A run request claiming four billion inputs in a 12-byte packet.
    const std::uint32_t bogus[3] = {1, 0, 0xffffffffu};
    REQUIRE(::send(pair.host, bogus, sizeof bogus, 0) == static_cast<ssize_t>(sizeof bogus));
    CHECK_THROWS_WITH_AS(worker.receive_message(), "truncated message between kiln processes", kiln::RunnerError);
}

}  // namespace worker_channel_test_cases
