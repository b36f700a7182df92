// kiln run features on small generated projects: the run report, filters, failures and
// resume, only-missing outputs, parameters, plugin discovery and the kinds of values that
// flow between nodes.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "common_projects.hpp"
#include "kiln_process.hpp"
#include "project_builder.hpp"
#include "test_support.hpp"

using namespace kiln::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace run_features_test_cases {

namespace {

// ------------------------------------------------------------------ projects

// seed -> a -> neg -> b; b is a free output held in memory.
// A pipeline for the filters, every intermediate dataset persisted so any part can run:
//   n1: seed -> a;  n2: neg(a) -> b;  n3: add(a, params:x) -> c;  n4: add(b, c) -> d;
//   n5: neg(d) -> e;  side.s1: identity(params:x) -> f;  side.sub.s2: neg(f) -> g
// Run order (layers, by name in a layer): n1, side.s1 | n2, n3, side.sub.s2 | n4 | n5.
void filter_project(Project& p) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "n5", "func": "testnodes.neg", "inputs": "d", "outputs": "e"},
        {"name": "n4", "func": "testnodes.add", "inputs": ["b", "c"], "outputs": "d"},
        {"name": "n3", "func": "testnodes.add", "inputs": ["a", "params:x"], "outputs": "c", "tags": ["middle"]},
        {"name": "n2", "func": "testnodes.neg", "inputs": "a", "outputs": "b", "tags": ["middle", "t_b"]},
        {"name": "n1", "func": "testnodes.seed", "outputs": "a", "tags": "start"},
        {"name": "s1", "namespace": "side", "func": "testnodes.identity", "inputs": "params:x", "outputs": "f"},
        {"name": "s2", "namespace": "side.sub", "func": "testnodes.neg", "inputs": "f", "outputs": "g"}
    ]}}})");
    p.parameters(R"({"x": 2})");
    p.catalog(R"({
        "a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"},
        "b": {"type": "kiln.JsonDataset", "filepath": "data/b.json"},
        "c": {"type": "kiln.JsonDataset", "filepath": "data/c.json"},
        "d": {"type": "kiln.JsonDataset", "filepath": "data/d.json"},
        "f": {"type": "kiln.JsonDataset", "filepath": "data/f.json"}
    })");
}

// The filter project after one full run, so that every persisted dataset exists.
void filter_project_after_full_run(Project& p) {
    filter_project(p);
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    REQUIRE(p.ran_nodes() == Names{"n1", "side.s1", "n2", "n3", "side.sub.s2", "n4", "n5"});
}

// A pipeline that fails in its fourth node, for failure and resume:
//   load:  seed -> a                        (persisted: data/a.json = 1)
//   prep:  neg(a) -> m                      (memory)
//   side:  add(a, params:bonus) -> s        (persisted: data/s.json = 11)
//   check: FUNC(m[, params:should_fail]) -> c (persisted: data/c.json)
//   final: add(c, s) -> out                 (persisted: data/out.json)
//   tail:  neg(out) -> result               (free output, memory)
// Run order: load | prep, side | check | final | tail. The nearest nodes with persisted
// inputs above `check` are {prep} (check reads m, which only lived in memory).
void failing_project(Project& p, bool use_fail_if) {
    const std::string check =
        use_fail_if
            ? R"({"name": "check", "func": "testnodes.fail_if", "inputs": {"x": "m", "fail": "params:should_fail"}, "outputs": "c"})"
            : R"({"name": "check", "func": "testnodes.fail", "inputs": "m", "outputs": "c"})";
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "load", "func": "testnodes.seed", "outputs": "a"},
        {"name": "prep", "func": "testnodes.neg", "inputs": "a", "outputs": "m"},
        {"name": "side", "func": "testnodes.add", "inputs": {"a": "a", "b": "params:bonus"}, "outputs": "s"},
        )" + check + R"(,
        {"name": "final", "func": "testnodes.add", "inputs": ["c", "s"], "outputs": "out"},
        {"name": "tail", "func": "testnodes.neg", "inputs": "out", "outputs": "result"}
    ]}}})");
    p.parameters(R"({"bonus": 10, "should_fail": true})");
    p.catalog(R"({
        "a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"},
        "s": {"type": "kiln.JsonDataset", "filepath": "data/s.json"},
        "c": {"type": "kiln.JsonDataset", "filepath": "data/c.json"},
        "out": {"type": "kiln.JsonDataset", "filepath": "data/out.json"}
    })");
}

// ------------------------------------------------------------------ helpers

}  // namespace

// ================================================================== success and report

TEST_CASE("run.success_prints_progress_and_completion") {
    Project p;
    two_node_project(p);
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.contains("Completed 1 out of 2 tasks"));
    CHECK(r.contains("Completed 2 out of 2 tasks"));
    CHECK(r.contains("Pipeline execution completed successfully"));
    CHECK(r.contains("Running node: first: testnodes.seed(None) -> [a]"));
    CHECK(r.contains("Running node: second: testnodes.neg([a]) -> [b]"));
    CHECK(r.contains("Output 'b' = -1.0"));
}

