// Runner and hook plugins end to end: the shipped DryRunner and trace hook, a concurrent
// runner written against the SDK only, runners that break the contract (each caught and
// reported with the runner's name), default datasets, and hooks under every runner
// (fired in the host process, in Kedro's order), enabled by settings.json or --hooks.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "common_projects.hpp"
#include "kiln_process.hpp"
#include "project_builder.hpp"
#include "test_support.hpp"

using namespace kiln::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace extensions_test_cases {

namespace {

// seed -> a -> neg -> b; b is a free output held in memory.
// A diamond with a persisted free output: seed -> a; neg(a) -> b; add(a, params:x) -> c;
// add(b, c) -> d (in data/d.json).
void diamond_project(Project& p) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "n1", "func": "testnodes.seed", "outputs": "a"},
        {"name": "n2", "func": "testnodes.neg", "inputs": "a", "outputs": "b"},
        {"name": "n3", "func": "testnodes.add", "inputs": ["a", "params:x"], "outputs": "c"},
        {"name": "n4", "func": "testnodes.add", "inputs": ["b", "c"], "outputs": "d"},
        {"name": "n5", "func": "testnodes.neg", "inputs": "d", "outputs": "e"}
    ]}}})");
    p.parameters(R"({"x": 10})");
    p.catalog(R"({"d": {"type": "kiln.JsonDataset", "filepath": "data/d.json"}})");
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) lines.push_back(line);
    return lines;
}

// The Recorder's lines with " pid=N" taken out; `pids` gets every pid seen.
std::vector<std::string> recorded(const fs::path& file, std::set<std::string>* pids = nullptr) {
    std::vector<std::string> out;
    for (std::string line : lines_of(read_text(file))) {
        auto at = line.find(" pid=");
        if (at != std::string::npos) {
            auto end = line.find(' ', at + 1);
            if (pids) pids->insert(line.substr(at + 5, end - at - 5));
            line.erase(at, end - at);
        }
        out.push_back(line);
    }
    return out;
}

void enable_recorder(Project& p) {
    p.write("settings.json", R"({"hooks": [{"name": "testext.Recorder", "options": {"path": ")" +
                                 (p / "events.txt").string() + R"("}}]})");
}

std::string joined(const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& l : lines) s += l + "\n";
    return s;
}

}  // namespace

// ------------------------------------------------------------------ DryRunner

TEST_CASE("runner_plugin.dry_runner_lists_the_nodes_in_order_and_runs_nothing") {
    Project p;
    diamond_project(p);
    auto r = p.run({"--runner", "DryRunner"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.contains("Dry run: 5 nodes would run"));
    CHECK(r.contains("1. n1 (testnodes.seed)"));
    CHECK(r.contains("5. n5 (testnodes.neg)"));
    CHECK(r.contains("inputs:  a [MemoryDataset], params:x [parameter]"));
    CHECK(r.contains("outputs: d [JsonDataset("));
    CHECK(r.output.find("1. n1") < r.output.find("4. n4"));
    CHECK_FALSE(p.exists("data/d.json"));
    CHECK_FALSE(r.contains("Running node"));
    // A dry run leaves the record of the last real run alone.
    CHECK_FALSE(p.exists(".kiln/last_run.json"));
}

TEST_CASE("runner_plugin.dry_runner_reports_missing_inputs") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "words", "func": "testnodes.split_words", "inputs": "text", "outputs": "w"}]}}})");
    p.catalog(R"({"text": {"type": "kiln.TextDataset", "filepath": "data/missing.txt"}})");
    auto r = p.run({"--runner", "dryrun.DryRunner"});
    INFO(r.output);
    // A pre-flight check: missing data fails the run, naming what is missing.
    CHECK(r.exit_code == 1);
    CHECK(r.contains("input text: MISSING"));
    CHECK(r.contains("1 input(s) missing"));
    CHECK(r.contains("runner dryrun.DryRunner"));
    CHECK(r.contains("dry run found 1 missing input(s) the run needs: text [TextDataset("));
    CHECK(r.contains("missing.txt"));
    CHECK_FALSE(r.contains("Running node"));
    CHECK_FALSE(r.contains("Pipeline execution completed successfully"));
    auto rep = p.report();
    INFO(rep.dump(2));
    CHECK(rep["status"] == "failed");
    CHECK(rep["failure"]["error"].get<std::string>().find("missing input(s) the run needs: text") != std::string::npos);
    // Nothing ran: the record of the last real run (none here) is left alone.
    CHECK_FALSE(p.exists(".kiln/last_run.json"));

    // Once the data is there, the dry run passes.
    p.write("data/missing.txt", "a b c\n");
    r = p.run({"--runner", "DryRunner"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.contains("input text: exists"));
    CHECK_FALSE(r.contains("MISSING"));
    CHECK_FALSE(r.contains("input(s) missing"));
}

