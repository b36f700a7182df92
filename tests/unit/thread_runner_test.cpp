// The ThreadRunner on in-process node functions: the same results as the SequentialRunner,
// dispatch as dependencies finish (no layer barrier), real concurrency, failures, keep
// going, resource caps. Cross-node ordering is proved with gates that time out (failing
// the node, hence the test) instead of hanging; nothing asserts on timings.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sstream>
#include <thread>

#include "builtin_runners.hpp"
#include "kiln/sdk.hpp"
#include "plugins/registry.hpp"
#include "run/node_event_stream.hpp"
#include "run/run_plan.hpp"
#include "test_support.hpp"

using namespace kiln::core;
using kiln::test::error_of;
using Names = std::vector<std::string>;

namespace thread_runner_test_cases {

namespace {

// Node functions made from lambdas, alive as long as the pipelines that use them.
class Funcs {
public:
    template <class F>
    const NodeFunction* add(const std::string& name, F fn) {
        specs_.push_back(std::make_unique<kiln::detail::NodeSpec>(kiln::detail::make_node_spec(name, std::move(fn), {})));
        fns_.push_back(std::make_unique<NodeFunction>(NodeFunction{.qualified_name = "t." + name, .plugin_file = "test", .spec = specs_.back().get()}));
        return fns_.back().get();
    }

private:
    std::vector<std::unique_ptr<kiln::detail::NodeSpec>> specs_;
    std::vector<std::unique_ptr<NodeFunction>> fns_;
};

// Pure functions whose results depend on argument order, bounded so long chains stay finite.
struct Pure {
    Funcs f;
    const NodeFunction* src = f.add("src", [](double k) { return k; });
    const NodeFunction* f1 = f.add("f1", [](double a) { return std::fmod(a * 1.7 + 0.3, 1000.0); });
    const NodeFunction* f2 = f.add("f2", [](double a, double b) { return std::fmod(a * 3 + b * 7 + 1, 1009.0); });
    const NodeFunction* f3 =
        f.add("f3", [](double a, double b, double c) { return std::fmod(a + 2 * b + 5 * c + 1, 1013.0); });
    const NodeFunction* sink = f.add("sink", [](double) {});
    const NodeFunction* boom = f.add("boom", [](double) -> double { throw std::runtime_error("kaboom"); });
};

Pure& pure() {
    static Pure p;
    return p;
}

Node node(std::string name, const NodeFunction* func, Names in, Names out, nlohmann::json resources = nullptr) {
    Node n;
    n.name = std::move(name);
    n.func = func;
    n.inputs = std::move(in);
    n.outputs = std::move(out);
    n.resources = std::move(resources);
    return n;
}

const nlohmann::json params = {{"p0", 2.0}, {"p1", 3.5}, {"p2", -1.25}, {"p3", 10.0}, {"p4", 0.5}};

struct Result {
    RunOutcome outcome;
    std::map<std::string, double> outputs;  // free outputs that hold a value
    std::size_t live = 0;                   // values still in memory after the run
    std::size_t free_outputs = 0;
};

Result run_with(Runner& runner, const Pipeline& p, NodeObserver* observer = nullptr) {
    static Registry registry;
    kiln::test::TempDir dir;
    DataCatalog catalog({}, Parameters(params), dir.path(), registry);
    RunPlan plan(p, catalog, "run-1");
    Result r;
    const NodeEventStream events{observer};
    r.outcome = runner.run(plan, &events);
    for (const auto& o : plan.free_outputs()) {
        ++r.free_outputs;
        if (!o.value.empty()) r.outputs[o.name] = o.value.get<double>();
    }
    r.live = plan.live_values();
    return r;
}

RunnerOptions with_workers(int n, bool keep_going = false) {
    RunnerOptions o;
    o.max_workers = n;
    o.keep_going = keep_going;
    return o;
}

// Runs p with the SequentialRunner and the ThreadRunner at 1, 2 and 4 workers: every run
// succeeds, releases its intermediates, and gives the same free outputs.
void same_as_sequential(const Pipeline& p) {
    auto seq = kiln::runners::make_sequential_runner({});
    Result expected = run_with(*seq, p);
    REQUIRE(expected.outcome.ok());
    CHECK(expected.live == expected.free_outputs);
    for (int workers : {1, 2, 4}) {
        CAPTURE(workers);
        auto thread = kiln::runners::make_thread_runner(with_workers(workers));
        Result got = run_with(*thread, p);
        REQUIRE(got.outcome.ok());
        CHECK(std::all_of(got.outcome.done.begin(), got.outcome.done.end(), [](char d) { return d == 1; }));
        CHECK(got.outputs == expected.outputs);
        CHECK(got.live == got.free_outputs);  // intermediates were released
    }
}

// A one-shot event a node can wait for, with a timeout so that a wrong runner fails the
// test instead of hanging it.
class Gate {
public:
    void open() {
        {
            std::lock_guard lock(m_);
            open_ = true;
        }
        cv_.notify_all();
    }
    void wait_or_throw(const std::string& what) {
        std::unique_lock lock(m_);
        if (!cv_.wait_for(lock, std::chrono::seconds(20), [&] { return open_; }))
            throw std::runtime_error("timed out waiting for " + what);
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    bool open_ = false;
};

// A pipeline of n nodes; each reads up to three outputs of the 200 nodes before it.
Pipeline random_dag(int n, unsigned seed) {
    const Pure& f = pure();
    std::mt19937 rng(seed);
    std::vector<Node> nodes;
    nodes.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        Names in;
        const int k = i == 0 ? 0 : static_cast<int>(rng() % 4);
        for (int j = 0; j < k; ++j)
            in.push_back("d" + std::to_string(i - 1 - static_cast<int>(rng() % static_cast<unsigned>(std::min(i, 200)))));
        std::sort(in.begin(), in.end());
        in.erase(std::unique(in.begin(), in.end()), in.end());
        std::shuffle(in.begin(), in.end(), rng);
        const NodeFunction* fn = in.empty() ? f.src : in.size() == 1 ? f.f1 : in.size() == 2 ? f.f2 : f.f3;
        if (in.empty()) in.push_back("params:p" + std::to_string(i % 5));
        nodes.push_back(node("n" + std::to_string(i), fn, in, {"d" + std::to_string(i)}));
    }
    return Pipeline(std::move(nodes));
}

}  // namespace

TEST_CASE("thread.same_results_as_sequential") {
    const Pure& f = pure();
    // Diamond, a node reading one dataset twice, a chain, a fan-out, a sink.
    std::vector<Node> nodes = {
        node("s1", f.src, {"params:p0"}, {"a"}), node("s2", f.src, {"params:p1"}, {"b"}),
        node("m1", f.f2, {"a", "b"}, {"c"}),     node("m2", f.f1, {"a"}, {"d"}),
        node("m3", f.f3, {"c", "d", "b"}, {"e"}), node("m4", f.f2, {"e", "e"}, {"g"}),
        node("end", f.sink, {"h9"}, {}),
    };
    for (int i = 0; i < 10; ++i) {
        nodes.push_back(node("k" + std::to_string(i), f.f1, {i == 0 ? "d" : "h" + std::to_string(i - 1)},
                             {"h" + std::to_string(i)}));
        nodes.push_back(node("w" + std::to_string(i), f.f2, {"b", "a"}, {"w" + std::to_string(i)}));
    }
    same_as_sequential(Pipeline(nodes));
    same_as_sequential(Pipeline());
}

TEST_CASE("thread.random_dag_20k_same_as_sequential") {
    same_as_sequential(random_dag(20000, 42));
}

TEST_CASE("thread.slow_branch_does_not_hold_back_another") {
    // Layers {a1, b1} {b2} {b3}. a1 waits until b3 has run: a layer-by-layer runner would
    // wait for a1 before starting b2, and never get there.
    for (int workers : {2, 4}) {
        CAPTURE(workers);
        Gate b3_ran;
        std::atomic<int> sequence{0}, a1_done{-1}, b3_done{-1};
        Funcs fs;
        const Pure& f = pure();
        auto* slow = fs.add("slow", [&](double x) {
            b3_ran.wait_or_throw("b3");
            a1_done = sequence++;
            return x;
        });
        auto* release = fs.add("release", [&](double x) {
            b3_done = sequence++;
            b3_ran.open();
            return x;
        });
        Pipeline p({node("a1", slow, {"params:p0"}, {"x"}), node("b1", f.src, {"params:p1"}, {"y1"}),
                    node("b2", f.f1, {"y1"}, {"y2"}), node("b3", release, {"y2"}, {"y3"})});
        auto runner = kiln::runners::make_thread_runner(with_workers(workers));
        Result r = run_with(*runner, p);
        REQUIRE_MESSAGE(r.outcome.ok(), (r.outcome.failures.empty() ? "" : r.outcome.failures[0].message));
        CHECK(b3_done < a1_done);
    }
}

TEST_CASE("thread.independent_nodes_overlap") {
    // c1 and c2 each wait until both have started: only concurrent execution gets past.
    std::mutex m;
    std::condition_variable cv;
    int inside = 0;
    bool overlapped = false;
    Funcs fs;
    auto* meet = fs.add("meet", [&](double x) {
        std::unique_lock lock(m);
        ++inside;
        cv.notify_all();
        if (!cv.wait_for(lock, std::chrono::seconds(20), [&] { return inside >= 2; }))
            throw std::runtime_error("the other node never ran at the same time");
        overlapped = true;
        return x;
    });
    struct Workers : NodeObserver {
        std::mutex m;
        std::set<unsigned> started_on;
        std::set<std::thread::id> threads;
        unsigned listens_to() const noexcept override { return node_progress; }
        void node_started(std::size_t, unsigned worker) override {
            std::lock_guard lock(m);
            started_on.insert(worker);
            threads.insert(std::this_thread::get_id());
        }
        void node_finished(std::size_t, unsigned, const NodeFailure*) override {}
    } seen;
    Pipeline p({node("c1", meet, {"params:p0"}, {"x1"}), node("c2", meet, {"params:p1"}, {"x2"})});
    auto runner = kiln::runners::make_thread_runner(with_workers(2));
    Result r = run_with(*runner, p, &seen);
    REQUIRE_MESSAGE(r.outcome.ok(), (r.outcome.failures.empty() ? "" : r.outcome.failures[0].message));
    CHECK(overlapped);
    CHECK(seen.started_on == std::set<unsigned>{0, 1});  // observer calls come from the workers
    CHECK(seen.threads.size() == 2);
}

namespace {

// s -> x; a_boom(x) fails; a_after(y) depends on it; b1 -> b2 -> b3 is independent of it.
Pipeline failing_pipeline(bool second_failure) {
    const Pure& f = pure();
    std::vector<Node> nodes = {node("s", f.src, {"params:p0"}, {"x"}),   node("a_boom", f.boom, {"x"}, {"y"}),
                               node("a_after", f.f1, {"y"}, {"z"}),      node("b1", f.f1, {"x"}, {"w1"}),
                               node("b2", f.f1, {"w1"}, {"w2"}),         node("b3", f.f1, {"w2"}, {"w3"}),
                               node("join", f.f2, {"z", "w2"}, {"j"})};
    if (second_failure) nodes.push_back(node("c_boom", f.boom, {"w1"}, {"q"}));
    return Pipeline(std::move(nodes));
}

std::string name_of(const Pipeline& p, std::size_t i) { return p.nodes()[i].name; }

}  // namespace

TEST_CASE("thread.failure_stops_scheduling") {
    Pipeline p = failing_pipeline(false);
    const auto idx = [&](const char* n) { return *p.node_index(n); };
    // One worker: exactly the SequentialRunner's behaviour, nothing after the failure starts.
    auto seq = kiln::runners::make_sequential_runner({});
    auto one = kiln::runners::make_thread_runner(with_workers(1));
    for (Runner* runner : {seq.get(), one.get()}) {
        CAPTURE(runner->name());
        Result r = run_with(*runner, p);
        REQUIRE(r.outcome.failures.size() == 1);
        CHECK(name_of(p, r.outcome.failures[0].node) == "a_boom");
        CHECK(r.outcome.failures[0].message.find("node 'a_boom' (t.boom) failed: kaboom") != std::string::npos);
        std::vector<char> only_s(p.size(), 0);
        only_s[idx("s")] = 1;
        CHECK(r.outcome.done == only_s);
    }
    // More workers: b1 may overlap a_boom, but nothing downstream of the failure runs,
    // and the run ends with the one failure.
    for (int workers : {2, 4}) {
        CAPTURE(workers);
        auto runner = kiln::runners::make_thread_runner(with_workers(workers));
        Result r = run_with(*runner, p);
        REQUIRE(r.outcome.failures.size() == 1);
        CHECK(name_of(p, r.outcome.failures[0].node) == "a_boom");
        CHECK(r.outcome.done[idx("s")] == 1);
        CHECK(r.outcome.done[idx("a_boom")] == 0);
        CHECK(r.outcome.done[idx("a_after")] == 0);
        CHECK(r.outcome.done[idx("join")] == 0);
    }
}

TEST_CASE("thread.keep_going_runs_independent_branches_and_reports_all_failures") {
    Pipeline p = failing_pipeline(true);
    for (int workers : {1, 2, 4}) {
        CAPTURE(workers);
        auto runner = kiln::runners::make_thread_runner(with_workers(workers, true));
        Result r = run_with(*runner, p);
        std::set<std::string> failed;
        for (const auto& fl : r.outcome.failures) {
            failed.insert(name_of(p, fl.node));
            CHECK(fl.message.find("kaboom") != std::string::npos);
        }
        CHECK(failed == std::set<std::string>{"a_boom", "c_boom"});
        Names done;
        for (std::size_t i = 0; i < p.size(); ++i)
            if (r.outcome.done[i]) done.push_back(name_of(p, i));
        std::sort(done.begin(), done.end());
        CHECK(done == Names{"b1", "b2", "b3", "s"});
        const double x = 2.0, w1 = std::fmod(x * 1.7 + 0.3, 1000.0), w2 = std::fmod(w1 * 1.7 + 0.3, 1000.0);
        CHECK(r.outputs.at("w3") == std::fmod(w2 * 1.7 + 0.3, 1000.0));
    }
    // With one worker the failures come in pipeline order.
    auto one = kiln::runners::make_thread_runner(with_workers(1, true));
    Result r = run_with(*one, p);
    REQUIRE(r.outcome.failures.size() == 2);
    CHECK(name_of(p, r.outcome.failures[0].node) == "a_boom");
    CHECK(name_of(p, r.outcome.failures[1].node) == "c_boom");
}

TEST_CASE("thread.many_fast_nodes_failure_in_a_batch") {
    // Thousands of ready trivial nodes make workers take them in batches; a failure in the
    // middle of a batch either stops the run (what the batch did not start is never
    // started) or, under keep_going, cancels nothing else.
    const Pure& f = pure();
    std::vector<Node> nodes;
    for (int i = 0; i < 3000; ++i)
        nodes.push_back(node("n" + std::to_string(1000000 + i), i == 1500 ? f.boom : f.src,
                             {"params:p" + std::to_string(i % 5)}, {"d" + std::to_string(i)}));
    Pipeline p(std::move(nodes));
    struct Count : NodeObserver {
        std::atomic<int> started{0}, finished{0};
        unsigned listens_to() const noexcept override { return node_progress; }
        void node_started(std::size_t, unsigned) override { ++started; }
        void node_finished(std::size_t, unsigned, const NodeFailure*) override { ++finished; }
    };
    for (bool keep_going : {false, true})
        for (int workers : {2, 4}) {
            CAPTURE(keep_going);
            CAPTURE(workers);
            Count count;
            auto runner = kiln::runners::make_thread_runner(with_workers(workers, keep_going));
            Result r = run_with(*runner, p, &count);
            REQUIRE(r.outcome.failures.size() == 1);
            CHECK(name_of(p, r.outcome.failures[0].node) == "n1001500");
            const auto done = std::count(r.outcome.done.begin(), r.outcome.done.end(), 1);
            CHECK(count.started == done + 1);  // what ran, and nothing handed back
            CHECK(count.finished == done + 1);
            if (keep_going) CHECK(done == 2999);
        }
}

TEST_CASE("thread.resource_cap_runs_gpu_nodes_alone") {
    // g0..g5 need the one GPU and come first in pipeline order; h0..h5 need nothing. g0
    // holds the GPU until h5 has run, so the waiting GPU nodes must let the CPU nodes pass.
    std::atomic<int> gpu_active{0}, gpu_max{0}, ran{0};
    Gate h5_ran;
    Funcs fs;
    auto on_gpu = [&](double x, bool wait) {
        const int now = ++gpu_active;
        int seen = gpu_max.load();
        while (now > seen && !gpu_max.compare_exchange_weak(seen, now)) {
        }
        if (wait) h5_ran.wait_or_throw("h5");
        std::this_thread::sleep_for(std::chrono::milliseconds(1));  // room for a wrong overlap
        --gpu_active;
        ++ran;
        return x;
    };
    auto* first_gpu = fs.add("first_gpu", [&](double x) { return on_gpu(x, true); });
    auto* gpu = fs.add("gpu", [&](double x) { return on_gpu(x, false); });
    auto* cpu = fs.add("cpu", [&](double x) {
        ++ran;
        return x;
    });
    auto* last_cpu = fs.add("last_cpu", [&](double x) {
        ++ran;
        h5_ran.open();
        return x;
    });
    std::vector<Node> nodes;
    for (int i = 0; i < 6; ++i) {
        const std::string s = std::to_string(i);
        nodes.push_back(node("g" + s, i == 0 ? first_gpu : gpu, {"params:p0"}, {"g" + s}, {{"gpu", 1}}));
        nodes.push_back(node("h" + s, i == 5 ? last_cpu : cpu, {"params:p1"}, {"h" + s}));
    }
    Pipeline p(std::move(nodes));
    RunnerOptions options = with_workers(4);
    options.resources = {{"gpu", 1}};
    auto runner = kiln::runners::make_thread_runner(options);
    Result r = run_with(*runner, p);
    REQUIRE_MESSAGE(r.outcome.ok(), (r.outcome.failures.empty() ? "" : r.outcome.failures[0].message));
    CHECK(ran == 12);
    CHECK(gpu_max == 1);
}

TEST_CASE("thread.setup_errors_come_before_any_node") {
    const Pure& f = pure();
    struct Count : NodeObserver {
        std::atomic<int> started{0};
        unsigned listens_to() const noexcept override { return node_progress; }
        void node_started(std::size_t, unsigned) override { ++started; }
        void node_finished(std::size_t, unsigned, const NodeFailure*) override {}
    } count;
    Pipeline p({node("s", f.src, {"params:p0"}, {"x"}), node("train", f.f1, {"x"}, {"m"}, {{"gpu", 2}})});
    RunnerOptions capped = with_workers(2);
    capped.resources = {{"gpu", 1}};
    auto msg = error_of([&] { run_with(*kiln::runners::make_thread_runner(capped), p, &count); });
    CHECK(msg.find("node 'train' needs gpu=2 but the cap is gpu=1") != std::string::npos);
    CHECK(error_of([&] { run_with(*kiln::runners::make_thread_runner(with_workers(0)), p, &count); }) ==
          "max_workers should be positive (got 0)");
    CHECK(count.started == 0);
}

TEST_CASE("thread.throwing_observer_fails_the_node_without_escaping") {
    const Pure& f = pure();
    struct Throwing : NodeObserver {
        const Pipeline* p = nullptr;
        unsigned listens_to() const noexcept override { return node_progress; }
        void node_started(std::size_t i, unsigned) override {
            if (p->nodes()[i].name == "b") throw std::runtime_error("hook refused b");
        }
        void node_finished(std::size_t i, unsigned, const NodeFailure* failure) override {
            if (!failure && p->nodes()[i].name == "c") throw std::runtime_error("hook refused c");
        }
    } observer;
    Pipeline p({node("a", f.src, {"params:p0"}, {"x"}), node("b", f.f1, {"x"}, {"y"}), node("c", f.f1, {"x"}, {"z"}),
                node("d", f.f1, {"y"}, {"v"})});
    observer.p = &p;
    for (int workers : {1, 2}) {
        auto runner = kiln::runners::make_thread_runner(with_workers(workers, true));
        Result r = run_with(*runner, p, &observer);
        std::set<std::string> messages;
        for (const auto& fl : r.outcome.failures) messages.insert(fl.message);
        CHECK(messages == std::set<std::string>{"hook refused b", "hook refused c"});
        CHECK(r.outcome.done[*p.node_index("d")] == 0);
    }
}

namespace {

// Sends the default logger to a string at info level for the life of the object.
class LogCapture {
public:
    LogCapture() : saved_(spdlog::default_logger()) {
        auto logger = std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(out_));
        logger->set_level(spdlog::level::info);
        spdlog::set_default_logger(logger);
    }
    ~LogCapture() { spdlog::set_default_logger(saved_); }
    std::string text() const { return out_.str(); }

private:
    std::ostringstream out_;
    std::shared_ptr<spdlog::logger> saved_;
};

}  // namespace

