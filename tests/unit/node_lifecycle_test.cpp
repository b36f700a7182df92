// The one node lifecycle and the ready set every runner goes through (HostRunContext):
// contract refusals naming the runner, observers told once per node (each event, in the
// one stream, only to those that listen to it), remote nodes, and a ready set that reads
// each node's outcome from the lifecycle rather than trusting the runner. Also the
// IndexSet walk the ready set's candidates() uses.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "kiln/runner.hpp"
#include "kiln/sdk.hpp"
#include "plugins/registry.hpp"
#include "run/host_run_context.hpp"
#include "run/node_event_stream.hpp"
#include "test_nodes.hpp"
#include "test_support.hpp"

using namespace kiln::core;
using kiln::ReadySet;
using kiln::test::error_of;
using kiln::test::TempDir;

namespace node_lifecycle_test_cases {

namespace {

Registry& lifecycle_registry() {
    static Registry* r = [] {
        auto* reg = new Registry();
        reg->add_builtin("lc", "1", [](kiln::Registrar& g) {
            g.node("src", [] { return 1.0; });
            g.node("inc", [](double a) { return a + 1; });
            g.node("boom", [](double) -> double { throw std::runtime_error("kaboom"); });
        });
        return reg;
    }();
    return *r;
}

Node node(const std::string& name, const std::string& func, std::vector<std::string> in, std::vector<std::string> out,
          nlohmann::json resources = nullptr) {
    Node n = kiln::test::make_node(lifecycle_registry(), name, "lc." + func, std::move(in), std::move(out));
    n.resources = std::move(resources);
    return n;
}

// Counts what observers hear, per node.
struct Counter : NodeObserver {
    std::vector<int> started, finished, failed;
    explicit Counter(std::size_t n) : started(n), finished(n), failed(n) {}
    unsigned listens_to() const noexcept override { return node_progress; }
    void node_started(std::size_t i, unsigned) override { ++started[i]; }
    void node_finished(std::size_t i, unsigned, const NodeFailure* f) override { ++(f ? failed : finished)[i]; }
};

struct Run {
    TempDir dir;
    Pipeline pipeline;
    DataCatalog catalog;
    RunPlan plan;
    Counter observer;
    NodeEventStream events;
    HostRunContext ctx;
    Run(std::vector<Node> nodes, RunnerOptions options = {})
        : pipeline(std::move(nodes)), catalog(std::map<std::string, CatalogEntry>{}, Parameters(nlohmann::json::object()), dir.path(), lifecycle_registry()),
          plan(pipeline, catalog, "run-1"), observer(pipeline.size()), events{&observer},
          ctx(plan, &events, options, "test.Runner") {}
    std::size_t at(const std::string& name) const { return *pipeline.node_index(name); }
};

// src -> a -> inc1 -> b -> inc2 -> c;  src2 -> d (independent)
std::vector<Node> chain() {
    return {node("src", "src", {}, {"a"}), node("inc1", "inc", {"a"}, {"b"}), node("inc2", "inc", {"b"}, {"c"}),
            node("src2", "src", {}, {"d"})};
}

}  // namespace

TEST_CASE("lifecycle.refusals_name_the_runner_and_fail_the_run") {
    Run r(chain());
    std::string error;
    CHECK_FALSE(r.ctx.run_node(r.at("inc1"), 0, &error));
    CHECK(error == "runner test.Runner started node 'inc1' before its dependency 'src' completed");
    CHECK(r.observer.failed[r.at("inc1")] == 1);
    CHECK(r.ctx.run_node(r.at("src"), 0, &error));
    CHECK_FALSE(r.ctx.run_node(r.at("src"), 0, &error));
    CHECK(error == "runner test.Runner ran node 'src' twice");
    CHECK(r.observer.started[r.at("src")] == 1);
    CHECK(r.observer.finished[r.at("src")] == 1);
    CHECK_FALSE(r.ctx.run_node(99, 0, &error));
    CHECK(error == "runner test.Runner asked to run node 99 of a pipeline of 4 nodes");
    RunOutcome o = r.ctx.outcome();
    CHECK(o.done[r.at("src")] == 1);
    REQUIRE(o.failures.size() == 1);
    CHECK(o.failures[0].node == r.at("inc1"));
    CHECK(o.runner_error == "runner test.Runner ran node 'src' twice");
}

TEST_CASE("lifecycle.a_node_failure_is_recorded_once_with_the_node_named") {
    Run r({node("src", "src", {}, {"a"}), node("bad", "boom", {"a"}, {"b"})});
    CHECK(r.ctx.run_node(0, 0, nullptr));
    std::string error;
    CHECK_FALSE(r.ctx.run_node(1, 3, &error));
    CHECK(error.find("kaboom") != std::string::npos);
    CHECK(error.find("'bad'") != std::string::npos);
    CHECK(r.observer.failed[1] == 1);
    CHECK(r.observer.finished[1] == 0);
    // A late remote report for it changes nothing.
    CHECK_FALSE(r.ctx.remote_finished(1, 3, nullptr, 0));
    RunOutcome o = r.ctx.outcome();
    REQUIRE(o.failures.size() == 1);
    CHECK(o.runner_error.empty());
}

TEST_CASE("lifecycle.remote_nodes_go_through_the_same_checks_and_observers") {
    Run r(chain());
    std::string error;
    CHECK(r.ctx.remote_started(r.at("src"), 1, &error));
    CHECK(r.observer.started[r.at("src")] == 1);
    CHECK(r.ctx.remote_finished(r.at("src"), 1, nullptr, 0));
    CHECK(r.observer.finished[r.at("src")] == 1);
    CHECK(r.ctx.remote_started(r.at("src2"), 2, &error));
    const std::string why = "node 'src2' crashed: worker killed";
    CHECK_FALSE(r.ctx.remote_finished(r.at("src2"), 2, &why, 0));
    CHECK(r.observer.failed[r.at("src2")] == 1);
    // Started and never finished: the runner broke its contract.
    CHECK(r.ctx.remote_started(r.at("inc1"), 1, &error));
    RunOutcome o = r.ctx.outcome();
    CHECK(o.runner_error == "runner test.Runner returned while node 'inc1' had not finished");
    REQUIRE(o.failures.size() == 1);
    CHECK(o.failures[0].message == why);
}

namespace {

// Writes each event it hears as one line, "tag event node [dataset value|null]"; throws
// from before_node when `refuse` is set.
struct Recorder : NodeObserver {
    std::vector<std::string>& log;
    std::string tag;
    unsigned groups;
    bool refuse = false;
    Recorder(std::vector<std::string>& l, std::string t, unsigned g) : log(l), tag(std::move(t)), groups(g) {}
    unsigned listens_to() const noexcept override { return groups; }
    void put(const std::string& event, std::size_t node, const std::string& rest = "") {
        log.push_back(tag + " " + event + " " + std::to_string(node) + rest);
    }
    static std::string io(const std::string& dataset, const kiln::Value* data) {
        return " " + dataset + (data ? " value" : " null");
    }
    void node_started(std::size_t n, unsigned) override { put("started", n); }
    void node_finished(std::size_t n, unsigned, const NodeFailure* f) override { put(f ? "failed" : "finished", n); }
    void before_load(std::size_t n, const std::string& d) override { put("before_load", n, " " + d); }
    void after_load(std::size_t n, const std::string& d, const kiln::Value* v) override { put("after_load", n, io(d, v)); }
    void before_save(std::size_t n, const std::string& d, const kiln::Value* v) override { put("before_save", n, io(d, v)); }
    void after_save(std::size_t n, const std::string& d, const kiln::Value* v) override { put("after_save", n, io(d, v)); }
    void before_node(std::size_t n, unsigned, std::span<const kiln::NamedValue>) override {
        put("before_node", n);
        if (refuse) throw std::runtime_error("refused");
    }
    void after_node(std::size_t n, unsigned, std::span<const kiln::NamedValue>, std::span<const kiln::NamedValue>,
                    std::uint64_t rss) override {
        put("after_node", n, " rss=" + std::to_string(rss));
    }
    void node_error(std::size_t n, unsigned, std::span<const kiln::NamedValue>, const std::string& e,
                    std::uint64_t) noexcept override {
        put("node_error", n, " " + e);
    }
};

}  // namespace

TEST_CASE("lifecycle.one_stream_tells_each_group_to_its_listeners_in_order") {
    Run r({node("src", "src", {}, {"a"}), node("inc1", "inc", {"a"}, {"b"})});
    std::vector<std::string> log;
    Recorder all(log, "all", NodeObserver::node_progress | NodeObserver::dataset_io | NodeObserver::node_run);
    Recorder progress(log, "p", NodeObserver::node_progress);
    Recorder io(log, "io", NodeObserver::dataset_io);
    const NodeEventStream events{&all, nullptr, &progress, &io};
    HostRunContext ctx(r.plan, &events, {}, "test.Runner");
    CHECK(ctx.run_node(0, 0, nullptr));  // here: the values
    CHECK(ctx.remote_started(1, 2, nullptr));  // elsewhere: names only
    CHECK(ctx.remote_finished(1, 2, nullptr, 7));
    CHECK(log == std::vector<std::string>{
                     "all started 0", "p started 0",  //
                     "all before_node 0", "all after_node 0 rss=0",  //
                     "all before_save 0 a value", "io before_save 0 a value",  //
                     "all after_save 0 a value", "io after_save 0 a value",  //
                     "all finished 0", "p finished 0",  //
                     "all started 1", "p started 1",  //
                     "all before_load 1 a", "io before_load 1 a", "all after_load 1 a null", "io after_load 1 a null",
                     "all before_node 1", "all after_node 1 rss=7",  //
                     "all before_save 1 b null", "io before_save 1 b null",  //
                     "all after_save 1 b null", "io after_save 1 b null",  //
                     "all finished 1", "p finished 1"});
}

TEST_CASE("lifecycle.an_observer_failing_before_a_node_fails_it_here_and_elsewhere") {
    Run r({node("src", "src", {}, {"a"}), node("src2", "src", {}, {"d"})});
    std::vector<std::string> log;
    Recorder hooks(log, "h", NodeObserver::node_run);
    Recorder progress(log, "p", NodeObserver::node_progress);
    hooks.refuse = true;
    const NodeEventStream events{&hooks, &progress};
    HostRunContext ctx(r.plan, &events, {}, "test.Runner");
    std::string error;
    CHECK_FALSE(ctx.run_node(0, 0, &error));
    CHECK(error == "refused");
    CHECK_FALSE(ctx.remote_started(1, 1, &error));
    CHECK(error == "refused");
    CHECK(log == std::vector<std::string>{"p started 0", "h before_node 0", "h node_error 0 refused", "p failed 0",
                                          "p started 1", "h before_node 1", "h node_error 1 refused", "p failed 1"});
    CHECK(ctx.outcome().failures.size() == 2);
}

TEST_CASE("lifecycle.ready_set_reads_outcomes_from_the_lifecycle") {
    SUBCASE("fail fast") {
        Run r({node("src", "src", {}, {"a"}), node("bad", "boom", {"a"}, {"b"}), node("after", "inc", {"b"}, {"c"}),
               node("other", "inc", {"a"}, {"d"})});
        ReadySet& ready = r.ctx.ready_set();
        CHECK(&ready == &r.ctx.ready_set());
        std::size_t i = ready.next();
        CHECK(i == r.at("src"));
        CHECK(ready.next() == ReadySet::none);  // nothing else is ready yet
        r.ctx.run_node(i, 0, nullptr);
        ready.settle(i);
        ready.settle(i);  // twice: no effect
        CHECK(ready.running() == 0);
        const std::size_t bad = ready.next();
        CHECK(bad == r.at("bad"));
        r.ctx.run_node(bad, 0, nullptr);
        ready.settle(bad);
        // The failure stops the run: "other" never starts although it is ready.
        CHECK(ready.next() == ReadySet::none);
        CHECK(ready.finished());
    }
    SUBCASE("keep going") {
        RunnerOptions options;
        options.keep_going = true;
        Run r({node("src", "src", {}, {"a"}), node("bad", "boom", {"a"}, {"b"}), node("after", "inc", {"b"}, {"c"}),
               node("other", "inc", {"a"}, {"d"})},
              options);
        ReadySet& ready = r.ctx.ready_set();
        std::vector<std::string> ran;
        for (std::size_t i; (i = ready.next()) != ReadySet::none;) {
            r.ctx.run_node(i, 0, nullptr);
            ready.settle(i);
            ran.push_back(r.pipeline.nodes()[i].name);
        }
        CHECK(ran == std::vector<std::string>{"src", "bad", "other"});
        CHECK(ready.finished());
    }
    SUBCASE("a node settled before it finished stays running") {
        Run r(chain());
        ReadySet& ready = r.ctx.ready_set();
        const std::size_t i = ready.next();
        CHECK(r.ctx.remote_started(i, 1, nullptr));
        ready.settle(i);  // too early: the lifecycle still has it running
        CHECK(ready.running() == 1);
        CHECK_FALSE(ready.finished());
        CHECK(r.ctx.remote_finished(i, 1, nullptr, 0));
        ready.settle(i);
        CHECK(ready.running() == 0);
    }
    SUBCASE("given back, a node is offered again") {
        Run r(chain());
        ReadySet& ready = r.ctx.ready_set();
        const std::size_t first = ready.next();
        ready.give_back(first);
        CHECK(ready.running() == 0);
        CHECK(ready.next() == first);
    }
}

TEST_CASE("lifecycle.ready_set_candidates_and_take_honour_the_caps") {
    RunnerOptions options;
    options.resources = {{"gpu", 1}};
    Run r({node("g1", "src", {}, {"a"}, {{"gpu", 1}}), node("c1", "src", {}, {"b"}), node("g2", "src", {}, {"c"}, {{"gpu", 1}}),
           node("c2", "src", {}, {"d"})},
          options);
    CHECK(r.ctx.settings().resources.size() == 1);
    CHECK(r.ctx.settings().resources[0].name == "gpu");
    CHECK(r.ctx.settings().resources[0].cap == 1);
    ReadySet& ready = r.ctx.ready_set();
    std::size_t out[8];
    REQUIRE(ready.candidates(out, 8) == 4);
    CHECK(ready.take(r.at("g2")));
    CHECK_FALSE(ready.take(r.at("g2")));  // already started
    // With the GPU taken, g1 is no candidate, and cannot be taken.
    const std::size_t n = ready.candidates(out, 8);
    std::set<std::size_t> offered(out, out + n);
    CHECK(offered == std::set<std::size_t>{r.at("c1"), r.at("c2")});
    CHECK_FALSE(ready.take(r.at("g1")));
    CHECK(ready.candidates(out, 1) == 1);  // the limit holds
    CHECK(r.ctx.run_node(r.at("g2"), 0, nullptr));
    ready.settle(r.at("g2"));
    CHECK(ready.take(r.at("g1")));
}

TEST_CASE("lifecycle.a_cap_a_node_can_never_fit_is_refused_before_the_run") {
    RunnerOptions options;
    options.resources = {{"gpu", 1}};
    TempDir dir;
    Pipeline p({node("train", "src", {}, {"a"}, {{"gpu", 2}})});
    DataCatalog catalog(std::map<std::string, CatalogEntry>{}, Parameters(nlohmann::json::object()), dir.path(), lifecycle_registry());
    RunPlan plan(p, catalog, "run-1");
    CHECK(error_of([&] { HostRunContext ctx(plan, nullptr, options, "x"); }).find("node 'train' needs gpu=2 but the cap is gpu=1") !=
          std::string::npos);
}

TEST_CASE("lifecycle.index_set_walks_members_in_order") {
    std::mt19937 rng(7);
    for (std::size_t n : {1u, 63u, 64u, 65u, 4096u, 300000u}) {
        IndexSet s;
        s.reset(n);
        std::set<std::size_t> want;
        std::uniform_int_distribution<std::size_t> pick(0, n - 1);
        for (std::size_t k = 0; k < std::min<std::size_t>(n, 500); ++k) {
            const std::size_t i = pick(rng);
            if (want.insert(i).second) s.insert(i);
        }
        std::vector<std::size_t> got;
        for (std::size_t i = s.lowest_from(0); i != IndexSet::npos; i = s.lowest_from(i + 1)) got.push_back(i);
        CHECK(got == std::vector<std::size_t>(want.begin(), want.end()));
        for (std::size_t i : want) CHECK(s.contains(i));
        CHECK(s.lowest_from(n) == IndexSet::npos);
    }
}

}  // namespace node_lifecycle_test_cases