TEST_CASE("runner_plugin.dry_runner_lists_every_missing_input_and_keeps_the_run_record") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "words", "func": "testnodes.split_words", "inputs": "text", "outputs": "w"},
        {"name": "count", "func": "testnodes.count_words", "inputs": "w", "outputs": "counts"},
        {"name": "scaled", "func": "testnodes.add", "inputs": ["x", "y"], "outputs": "s"}]}}})");
    p.catalog(R"({"text": {"type": "kiln.TextDataset", "filepath": "data/text.txt"},
                  "x": {"type": "kiln.JsonDataset", "filepath": "data/x.json"},
                  "y": {"type": "kiln.JsonDataset", "filepath": "data/y.json"}})");
    p.write("data/text.txt", "a b\n");
    p.write("data/x.json", "1\n");
    p.write("data/y.json", "2\n");
    auto real = p.run();
    INFO(real.output);
    REQUIRE(real.exit_code == 0);
    const auto record = read_text(p / ".kiln/last_run.json");

    fs::remove(p / "data/text.txt");
    fs::remove(p / "data/y.json");
    auto r = p.run({"--runner", "DryRunner"});
    INFO(r.output);
    CHECK(r.exit_code != 0);
    const auto at = r.output.find("dry run found 2 missing input(s) the run needs: text [TextDataset(");
    REQUIRE(at != std::string::npos);
    const std::string message = r.output.substr(at, r.output.find('\n', at) - at);
    CHECK(message.find(", y [JsonDataset(") != std::string::npos);
    CHECK(message.find("y.json") != std::string::npos);
    CHECK(message.find("x.json") == std::string::npos);  // x exists
    CHECK(read_text(p / ".kiln/last_run.json") == record);
    auto resume = p.run({"--resume"});
    INFO(resume.output);
    CHECK(resume.exit_code == 0);
    CHECK(resume.contains("nothing to resume"));
}

TEST_CASE("runner_plugin.dry_runner_copied_into_a_project_works_without_conflict") {
    Project p;
    two_node_project(p);
    fs::create_directories(p / "plugins");
    fs::copy_file(fs::path(KILN_BINARY).parent_path().parent_path() / "plugins" / "kiln_dryrun.so",
                  p / "plugins" / "kiln_dryrun.so");
    auto r = p.run({"--runner", "DryRunner"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.contains("Dry run: 2 nodes"));
}

// ------------------------------------------------------------------ runner names

TEST_CASE("runner_plugin.unknown_runner_lists_builtin_and_plugin_runners") {
    Project p;
    two_node_project(p);
    auto r = run_ext(p, {"--runner", "NoSuchRunner"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("unknown runner 'NoSuchRunner'"));
    CHECK(r.contains("available runners: SequentialRunner, ThreadRunner, ParallelRunner"));
    CHECK(r.contains("dryrun.DryRunner"));
    CHECK(r.contains("testext.PoolRunner"));
}

TEST_CASE("runner_plugin.parallel_flag_and_runner_together_is_an_error") {
    Project p;
    two_node_project(p);
    auto r = p.run({"--parallel", "--runner", "DryRunner"});
    CHECK(r.exit_code == 2);
    CHECK(r.contains("--parallel and --runner cannot be used together"));
}

TEST_CASE("runner_plugin.listed_by_kiln_plugins") {
    Project p;
    two_node_project(p);
    auto r = run_kiln({"plugins", "--project", p.dir(), "--plugin-path", ext_plugins});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.contains("runner   dryrun.DryRunner"));
    CHECK(r.contains("hooks    trace.ChromeTrace"));
    CHECK(r.contains("runner   testext.PoolRunner  # a thread pool written against the SDK only"));
    CHECK(r.contains("runners: SequentialRunner ThreadRunner ParallelRunner dryrun.DryRunner"));
    CHECK(r.contains("built-in datasets: kiln.MemoryDataset (in memory for the run), kiln.PartitionedDataset"));
}

// ------------------------------------------------------------------ runner contract

TEST_CASE("runner_plugin.sdk_pool_runner_gives_the_sequential_results") {
    Project seq, pool;
    diamond_project(seq);
    diamond_project(pool);
    auto a = seq.run({});
    auto b = run_ext(pool, {"--runner", "PoolRunner", "--max-workers", "3"});
    INFO(a.output << b.output);
    REQUIRE(a.exit_code == 0);
    REQUIRE(b.exit_code == 0);
    CHECK(seq.report()["outputs"] == pool.report()["outputs"]);
    CHECK(read_text(seq / "data/d.json") == read_text(pool / "data/d.json"));
    CHECK(pool.report()["runner"] == "testext.PoolRunner");
    CHECK(pool.ran_nodes().size() == 5);
}

TEST_CASE("runner_plugin.node_failure_under_a_plugin_runner_prints_the_resume_command") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a"},
        {"name": "boom", "func": "testnodes.fail", "inputs": "a", "outputs": "b"}]}}})");
    p.catalog(R"({"a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"}})");
    auto r = run_ext(p, {"--runner", "PoolRunner"});
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("Node 'boom' failed"));
    CHECK(r.contains("deliberate failure"));
    CHECK(r.contains("--from-nodes \"boom\""));
    CHECK(p.exists("data/a.json"));
}

