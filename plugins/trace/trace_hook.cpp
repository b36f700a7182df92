// trace.ChromeTrace: writes a run as a Chrome trace-event JSON file (`kiln run --trace
// run.json`), which Perfetto (ui.perfetto.dev) and chrome://tracing open: one track per
// worker, a slice per node (and per dataset load/save inside it where the node ran in
// this process), and a counter of each worker's peak resident memory. Slices nest: a
// node's slice spans its loads, its call and its saves, and slices on one track never
// overlap otherwise.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <kiln/file_io.hpp>
#include <kiln/hooks.hpp>
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
        node_seen(run, now_ns());
    }
    void after_node_run(const kiln::NodeRunInfo& run) override {
        std::lock_guard lock(mutex_);
        const std::int64_t now = now_ns();
        NodeState& n = node_seen(run, now);
        n.end = std::max(n.end, now);
        n.args = node_args(run, nullptr);
        n.saves_left = run.node.outputs.size();
        // The outputs are saved after this hook: the slice ends after the last save.
        if (n.saves_left == 0) emit_node(run.node.index, false);
    }
    void on_node_error(const kiln::NodeRunInfo& run, std::string_view error) override {
        std::lock_guard lock(mutex_);
        const std::int64_t now = now_ns();
        NodeState& n = node_seen(run, now);
        n.end = std::max(n.end, now);
        n.args = node_args(run, &error);
        emit_node(run.node.index, true);
    }

    void before_dataset_loaded(std::string_view dataset, const kiln::NodeView& node) override {
        io_begin(dataset, node);
    }
    void after_dataset_loaded(std::string_view dataset, const kiln::Value* data, const kiln::NodeView& node) override {
        io_end("load ", dataset, data, node, false);
    }
    void before_dataset_saved(std::string_view dataset, const kiln::Value*, const kiln::NodeView& node) override {
        io_begin(dataset, node);
    }
    void after_dataset_saved(std::string_view dataset, const kiln::Value* data, const kiln::NodeView& node) override {
        io_end("save ", dataset, data, node, true);
    }