TEST_CASE("run.report_describes_a_successful_run") {
    Project p;
    two_node_project(p);
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    json rep = p.report();
    REQUIRE(rep.is_object());
    CHECK(rep["status"] == "success");
    CHECK(rep["pipeline"] == "__default__");
    CHECK(rep["runner"] == "SequentialRunner");
    REQUIRE(rep["run_id"].is_string());
    std::string run_id = rep["run_id"];
    CHECK(run_id.size() >= 20);  // e.g. 2025-01-31T12.00.00.000Z
    CHECK(run_id.back() == 'Z');
    CHECK_FALSE(rep.contains("failure"));
    CHECK(rep["outputs"] == json{{"b", -1.0}});

    REQUIRE(rep["nodes"].is_array());
    REQUIRE(rep["nodes"].size() == 2);
    const json& n0 = rep["nodes"][0];
    const json& n1 = rep["nodes"][1];
    CHECK(n0["name"] == "first");
    CHECK(n0["func"] == "testnodes.seed");
    CHECK(n1["name"] == "second");
    CHECK(n1["func"] == "testnodes.neg");
    for (const json* n : {&n0, &n1}) {
        CHECK((*n)["status"] == "completed");
        CHECK((*n)["worker"] == 0);
        CHECK((*n)["start_s"].get<double>() >= 0.0);
        CHECK((*n)["end_s"].get<double>() >= (*n)["start_s"].get<double>());
    }
    CHECK(n1["start_s"].get<double>() >= n0["end_s"].get<double>());  // sequential: one after the other
    CHECK(rep["duration_s"].get<double>() >= n1["end_s"].get<double>());
    CHECK(rep["skipped"] == json::array());

    // Every run leaves a journal for --resume and a summary.
    CHECK(p.exists(".kiln/journal"));
    json record = p.json_file(".kiln/last_run.json");
    CHECK(record["status"] == "success");
    CHECK(record["run_id"] == run_id);
    CHECK(record["nodes"] == json{"first", "second"});
}

TEST_CASE("run.free_output_values_in_report") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "hello", "func": "testnodes.greet", "inputs": "params:name", "outputs": "greeting"},
        {"name": "numbers", "func": "testnodes.range", "inputs": "params:n", "outputs": "v"},
        {"name": "total", "func": "testnodes.sum", "inputs": "v", "outputs": "sum"},
        {"name": "stats", "func": "testnodes.summary", "inputs": ["sum", "params:n"], "outputs": "stats"},
        {"name": "saved", "func": "testnodes.identity", "inputs": "sum", "outputs": "kept"},
        {"name": "where", "func": "testnodes.make_point", "inputs": ["params:n", "sum"], "outputs": "point"}
    ]}}})");
    p.parameters(R"({"name": "kiln", "n": 4})");
    p.catalog(R"({"kept": {"type": "kiln.JsonDataset", "filepath": "data/kept.json"}})");
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    json out = p.report()["outputs"];
    INFO(out.dump());
    CHECK(out["greeting"] == "hello kiln");
    CHECK(out["stats"] == json{{"total", 6.0}, {"n", 4}});
    CHECK(out["point"] == json{{"x", 4.0}, {"y", 6.0}});  // a user type with to_json
    REQUIRE(out["kept"].is_object());
    CHECK(out["kept"]["persisted_in"].get<std::string>().find("data/kept.json") != std::string::npos);
    CHECK_FALSE(out.contains("v"));    // consumed: not a free output
    CHECK_FALSE(out.contains("sum"));
    CHECK(out.size() == 4);
    CHECK(number_in(p, "data/kept.json") == 6.0);
}

// ================================================================== filters

TEST_CASE("run.filter.nodes") {
    Project p;
    filter_project_after_full_run(p);
    auto r = p.run({"--nodes", "n2,n4"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"n2", "n4"});
    CHECK(r.contains("Completed 2 out of 2 tasks"));
}

TEST_CASE("run.filter.nodes_repeated_option") {
    Project p;
    filter_project_after_full_run(p);
    auto r = p.run({"--nodes", "n2", "--nodes", "n5"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"n2", "n5"});
}

TEST_CASE("run.filter.from_nodes") {
    Project p;
    filter_project_after_full_run(p);
    auto r = p.run({"--from-nodes", "n2"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"n2", "n4", "n5"});
}

TEST_CASE("run.filter.to_nodes") {
    Project p;
    filter_project_after_full_run(p);
    auto r = p.run({"--to-nodes", "n4"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"n1", "n2", "n3", "n4"});
}

TEST_CASE("run.filter.from_and_to_nodes_intersect") {
    Project p;
    filter_project_after_full_run(p);
    auto r = p.run({"--from-nodes", "n2", "--to-nodes", "n4"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"n2", "n4"});
}

TEST_CASE("run.filter.tags") {
    Project p;
    filter_project_after_full_run(p);
    auto r = p.run({"--tags", "middle"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"n2", "n3"});
    r = p.run({"--tags", "t_b,start"});  // any of the tags
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"n1", "n2"});
}

TEST_CASE("run.filter.from_inputs") {
    Project p;
    filter_project_after_full_run(p);
    auto r = p.run({"--from-inputs", "c"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"n4", "n5"});
}

TEST_CASE("run.filter.to_outputs") {
    Project p;
    filter_project_after_full_run(p);
    auto r = p.run({"--to-outputs", "b"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"n1", "n2"});
}

TEST_CASE("run.filter.namespaces") {
    Project p;
    filter_project_after_full_run(p);
    auto r = p.run({"--namespaces", "side"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"side.s1", "side.sub.s2"});
    r = p.run({"--namespaces", "side.sub"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"side.sub.s2"});
}

TEST_CASE("run.filter.comma_lists_strip_whitespace_and_drop_empty_items") {
    // As Kedro's CLI: "a, b" is a and b; empty items (a trailing comma) are dropped.
    Project p;
    filter_project_after_full_run(p);
    struct Case {
        std::vector<std::string> args;
        Names ran;
    };
    const std::vector<Case> cases = {
        {{"--nodes", " n2 , n4 ,"}, {"n2", "n4"}},
        {{"--nodes", "n2,", "--nodes", " , n5"}, {"n2", "n5"}},
        {{"--from-nodes", " n4 "}, {"n4", "n5"}},
        {{"--to-nodes", "n2 , "}, {"n1", "n2"}},
        {{"--from-nodes", "n2, ", "--to-nodes", "\tn4"}, {"n2", "n4"}},
        {{"--tags", " t_b, start "}, {"n1", "n2"}},
        {{"--from-inputs", " c "}, {"n4", "n5"}},
        {{"--to-outputs", " b, "}, {"n1", "n2"}},
        {{"--namespaces", " side.sub , "}, {"side.sub.s2"}},
    };
    for (const auto& c : cases) {
        std::string given;
        for (const auto& a : c.args) given += "[" + a + "] ";
        CAPTURE(given);
        auto r = p.run(c.args);
        INFO(r.output);
        CHECK(r.exit_code == 0);
        CHECK(p.ran_nodes() == c.ran);
    }
}