TEST_CASE("runner_plugin.exception_from_a_runner_fails_the_run_with_its_name") {
    Project p;
    two_node_project(p);
    auto r = run_ext(p, {"--runner", "ThrowingRunner"});
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("runner testext.ThrowingRunner ("));
    CHECK(r.contains("failed: the runner gave up"));
    CHECK(p.report()["status"] == "failed");
    CHECK(p.ran_nodes() == std::vector<std::string>{"first"});
}

TEST_CASE("runner_plugin.running_a_node_before_its_dependency_is_refused") {
    Project p;
    two_node_project(p);
    auto r = run_ext(p, {"--runner", "BackwardsRunner"});
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("runner testext.BackwardsRunner started node 'second' before its dependency 'first' completed"));
}

TEST_CASE("runner_plugin.running_a_node_twice_is_refused") {
    Project p;
    two_node_project(p);
    auto r = run_ext(p, {"--runner", "testext.TwiceRunner"});
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("runner testext.TwiceRunner ran node 'first' twice"));
}

TEST_CASE("runner_plugin.returning_before_a_started_node_finished_fails_the_run") {
    Project p;
    two_node_project(p);
    auto r = run_ext(p, {"--runner", "ForgetfulRunner"});
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("runner testext.ForgetfulRunner returned while node 'first' had not finished"));
}

TEST_CASE("runner_plugin.default_datasets_hold_the_values_the_catalog_lacks") {
    Project p;
    two_node_project(p);
    auto r = run_ext(p, {"--runner", "MarkerRunner"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(read_text(p / "defaults/a.saved") == "f64\n");
    CHECK(read_text(p / "defaults/b.saved") == "f64\n");
    CHECK(p.report()["outputs"]["b"]["persisted_in"] == "MarkerDataset(b.saved)");
}

TEST_CASE("runner_plugin.remote_api_runs_nodes_as_if_elsewhere") {
    Project seq, relay;
    diamond_project(seq);
    diamond_project(relay);
    enable_recorder(relay);
    REQUIRE(seq.run({}).exit_code == 0);
    auto r = run_ext(relay, {"--runner", "RelayRunner"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(relay.report()["outputs"] == seq.report()["outputs"]);
    CHECK(read_text(relay / "data/d.json") == read_text(seq / "data/d.json"));
    const json report = relay.report();
    for (const auto& n : report["nodes"]) CHECK(n["worker"] == 1);
    // Hooks fire in this process with no values, as for any node that ran elsewhere.
    auto lines = recorded(relay / "events.txt");
    CHECK(std::find(lines.begin(), lines.end(), "before_node_run node=n4 worker=1 in=2:nullnull out=0 rss=no") !=
          lines.end());
    CHECK(std::find(lines.begin(), lines.end(), "after_dataset_saved node=n4 dataset=d data=null") != lines.end());
    // Each hook once per node, as under every runner: run_delegated fires none of its own.
    const auto starts_with = [&](const std::string& prefix) {
        return std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
    };
    CHECK(starts_with("before_node_run node=n4 ") == 1);
    CHECK(starts_with("after_node_run node=n4 ") == 1);
    CHECK(starts_with("after_dataset_saved node=n4 dataset=d ") == 1);
    CHECK(std::none_of(lines.begin(), lines.end(), [](const std::string& l) { return l.find("data=set") != std::string::npos; }));
}

TEST_CASE("runner_plugin.remote_failure_is_reported_like_a_local_one") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a"},
        {"name": "boom", "func": "testnodes.fail", "inputs": "a", "outputs": "b"}]}}})");
    auto r = run_ext(p, {"--runner", "RelayRunner"});
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("Node 'boom' failed: node 'boom' (testnodes.fail) failed: deliberate failure"));
    CHECK(p.report()["failure"]["node"] == "boom");
}

