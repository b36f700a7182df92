// Runner and hook plugins for the tests: a concurrent runner written only against the
// SDK, runners that break the contract in each way the host must catch, a runner with
// default datasets, a hook that records every event it gets, hooks that fail, a hook that
// replaces a node's input and one that records what the run-wide hooks of ABI 1.5 get.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unistd.h>

#include <kiln/dataset.hpp>
#include <kiln/distributed.hpp>
#include <kiln/file_io.hpp>
#include <kiln/hooks.hpp>
#include <kiln/runner.hpp>
#include <kiln/sdk.hpp>
#include <nlohmann/json.hpp>

namespace {

// A thread pool over RunContext: a node is queued once all its dependencies completed.
class PoolRunner final : public kiln::Runner {
public:
    void run(kiln::RunContext& ctx) override {
        const std::size_t n = ctx.node_count();
        const int workers = ctx.settings().max_workers > 0 ? ctx.settings().max_workers : 2;
        std::vector<std::vector<std::size_t>> dependents(n);
        std::vector<std::size_t> waiting(n);
        for (std::size_t i = 0; i < n; ++i) {
            auto deps = ctx.dependencies(i);
            waiting[i] = deps.size();
            for (std::size_t d : deps) dependents[d].push_back(i);
        }
        std::mutex m;
        std::condition_variable cv;
        std::deque<std::size_t> ready;
        for (std::size_t i = 0; i < n; ++i)
            if (waiting[i] == 0) ready.push_back(i);
        std::size_t running = 0;
        bool failed = false;
        auto stop = [&] { return (failed && !ctx.settings().keep_going) || ctx.stop_requested(); };
        auto work = [&](unsigned worker) {
            std::unique_lock lock(m);
            for (;;) {
                cv.wait(lock, [&] { return (!stop() && !ready.empty()) || running == 0; });
                if (stop() || ready.empty()) {  // and nothing is running: done
                    cv.notify_all();
                    return;
                }
                std::size_t i = ready.front();
                ready.pop_front();
                ++running;
                lock.unlock();
                std::string error;
                bool ok = ctx.run_node(i, worker, &error);
                lock.lock();
                --running;
                if (ok) {
                    for (std::size_t d : dependents[i])
                        if (--waiting[d] == 0) ready.push_back(d);
                } else {
                    failed = true;
                }
                cv.notify_all();
            }
        };
        std::vector<std::thread> threads;
        for (int w = 0; w < workers; ++w) threads.emplace_back(work, static_cast<unsigned>(w));
        for (auto& t : threads) t.join();
    }
};

class ThrowingRunner final : public kiln::Runner {
public:
    void run(kiln::RunContext& ctx) override {
        std::string error;
        if (ctx.node_count() > 0) ctx.run_node(0, 0, &error);
        throw std::runtime_error("the runner gave up");
    }
};

class BackwardsRunner final : public kiln::Runner {
public:
    void run(kiln::RunContext& ctx) override {
        std::string error;
        for (std::size_t i = ctx.node_count(); i-- > 0;)
            if (!ctx.run_node(i, 0, &error)) return;
    }
};

class TwiceRunner final : public kiln::Runner {
public:
    void run(kiln::RunContext& ctx) override {
        std::string error;
        for (std::size_t i = 0; i < ctx.node_count(); ++i)
            if (!ctx.run_node(i, 0, &error)) return;
        ctx.run_node(0, 0, &error);
    }
};

// Runs every node as if in another process, through the API a distributed runner uses:
// remote_started / run_delegated / remote_finished, each output encoded, decoded and put
// back with set_value (as if it had travelled), and worker 1 as its place.
class RelayRunner final : public kiln::Runner {
public:
    void run(kiln::RunContext& ctx) override {
        kiln::DistributedRunContext remote = ctx.distributed();
        for (std::size_t i = 0; i < ctx.node_count(); ++i) {
            std::string error;
            if (!remote.remote_started(i, 1, &error)) return;
            bool ok = remote.run_delegated(i, 1, &error);
            for (const auto& out : ctx.node(i).outputs) {
                const kiln::Value* v = remote.value(out);
                if (!ok || !v) continue;
                const kiln::TypeOps& type = *v->type();
                std::string codec_error;
                auto bytes = std::make_shared<std::vector<std::byte>>(type.encoded_size(v->raw(), &codec_error));
                type.encode(v->raw(), bytes->data(), bytes->size(), &codec_error);
                if (remote.set_value(out, kiln::Value::make(std::string("not this type"))) && type.name != "string")
                    throw std::logic_error("set_value took a value of another type");
                kiln::Value back = kiln::Value::decode(*remote.value_type(out), *bytes, bytes);
                if (!remote.set_value(out, std::move(back))) throw std::logic_error("set_value refused '" + out + "'");
            }
            if (!remote.remote_finished(i, 1, ok ? nullptr : &error, 1234)) return;
        }
    }
};

// Starts a node elsewhere and returns without waiting for it.
class ForgetfulRunner final : public kiln::Runner {
public:
    void run(kiln::RunContext& ctx) override {
        std::string error;
        ctx.distributed().remote_started(0, 1, &error);
    }
};

// Keeps each intermediate in memory, and leaves a marker file per save, so a test sees
// that the runner's default datasets were used.
class MarkerDataset final : public kiln::Dataset {
public:
    explicit MarkerDataset(const kiln::DatasetConfig& c) : marker_(c.project_dir / "defaults" / (c.name + ".saved")) {}
    kiln::Value load() override {
        if (value_.empty()) throw kiln::DatasetError("nothing saved yet");
        return value_;
    }
    void save(const kiln::Value& v) override {
        value_ = v;
        std::filesystem::create_directories(marker_.parent_path());
        kiln::write_file_atomic(marker_, std::string(v.type_name()) + "\n");
    }
    bool exists() const override { return !value_.empty(); }
    std::string describe() const override { return "MarkerDataset(" + marker_.filename().string() + ")"; }

private:
    std::filesystem::path marker_;
    kiln::Value value_;
};

// Reads "credentials" as Kedro's datasets do (the object from credentials.json), and
// quotes the password wherever a careless dataset might: its description and its
// errors. Loads "user:<user>"; with "fail": true, loading fails. Tests check that the
// password never reaches the output.
class CredentialedDataset final : public kiln::Dataset {
public:
    explicit CredentialedDataset(const kiln::DatasetConfig& c) : credentials_(c.args.value("credentials", nlohmann::json())) {
        if (!credentials_.is_object()) throw kiln::ConfigError("\"credentials\" must be an object, got " + credentials_.dump());
        fail_ = c.args.value("fail", false);
    }
    kiln::Value load() override {
        if (fail_)
            throw kiln::DatasetError("cannot connect as " + user() + " with password " + credentials_.value("password", ""));
        return kiln::Value::make(std::string("user:") + user());
    }
    void save(const kiln::Value&) override { throw kiln::DatasetError("read only"); }
    bool exists() const override { return true; }
    std::string describe() const override { return "CredentialedDataset(" + credentials_.dump() + ")"; }

private:
    std::string user() const { return credentials_.value("user", "?"); }
    nlohmann::json credentials_;
    bool fail_ = false;
};

class MarkerRunner final : public kiln::Runner {
public:
    void run(kiln::RunContext& ctx) override {
        std::string error;
        for (std::size_t i = 0; i < ctx.node_count(); ++i)
            if (!ctx.run_node(i, 0, &error)) return;
    }
    std::unique_ptr<kiln::Dataset> create_default_dataset(const kiln::DatasetConfig& config) override {
        return std::make_unique<MarkerDataset>(config);
    }
};

// Writes one line per event to options.path when the run ends:
//   "<point> node=<name> dataset=<name> data=<set|null> worker=<w> pid=<pid> in=<k> out=<k>"
class Recorder final : public kiln::Hooks {
public:
    explicit Recorder(const kiln::HookConfig& c) : path_(c.options.at("path").get<std::string>()) {}