private:
    // Times are whole nanoseconds since the run started, so that a slice's bounds compare
    // exactly with its node's; they are written in microseconds, as the format wants.
    static constexpr std::int64_t unset_begin = std::numeric_limits<std::int64_t>::max();
    // Tracks for overlapping I/O (--async): worker w's K-th extra track.
    static constexpr unsigned io_track_base = 1000000, io_tracks_per_worker = 1000;

    struct Io {
        std::string label;
        std::int64_t begin, end;
        nlohmann::json args;
    };
    struct NodeState {
        std::string name;
        std::int64_t begin = unset_begin, end = 0;
        std::optional<unsigned> worker;
        nlohmann::json args;
        std::size_t saves_left = 0;
        std::vector<Io> io;
        // A load or save announced (before_*) and not yet done, by dataset: when and on
        // which thread.
        std::map<std::string, std::pair<std::int64_t, std::thread::id>, std::less<>> open_io;
        // When each thread last finished a load or save of this node: Kedro announces every
        // save before the first one starts, so a save run in the announcing thread really
        // starts when that thread's previous one ended.
        std::map<std::thread::id, std::int64_t> thread_io_end;
    };

    std::int64_t now_ns() const {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start_).count();
    }
    static double us(std::int64_t ns) { return static_cast<double>(ns) / 1000.0; }

    void name_track(unsigned tid, const std::string& name) {
        if (!named_tracks_.insert(tid).second) return;
        events_.push_back({{"ph", "M"}, {"name", "thread_name"}, {"pid", 1}, {"tid", tid}, {"args", {{"name", name}}}});
        events_.push_back({{"ph", "M"}, {"name", "thread_sort_index"}, {"pid", 1}, {"tid", tid},
                           {"args", {{"sort_index", tid}}}});
    }

    static nlohmann::json node_args(const kiln::NodeRunInfo& run, const std::string_view* error) {
        nlohmann::json args = {{"function", run.node.function},
                               {"inputs", std::vector<std::string>(run.node.inputs.begin(), run.node.inputs.end())},
                               {"outputs", std::vector<std::string>(run.node.outputs.begin(), run.node.outputs.end())}};
        if (run.max_rss_bytes) args["max_rss_mib"] = static_cast<double>(run.max_rss_bytes) / (1024.0 * 1024.0);
        if (error) args["error"] = std::string(*error);
        return args;
    }

    void io_begin(std::string_view dataset, const kiln::NodeView& node) {
        std::lock_guard lock(mutex_);
        const std::int64_t now = now_ns();
        NodeState& n = nodes_[node.index];
        n.open_io[std::string(dataset)] = {now, std::this_thread::get_id()};
    }

    // Under mutex_: the node's state, with what every node hook knows (name, worker, the
    // earliest time it was seen).
    NodeState& node_seen(const kiln::NodeRunInfo& run, std::int64_t now) {
        NodeState& n = nodes_[run.node.index];
        n.name = run.node.name;
        n.begin = std::min(n.begin, now);
        n.worker = run.worker;
        return n;
    }

    void io_end(const char* what, std::string_view dataset, const kiln::Value* data, const kiln::NodeView& node,
                bool save) {
        std::lock_guard lock(mutex_);
        const std::int64_t now = now_ns();
        auto found = nodes_.find(node.index);
        if (found == nodes_.end()) return;  // already emitted (a save after the node failed)
        NodeState& n = found->second;
        const auto self = std::this_thread::get_id();
        std::int64_t begin = now;
        if (auto it = n.open_io.find(dataset); it != n.open_io.end()) {
            begin = it->second.first;
            // Done in the thread that announced it: it began after that thread's last one.
            if (it->second.second == self)
                if (auto last = n.thread_io_end.find(self); last != n.thread_io_end.end())
                    begin = std::max(begin, last->second);
            n.open_io.erase(it);
        }
        n.thread_io_end[self] = now;
        // A node run in another process: its I/O was not timed here, only counted.
        if (data) {
            n.io.push_back({what + std::string(dataset), begin, now,
                            {{"node", node.name}, {"type", std::string(data->type_name())}}});
            n.begin = std::min(n.begin, begin);
            n.end = std::max(n.end, now);
        }
        if (save && n.saves_left > 0 && --n.saves_left == 0 && n.worker && !n.args.is_null())
            emit_node(node.index, false);
    }

    // Writes a node's slice, which spans its loads, its call and its saves, and the slices
    // of its loads and saves inside it on the node's track. Loads or saves that overlap
    // (--async) cannot nest on one track: the later ones go to tracks of their own under
    // the worker's ("worker N I/O K").
    void emit_node(std::size_t index, bool failed) {
        auto found = nodes_.find(index);
        if (found == nodes_.end()) return;
        NodeState& n = found->second;
        const unsigned worker = n.worker.value_or(0);
        if (n.begin == unset_begin) n.begin = n.end;
        name_track(worker, "worker " + std::to_string(worker));
        std::sort(n.io.begin(), n.io.end(), [](const Io& a, const Io& b) {
            return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
        });
        std::vector<std::int64_t> lane_end;  // per lane, where its last slice ends
        for (auto& io : n.io) {
            std::size_t lane = 0;
            while (lane < lane_end.size() && lane_end[lane] > io.begin) ++lane;
            if (lane == lane_end.size()) lane_end.push_back(io.end);
            else lane_end[lane] = io.end;
            unsigned tid = worker;
            if (lane > 0) {
                tid = io_track_base + worker * io_tracks_per_worker + static_cast<unsigned>(lane);
                name_track(tid, "worker " + std::to_string(worker) + " I/O " + std::to_string(lane));
            }
            events_.push_back({{"ph", "X"}, {"name", io.label}, {"cat", "dataset"}, {"pid", 1}, {"tid", tid},
                               {"ts", us(io.begin)}, {"dur", us(io.end - io.begin)}, {"args", std::move(io.args)}});
        }
        events_.push_back({{"ph", "X"}, {"name", n.name},
                           {"cat", failed ? "node,failed" : "node"}, {"pid", 1}, {"tid", worker},
                           {"ts", us(n.begin)}, {"dur", us(n.end - n.begin)}, {"args", n.args}});
        if (n.args.is_object() && n.args.contains("max_rss_mib"))
            events_.push_back({{"ph", "C"}, {"name", "peak RSS (MiB), worker " + std::to_string(worker)},
                               {"pid", 1}, {"ts", us(n.end)}, {"args", {{"MiB", n.args["max_rss_mib"]}}}});
        nodes_.erase(found);
    }

    // Nodes whose slice is still open when the trace is written (a save that never came
    // back: the run failed or stopped): written as they are.
    void emit_open_nodes() {
        std::vector<std::size_t> open;
        for (const auto& [index, n] : nodes_)
            if (n.worker) open.push_back(index);
        for (std::size_t index : open) emit_node(index, nodes_[index].args.contains("error"));
        nodes_.clear();
    }

    void write(const char* status) {
        std::lock_guard lock(mutex_);
        write_locked(status);
    }
    void write_locked(const char* status) {
        emit_open_nodes();
        metadata_["status"] = status;
        nlohmann::json trace = {{"traceEvents", events_}, {"displayTimeUnit", "ms"}, {"otherData", metadata_}};
        kiln::write_file_atomic(path_, trace.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
        written_ = true;
        kiln::log::info("Trace written to " + path_.string() + " (open it in ui.perfetto.dev or chrome://tracing)");
    }

    std::filesystem::path path_;
    std::mutex mutex_;
    Clock::time_point start_ = Clock::now();
    bool started_ = false, written_ = false;
    nlohmann::json events_ = nlohmann::json::array();
    nlohmann::json metadata_ = nlohmann::json::object();
    std::map<std::size_t, NodeState> nodes_;  // nodes whose slice is not written yet
    std::set<unsigned> named_tracks_;
};

}  // namespace

KILN_PLUGIN_VERSIONED(trace, KILN_VERSION_STRING) {
    reg.hooks<ChromeTrace>("ChromeTrace",
                           {.doc = "writes the run as a Chrome trace-event JSON file (options: path); --trace FILE"});
}