// ------------------------------------------------------------------ hooks

TEST_CASE("hooks.fire_in_kedros_order_under_the_sequential_runner") {
    Project p;
    two_node_project(p);
    enable_recorder(p);
    auto r = run_ext(p, {});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    std::set<std::string> pids;
    CHECK(joined(recorded(p / "events.txt", &pids)) ==
          "before_pipeline_run runner=SequentialRunner nodes=2 params.runner=SequentialRunner\n"
          "before_node_run node=first worker=0 in=0: out=0 rss=no\n"
          "after_node_run node=first worker=0 in=0: out=1 rss=yes\n"
          "before_dataset_saved node=first dataset=a data=set\n"
          "after_dataset_saved node=first dataset=a data=set\n"
          "before_dataset_loaded node=second dataset=a\n"
          "after_dataset_loaded node=second dataset=a data=set\n"
          "before_node_run node=second worker=0 in=1:set out=0 rss=no\n"
          "after_node_run node=second worker=0 in=1:set out=1 rss=yes\n"
          "before_dataset_saved node=second dataset=b data=set\n"
          "after_dataset_saved node=second dataset=b data=set\n"
          "after_pipeline_run outputs=b=set \n");
    CHECK(pids.size() == 1);
}

TEST_CASE("hooks.fire_in_the_host_process_under_the_parallel_runner") {
    for (std::string method : {"fork", "spawn"}) {
        CAPTURE(method);
        Project p;
        two_node_project(p);
        enable_recorder(p);
        auto r = run_ext(p, {"--parallel", "--max-workers", "1", "--start-method", method});
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        std::set<std::string> pids;
        CHECK(joined(recorded(p / "events.txt", &pids)) ==
              "before_pipeline_run runner=ParallelRunner nodes=2 params.runner=ParallelRunner\n"
              "before_node_run node=first worker=0 in=0: out=0 rss=no\n"
              "after_node_run node=first worker=0 in=0: out=1 rss=yes\n"
              "before_dataset_saved node=first dataset=a data=null\n"
              "after_dataset_saved node=first dataset=a data=null\n"
              "before_dataset_loaded node=second dataset=a\n"
              "after_dataset_loaded node=second dataset=a data=null\n"
              "before_node_run node=second worker=0 in=1:null out=0 rss=no\n"
              "after_node_run node=second worker=0 in=1:null out=1 rss=yes\n"
              "before_dataset_saved node=second dataset=b data=null\n"
              "after_dataset_saved node=second dataset=b data=null\n"
              "after_pipeline_run outputs=b=set \n");
        CHECK(pids.size() == 1);  // one process: the host
    }
}

TEST_CASE("hooks.fire_for_every_node_under_thread_and_plugin_runners") {
    for (std::string runner : {"ThreadRunner", "testext.PoolRunner"}) {
        CAPTURE(runner);
        Project p;
        diamond_project(p);
        enable_recorder(p);
        auto r = run_ext(p, {"--runner", runner, "--max-workers", "2"});
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        auto lines = recorded(p / "events.txt");
        std::multiset<std::string> kinds;
        for (const auto& l : lines) kinds.insert(l.substr(0, l.find(' ')));
        CHECK(kinds.count("before_node_run") == 5);
        CHECK(kinds.count("after_node_run") == 5);
        CHECK(kinds.count("after_dataset_loaded") == 6);
        CHECK(kinds.count("after_dataset_saved") == 5);
        CHECK(lines.front().rfind("before_pipeline_run runner=" + runner, 0) == 0);
        CHECK(lines.back().rfind("after_pipeline_run", 0) == 0);
    }
}