    void before_pipeline_run(const kiln::PipelineRunInfo& run) override {
        add("before_pipeline_run runner=" + std::string(run.runner) + " nodes=" + std::to_string(run.nodes.size()) +
            " params.runner=" + run.run_params->at("runner").get<std::string>());
    }
    void after_pipeline_run(const kiln::PipelineRunInfo&, std::span<const kiln::NamedValue> outputs) override {
        std::string names;
        for (const auto& o : outputs) names += std::string(o.name) + (o.value ? "=set " : "=null ");
        add("after_pipeline_run outputs=" + names);
        flush();
    }
    void on_pipeline_error(const kiln::PipelineRunInfo&, std::string_view error) override {
        add("on_pipeline_error " + std::string(error.substr(0, error.find('\n'))));
        flush();
    }
    void before_node_run(const kiln::NodeRunInfo& r) override { node("before_node_run", r); }
    void after_node_run(const kiln::NodeRunInfo& r) override { node("after_node_run", r); }
    void on_node_error(const kiln::NodeRunInfo& r, std::string_view) override { node("on_node_error", r); }
    void before_dataset_loaded(std::string_view d, const kiln::NodeView& n) override {
        add("before_dataset_loaded node=" + std::string(n.name) + " dataset=" + std::string(d));
    }
    void after_dataset_loaded(std::string_view d, const kiln::Value* v, const kiln::NodeView& n) override {
        dataset("after_dataset_loaded", d, v, n);
    }
    void before_dataset_saved(std::string_view d, const kiln::Value* v, const kiln::NodeView& n) override {
        dataset("before_dataset_saved", d, v, n);
    }
    void after_dataset_saved(std::string_view d, const kiln::Value* v, const kiln::NodeView& n) override {
        dataset("after_dataset_saved", d, v, n);
    }

private:
    void node(const char* point, const kiln::NodeRunInfo& r) {
        std::string data;
        for (const auto& in : r.inputs) data += in.value ? "set" : "null";
        add(std::string(point) + " node=" + std::string(r.node.name) + " worker=" + std::to_string(r.worker) +
            " pid=" + std::to_string(::getpid()) + " in=" + std::to_string(r.inputs.size()) + ":" + data +
            " out=" + std::to_string(r.outputs.size()) + " rss=" + (r.max_rss_bytes > 0 ? "yes" : "no"));
    }
    void dataset(const char* point, std::string_view d, const kiln::Value* v, const kiln::NodeView& n) {
        add(std::string(point) + " node=" + std::string(n.name) + " dataset=" + std::string(d) +
            " data=" + (v ? "set" : "null"));
    }
    void add(std::string line) {
        std::lock_guard lock(mutex_);
        lines_ += line + "\n";
    }
    void flush() {
        std::lock_guard lock(mutex_);
        kiln::write_file_atomic(path_, lines_);
    }
    std::filesystem::path path_;
    std::mutex mutex_;
    std::string lines_;
};

// Throws at options.point (for options.node, when given).
class Thrower final : public kiln::Hooks {
public:
    explicit Thrower(const kiln::HookConfig& c)
        : point_(c.options.value("point", "")), node_(c.options.value("node", "")) {}
    void before_pipeline_run(const kiln::PipelineRunInfo&) override { maybe("before_pipeline_run", ""); }
    void after_pipeline_run(const kiln::PipelineRunInfo&, std::span<const kiln::NamedValue>) override {
        maybe("after_pipeline_run", "");
    }
    void before_node_run(const kiln::NodeRunInfo& r) override { maybe("before_node_run", r.node.name); }
    void after_node_run(const kiln::NodeRunInfo& r) override { maybe("after_node_run", r.node.name); }
    void before_dataset_loaded(std::string_view, const kiln::NodeView& n) override {
        maybe("before_dataset_loaded", n.name);
    }

private:
    void maybe(const std::string& point, std::string_view node) {
        if (point == point_ && (node_.empty() || node == node_))
            throw std::runtime_error("Thrower was told to fail in " + point);
    }
    std::string point_, node_;
};

// Kedro's before_node_run returning new inputs: for options.node, gives options.dataset
// the value options.value (a number, or a string: a value of the wrong type for numbers).
class InputSwap final : public kiln::Hooks {
public:
    explicit InputSwap(const kiln::HookConfig& c)
        : node_(c.options.at("node").get<std::string>()), dataset_(c.options.at("dataset").get<std::string>()),
          value_(c.options.at("value")) {}
    void before_node_run(const kiln::NodeRunInfo& r) override {
        if (r.node.name != node_) return;
        r.replace_input(dataset_, value_.is_string() ? kiln::Value::make(value_.get<std::string>())
                                                     : kiln::Value::make(value_.get<double>()));
    }

private:
    std::string node_, dataset_;
    nlohmann::json value_;
};

// Writes one line per run-wide event to options.path when the run ends, in order:
//   "after_context_created env=<e> conf=<folder name> params=<json> runtime=<json> project=<ok|?>"
//   "after_catalog_created run_id=<ok|?> save_version=<run_id|v|none> load_versions=<json>
//    runtime=<json> describe=<catalog's description of options.describe>"
//   "before_pipeline_run", "after_pipeline_run" or "on_pipeline_error"
class ContextLog final : public kiln::Hooks {
public:
    explicit ContextLog(const kiln::HookConfig& c)
        : path_(c.options.at("path").get<std::string>()), describe_(c.options.value("describe", "")),
          project_(c.project_dir) {}
    void after_context_created(const kiln::ContextInfo& c) override {
        add("after_context_created env=" + std::string(c.env) + " conf=" + c.conf_source.filename().string() +
            " params=" + c.params->dump() + " runtime=" + c.runtime_params->dump() +
            " project=" + (c.project_dir == project_ ? "ok" : "?"));
    }
    void after_catalog_created(const kiln::CatalogInfo& c) override {
        std::string save = c.save_version.empty() ? "none" : c.save_version == c.run_id ? "run_id" : "v";
        add("after_catalog_created run_id=" + std::string(c.run_id.empty() ? "?" : "ok") + " save_version=" + save +
            " load_versions=" + c.load_versions->dump() + " runtime=" + c.runtime_params->dump() +
            " describe=" + (describe_.empty() ? std::string() : c.catalog->describe(describe_)));
    }
    void before_pipeline_run(const kiln::PipelineRunInfo&) override { add("before_pipeline_run"); }
    void after_pipeline_run(const kiln::PipelineRunInfo&, std::span<const kiln::NamedValue>) override {
        add("after_pipeline_run");
        kiln::write_file_atomic(path_, lines_);
    }
    void on_pipeline_error(const kiln::PipelineRunInfo&, std::string_view) override {
        add("on_pipeline_error");
        kiln::write_file_atomic(path_, lines_);
    }

private:
    void add(const std::string& line) { lines_ += line + "\n"; }
    std::filesystem::path path_;
    std::string describe_;
    std::filesystem::path project_;
    std::string lines_;  // the run-wide points are called from one thread
};

class BadConfig final : public kiln::Hooks {
public:
    explicit BadConfig(const kiln::HookConfig&) { throw kiln::ConfigError("BadConfig refuses every configuration"); }
};

}  // namespace

KILN_PLUGIN(testext) {
    reg.runner<PoolRunner>("PoolRunner", {.doc = "a thread pool written against the SDK only"});
    reg.runner<ThrowingRunner>("ThrowingRunner");
    reg.runner<BackwardsRunner>("BackwardsRunner");
    reg.runner<TwiceRunner>("TwiceRunner");
    reg.runner<MarkerRunner>("MarkerRunner");
    reg.runner<RelayRunner>("RelayRunner");
    reg.runner<ForgetfulRunner>("ForgetfulRunner");
    reg.hooks<Recorder>("Recorder");
    reg.hooks<Thrower>("Thrower");
    reg.hooks<BadConfig>("BadConfig");
    reg.hooks<InputSwap>("InputSwap");
    reg.hooks<ContextLog>("ContextLog");
    reg.dataset<CredentialedDataset>("CredentialedDataset", {.doc = "reads its credentials; quotes them carelessly"});
}