TEST_CASE("run.plugin_path_hooks_and_resources_strip_whitespace") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a", "resources": {"gpu": 1}},
        {"name": "second", "func": "testnodes.neg", "inputs": "a", "outputs": "b"}
    ]}}})");
    // " DIR , " is DIR; " NAME, " is NAME.
    auto r = p.run_bare({"--plugin-path", " " + test_plugins("good") + " , ", "--plugin-path",
                         test_plugins("ext") + " ,", "--hooks", " testext.Thrower , "});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.contains("Output 'b' = -1.0"));

    // --resources: items, names and amounts are stripped.
    r = p.run({"--runner", "ThreadRunner", "--resources", " gpu = 1 , cpu=2, "});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.report()["outputs"]["b"] == -1.0);
    // The cap applies to "gpu" (not to "gpu "): a need of 1 over a cap of 0.5 is refused.
    r = p.run({"--runner", "ThreadRunner", "--resources", " gpu = 0.5 "});
    INFO(r.output);
    CHECK(r.exit_code != 0);
    CHECK(r.contains("could never run"));
    CHECK_FALSE(r.contains("Running node"));
}

TEST_CASE("run.filter.namespaced_node_runs_under_its_full_name") {
    Project p;
    filter_project_after_full_run(p);
    auto r = p.run({"--nodes", "side.sub.s2"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"side.sub.s2"});
    CHECK(p.report()["outputs"]["g"] == -2.0);
}

TEST_CASE("run.filter.results_of_a_partial_run") {
    Project p;
    filter_project_after_full_run(p);
    CHECK(number_in(p, "data/d.json") == 2.0);  // b + c = -1 + 3
    // Change a persisted input by hand: --from-nodes n4 reads it instead of recomputing.
    p.write("data/c.json", "10\n");
    auto r = p.run({"--from-nodes", "n4"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(number_in(p, "data/d.json") == 9.0);
    CHECK(p.report()["outputs"]["e"] == -9.0);
}

TEST_CASE("run.report_lists_skipped_nodes_with_reasons_when_filtered") {
    Project p;
    filter_project_after_full_run(p);
    auto r = p.run({"--nodes", "n2"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"n2"});
    auto skipped = p.skipped();
    INFO(p.report().dump(2));
    CHECK(skipped.size() == 6);
    for (const char* name : {"n1", "n3", "n4", "n5", "side.s1", "side.sub.s2"}) {
        CAPTURE(name);
        REQUIRE(skipped.count(name) == 1);
        CHECK(skipped[name] == "not selected by the filters");
    }
    CHECK(skipped.count("n2") == 0);
}

// ================================================================== failure

TEST_CASE("run.failure.exit_code_message_and_persisted_outputs") {
    Project p;
    failing_project(p, false);
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("Node 'check' failed"));
    CHECK(r.contains("deliberate failure"));
    CHECK(r.contains("Completed 3 out of 6 tasks"));
    CHECK_FALSE(r.contains("Completed 4 out of 6 tasks"));
    CHECK_FALSE(r.contains("Pipeline execution completed successfully"));
    CHECK_FALSE(r.contains("Running node: final"));  // scheduling stopped

    // What was persisted before the failure is kept, with the right values.
    CHECK(number_in(p, "data/a.json") == 1.0);
    CHECK(number_in(p, "data/s.json") == 11.0);
    // Nothing of the failed node or after it, and no temporary files.
    CHECK_FALSE(p.exists("data/c.json"));
    CHECK_FALSE(p.exists("data/out.json"));
    CHECK(p.files_containing(".kiln-tmp-").empty());
}

TEST_CASE("run.failure.resume_hint_names_nearest_persisted_nodes") {
    Project p;
    failing_project(p, false);
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("There are 3 nodes that have not run."));
    CHECK(r.contains("nearest nodes with persisted inputs"));
    // check reads m, which lived only in memory: resume from its producer, prep.
    CHECK(r.contains("--from-nodes \"prep\""));
    CHECK_FALSE(r.contains("--from-nodes \"check\""));
    CHECK(r.contains("run --resume --project " + p.dir()));
}

TEST_CASE("run.failure.resume_hint_from_several_nodes") {
    // Two memory inputs from different producers above the failing node.
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "src", "func": "testnodes.seed", "outputs": "a"},
        {"name": "left", "func": "testnodes.neg", "inputs": "a", "outputs": "l"},
        {"name": "right", "func": "testnodes.identity", "inputs": "a", "outputs": "r"},
        {"name": "join", "func": "testnodes.add", "inputs": ["l", "r"], "outputs": "j"},
        {"name": "boom", "func": "testnodes.fail", "inputs": "j", "outputs": "z"}
    ]}}})");
    p.catalog(R"({"a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"},
                  "j": {"type": "kiln.JsonDataset", "filepath": "data/j.json"}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 1);
    // boom reads j, which is persisted: resume from boom alone.
    CHECK(r.contains("--from-nodes \"boom\""));
    CHECK(number_in(p, "data/j.json") == 0.0);

    // Now j is in memory: the walk goes up to left and right, which read persisted a.
    p.catalog(R"({"a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"}})");
    r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("--from-nodes \"left,right\""));
}

