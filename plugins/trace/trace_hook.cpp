// trace.ChromeTrace: writes a run as a Chrome trace-event JSON file (`kiln run --trace
// run.json`), which Perfetto (ui.perfetto.dev) and chrome://tracing open: one track per
// worker, a slice per node (and per dataset load/save inside it where the node ran in
// this process), and a counter of each worker's peak resident memory.
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>
#include <algorithm>

#include <kiln/sdk.hpp>
#include <kiln/version.hpp>

namespace {

using Clock = std::chrono::steady_clock;

class ChromeTrace final : public kiln::Hooks {
public:
    explicit ChromeTrace(const kiln::HookConfig& config) {
        auto path = config.options.find("path");
        if (path == config.options.end() || !path->is_string() || path->get<std::string>().empty())
            throw kiln::ConfigError("hook " + config.name +
                                    " needs the option \"path\" (the trace file to write), e.g. kiln run --trace "
                                    "run.json, or {\"name\": \"" + config.name +
                                    "\", \"options\": {\"path\": \"run.json\"}} in settings.json");
        path_ = path->get<std::string>();
        if (path_.is_relative()) path_ = config.project_dir / path_;
    }
    ~ChromeTrace() override {
        if (started_ && !written_) write("unfinished");
    }

    void before_pipeline_run(const kiln::PipelineRunInfo& run) override {
        std::lock_guard lock(mutex_);
        start_ = Clock::now();
        started_ = true;
        std::string label = "kiln run " + std::string(run.pipeline_name) + " (" + std::string(run.runner) + ")";
        events_.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", 1}, {"args", {{"name", label}}}});
        metadata_ = {{"run_id", run.run_id}, {"pipeline", run.pipeline_name}, {"runner", run.runner},
                     {"kiln_version", KILN_VERSION_STRING}, {"nodes", run.nodes.size()}};
    }
    void after_pipeline_run(const kiln::PipelineRunInfo&, std::span<const kiln::NamedValue>) override {
        write("success");
    }
    void on_pipeline_error(const kiln::PipelineRunInfo&, std::string_view error) override {
        std::lock_guard lock(mutex_);
        metadata_["error"] = std::string(error);
        write_locked("failed");
    }

    void before_node_run(const kiln::NodeRunInfo& run) override {
        std::lock_guard lock(mutex_);
        node_start_[run.node.index] = now_us();
    }
    void after_node_run(const kiln::NodeRunInfo& run) override { node_slice(run, nullptr); }
    void on_node_error(const kiln::NodeRunInfo& run, std::string_view error) override { node_slice(run, &error); }

    void before_dataset_loaded(std::string_view dataset, const kiln::NodeView& node) override {
        std::lock_guard lock(mutex_);
        io_start_[{node.index, std::string(dataset)}] = now_us();
    }
    void after_dataset_loaded(std::string_view dataset, const kiln::Value* data, const kiln::NodeView& node) override {
        io_slice("load " + std::string(dataset), dataset, data, node);
    }
    void before_dataset_saved(std::string_view dataset, const kiln::Value*, const kiln::NodeView& node) override {
        std::lock_guard lock(mutex_);
        io_start_[{node.index, std::string(dataset)}] = now_us();
    }
    void after_dataset_saved(std::string_view dataset, const kiln::Value* data, const kiln::NodeView& node) override {
        io_slice("save " + std::string(dataset), dataset, data, node);
    }

private:
    double now_us() const { return std::chrono::duration<double, std::micro>(Clock::now() - start_).count(); }

    void name_worker(unsigned worker) {
        if (!named_workers_.insert(worker).second) return;
        events_.push_back({{"ph", "M"}, {"name", "thread_name"}, {"pid", 1}, {"tid", worker},
                           {"args", {{"name", "worker " + std::to_string(worker)}}}});
    }

