// What the ParallelRunner refuses before starting any worker, and its start methods.
#include <doctest/doctest.h>

#include "project_builder.hpp"

using namespace kiln::test;

namespace parallel_validation_test_cases {

TEST_CASE("parallel.refuses_what_cannot_cross_processes_all_at_once") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "make", "func": "testnodes.seed", "outputs": "x"},
        {"name": "open", "func": "testnodes.open_handle", "inputs": "x", "outputs": "handle"},
        {"name": "use", "func": "testnodes.use_handle", "inputs": "handle", "outputs": "local"},
        {"name": "after", "func": "testnodes.identity", "inputs": "local", "outputs": "y"}
    ]}}})");
    p.catalog(R"({"local": {"type": "testnodes.LocalDataset"}})");
    auto r = p.run({"--parallel"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("ParallelRunner cannot run this pipeline in worker processes"));
    CHECK(r.contains("dataset 'local': its type testnodes.LocalDataset is single-process"));
    CHECK(r.contains("dataset 'handle': values of type 'testnodes.Handle' cannot leave their process"));
    CHECK(r.contains("--runner ThreadRunner"));

    // The same pipeline is fine in one process.
    auto seq = p.run({});
    INFO(seq.output);
    CHECK(seq.exit_code == 0);
}

TEST_CASE("parallel.start_methods_give_identical_results") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "r", "func": "testnodes.range", "inputs": "params:n", "outputs": "v"},
        {"name": "s", "func": "testnodes.sum", "inputs": "v", "outputs": "total"},
        {"name": "m", "func": "testnodes.min_max", "inputs": "v", "outputs": ["lo", "hi"]}
    ]}}})");
    p.parameters(R"({"n": 1000})");
    for (const char* method : {"fork", "spawn"}) {
        auto r = p.run({"--parallel", "--start-method", method});
        INFO(method, r.output);
        REQUIRE(r.exit_code == 0);
        CHECK(r.contains(std::string("worker processes (") + (method[0] == 'f' ? "forked" : "spawned") + ")"));
        auto report = p.report();
        CHECK(report["outputs"]["total"] == 499500.0);
        CHECK(report["outputs"]["lo"] == 0.0);
        CHECK(report["outputs"]["hi"] == 999.0);
    }
    auto bad = p.run({"--parallel"}, {"KILN_START_METHOD=teleport"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.contains("unknown start method 'teleport'"));
}

}  // namespace parallel_validation_test_cases
