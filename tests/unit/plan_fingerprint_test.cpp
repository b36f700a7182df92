// The plan fingerprint that processes sharing a run compare (spawned ParallelRunner workers
// against their host, MpiRunner ranks against rank 0): the host's and the one a runner
// plugin computes through DistributedRunContext are the same, and any change to what the
// plan runs changes it.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "kiln/distributed.hpp"
#include "kiln/runner.hpp"
#include "kiln/sdk.hpp"
#include "plugins/registry.hpp"
#include "run/host_run_context.hpp"
#include "run/run_views.hpp"
#include "test_nodes.hpp"
#include "test_support.hpp"

using namespace kiln::core;
using kiln::test::TempDir;

namespace plan_fingerprint_test_cases {

namespace {

Registry& fingerprint_registry() {
    static Registry* r = [] {
        auto* reg = new Registry();
        reg->add_builtin("fp", "1", [](kiln::Registrar& g) {
            g.node("seed", [] { return 1.0; });
            g.node("seed_int", [] { return std::int64_t{1}; });
            g.node("inc", [](double a) { return a + 1; });
            g.node("dec", [](double a) { return a - 1; });
            g.node("add", [](double a, double b) { return a + b; });
        });
        return reg;
    }();
    return *r;
}

Node node(const std::string& name, const std::string& func, std::vector<std::string> in, std::vector<std::string> out) {
    return kiln::test::make_node(fingerprint_registry(), name, "fp." + func, std::move(in), std::move(out));
}

struct Plan {
    TempDir dir;
    Pipeline pipeline;
    DataCatalog catalog;
    RunPlan plan;
    explicit Plan(std::vector<Node> nodes)
        : pipeline(std::move(nodes)),
          catalog(std::map<std::string, CatalogEntry>{}, Parameters(nlohmann::json::object()), dir.path(),
                  fingerprint_registry()),
          plan(pipeline, catalog, "run-1") {}
    std::string host() const { return plan_fingerprint(plan); }
    // What a distributed runner plugin computes in its run().
    std::string runner_side() {
        HostRunContext ctx(plan, nullptr, RunnerOptions{}, "test.Runner");
        return ctx.distributed().plan_fingerprint();
    }
};

std::vector<Node> diamond() {
    return {node("s", "seed", {}, {"a"}), node("up", "inc", {"a"}, {"b"}), node("down", "dec", {"a"}, {"c"}),
            node("join", "add", {"b", "c"}, {"d"})};
}

}  // namespace

TEST_CASE("plan_fingerprint.host_and_distributed_runner_agree") {
    Plan p(diamond());
    CHECK(p.host() == p.runner_side());
    CHECK(p.host().rfind("4-", 0) == 0);  // the node count leads, so a mismatch reads easily
    CHECK(Plan(diamond()).host() == p.host());
}

TEST_CASE("plan_fingerprint.changes_with_what_the_plan_runs") {
    const std::string base = Plan(diamond()).host();
    SUBCASE("a node's function") {
        auto nodes = diamond();
        nodes[1] = node("up", "dec", {"a"}, {"b"});
        CHECK(Plan(nodes).host() != base);
    }
    SUBCASE("the order of a node's inputs") {
        auto nodes = diamond();
        nodes[3] = node("join", "add", {"c", "b"}, {"d"});
        CHECK(Plan(nodes).host() != base);
    }
    SUBCASE("a dataset's name") {
        auto nodes = diamond();
        nodes[3] = node("join", "add", {"b", "c"}, {"e"});
        CHECK(Plan(nodes).host() != base);
    }
    SUBCASE("a node's name") {
        auto nodes = diamond();
        nodes[0] = node("s2", "seed", {}, {"a"});
        CHECK(Plan(nodes).host() != base);
    }
    SUBCASE("a value's type") {
        Plan doubles({node("s", "seed", {}, {"a"})});
        Plan ints({node("s", "seed_int", {}, {"a"})});
        // Same node and dataset names; only the function and its result type differ.
        CHECK(doubles.host() != ints.host());
        CHECK(ints.host() == ints.runner_side());
    }
}

}  // namespace plan_fingerprint_test_cases