TEST_CASE("hooks.node_hook_failure_fails_that_node_with_the_hooks_name") {
    for (std::string runner : {"SequentialRunner", "ParallelRunner"}) {
        CAPTURE(runner);
        Project p;
        two_node_project(p);
        p.write("settings.json", R"({"hooks": [{"name": "Thrower",
                                     "options": {"point": "before_node_run", "node": "second"}}]})");
        auto r = run_ext(p, {"--runner", runner});
        INFO(r.output);
        CHECK(r.exit_code == 1);
        CHECK(r.contains("Node 'second' failed"));
        CHECK(r.contains("hook testext.Thrower ("));
        CHECK(r.contains("failed in before_node_run: Thrower was told to fail in before_node_run"));
        CHECK(p.ran_nodes() == std::vector<std::string>{"first", "second"});
        CHECK(p.report()["failure"]["node"] == "second");
    }
}

TEST_CASE("hooks.dataset_hook_failure_fails_the_node") {
    Project p;
    two_node_project(p);
    p.write("settings.json", R"({"hooks": [{"name": "testext.Thrower", "options": {"point": "before_dataset_loaded"}}]})");
    auto r = run_ext(p, {});
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("Node 'second' failed"));
    CHECK(r.contains("failed in before_dataset_loaded"));
}

TEST_CASE("hooks.pipeline_hook_failures") {
    Project p;
    two_node_project(p);
    SUBCASE("before the run: nothing runs") {
        p.write("settings.json", R"({"hooks": [{"name": "Thrower", "options": {"point": "before_pipeline_run"}}]})");
        auto r = run_ext(p, {});
        INFO(r.output);
        CHECK(r.exit_code == 2);
        CHECK(r.contains("hook testext.Thrower ("));
        CHECK(r.contains("failed in before_pipeline_run"));
        CHECK_FALSE(r.contains("Running node"));
    }
    SUBCASE("after the run: the run fails, the outputs stay") {
        p.write("settings.json", R"({"hooks": [{"name": "Thrower", "options": {"point": "after_pipeline_run"}}]})");
        auto r = run_ext(p, {});
        INFO(r.output);
        CHECK(r.exit_code == 1);
        CHECK(r.contains("failed in after_pipeline_run"));
    }
}

TEST_CASE("hooks.on_node_error_and_on_pipeline_error_are_called") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a"},
        {"name": "boom", "func": "testnodes.fail", "inputs": "a", "outputs": "b"}]}}})");
    enable_recorder(p);
    auto r = run_ext(p, {});
    INFO(r.output);
    CHECK(r.exit_code == 1);
    auto lines = recorded(p / "events.txt");
    REQUIRE(lines.size() >= 2);
    CHECK(std::find(lines.begin(), lines.end(), "on_node_error node=boom worker=0 in=1:set out=0 rss=yes") !=
          lines.end());
    CHECK(lines.back().rfind("on_pipeline_error node 'boom' (testnodes.fail) failed: deliberate failure", 0) == 0);
}

TEST_CASE("hooks.enabled_with_the_hooks_option") {
    Project p;
    two_node_project(p);
    auto ok = run_ext(p, {"--hooks", "testext.Thrower"});  // no options: never throws
    CHECK(ok.exit_code == 0);
    auto unknown = run_ext(p, {"--hooks", "Nope"});
    INFO(unknown.output);
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.contains("--hooks: unknown hook 'Nope'"));
}

