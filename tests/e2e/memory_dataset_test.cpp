// kiln.MemoryDataset catalog entries (Kedro's MemoryDataset): declared in catalog.json,
// optionally preset with "data", never persisted, so --only-missing-outputs and the resume
// suggestion treat them as in-memory values; the same under every runner.
#include <doctest/doctest.h>

#include "project_builder.hpp"

using namespace kiln::test;
using nlohmann::json;

namespace memory_dataset_test_cases {

namespace {

const std::vector<std::vector<std::string>>& runners() {
    static const std::vector<std::vector<std::string>> all = {
        {}, {"--runner", "ThreadRunner", "--max-workers", "2"}, {"--parallel", "--max-workers", "2"},
        {"--parallel", "--max-workers", "2", "--start-method", "spawn"}};
    return all;
}

}  // namespace

TEST_CASE("memory_dataset.preset_data_feeds_a_node_under_every_runner") {
    for (const auto& runner : runners()) {
        Project p;
        p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
            {"name": "flip", "func": "testnodes.neg", "inputs": "x", "outputs": "m"},
            {"name": "twice", "func": "testnodes.add", "inputs": ["m", "m"], "outputs": "y"}
        ]}}})");
        p.catalog(R"({"x": {"type": "kiln.MemoryDataset", "data": 5},
                      "m": {"type": "kiln.MemoryDataset"},
                      "y": {"type": "kiln.JsonDataset", "filepath": "data/y.json"}})");
        auto r = p.run(runner);
        INFO(r.output);
        CHECK(r.exit_code == 0);
        CHECK(p.json_file("data/y.json") == -10.0);
        CHECK_FALSE(p.exists("m"));
    }
}

TEST_CASE("memory_dataset.only_missing_outputs_reruns_the_producer_of_a_declared_memory_dataset") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "load", "func": "testnodes.seed", "outputs": "a"},
        {"name": "prep", "func": "testnodes.neg", "inputs": "a", "outputs": "m"},
        {"name": "fin", "func": "testnodes.identity", "inputs": "m", "outputs": "out"}
    ]}}})");
    p.catalog(R"({"a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"},
                  "m": {"type": "kiln.MemoryDataset"},
                  "out": {"type": "kiln.JsonDataset", "filepath": "data/out.json"}})");
    p.write("data/a.json", "1\n");
    auto r = p.run({"--only-missing-outputs"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    // out is missing, so fin runs; m is only in memory, so prep runs too; a exists.
    CHECK(p.ran_nodes() == Names{"prep", "fin"});
    CHECK(p.json_file("data/out.json") == -1.0);
}

TEST_CASE("memory_dataset.resume_hint_goes_back_to_the_producer") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "load", "func": "testnodes.seed", "outputs": "a"},
        {"name": "prep", "func": "testnodes.neg", "inputs": "a", "outputs": "m"},
        {"name": "boom", "func": "testnodes.fail", "inputs": "m", "outputs": "out"}
    ]}}})");
    p.catalog(R"({"a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"},
                  "m": {"type": "kiln.MemoryDataset"}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("--from-nodes \"prep\""));
}

TEST_CASE("memory_dataset.free_input_without_data_is_refused") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "flip", "func": "testnodes.neg", "inputs": "x", "outputs": "y"}
    ]}}})");
    p.catalog(R"({"x": {"type": "kiln.MemoryDataset"}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("'x' (a kiln.MemoryDataset with no \"data\", and no node produces it)"));
    CHECK_FALSE(r.contains("Running node"));
}

TEST_CASE("memory_dataset.bad_data_and_unknown_arguments_name_the_entry") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "flip", "func": "testnodes.neg", "inputs": "x", "outputs": "y"}
    ]}}})");
    p.catalog(R"({"x": {"type": "kiln.MemoryDataset", "data": "five"}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("catalog entry 'x' (kiln.MemoryDataset): \"data\" \"five\" cannot be read as 'f64'"));

    p.catalog(R"({"x": {"type": "kiln.MemoryDataset", "data": 1, "filepath": "x.json"}})");
    r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("has an unknown argument \"filepath\""));
}

// A plugin dataset type that declares `static constexpr bool persists = false` is treated
// like kiln.MemoryDataset by --only-missing-outputs and --resume, although it has a file.
TEST_CASE("memory_dataset.a_type_that_does_not_persist_is_never_relied_on") {
    auto scratch_project = [](Project& p, const std::string& last) {
        p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
            {"name": "load", "func": "testnodes.seed", "outputs": "a"},
            {"name": "prep", "func": "testnodes.neg", "inputs": "a", "outputs": "s"},
            {"name": "fin", "func": "testnodes.)" + last + R"(", "inputs": "s", "outputs": "out"}
        ]}}})");
        p.catalog(R"({"a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"},
                      "s": {"type": "testnodes.ScratchDataset", "filepath": "data/s.json"},
                      "out": {"type": "kiln.JsonDataset", "filepath": "data/out.json"}})");
    };
    SUBCASE("--only-missing-outputs") {
        Project p;
        scratch_project(p, "identity");
        p.write("data/a.json", "1\n");
        p.write("data/s.json", "-1\n");  // there, but not to be relied on
        auto r = p.run({"--only-missing-outputs"});
        INFO(r.output);
        CHECK(r.exit_code == 0);
        CHECK(p.ran_nodes() == Names{"prep", "fin"});
        CHECK(p.json_file("data/out.json") == -1.0);
    }
    SUBCASE("resume") {
        Project p;
        scratch_project(p, "fail");
        auto r = p.run();
        INFO(r.output);
        CHECK(r.exit_code == 1);
        CHECK(p.exists("data/s.json"));
        // prep saved s, but its type does not persist: the rest starts from prep.
        CHECK(r.contains("--from-nodes \"prep\""));
    }
}

}  // namespace memory_dataset_test_cases
