// What every rank of an MpiRunner run does, the scheduler's rank 0 included: hold the
// in-memory values of the nodes it ran, send them to the ranks that need them, receive
// the ones its next node needs, and run that node on its own thread (MPI calls stay on
// the main thread, which keeps answering other ranks while a node runs).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <kiln/distributed.hpp>
#include <kiln/runner.hpp>

#include "mpi_transport.hpp"

namespace kiln::mpi {

struct NodeResult {
    std::size_t node = 0;
    bool ok = false;
    std::string error;
    std::uint64_t max_rss_bytes = 0;
    std::uint64_t bytes_received = 0;  // inputs that came from other ranks
    double seconds_waiting = 0;        // from the node's arrival to its last input's
};

// Runs one node at a time on its own thread.
class Executor {
public:
    Executor();
    ~Executor();
    bool busy() const { return busy_; }
    void start(std::function<NodeResult()> job);
    // The result of the finished job, once.
    std::optional<NodeResult> take_result();

private:
    void loop();
    std::mutex mutex_;
    std::condition_variable wake_;
    std::function<NodeResult()> job_;
    std::optional<NodeResult> result_;
    bool busy_ = false, stopping_ = false;
    std::atomic<bool> finished_{false};
    std::thread thread_;
};

class RankService {
public:
    // `run_here` runs a node in this process (RunContext::run_node on the primary rank,
    // run_delegated elsewhere); returns false with the error.
    using RunHere = std::function<bool(std::size_t node, std::string* error)>;
    RankService(RunContext& context, Transport& transport, RunHere run_here);

    // Handles FETCH, DATA and FREE; false for other messages.
    bool handle(const Message& m);
    // A node to run here once the values it waits for have arrived.
    void expect_node(std::size_t node, std::set<std::string> awaited);
    // Starts the waiting node when it can; returns the result of a finished one.
    std::optional<NodeResult> step();
    bool idle() const { return !waiting_ && !executor_.busy(); }

    // Sends a value this rank holds to another rank.
    void send_value(const std::string& dataset, int to);
    // The bytes of the memory outputs a node left here, for the scheduler's placement.
    std::vector<std::pair<std::string, std::uint64_t>> output_sizes(std::size_t node) const;

private:
    struct Waiting {
        std::size_t node;
        std::set<std::string> awaited;
        std::chrono::steady_clock::time_point since;
        std::uint64_t bytes_received = 0;
    };
    void receive_value(const Message& header);

    RunContext& ctx_;
    DistributedRunContext remote_;  // ctx_.distributed()
    Transport& transport_;
    RunHere run_here_;
    Executor executor_;
    std::optional<Waiting> waiting_;
    std::map<std::string, std::uint64_t> arrived_early_;  // values that came before their node's RUN: bytes
};

}  // namespace kiln::mpi