    void node_slice(const kiln::NodeRunInfo& run, const std::string_view* error) {
        std::lock_guard lock(mutex_);
        const double end = now_us();
        auto it = node_start_.find(run.node.index);
        double begin = it == node_start_.end() ? end : it->second;
        if (it != node_start_.end()) node_start_.erase(it);
        name_worker(run.worker);
        node_worker_[run.node.index] = run.worker;
        if (auto io = pending_io_.find(run.node.index); io != pending_io_.end()) {
            for (auto& e : io->second) {
                begin = std::min(begin, e["ts"].get<double>());
                e["tid"] = run.worker;
                events_.push_back(std::move(e));
            }
            pending_io_.erase(io);
        }
        nlohmann::json args = {{"function", run.node.function},
                               {"inputs", std::vector<std::string>(run.node.inputs.begin(), run.node.inputs.end())},
                               {"outputs", std::vector<std::string>(run.node.outputs.begin(), run.node.outputs.end())}};
        if (run.max_rss_bytes) args["max_rss_mib"] = static_cast<double>(run.max_rss_bytes) / (1024.0 * 1024.0);
        if (error) args["error"] = std::string(*error);
        events_.push_back({{"ph", "X"}, {"name", run.node.name}, {"cat", error ? "node,failed" : "node"},
                           {"pid", 1}, {"tid", run.worker}, {"ts", begin}, {"dur", end - begin}, {"args", args}});
        if (run.max_rss_bytes)
            events_.push_back({{"ph", "C"}, {"name", "peak RSS (MiB), worker " + std::to_string(run.worker)},
                               {"pid", 1}, {"ts", end},
                               {"args", {{"MiB", static_cast<double>(run.max_rss_bytes) / (1024.0 * 1024.0)}}}});
    }

    // Loads come before before_node_run (Kedro's order) and the worker is only known with
    // the node, so I/O slices wait for their node's slice.
    void io_slice(const std::string& label, std::string_view dataset, const kiln::Value* data,
                  const kiln::NodeView& node) {
        std::lock_guard lock(mutex_);
        const double end = now_us();
        auto key = std::make_pair(node.index, std::string(dataset));
        auto it = io_start_.find(key);
        const double begin = it == io_start_.end() ? end : it->second;
        if (it != io_start_.end()) io_start_.erase(it);
        if (!data) return;  // the node ran in another process: its I/O was not timed here
        nlohmann::json event = {{"ph", "X"}, {"name", label}, {"cat", "dataset"}, {"pid", 1},
                                           {"ts", begin}, {"dur", end - begin},
                                           {"args", {{"node", node.name}, {"type", std::string(data->type_name())}}}};
        // Saves come after after_node_run: they follow the node's slice on its track.
        if (auto w = node_worker_.find(node.index); w != node_worker_.end()) {
            event["tid"] = w->second;
            events_.push_back(std::move(event));
        } else {
            pending_io_[node.index].push_back(std::move(event));
        }
    }

    void write(const char* status) {
        std::lock_guard lock(mutex_);
        write_locked(status);
    }
    void write_locked(const char* status) {
        metadata_["status"] = status;
        nlohmann::json trace = {{"traceEvents", events_}, {"displayTimeUnit", "ms"}, {"otherData", metadata_}};
        kiln::write_file_atomic(path_, trace.dump() + "\n");
        written_ = true;
        kiln::log::info("Trace written to " + path_.string() + " (open it in ui.perfetto.dev or chrome://tracing)");
    }

    std::filesystem::path path_;
    std::mutex mutex_;
    Clock::time_point start_ = Clock::now();
    bool started_ = false, written_ = false;
    nlohmann::json events_ = nlohmann::json::array();
    nlohmann::json metadata_ = nlohmann::json::object();
    std::map<std::size_t, double> node_start_;
    std::map<std::size_t, std::vector<nlohmann::json>> pending_io_;
    std::map<std::size_t, unsigned> node_worker_;
    std::map<std::pair<std::size_t, std::string>, double> io_start_;
    std::set<unsigned> named_workers_;
};

}  // namespace

KILN_PLUGIN_VERSIONED(trace, KILN_VERSION_STRING) {
    reg.hooks<ChromeTrace>("ChromeTrace",
                           {.doc = "writes the run as a Chrome trace-event JSON file (options: path); --trace FILE"});
}