TEST_CASE("run.failure.first_node_fails") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "boom", "func": "testnodes.fail", "inputs": "params:x", "outputs": "y"},
        {"name": "after", "func": "testnodes.neg", "inputs": "y", "outputs": "z"}
    ]}}})");
    p.parameters(R"({"x": 1})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("Node 'boom' failed"));
    CHECK(r.contains("deliberate failure"));
    CHECK(r.contains("No nodes ran. Repeat the previous command to attempt a new run."));
    CHECK_FALSE(r.contains("--from-nodes"));
    json rep = p.report();
    CHECK(rep["status"] == "failed");
    CHECK(rep["failure"]["node"] == "boom");
}

TEST_CASE("run.failure.report") {
    Project p;
    failing_project(p, false);
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 1);
    json rep = p.report();
    REQUIRE(rep.is_object());
    INFO(rep.dump(2));
    CHECK(rep["status"] == "failed");
    CHECK(rep["failure"]["node"] == "check");
    CHECK(rep["failure"]["error"].get<std::string>().find("deliberate failure") != std::string::npos);
    std::string resume = rep["failure"]["resume_command"];
    CHECK(resume.find("--from-nodes \"prep\"") != std::string::npos);
    CHECK(resume.find("--project " + p.dir()) != std::string::npos);
    CHECK(rep["outputs"] == json::object());
    CHECK(p.ran_nodes() == Names{"load", "prep", "side", "check"});
    REQUIRE(rep["nodes"].size() == 4);
    CHECK(rep["nodes"][0]["status"] == "completed");
    CHECK(rep["nodes"][2]["status"] == "completed");
    CHECK(rep["nodes"][3]["status"] == "failed");

    json record = p.json_file(".kiln/last_run.json");
    CHECK(record["status"] == "failed");
    CHECK(record["failed_node"] == "check");
    CHECK(record["done"] == json{"load", "prep", "side"});
}

TEST_CASE("run.failure.report_lists_nodes_not_run") {
    Project p;
    failing_project(p, false);
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 1);
    auto skipped = p.skipped();
    INFO(p.report().dump(2));
    CHECK(skipped.size() == 2);
    CHECK(skipped["final"] == "not run: the run failed");
    CHECK(skipped["tail"] == "not run: the run failed");
}

TEST_CASE("run.failure.from_nodes_hint_resumes_the_run") {
    Project p;
    failing_project(p, true);
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 1);
    REQUIRE(r.contains("--from-nodes \"prep\""));
    p.parameters(R"({"bonus": 10, "should_fail": false})");
    r = p.run({"--from-nodes", "prep"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"prep", "check", "final", "tail"});
    CHECK(p.report()["outputs"]["result"] == -10.0);
}

TEST_CASE("run.failure.non_standard_exception") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "odd", "func": "testnodes.fail_unknown", "inputs": "params:x", "outputs": "y"}
    ]}}})");
    p.parameters(R"({"x": 1})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("Node 'odd' failed"));
    CHECK(r.contains("unknown exception"));
    CHECK(p.report()["failure"]["node"] == "odd");
}

TEST_CASE("run.failure.output_that_cannot_be_saved") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "keep", "func": "testnodes.identity", "inputs": "params:x", "outputs": "z"}
    ]}}})");
    p.parameters(R"({"x": 1})");
    p.catalog(R"({"z": {"type": "kiln.JsonDataset", "filepath": "blocker/z.json"}})");
    p.write("blocker", "a file where a directory should be\n");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("Node 'keep' failed"));
    CHECK(r.contains("failed to save dataset 'z'"));
    CHECK(r.contains("blocker"));
    CHECK(p.files_containing(".kiln-tmp-").empty());
}

// ================================================================== resume

TEST_CASE("run.resume.runs_exactly_what_is_left") {
    Project p;
    failing_project(p, true);
    auto first = p.run();
    INFO(first.output);
    REQUIRE(first.exit_code == 1);
    CHECK(first.contains("asked to fail"));
    CHECK_FALSE(p.exists("data/c.json"));

    // Fix the cause, then resume: the nodes left undone (check, final, tail) plus prep,
    // whose output m lived only in memory. load and side are not run again.
    // Fixing a parameter changes the project: --resume refuses unless forced.
    p.parameters(R"({"bonus": 10, "should_fail": false})");
    const auto side_written = fs::last_write_time(p / "data/s.json");
    auto refused = p.run({"--resume"});
    CHECK(refused.exit_code == 2);
    CHECK(refused.contains("parameters.json changed"));
    auto second = p.run({"--resume", "--force"});
    INFO(second.output);
    CHECK(second.exit_code == 0);
    CHECK(second.contains("Pipeline execution completed successfully"));
    CHECK(p.ran_nodes() == Names{"prep", "check", "final", "tail"});
    CHECK(second.contains("Completed 4 out of 4 tasks"));
    CHECK(number_in(p, "data/c.json") == -1.0);
    CHECK(number_in(p, "data/out.json") == 10.0);
    CHECK(p.report()["outputs"]["result"] == -10.0);
    CHECK(number_in(p, "data/a.json") == 1.0);
    CHECK(fs::last_write_time(p / "data/s.json") == side_written);  // side did not run again

    // Nothing is left: a second --resume runs nothing.
    auto third = p.run({"--resume"});
    INFO(third.output);
    CHECK(third.exit_code == 0);
    CHECK(third.contains("nothing to resume"));
    CHECK_FALSE(third.contains("Running node"));
}

