// Versioned datasets ("versioned": true) end to end: each run saves under its own version
// folder, loads read the latest or the version --load-versions pins, a dataset saved and
// read in one run is read at this run's version, the report names the versions, --resume
// completes the failed run's version set, and every built-in runner (spawned workers too)
// uses the same files.
#include <doctest/doctest.h>

#include <filesystem>

#include "kiln_process.hpp"
#include "project_builder.hpp"
#include "test_support.hpp"

using namespace kiln::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace versioned_datasets_test_cases {

namespace {

// first: seed -> a (versioned);  second: neg(a) -> b (versioned).
void chain_project(Project& p) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a"},
        {"name": "second", "func": "testnodes.neg", "inputs": "a", "outputs": "b"}
    ]}}})");
    p.catalog(R"({
        "a": {"type": "kiln.JsonDataset", "filepath": "data/a.json", "versioned": true},
        "b": {"type": "kiln.JsonDataset", "filepath": "data/b.json", "versioned": true}
    })");
}

// flip: neg(in) -> out, `in` versioned with two versions already there (1 and 2).
void reader_project(Project& p) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "flip", "func": "testnodes.neg", "inputs": "in", "outputs": "out"}
    ]}}})");
    p.catalog(R"({
        "in": {"type": "kiln.JsonDataset", "filepath": "data/in.json", "versioned": true},
        "out": {"type": "kiln.JsonDataset", "filepath": "data/out.json"}
    })");
    p.write("data/in.json/2026-01-01T00.00.00.000Z/in.json", "1");
    p.write("data/in.json/2026-01-02T00.00.00.000Z/in.json", "2");
}

// The version folders of a versioned dataset that hold its file, oldest first.
std::vector<std::string> versions_of(const Project& p, const std::string& filepath) {
    std::vector<std::string> out;
    const fs::path dir = p / filepath;
    if (!fs::is_directory(dir)) return out;
    for (const auto& e : fs::directory_iterator(dir))
        if (fs::exists(e.path() / fs::path(filepath).filename())) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

double number_at(const Project& p, const std::string& file) {
    json j = p.json_file(file);
    REQUIRE_MESSAGE(j.is_number(), file << " holds " << j.dump());
    return j.get<double>();
}

}  // namespace

TEST_CASE("versioned.two_runs_keep_two_versions_and_the_report_names_them") {
    Project p;
    chain_project(p);
    auto first = p.run();
    INFO(first.output);
    REQUIRE(first.exit_code == 0);
    const json rep1 = p.report();
    const std::string v1 = rep1["versions"]["b"]["save"];
    // One save version per run, Kedro's timestamp format; the intermediate is read at it.
    CHECK(rep1["versions"]["a"] == json{{"load", v1}, {"save", v1}});
    CHECK(rep1["versions"]["b"] == json{{"load", nullptr}, {"save", v1}});
    CHECK(v1.size() == std::string("2026-11-23T03.45.21.123Z").size());
    CHECK(number_at(p, "data/a.json/" + v1 + "/a.json") == 1.0);
    CHECK(number_at(p, "data/b.json/" + v1 + "/b.json") == -1.0);

    auto second = p.run();
    INFO(second.output);
    REQUIRE(second.exit_code == 0);
    const std::string v2 = p.report()["versions"]["b"]["save"];
    CHECK(v2 > v1);
    CHECK(versions_of(p, "data/a.json") == Names{v1, v2});
    CHECK(versions_of(p, "data/b.json") == Names{v1, v2});
    CHECK(p.json_file("data/b.json/" + v1 + "/b.json") == -1.0);  // the first run's stays
    // Without versioned datasets the report has no "versions".
    p.catalog(R"({"a": {"type": "kiln.JsonDataset", "filepath": "data/plain_a.json", "versioned": false}})");
    REQUIRE(p.run().exit_code == 0);
    CHECK_FALSE(p.report().contains("versions"));
    CHECK(number_at(p, "data/plain_a.json") == 1.0);
}