TEST_CASE("hooks.settings_json_errors_name_the_file_and_entry") {
    Project p;
    two_node_project(p);
    struct Case {
        std::string settings, message;
    };
    for (const auto& c : std::vector<Case>{
             {R"({"hook": []})", "settings.json: unknown setting 'hook'; known settings: hooks"},
             {R"({"hooks": "testext.Recorder"})", "\"hooks\" must be a list"},
             {R"({"hooks": [3]})", "hooks[0] must be a hook name or an object"},
             {R"({"hooks": [{"name": "testext.Thrower", "option": {}}]})", "hooks[0]: unknown key 'option'"},
             {R"({"hooks": [{"name": "testext.Thrower", "options": []}]})", "\"options\" must be an object"},
             {R"({"hooks": ["testext.Nope"]})", "settings.json: unknown hook 'testext.Nope'"},
             {R"({"hooks": [)", "settings.json"},
         }) {
        CAPTURE(c.settings);
        p.write("settings.json", c.settings);
        auto r = run_ext(p, {});
        INFO(r.output);
        CHECK(r.exit_code == 2);
        CHECK(r.contains(c.message));
    }
}

TEST_CASE("hooks.a_hook_that_cannot_be_created_is_reported") {
    Project p;
    two_node_project(p);
    auto r = run_ext(p, {"--hooks", "BadConfig"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("hook testext.BadConfig ("));
    CHECK(r.contains("could not be created: BadConfig refuses every configuration"));
}

// ------------------------------------------------------------------ trace hook

TEST_CASE("trace.writes_a_chrome_trace_with_a_track_per_worker") {
    for (std::string runner : {"ThreadRunner", "ParallelRunner"}) {
        CAPTURE(runner);
        Project p;
        p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
            {"name": "left", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "a"},
            {"name": "right", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "b"},
            {"name": "both", "func": "testnodes.add", "inputs": ["a", "b"], "outputs": "c"}]}}})");
        p.parameters(R"({"ms": 300})");
        const fs::path trace = p / "out" / "run.json";
        fs::create_directories(trace.parent_path());
        auto r = p.run({"--runner", runner, "--max-workers", "2", "--trace", trace.string()});
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        CHECK(r.contains("Trace written to " + trace.string()));
        json t = json::parse(read_text(trace));
        CHECK(t["otherData"]["status"] == "success");
        CHECK(t["otherData"]["runner"] == runner);
        std::map<std::string, json> slices;
        std::set<int> tids;
        for (const auto& e : t["traceEvents"])
            if (e["ph"] == "X" && e["cat"] == "node") {
                slices[e["name"]] = e;
                tids.insert(e["tid"].get<int>());
                CHECK(e["dur"].get<double>() >= 0);
                CHECK(e["args"]["max_rss_mib"].get<double>() > 0);
            }
        CHECK(slices.size() == 3);
        CHECK(tids == std::set<int>{0, 1});  // the two sleeps ran side by side
        CHECK(slices["both"]["ts"].get<double>() >= slices["left"]["ts"].get<double>() + slices["left"]["dur"].get<double>());
        CHECK(slices["both"]["args"]["inputs"] == json::array({"a", "b"}));
    }
}