TEST_CASE("run.resume.report_skips_completed_nodes") {
    Project p;
    failing_project(p, true);
    REQUIRE(p.run().exit_code == 1);
    const std::string failed_run = p.report()["run_id"];
    p.parameters(R"({"bonus": 10, "should_fail": false})");
    auto r = p.run({"--resume", "--force"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    auto skipped = p.skipped();
    INFO(p.report().dump(2));
    CHECK(skipped.size() == 2);
    CHECK(skipped["load"] == "completed in run " + failed_run);
    CHECK(skipped["side"] == "completed in run " + failed_run);
}

TEST_CASE("run.resume.reruns_producer_of_a_deleted_input") {
    Project p;
    failing_project(p, true);
    REQUIRE(p.run().exit_code == 1);
    p.parameters(R"({"bonus": 10, "should_fail": false})");
    fs::remove(p / "data/s.json");  // final reads s: side must run again
    auto r = p.run({"--resume", "--force"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"prep", "side", "check", "final", "tail"});
    CHECK(number_in(p, "data/s.json") == 11.0);
    CHECK(p.report()["outputs"]["result"] == -10.0);
}

TEST_CASE("run.resume.after_a_resume_that_failed_again") {
    Project p;
    failing_project(p, true);
    REQUIRE(p.run().exit_code == 1);
    auto again = p.run({"--resume"});  // not fixed yet
    INFO(again.output);
    CHECK(again.exit_code == 1);
    CHECK(again.contains("asked to fail"));
    CHECK(p.ran_nodes() == Names{"prep", "check"});

    p.parameters(R"({"bonus": 10, "should_fail": false})");
    auto fixed = p.run({"--resume", "--force"});
    INFO(fixed.output);
    CHECK(fixed.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"prep", "check", "final", "tail"});
    CHECK(p.report()["outputs"]["result"] == -10.0);
}

TEST_CASE("run.resume.stays_within_the_scope_of_a_filtered_run") {
    Project p;
    failing_project(p, true);
    auto r = p.run({"--to-nodes", "check"});  // scope: load, prep, check
    INFO(r.output);
    REQUIRE(r.exit_code == 1);
    CHECK(r.contains("There are 1 nodes that have not run."));
    CHECK(p.ran_nodes() == Names{"load", "prep", "check"});
    p.parameters(R"({"bonus": 10, "should_fail": false})");
    r = p.run({"--resume", "--force"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"prep", "check"});  // not final or tail: outside the scope
    CHECK(number_in(p, "data/c.json") == -1.0);
    CHECK_FALSE(p.exists("data/out.json"));
    CHECK_FALSE(p.exists("data/s.json"));  // side was never in scope
}

TEST_CASE("run.resume.hint_drops_earlier_from_nodes_and_only_missing") {
    Project p;
    failing_project(p, true);
    auto r = p.run({"--from-nodes=load", "--only-missing-outputs"});
    INFO(r.output);
    REQUIRE(r.exit_code == 1);
    std::string resume = p.report()["failure"]["resume_command"];
    INFO(resume);
    CHECK(resume.find("--from-nodes \"prep\"") != std::string::npos);
    CHECK(resume.find("--from-nodes=load") == std::string::npos);
    CHECK(resume.find("--only-missing-outputs") == std::string::npos);
}

TEST_CASE("run.resume.without_an_earlier_run") {
    Project p;
    failing_project(p, true);
    auto r = p.run({"--resume"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("nothing to resume: no run journal"));
    CHECK(r.contains(".kiln"));
    CHECK_FALSE(r.contains("Running node"));
}

TEST_CASE("run.resume.with_another_pipeline_is_refused") {
    Project p;
    failing_project(p, true);
    REQUIRE(p.run().exit_code == 1);
    auto r = p.run({"--resume", "--pipeline", "other"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("--resume continues the interrupted run of pipeline '__default__'"));
}

// ================================================================== only missing outputs

namespace {
// load: seed -> a (a.json) | other: neg(a) -> o2 (o2.json), prep: neg(a) -> m (memory)
// | fin: identity(m) -> out (out.json)
void only_missing_project(Project& p) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "load", "func": "testnodes.seed", "outputs": "a"},
        {"name": "other", "func": "testnodes.neg", "inputs": "a", "outputs": "o2"},
        {"name": "prep", "func": "testnodes.neg", "inputs": "a", "outputs": "m"},
        {"name": "fin", "func": "testnodes.identity", "inputs": "m", "outputs": "out"}
    ]}}})");
    p.catalog(R"({
        "a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"},
        "o2": {"type": "kiln.JsonDataset", "filepath": "data/o2.json"},
        "out": {"type": "kiln.JsonDataset", "filepath": "data/out.json"}
    })");
}
}  // namespace

TEST_CASE("run.only_missing_outputs.skips_nodes_whose_outputs_exist") {
    Project p;
    only_missing_project(p);
    auto r = p.run({"--only-missing-outputs"});  // nothing exists yet: everything runs
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"load", "other", "prep", "fin"});

    p.write("data/out.json", "42\n");  // would be overwritten if fin ran
    r = p.run({"--only-missing-outputs"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.contains("Skipping all 4 nodes"));
    CHECK(p.ran_nodes() == Names{});
    CHECK(number_in(p, "data/out.json") == 42.0);
}

TEST_CASE("run.only_missing_outputs.reruns_just_what_is_needed") {
    Project p;
    only_missing_project(p);
    REQUIRE(p.run().exit_code == 0);
    p.write("data/o2.json", "7\n");  // would be overwritten if other ran
    fs::remove(p / "data/out.json");
    auto r = p.run({"--only-missing-outputs"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    // fin must run; it reads m, held only in memory, so prep runs too. load and other do not.
    CHECK(p.ran_nodes() == Names{"prep", "fin"});
    CHECK(r.contains("Skipping 2 nodes with existing outputs: load, other"));
    CHECK(number_in(p, "data/out.json") == -1.0);
    CHECK(number_in(p, "data/o2.json") == 7.0);

    // A missing upstream output reruns its producer only (Kedro's rule: no staleness).
    fs::remove(p / "data/a.json");
    r = p.run({"--only-missing-outputs"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"load"});
    CHECK(number_in(p, "data/a.json") == 1.0);
}

TEST_CASE("run.only_missing_outputs.report_skip_reasons") {
    Project p;
    only_missing_project(p);
    REQUIRE(p.run().exit_code == 0);
    fs::remove(p / "data/out.json");
    auto r = p.run({"--only-missing-outputs"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    auto skipped = p.skipped();
    INFO(p.report().dump(2));
    CHECK(skipped.size() == 2);
    CHECK(skipped["load"] == "outputs already exist (--only-missing-outputs)");
    CHECK(skipped["other"] == "outputs already exist (--only-missing-outputs)");
}

TEST_CASE("run.only_missing_outputs.node_without_outputs_always_runs") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "make", "func": "testnodes.seed", "outputs": "a"},
        {"name": "drain", "func": "testnodes.sink", "inputs": "a"}
    ]}}})");
    p.catalog(R"({"a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"}})");
    REQUIRE(p.run().exit_code == 0);
    auto r = p.run({"--only-missing-outputs"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"drain"});
}