TEST_CASE("thread.logs_progress_and_ignores_async") {
    const Pure& f = pure();
    Pipeline p({node("s", f.src, {"params:p0"}, {"x"}), node("b", f.f1, {"x"}, {"y"}), node("c", f.f1, {"x"}, {"z"})});
    std::string text;
    {
        LogCapture capture;
        RunnerOptions options = with_workers(2);
        options.is_async = true;
        auto runner = kiln::runners::make_thread_runner(options);
        CHECK(run_with(*runner, p).outcome.ok());
        text = capture.text();
    }
    CHECK(text.find("ThreadRunner doesn't support loading and saving the node inputs and outputs asynchronously") !=
          std::string::npos);
    CHECK(text.find("Completed node: s") != std::string::npos);
    CHECK(text.find("Completed node: c") != std::string::npos);
    CHECK(text.find("Completed 1 out of 3 tasks") != std::string::npos);
    CHECK(text.find("Completed 3 out of 3 tasks") != std::string::npos);
}

TEST_CASE("thread.factory_names") {
    auto r = kiln::runners::make_builtin_runner("ThreadRunner", {});
    REQUIRE(r);
    CHECK(r->name() == "ThreadRunner");
    CHECK(kiln::runners::make_builtin_runner("kiln.ThreadRunner", {})->name() == "ThreadRunner");
    auto names = kiln::runners::builtin_runner_names();
    CHECK(std::find(names.begin(), names.end(), "ThreadRunner") != names.end());
}

}  // namespace thread_runner_test_cases