namespace {

// Checks that the "X" slices of a trace nest on each track, as Chrome's format requires:
// two slices of one track are disjoint or one contains the other. Each load/save slice lies
// inside the slice of its node, on the node's track or (overlapping I/O of --async) on an
// I/O track of its own. Returns the number of dataset slices.
std::size_t check_slices_nest(const json& trace) {
    struct Slice {
        std::string name, cat, node;
        double begin, end;
    };
    std::map<long, std::vector<Slice>> tracks;
    std::map<std::string, Slice> nodes;
    std::vector<std::pair<long, Slice>> io;
    for (const auto& e : trace["traceEvents"]) {
        if (e["ph"] != "X") continue;
        Slice s{e["name"], e["cat"], "", e["ts"].get<double>(), e["ts"].get<double>() + e["dur"].get<double>()};
        CHECK(e["dur"].get<double>() >= 0);
        const long tid = e["tid"].get<long>();
        if (s.cat == "dataset") {
            s.node = e["args"]["node"];
            io.emplace_back(tid, s);
        } else {
            nodes[s.name] = s;
        }
        tracks[tid].push_back(s);
    }
    constexpr double eps = 1e-6;  // microseconds: rounding of ts + dur only
    for (auto& [tid, slices] : tracks) {
        std::sort(slices.begin(), slices.end(), [](const Slice& a, const Slice& b) {
            return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
        });
        std::vector<Slice> open;
        for (const auto& s : slices) {
            while (!open.empty() && open.back().end <= s.begin + eps) open.pop_back();
            if (!open.empty())
                CHECK_MESSAGE(s.end <= open.back().end + eps,
                              "track " << tid << ": '" << s.name << "' [" << s.begin << ", " << s.end
                                       << "] overlaps '" << open.back().name << "' [" << open.back().begin << ", "
                                       << open.back().end << "] without nesting");
            open.push_back(s);
        }
    }
    for (const auto& [tid, s] : io) {
        REQUIRE_MESSAGE(nodes.count(s.node), "no slice for node " << s.node);
        const Slice& n = nodes[s.node];
        CHECK_MESSAGE((s.begin >= n.begin - eps && s.end <= n.end + eps),
                      "'" << s.name << "' [" << s.begin << ", " << s.end << "] is not inside node '" << n.name
                          << "' [" << n.begin << ", " << n.end << "]");
    }
    return io.size();
}

// range -> v (file); min_max(v) -> lo, hi (two files); add(lo, hi) -> c (file);
// sum(v) -> total (memory); add(c, total) -> out (file).
void persisted_project(Project& p) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "r", "func": "testnodes.range", "inputs": "params:n", "outputs": "v"},
        {"name": "mm", "func": "testnodes.min_max", "inputs": "v", "outputs": ["lo", "hi"]},
        {"name": "s", "func": "testnodes.add", "inputs": ["lo", "hi"], "outputs": "c"},
        {"name": "t", "func": "testnodes.sum", "inputs": "v", "outputs": "total"},
        {"name": "u", "func": "testnodes.add", "inputs": ["c", "total"], "outputs": "out"}
    ]}}})");
    p.parameters(R"({"n": 20000})");
    p.catalog(R"({
        "v": {"type": "kiln.JsonDataset", "filepath": "data/v.json"},
        "lo": {"type": "kiln.JsonDataset", "filepath": "data/lo.json"},
        "hi": {"type": "kiln.JsonDataset", "filepath": "data/hi.json"},
        "c": {"type": "kiln.JsonDataset", "filepath": "data/c.json"},
        "out": {"type": "kiln.JsonDataset", "filepath": "data/out.json"}
    })");
}

}  // namespace

TEST_CASE("trace.slices_nest_on_every_track_under_every_runner") {
    const std::vector<std::vector<std::string>> variants = {
        {"--runner", "SequentialRunner"},
        {"--runner", "SequentialRunner", "--async"},
        {"--runner", "ThreadRunner", "--max-workers", "2"},
        {"--runner", "ParallelRunner", "--max-workers", "2"},
        {"--runner", "ParallelRunner", "--max-workers", "2", "--start-method", "spawn"},
    };
    for (const auto& variant : variants) {
        std::string label;
        for (const auto& a : variant) label += a + " ";
        CAPTURE(label);
        Project p;
        persisted_project(p);
        std::vector<std::string> args = variant;
        args.insert(args.end(), {"--trace", (p / "trace.json").string()});
        auto r = p.run(args);
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        json t = json::parse(read_text(p / "trace.json"));
        std::set<std::string> node_slices;
        for (const auto& e : t["traceEvents"])
            if (e["ph"] == "X" && e["cat"] == "node") node_slices.insert(e["name"].get<std::string>());
        CHECK(node_slices == std::set<std::string>{"mm", "r", "s", "t", "u"});
        const std::size_t io = check_slices_nest(t);
        // In-process runners time every load and save (7 loads, 6 saves); a worker
        // process's are not timed in the host.
        if (variant[1] == "ParallelRunner") CHECK(io == 0);
        else CHECK(io == 13);
    }
}

TEST_CASE("trace.records_a_failed_run") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a"},
        {"name": "boom", "func": "testnodes.fail", "inputs": "a", "outputs": "b"}]}}})");
    auto r = p.run({"--trace", (p / "t.json").string()});
    CHECK(r.exit_code == 1);
    json t = json::parse(read_text(p / "t.json"));
    CHECK(t["otherData"]["status"] == "failed");
    bool failed_slice = false;
    for (const auto& e : t["traceEvents"])
        if (e["ph"] == "X" && e["name"] == "boom") failed_slice = e["cat"] == "node,failed" && e["args"].contains("error");
    CHECK(failed_slice);
}

TEST_CASE("trace.option_needs_a_path_in_settings") {
    Project p;
    two_node_project(p);
    auto r = p.run({"--hooks", "trace.ChromeTrace"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("needs the option \"path\""));
}

}  // namespace extensions_test_cases