// ================================================================== parameters

TEST_CASE("run.params_override_nested_key") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "scaled", "func": "testnodes.mul", "inputs": ["params:model.scale", "params:x"], "outputs": "y"}
    ]}}})");
    p.parameters(R"({"x": 3, "model": {"scale": 2, "name": "m"}})");
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(p.report()["outputs"]["y"] == 6.0);

    r = p.run({"--params", "model.scale=5"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.report()["outputs"]["y"] == 15.0);

    r = p.run({"--params", "model.scale=0.5,x=10"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.report()["outputs"]["y"] == 5.0);
    // parameters.json itself is untouched.
    CHECK(p.json_file("parameters.json")["model"]["scale"] == 2);
}

TEST_CASE("run.params_override_adds_a_new_key_and_whole_objects") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "hello", "func": "testnodes.greet", "inputs": "params:who.name", "outputs": "g"},
        {"name": "numbers", "func": "testnodes.sum", "inputs": "params:values", "outputs": "total"}
    ]}}})");
    auto r = p.run({"--params", "who.name=world,values=[1.5,2,3]"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.report()["outputs"]["g"] == "hello world");
    CHECK(p.report()["outputs"]["total"] == 6.5);
}

TEST_CASE("run.params_strip_whitespace_and_drop_empty_items") {
    // As Kedro's --params: items, keys and values are stripped, empty items dropped, and
    // a JSON value keeps its commas.
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "scaled", "func": "testnodes.mul", "inputs": ["params:model.scale", "params:x"], "outputs": "y"},
        {"name": "hello", "func": "testnodes.greet", "inputs": "params:who.name", "outputs": "g"},
        {"name": "numbers", "func": "testnodes.sum", "inputs": "params:values", "outputs": "total"}
    ]}}})");
    p.parameters(R"({"x": 3, "model": {"scale": 2}, "who": {"name": "nobody"}, "values": [0]})");
    auto r = p.run({"--params", " model.scale = 5, x=10 , , who.name= big world , values = [1.5, 2, 3],"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    auto rep = p.report();
    INFO(rep.dump(2));
    CHECK(rep["outputs"]["y"] == 50.0);
    CHECK(rep["outputs"]["g"] == "hello big world");
    CHECK(rep["outputs"]["total"] == 6.5);

    r = p.run({"--params", "x=1, = 2"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("--params: item '= 2' must be KEY=VALUE"));
}

TEST_CASE("run.parameter_read_as_two_types") {
    // Only parameters may be read as different types: n is an i64 for range, an f64 for identity.
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "numbers", "func": "testnodes.range", "inputs": "params:n", "outputs": "v"},
        {"name": "total", "func": "testnodes.sum", "inputs": "v", "outputs": "t"},
        {"name": "same", "func": "testnodes.identity", "inputs": "params:n", "outputs": "nf"}
    ]}}})");
    p.parameters(R"({"n": 3})");
    auto r = p.run({"--params", "n=8"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.report()["outputs"]["t"] == 28.0);
    CHECK(p.report()["outputs"]["nf"] == 8.0);
}

// ================================================================== plugins

TEST_CASE("run.kiln_plugin_path_env") {
    Project p;
    two_node_project(p);
    auto r = p.run_bare({"--report", p.report_path()}, {"KILN_PLUGIN_PATH=" + test_plugins("good")});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.report()["outputs"]["b"] == -1.0);

    // A colon-separated list works too.
    r = p.run_bare({"--report", p.report_path()},
                   {"KILN_PLUGIN_PATH=" + test_plugins("good") + ":" + std::string(KILN_SAMPLE_PLUGIN_DIR)});
    INFO(r.output);
    CHECK(r.exit_code == 0);
}

TEST_CASE("run.plugin_path_to_a_single_file") {
    Project p;
    two_node_project(p);
    auto r = p.run_bare({"--plugin-path", test_plugins("good") + "/testnodes.so"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.contains("Pipeline execution completed successfully"));
}

TEST_CASE("run.project_plugins_folder") {
    Project p;
    two_node_project(p);
    fs::create_directories(p / "plugins");
    fs::copy_file(test_plugins("good") + "/testnodes.so", p / "plugins/testnodes.so");
    auto r = p.run_bare({});  // no --plugin-path: PROJECT/plugins is searched
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.contains("Output 'b' = -1.0"));
}

TEST_CASE("run.plugins_command_lists_typed_signatures") {
    auto r = run_kiln({"plugins", "--plugin-path", test_plugins("good")});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.contains("testnodes 1.0.0"));
    CHECK(r.contains("testnodes.add(a: f64, b: f64) -> f64"));
    CHECK(r.contains("testnodes.neg(f64) -> f64"));
    CHECK(r.contains("testnodes.seed() -> f64"));
    CHECK(r.contains("testnodes.min_max(vector<f64>) -> (f64, f64)"));
    CHECK(r.contains("testnodes.sink(f64) -> None"));
    CHECK(r.contains("testnodes.summary(total: f64, n: i64) -> json"));
    CHECK(r.contains("testnodes.make_point(f64, f64) -> testnodes.Point"));
    CHECK(r.contains("testnodes.ones(i64, i64) -> tensor<f64>"));
    CHECK(r.contains("testnodes.fail_if(x: f64, fail: bool) -> f64"));
    for (const char* ds : {"kiln.JsonDataset", "kiln.TextDataset", "kiln.CsvDataset", "kiln.NpyDataset",
                           "kiln.BinaryDataset"}) {
        CAPTURE(ds);
        CHECK(r.contains(ds));
    }
    CHECK(r.contains("runners:"));
    CHECK(r.contains("SequentialRunner"));
}

