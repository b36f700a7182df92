// The Scheduler the concurrent runners share: readiness without layer barriers, pipeline
// order among ready nodes, resource caps, fail fast versus keep going, worker counts.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kiln/error.hpp"
#include "model/pipeline.hpp"
#include "run/scheduler.hpp"
#include "test_support.hpp"

using kiln::core::Node;
using kiln::core::Pipeline;
using kiln::core::Scheduler;
using kiln::core::workers_for;
using kiln::test::error_of;
using Names = std::vector<std::string>;

namespace scheduler_test_cases {

namespace {

// Nodes need no function for scheduling: only names, datasets and resources matter.
Node node(std::string name, Names inputs, Names outputs, nlohmann::json resources = nullptr) {
    Node n;
    n.name = std::move(name);
    n.inputs = std::move(inputs);
    n.outputs = std::move(outputs);
    n.resources = std::move(resources);
    return n;
}

struct Driver {
    const Pipeline& p;
    Scheduler s;
    Driver(const Pipeline& pipeline, std::map<std::string, double> caps = {}, bool keep_going = false)
        : p(pipeline), s(pipeline, caps, keep_going) {}

    std::size_t index(const std::string& name) const { return *p.node_index(name); }
    // The name of the next node to start, "" when none.
    std::string next() {
        auto i = s.next();
        return i ? p.nodes()[*i].name : std::string();
    }
    // Every node that can start now, in the order next() hands them out.
    Names drain() {
        Names out;
        for (auto n = next(); !n.empty(); n = next()) out.push_back(n);
        return out;
    }
    void ok(const std::string& name) { s.succeeded(index(name)); }
    void fail(const std::string& name) { s.failed(index(name)); }
    Names not_run() const {
        Names out;
        for (auto i : s.not_run()) out.push_back(p.nodes()[i].name);
        return out;
    }
};

}  // namespace

TEST_CASE("scheduler.readiness.no_layer_barrier") {
    // Layers: {a1, b1} {a2} {a3}. a2 starts as soon as a1 is done, while b1 still runs.
    Pipeline p({node("a1", {}, {"x"}), node("a2", {"x", "x"}, {"y"}), node("a3", {"y"}, {"z"}), node("b1", {}, {"w"})});
    Driver d(p);
    CHECK(d.drain() == Names{"a1", "b1"});
    d.ok("a1");
    CHECK(d.drain() == Names{"a2"});  // reads x twice: one dependency, not two
    d.ok("a2");
    CHECK(d.drain() == Names{"a3"});
    CHECK(d.s.running() == 2);
    d.ok("a3");
    CHECK_FALSE(d.s.finished());
    d.ok("b1");
    CHECK(d.s.finished());
    CHECK(d.not_run().empty());
    CHECK_FALSE(d.s.any_failed());
}

TEST_CASE("scheduler.order.pipeline_order_among_ready_nodes") {
    // p and q in layer 0; pa (from p) sorts before qa (from q). qa becomes ready first,
    // but once both are ready the lower index goes first.
    Pipeline p({node("p", {}, {"x"}), node("q", {}, {"y"}), node("qa", {"y"}, {"y2"}), node("pa", {"x"}, {"x2"}),
                node("r", {}, {"z"}), node("rc", {"z"}, {}), node("rb", {"z"}, {}), node("ra", {"z"}, {})});
    Driver d(p);
    CHECK(d.drain() == Names{"p", "q", "r"});
    d.ok("q");
    d.ok("p");
    d.ok("r");
    CHECK(d.drain() == Names{"pa", "qa", "ra", "rb", "rc"});
}

TEST_CASE("scheduler.empty_pipeline_is_finished") {
    Pipeline p;
    Driver d(p);
    CHECK(d.s.finished());
    CHECK_FALSE(d.s.next());
    CHECK(d.not_run().empty());
}

TEST_CASE("scheduler.resources.gpu_node_runs_alone_while_cpu_nodes_proceed") {
    // All in layer 0, in this order: the second GPU node does not fit while the first
    // runs, and must not hold back the CPU nodes after it.
    Pipeline p({node("a_gpu", {}, {"a"}, {{"gpu", 1}}), node("b_gpu", {}, {"b"}, {{"gpu", 1}, {"mem", 64}}),
                node("c_cpu", {}, {"c"}), node("d_cpu", {}, {"d"}, {{"mem", 1000}}),
                node("e_gpu", {"c"}, {"e"}, {{"gpu", 1}})});
    Driver d(p, {{"gpu", 1}});  // mem has no cap: unlimited
    CHECK(d.drain() == Names{"a_gpu", "c_cpu", "d_cpu"});
    d.ok("c_cpu");  // e_gpu is ready too, but the GPU is taken
    CHECK(d.drain().empty());
    d.ok("a_gpu");
    CHECK(d.drain() == Names{"b_gpu"});  // pipeline order among the waiting GPU nodes
    d.ok("b_gpu");
    CHECK(d.drain() == Names{"e_gpu"});
    d.ok("e_gpu");
    d.ok("d_cpu");
    CHECK(d.s.finished());
}

TEST_CASE("scheduler.resources.fractional_needs_share_a_cap") {
    Pipeline p({node("a", {}, {"a"}, {{"gpu", 0.5}}), node("b", {}, {"b"}, {{"gpu", 0.5}}),
                node("c", {}, {"c"}, {{"gpu", 0.5}}), node("d", {}, {"d"}, {{"gpu", 0}})});
    Driver d(p, {{"gpu", 1}});
    CHECK(d.drain() == Names{"a", "b", "d"});  // a need of 0 always fits
    d.ok("b");
    CHECK(d.drain() == Names{"c"});
}

TEST_CASE("scheduler.resources.need_above_cap_could_never_run") {
    Pipeline p({node("ok", {}, {"a"}), node("train", {"a"}, {"m"}, {{"gpu", 2}})});
    auto msg = error_of([&] { Scheduler s(p, {{"gpu", 1}}, false); });
    CHECK(msg.find("node 'train'") != std::string::npos);
    CHECK(msg.find("gpu=2") != std::string::npos);
    CHECK(msg.find("cap is gpu=1") != std::string::npos);
    CHECK(msg.find("could never run") != std::string::npos);
    CHECK(msg.find("--resources gpu=2") != std::string::npos);
    CHECK_THROWS_AS(Scheduler(p, {{"gpu", 1}}, false), kiln::RunnerError);
    // Without a cap the same need is fine.
    CHECK_NOTHROW(Scheduler(p, {}, false));
}

TEST_CASE("scheduler.resources.bad_values_name_node_and_value") {
    auto msg_for = [](nlohmann::json resources) {
        Pipeline p({node("n1", {}, {"a"}, std::move(resources))});
        return error_of([&] { Scheduler s(p, {}, false); });
    };
    auto negative = msg_for({{"gpu", -1}});
    CHECK(negative.find("node 'n1'") != std::string::npos);
    CHECK(negative.find("\"gpu\" must be a non-negative number, got -1") != std::string::npos);
    CHECK(msg_for({{"gpu", "two"}}).find("got \"two\"") != std::string::npos);
    CHECK(msg_for({{"gpu", true}}).find("got true") != std::string::npos);
    auto not_object = msg_for(nlohmann::json::array({1, 2}));
    CHECK(not_object.find("node 'n1'") != std::string::npos);
    CHECK(not_object.find("must be an object of non-negative numbers") != std::string::npos);
    CHECK(not_object.find("got [1,2]") != std::string::npos);
    CHECK(msg_for(nlohmann::json::object()).empty());
    CHECK(msg_for(nullptr).empty());
}

namespace {

// a -> c -> e -> join ; b -> d -> join ; f (independent, starts late via g).
//   a: ->x   b: ->y   c: x->z   d: y->w   e: z->v   join: v,w->out   g: ->s   f: s->t
Pipeline branches() {
    return Pipeline({node("a", {}, {"x"}), node("b", {}, {"y"}), node("c", {"x"}, {"z"}), node("d", {"y"}, {"w"}),
                     node("e", {"z"}, {"v"}), node("join", {"v", "w"}, {"out"}), node("g", {}, {"s"}),
                     node("f", {"s"}, {"t"})});
}

}  // namespace

TEST_CASE("scheduler.fail_fast.starts_nothing_after_a_failure") {
    Pipeline p = branches();
    Driver d(p);
    CHECK(d.drain() == Names{"a", "b", "g"});
    d.fail("a");
    CHECK(d.s.any_failed());
    CHECK_FALSE(d.s.finished());  // b and g still run
    d.ok("b");
    CHECK(d.drain().empty());  // d is ready but the run has stopped
    d.ok("g");
    CHECK(d.drain().empty());
    CHECK(d.s.finished());
    auto nr = d.not_run();
    std::sort(nr.begin(), nr.end());
    CHECK(nr == Names{"c", "d", "e", "f", "join"});
}

TEST_CASE("scheduler.keep_going.skips_downstream_only") {
    Pipeline p = branches();
    Driver d(p, {}, true);
    CHECK(d.drain() == Names{"a", "b", "g"});
    d.fail("a");
    d.ok("b");
    d.ok("g");
    CHECK(d.drain() == Names{"d", "f"});  // c, e and join depend on a
    d.ok("d");  // join's other parent: it stays skipped
    CHECK(d.drain().empty());
    CHECK_FALSE(d.s.finished());
    d.fail("f");
    CHECK(d.s.finished());
    auto nr = d.not_run();
    std::sort(nr.begin(), nr.end());
    CHECK(nr == Names{"c", "e", "join"});
}

TEST_CASE("scheduler.keep_going.failure_frees_its_resources") {
    Pipeline p({node("a", {}, {"x"}, {{"gpu", 1}}), node("b", {}, {"y"}, {{"gpu", 1}}), node("c", {"x"}, {"z"})});
    Driver d(p, {{"gpu", 1}}, true);
    CHECK(d.drain() == Names{"a"});
    d.fail("a");
    CHECK(d.drain() == Names{"b"});
    d.ok("b");
    CHECK(d.s.finished());
    CHECK(d.not_run() == Names{"c"});
}

TEST_CASE("scheduler.unstart.hands_a_node_back") {
    Pipeline p({node("a", {}, {"x"}), node("b", {}, {"y"}, {{"gpu", 1}}), node("c", {}, {"z"}), node("d", {}, {"w"})});
    Driver d(p, {{"gpu", 1}});
    CHECK(d.drain() == Names{"a", "b", "c", "d"});
    d.s.unstart(d.index("b"));  // frees the GPU and is ready again
    d.s.unstart(d.index("c"));
    CHECK(d.s.running() == 2);
    CHECK(d.drain() == Names{"b", "c"});
    // A batch cut short by a failure: the nodes handed back count as never run.
    d.fail("a");
    d.s.unstart(d.index("b"));
    d.s.unstart(d.index("c"));
    CHECK(d.drain().empty());
    CHECK_FALSE(d.s.finished());
    d.ok("d");
    CHECK(d.s.finished());
    CHECK(d.not_run() == Names{"b", "c"});
}

TEST_CASE("scheduler.index_set.matches_std_set") {
    std::mt19937 rng(3);
    for (std::size_t n : {1u, 63u, 64u, 65u, 4096u, 4097u, 300000u}) {
        CAPTURE(n);
        kiln::core::IndexSet set;
        set.reset(n);
        std::set<std::size_t> model;
        for (int op = 0; op < 20000; ++op) {
            const std::size_t i = rng() % n;
            if (model.count(i)) {
                set.erase(i);
                model.erase(i);
            } else {
                set.insert(i);
                model.insert(i);
            }
            REQUIRE(set.size() == model.size());
            if (!model.empty()) REQUIRE(set.lowest() == *model.begin());
        }
        while (!model.empty()) {  // drain in order
            REQUIRE(set.lowest() == *model.begin());
            set.erase(*model.begin());
            model.erase(model.begin());
        }
        CHECK(set.empty());
    }
}

TEST_CASE("scheduler.random_dag.dependencies_always_finish_first") {
    // Random DAG, random completion order, several nodes in flight: every node starts
    // after all its producers succeeded, exactly once, and the run settles.
    std::mt19937 rng(7);
    const int n = 3000;
    std::vector<Node> nodes;
    for (int i = 0; i < n; ++i) {
        Names in;
        const int k = i == 0 ? 0 : static_cast<int>(rng() % 4);
        for (int j = 0; j < k; ++j) in.push_back("d" + std::to_string(i - 1 - static_cast<int>(rng() % std::min(i, 50))));
        std::sort(in.begin(), in.end());
        in.erase(std::unique(in.begin(), in.end()), in.end());
        nodes.push_back(node("n" + std::to_string(i), in, {"d" + std::to_string(i)},
                             rng() % 10 == 0 ? nlohmann::json{{"gpu", 1}} : nlohmann::json()));
    }
    Pipeline p(std::move(nodes));
    Scheduler s(p, {{"gpu", 2}}, false);
    std::vector<char> done(p.size(), 0);
    std::vector<std::size_t> in_flight;
    std::size_t started = 0;
    int gpu_in_use = 0;
    while (!s.finished()) {
        for (auto i = s.next(); i; i = s.next()) {
            for (auto d : p.nodes()[*i].input_ids) REQUIRE(done[p.producer_of(d)]);
            REQUIRE_FALSE(done[*i]);
            gpu_in_use += p.nodes()[*i].resources.is_null() ? 0 : 1;
            REQUIRE(gpu_in_use <= 2);
            in_flight.push_back(*i);
            ++started;
            if (in_flight.size() >= 8) break;
        }
        REQUIRE_FALSE(in_flight.empty());
        const std::size_t pick = rng() % in_flight.size();
        const std::size_t i = in_flight[pick];
        in_flight.erase(in_flight.begin() + static_cast<std::ptrdiff_t>(pick));
        done[i] = 1;
        gpu_in_use -= p.nodes()[i].resources.is_null() ? 0 : 1;
        s.succeeded(i);
    }
    CHECK(started == p.size());
    CHECK(s.not_run().empty());
}

TEST_CASE("scheduler.workers_for.kedro_rule") {
    // A pure chain can only ever run one node at a time: 1 worker whatever is asked.
    Pipeline chain({node("n1", {}, {"a"}), node("n2", {"a"}, {"b"}), node("n3", {"b"}, {"c"}), node("n4", {"c"}, {"d"})});
    CHECK(workers_for(chain, 8) == 1);
    CHECK(workers_for(chain, std::nullopt) == 1);
    // 4 nodes, 2 layers: at most 3 at once.
    Pipeline fan({node("r", {}, {"x"}), node("a", {"x"}, {"a"}), node("b", {"x"}, {"b"}), node("c", {"x"}, {"c"})});
    CHECK(workers_for(fan, 8) == 3);
    CHECK(workers_for(fan, 2) == 2);
    CHECK(workers_for(fan, 1) == 1);
    const std::size_t cpus = std::max(1u, std::thread::hardware_concurrency());
    CHECK(workers_for(fan, std::nullopt) == std::min<std::size_t>(cpus, 3));
    CHECK(workers_for(Pipeline(), 4) == 1);
}

TEST_CASE("scheduler.workers_for.must_be_positive") {
    Pipeline p({node("n1", {}, {"a"})});
    CHECK(error_of([&] { workers_for(p, 0); }) == "max_workers should be positive (got 0)");
    CHECK(error_of([&] { workers_for(p, -1); }) == "max_workers should be positive (got -1)");
    CHECK_THROWS_AS(workers_for(p, 0), kiln::RunnerError);
}

}  // namespace scheduler_test_cases