TEST_CASE("versioned.loads_the_latest_or_the_pinned_version") {
    Project p;
    reader_project(p);
    auto latest = p.run();
    INFO(latest.output);
    REQUIRE(latest.exit_code == 0);
    CHECK(number_at(p, "data/out.json") == -2.0);
    CHECK(p.report()["versions"] == json{{"in", {{"load", "2026-01-02T00.00.00.000Z"}, {"save", nullptr}}}});

    auto pinned = p.run({"--load-versions", "in:2026-01-01T00.00.00.000Z"});
    INFO(pinned.output);
    REQUIRE(pinned.exit_code == 0);
    CHECK(number_at(p, "data/out.json") == -1.0);
    CHECK(p.report()["versions"]["in"]["load"] == "2026-01-01T00.00.00.000Z");

    // A newer folder that does not hold the file (a run that reserved it and failed) is no version.
    fs::create_directories(p / "data/in.json/2026-01-03T00.00.00.000Z");
    REQUIRE(p.run().exit_code == 0);
    CHECK(number_at(p, "data/out.json") == -2.0);
}

TEST_CASE("versioned.load_versions_errors_name_the_dataset") {
    Project p;
    reader_project(p);
    auto unknown = p.run({"--load-versions", "nope:2026-01-01T00.00.00.000Z"});
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.contains("--load-versions: dataset 'nope' is not in the catalog; versioned datasets: in"));
    auto plain = p.run({"--load-versions", "out:2026-01-01T00.00.00.000Z"});
    CHECK(plain.exit_code == 2);
    CHECK(plain.contains("--load-versions: dataset 'out' is not versioned"));
    auto missing = p.run({"--load-versions", "in:2025-01-01T00.00.00.000Z"});
    CHECK(missing.exit_code == 2);
    CHECK(missing.contains("dataset 'in' has no version '2025-01-01T00.00.00.000Z'"));
    CHECK(missing.contains("versions that exist: 2026-01-01T00.00.00.000Z, 2026-01-02T00.00.00.000Z"));
    auto malformed = p.run({"--load-versions", "in"});
    CHECK(malformed.exit_code == 2);
    CHECK(malformed.contains("'in' is not DATASET:VERSION"));
    CHECK_FALSE(p.exists("data/out.json"));
}

TEST_CASE("versioned.errors_before_the_run") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "flip", "func": "testnodes.neg", "inputs": "in", "outputs": "out"}
    ]}}})");
    p.catalog(R"({"in": {"type": "kiln.JsonDataset", "filepath": "data/in.json", "versioned": true}})");
    auto none = p.run();
    INFO(none.output);
    CHECK(none.exit_code == 2);
    CHECK(none.contains("versioned dataset 'in' has no version to load: no folder under '" + (p / "data/in.json").string() +
                        "' holds 'in.json'"));

    p.catalog(R"({"in": {"type": "kiln.JsonDataset", "filepath": "data/in.json"},
                  "out": {"type": "kiln.MemoryDataset", "versioned": true}})");
    p.write("data/in.json", "3");
    auto memory = p.run();
    INFO(memory.output);
    CHECK(memory.exit_code == 2);
    CHECK(memory.contains("catalog entry 'out' (kiln.MemoryDataset) says \"versioned\": true, but only a file dataset"));
}