TEST_CASE("run.plugins_command_without_test_plugins") {
    Project empty;  // a project without plugins/ of its own
    auto r = run_kiln({"plugins", "--project", empty.dir()});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.contains("kiln.JsonDataset"));  // the standard datasets are always there
    CHECK_FALSE(r.contains("testnodes"));
    CHECK(r.contains("runners:"));
}

TEST_CASE("run.unqualified_function_name") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "adder", "func": "add", "inputs": ["params:a", "params:b"], "outputs": "s"}
    ]}}})");
    p.parameters(R"({"a": 1.5, "b": 2})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.report()["nodes"][0]["func"] == "testnodes.add");
    CHECK(p.report()["outputs"]["s"] == 3.5);
}

// ================================================================== values between nodes

TEST_CASE("run.dict_form_inputs") {
    Project p;
    // summary(total: f64, n: i64): the object's keys come in another order than the
    // parameters, and the types differ, so a mix-up cannot go unnoticed.
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "numbers", "func": "testnodes.range", "inputs": "params:count", "outputs": "v"},
        {"name": "total", "func": "testnodes.sum", "inputs": "v", "outputs": "t"},
        {"name": "stats", "func": "testnodes.summary", "inputs": {"n": "params:count", "total": "t"}, "outputs": "s"},
        {"name": "diff", "func": "testnodes.add", "inputs": {"b": "params:minus", "a": "t"}, "outputs": "d"}
    ]}}})");
    p.parameters(R"({"count": 4, "minus": -0.5})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 0);
    json out = p.report()["outputs"];
    CHECK(out["s"] == json{{"total", 6.0}, {"n", 4}});
    CHECK(out["d"] == 5.5);
    CHECK(r.contains("Running node: stats: testnodes.summary([t;params:count]) -> [s]"));
}

TEST_CASE("run.tuple_outputs_feed_two_consumers") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "numbers", "func": "testnodes.range", "inputs": "params:n", "outputs": "v"},
        {"name": "extremes", "func": "testnodes.min_max", "inputs": "v", "outputs": ["lo", "hi"]},
        {"name": "low", "func": "testnodes.add", "inputs": ["lo", "params:one"], "outputs": "lo_plus_one"},
        {"name": "high", "func": "testnodes.mul", "inputs": ["hi", "hi"], "outputs": "hi_squared"}
    ]}}})");
    p.parameters(R"({"n": 5, "one": 1})");
    p.catalog(R"({"hi": {"type": "kiln.JsonDataset", "filepath": "data/hi.json"}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 0);
    json out = p.report()["outputs"];
    CHECK(out["lo_plus_one"] == 1.0);
    CHECK(out["hi_squared"] == 16.0);
    CHECK(number_in(p, "data/hi.json") == 4.0);
    CHECK(p.ran_nodes() == Names{"numbers", "extremes", "high", "low"});
}

TEST_CASE("run.user_type_between_nodes") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "point", "func": "testnodes.make_point", "inputs": ["params:x", "params:y"], "outputs": "p"},
        {"name": "norm", "func": "testnodes.point_norm", "inputs": "p", "outputs": "length"}
    ]}}})");
    p.parameters(R"({"x": 3, "y": 4})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.report()["outputs"]["length"] == 5.0);
    CHECK_FALSE(p.report()["outputs"].contains("p"));
}

TEST_CASE("run.node_without_outputs") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "drain", "func": "testnodes.sink", "inputs": "params:v"}
    ]}}})");
    p.parameters(R"({"v": 2.5})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.contains("sink received 2.5"));  // logged by the plugin through the host logger
    CHECK(r.contains("Running node: drain: testnodes.sink([params:v]) -> None"));
    CHECK(r.contains("Completed 1 out of 1 tasks"));
    CHECK(p.ran_nodes() == Names{"drain"});
    CHECK(p.report()["outputs"] == json::object());
}

