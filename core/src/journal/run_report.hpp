// Per-node timings of a run, and the JSON run report written by `kiln run --report`.
#pragma once

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/pipeline.hpp"
#include "run/node_observer.hpp"

namespace kiln::core {

// Records when each node started and ended, and on which worker. Each node index is
// written by one thread only, so no lock is needed.
class RunTimeline final : public NodeObserver {
public:
    explicit RunTimeline(std::size_t nodes);
    unsigned listens_to() const noexcept override { return node_progress; }
    void node_started(std::size_t node, unsigned worker) override;
    void node_finished(std::size_t node, unsigned worker, const NodeFailure* failure) override;

    struct Event {
        double start_s = -1, end_s = -1;
        unsigned worker = 0;
        bool failed = false;
        std::uint64_t sequence = 0;  // start order
    };
    const std::vector<Event>& events() const { return events_; }
    double elapsed_s() const;

private:
    std::chrono::steady_clock::time_point start_;
    std::vector<Event> events_;
    std::atomic<std::uint64_t> next_sequence_{0};
};

struct RunReport {
    std::string status;  // "success" or "failed"
    std::string run_id, project, pipeline, runner, started_at;
    double duration_s = 0;
    const Pipeline* ran = nullptr;  // the nodes the runner was given
    const RunTimeline* timeline = nullptr;
    std::vector<std::pair<std::string, std::string>> skipped;  // node, reason
    nlohmann::json outputs = nlohmann::json::object();
    std::string failed_node, error, resume_command;
    nlohmann::json versions;  // per versioned dataset, its load and save version; null: none

    nlohmann::json to_json() const;
};

}  // namespace kiln::core