TEST_CASE("versioned.resume_completes_the_failed_runs_version") {
    Project p;
    // load: seed -> a;  check: fail_if(a, params:should_fail) -> c;  final: neg(c) -> out
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "load", "func": "testnodes.seed", "outputs": "a"},
        {"name": "check", "func": "testnodes.fail_if", "inputs": {"x": "a", "fail": "params:should_fail"}, "outputs": "c"},
        {"name": "final", "func": "testnodes.neg", "inputs": "c", "outputs": "out"}
    ]}}})");
    p.parameters(R"({"should_fail": true})");
    p.catalog(R"({
        "a": {"type": "kiln.JsonDataset", "filepath": "data/a.json", "versioned": true},
        "c": {"type": "kiln.JsonDataset", "filepath": "data/c.json", "versioned": true},
        "out": {"type": "kiln.JsonDataset", "filepath": "data/out.json", "versioned": true}
    })");
    auto failed = p.run();
    INFO(failed.output);
    REQUIRE(failed.exit_code == 1);
    const std::string v = p.report()["versions"]["a"]["save"];
    CHECK(versions_of(p, "data/a.json") == Names{v});

    p.parameters(R"({"should_fail": false})");
    auto resumed = p.run({"--resume", "--force"});
    INFO(resumed.output);
    REQUIRE(resumed.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"check", "final"});  // a is read back from the failed run's version
    CHECK(versions_of(p, "data/a.json") == Names{v});
    CHECK(versions_of(p, "data/c.json") == Names{v});
    CHECK(versions_of(p, "data/out.json") == Names{v});
    CHECK(number_at(p, "data/out.json/" + v + "/out.json") == -1.0);
    const json versions = p.report()["versions"];
    CHECK(versions["a"] == json{{"load", v}, {"save", v}});
    CHECK(versions["out"] == json{{"load", nullptr}, {"save", v}});
}

TEST_CASE("versioned.only_missing_outputs_counts_any_version_as_present") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a"},
        {"name": "second", "func": "testnodes.neg", "inputs": "a", "outputs": "b"}
    ]}}})");
    p.catalog(R"({
        "a": {"type": "kiln.JsonDataset", "filepath": "data/a.json", "versioned": true},
        "b": {"type": "kiln.JsonDataset", "filepath": "data/b.json"}
    })");
    REQUIRE(p.run().exit_code == 0);
    const std::string v1 = p.report()["versions"]["a"]["save"];
    fs::remove(p / "data/b.json");
    auto again = p.run({"--only-missing-outputs"});
    INFO(again.output);
    REQUIRE(again.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"second"});
    CHECK(p.report()["versions"]["a"] == json{{"load", v1}, {"save", nullptr}});
    CHECK(number_at(p, "data/b.json") == -1.0);
    CHECK(versions_of(p, "data/a.json") == Names{v1});
}

TEST_CASE("versioned.every_runner_reads_what_the_run_saved") {
    const std::vector<std::vector<std::string>> runners = {
        {"--runner", "SequentialRunner"},
        {"--runner", "ThreadRunner"},
        {"--runner", "ParallelRunner", "--start-method", "fork"},
        {"--runner", "ParallelRunner", "--start-method", "spawn"}};
    for (const auto& runner : runners) {
        CAPTURE(runner[1] + (runner.size() > 2 ? " " + runner[3] : ""));
        Project p;
        chain_project(p);
        auto r = p.run(runner);
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        const std::string v = p.report()["versions"]["b"]["save"];
        CHECK(p.report()["versions"]["a"]["load"] == v);
        CHECK(number_at(p, "data/b.json/" + v + "/b.json") == -1.0);
        CHECK(versions_of(p, "data/a.json") == Names{v});
    }
}

TEST_CASE("versioned.factory_patterns_may_be_versioned") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "x_v"},
        {"name": "second", "func": "testnodes.neg", "inputs": "x_v", "outputs": "y_v"}
    ]}}})");
    p.catalog(R"({"{name}_v": {"type": "kiln.JsonDataset", "filepath": "data/{name}.json", "versioned": true}})");
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    const std::string v = p.report()["versions"]["y_v"]["save"];
    CHECK(number_at(p, "data/x.json/" + v + "/x.json") == 1.0);
    CHECK(number_at(p, "data/y.json/" + v + "/y.json") == -1.0);
}

}  // namespace versioned_datasets_test_cases