TEST_CASE("run.json_dataset_of_a_user_type") {
    Project p;
    p.pipelines(R"({"pipelines": {
        "make": {"nodes": [
            {"name": "point", "func": "testnodes.make_point", "inputs": ["params:x", "params:y"], "outputs": "p"}]},
        "use": {"nodes": [
            {"name": "norm", "func": "testnodes.point_norm", "inputs": "p", "outputs": "length"}]}
    }})");
    p.parameters(R"({"x": 6, "y": 8})");
    p.catalog(R"({"p": {"type": "kiln.JsonDataset", "filepath": "data/point.json"}})");
    auto r = p.run({"--pipeline", "make"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(p.json_file("data/point.json") == json{{"x", 6.0}, {"y", 8.0}});

    // Read back through the codec's from_json, after a change by hand.
    p.write("data/point.json", R"({"x": 5, "y": 12})");
    r = p.run({"--pipeline", "use"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.report()["outputs"]["length"] == 13.0);
}

TEST_CASE("run.npy_dataset_of_a_tensor_read_by_another_pipeline") {
    Project p;
    p.pipelines(R"({"pipelines": {
        "make": {"nodes": [
            {"name": "grid", "func": "testnodes.ones", "inputs": ["params:rows", "params:cols"], "outputs": "grid"}]},
        "use": {"nodes": [
            {"name": "total", "func": "testnodes.tensor_sum", "inputs": "grid", "outputs": "total"}]}
    }})");
    p.parameters(R"({"rows": 2, "cols": 3})");
    p.catalog(R"({"grid": {"type": "kiln.NpyDataset", "filepath": "data/grid.npy"}})");
    auto r = p.run({"--pipeline", "make"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    REQUIRE(p.exists("data/grid.npy"));
    std::string npy = read_text(p / "data/grid.npy");
    CHECK(npy.rfind("\x93NUMPY", 0) == 0);
    CHECK(npy.find("'descr': '<f8'") != std::string::npos);
    CHECK(npy.find("'shape': (2, 3)") != std::string::npos);
    CHECK(npy.size() > 6 * sizeof(double));

    r = p.run({"--pipeline", "use"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.report()["outputs"]["total"] == 6.0);

    r = p.run({"--pipeline", "make", "--params", "rows=4,cols=5"});
    REQUIRE(r.exit_code == 0);
    r = p.run({"--pipeline", "use"});
    CHECK(r.exit_code == 0);
    CHECK(p.report()["outputs"]["total"] == 20.0);
}

TEST_CASE("run.text_and_csv_datasets") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "words", "func": "testnodes.split_words", "inputs": "corpus", "outputs": "w"},
        {"name": "count", "func": "testnodes.count_words", "inputs": "w", "outputs": "n"},
        {"name": "hello", "func": "testnodes.greet", "inputs": "params:name", "outputs": "greeting"}
    ]}}})");
    p.parameters(R"({"name": "text file"})");
    p.catalog(R"({
        "corpus": {"type": "kiln.TextDataset", "filepath": "data/corpus.txt"},
        "greeting": {"type": "kiln.TextDataset", "filepath": "data/greeting.txt"}
    })");
    p.write("data/corpus.txt", "one two three\nfour five\n");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.report()["outputs"]["n"] == 5);
    CHECK(read_text(p / "data/greeting.txt").rfind("hello text file", 0) == 0);
}

TEST_CASE("run.null_output_fails_the_node") {
    // As Kedro ("Saving 'None' to a 'Dataset' is not allowed"): a node that returns a JSON
    // null fails, whether the output is held in memory or persisted, and nothing is saved.
    for (bool persisted : {false, true}) {
        CAPTURE(persisted);
        Project p;
        p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
            {"name": "maybe", "func": "testnodes.value_or_null", "inputs": "params:give_null", "outputs": "j"},
            {"name": "after", "func": "testnodes.seed", "outputs": "z"}
        ]}}})");
        p.parameters(R"({"give_null": true})");
        if (persisted) p.catalog(R"({"j": {"type": "kiln.JsonDataset", "filepath": "data/j.json"}})");
        auto r = p.run();
        INFO(r.output);
        CHECK(r.exit_code == 1);
        CHECK(r.contains("node 'maybe' (testnodes.value_or_null) returned null for output 'j': Saving 'None' to a "
                         "'Dataset' is not allowed"));
        CHECK_FALSE(r.contains("Pipeline execution completed successfully"));
        CHECK_FALSE(p.exists("data/j.json"));
        auto rep = p.report();
        CHECK(rep["status"] == "failed");
        CHECK(rep["failure"]["node"] == "maybe");

        // The same node with a value succeeds.
        r = p.run({"--params", "give_null=false"});
        INFO(r.output);
        CHECK(r.exit_code == 0);
        if (persisted) CHECK(p.json_file("data/j.json") == json{{"ok", true}});
        else CHECK(p.report()["outputs"]["j"] == json{{"ok", true}});
    }
}

TEST_CASE("run.missing_input_file_fails_the_node") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "negate", "func": "testnodes.neg", "inputs": "raw", "outputs": "y"}
    ]}}})");
    p.catalog(R"({"raw": {"type": "kiln.JsonDataset", "filepath": "data/raw.json"}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("Node 'negate' failed"));
    CHECK(r.contains("'raw'"));
    CHECK(r.contains("raw.json"));
}

// ================================================================== composition, logging

TEST_CASE("run.async_gives_the_same_results") {
    Project p;
    filter_project(p);
    auto r = p.run({"--async"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"n1", "side.s1", "n2", "n3", "side.sub.s2", "n4", "n5"});
    CHECK(p.report()["outputs"]["e"] == -2.0);
    CHECK(p.report()["outputs"]["g"] == -2.0);
    CHECK(number_in(p, "data/d.json") == 2.0);
}

TEST_CASE("run.default_pipeline_composes_the_others") {
    Project p;
    p.pipelines(R"({"pipelines": {
        "prep": {"nodes": [{"name": "s", "func": "testnodes.seed", "outputs": "a"}]},
        "report": {"nodes": [{"name": "n", "func": "testnodes.neg", "inputs": "a", "outputs": "b"}]}
    }})");
    // No "__default__": every pipeline together.
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"s", "n"});
    CHECK(p.report()["outputs"]["b"] == -1.0);

    p.pipelines(R"({"pipelines": {
        "prep": {"nodes": [{"name": "s", "func": "testnodes.seed", "outputs": "a"}]},
        "report": {"nodes": [{"name": "n", "func": "testnodes.neg", "inputs": "a", "outputs": "b"}]},
        "both": {"pipelines": ["prep", "report"]},
        "__default__": {"pipelines": ["prep"]}
    }})");
    r = p.run();
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"s"});
    r = p.run({"--pipeline", "both"});
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"s", "n"});
    CHECK(p.report()["pipeline"] == "both");
}

TEST_CASE("run.quiet_hides_progress_but_not_errors") {
    Project p;
    two_node_project(p);
    auto r = p.run({"--quiet"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK_FALSE(r.contains("Running node"));
    CHECK_FALSE(r.contains("Completed 2 out of 2 tasks"));

    failing_project(p, false);
    r = p.run({"-q"});
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("deliberate failure"));
    CHECK_FALSE(r.contains("Running node"));
}

}  // namespace run_features_test_cases
