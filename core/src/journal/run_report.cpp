#include "journal/run_report.hpp"

#include <algorithm>

#include "kiln/version.hpp"

namespace kiln::core {

RunTimeline::RunTimeline(std::size_t nodes) : start_(std::chrono::steady_clock::now()), events_(nodes) {}

double RunTimeline::elapsed_s() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void RunTimeline::node_started(std::size_t node, unsigned worker) {
    Event& e = events_[node];
    e.start_s = elapsed_s();
    e.worker = worker;
    e.sequence = next_sequence_.fetch_add(1, std::memory_order_relaxed);
}

void RunTimeline::node_finished(std::size_t node, unsigned, const NodeFailure* failure) {
    Event& e = events_[node];
    e.end_s = elapsed_s();
    e.failed = failure != nullptr;
}

nlohmann::json RunReport::to_json() const {
    nlohmann::json nodes = nlohmann::json::array();
    if (ran && timeline) {
        std::vector<std::size_t> started;
        for (std::size_t i = 0; i < timeline->events().size(); ++i)
            if (timeline->events()[i].start_s >= 0) started.push_back(i);
        std::sort(started.begin(), started.end(), [&](std::size_t a, std::size_t b) {
            return timeline->events()[a].sequence < timeline->events()[b].sequence;
        });
        for (std::size_t i : started) {
            const auto& e = timeline->events()[i];
            const Node& n = ran->nodes()[i];
            nodes.push_back({{"name", n.name},
                             {"func", n.func ? n.func->qualified_name : ""},
                             {"worker", e.worker},
                             {"start_s", e.start_s},
                             {"end_s", e.end_s},
                             {"status", e.failed ? "failed" : (e.end_s >= 0 ? "completed" : "interrupted")}});
        }
    }
    nlohmann::json skipped_json = nlohmann::json::array();
    for (const auto& [name, reason] : skipped) skipped_json.push_back({{"name", name}, {"reason", reason}});
    nlohmann::json j = {{"kiln_version", KILN_VERSION_STRING},
                        {"status", status},
                        {"run_id", run_id},
                        {"project", project},
                        {"pipeline", pipeline},
                        {"runner", runner},
                        {"started_at", started_at},
                        {"duration_s", duration_s},
                        {"nodes", nodes},
                        {"skipped", skipped_json},
                        {"outputs", outputs}};
    if (!versions.is_null()) j["versions"] = versions;
    if (status != "success")
        j["failure"] = {{"node", failed_node}, {"error", error}, {"resume_command", resume_command}};
    return j;
}

}  // namespace kiln::core
