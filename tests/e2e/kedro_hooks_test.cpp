// The hooks of plugin ABI 1.5 end to end, as Kedro users rely on them: before_node_run
// replacing a node's input (in-process runners; refused clearly where the node runs in a
// worker process), after_context_created and after_catalog_created (once each, in the
// host, before before_pipeline_run, under every runner, never with credentials), and an
// older plugin that is told none of them.
#include <doctest/doctest.h>

#include <filesystem>

#include "common_projects.hpp"
#include "kiln_process.hpp"
#include "project_builder.hpp"
#include "test_support.hpp"

using namespace kiln::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace kedro_hooks_test_cases {

namespace {

const std::string password = "Kedro-hooks-s3cret&9";

// first: seed() -> a (in memory);  second: neg(a) -> b (data/b.json). InputSwap gives
// `second` the value `value` for `dataset`.
void swap_project(Project& p, const std::string& dataset, const std::string& value) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a"},
        {"name": "second", "func": "testnodes.neg", "inputs": "a", "outputs": "b"}
    ]}}})");
    p.catalog(R"({"b": {"type": "kiln.JsonDataset", "filepath": "data/b.json"}})");
    p.write("settings.json", R"({"hooks": [{"name": "testext.InputSwap", "options":
        {"node": "second", "dataset": ")" + dataset + R"(", "value": )" + value + "}}]}");
}

// A conf/ project: hello = greet(account), account reading credentials; flip = neg(in),
// `in` versioned (one version) and `out` versioned (saved under the run's version).
// ContextLog writes the run-wide events to events.txt, describing `account`.
void context_project(Project& p) {
    p.write("conf/base/pipelines.json", R"({"pipelines": {"__default__": {"nodes": [
        {"name": "hello", "func": "testnodes.greet", "inputs": "account", "outputs": "hello"},
        {"name": "flip", "func": "testnodes.neg", "inputs": "in", "outputs": "out"}
    ]}}})");
    p.write("conf/base/catalog.json", R"({
        "account": {"type": "testext.CredentialedDataset", "credentials": "warehouse"},
        "hello": {"type": "kiln.JsonDataset", "filepath": "data/hello.json"},
        "in": {"type": "kiln.JsonDataset", "filepath": "data/in.json", "versioned": true},
        "out": {"type": "kiln.JsonDataset", "filepath": "data/out.json", "versioned": true}})");
    p.write("conf/base/parameters.json", R"({"x": 1})");
    p.write("conf/local/credentials.json",
            R"({"warehouse": {"user": "alice", "password": "${oc.env:KEDRO_HOOKS_TEST_PASSWORD}"}})");
    p.write("conf/base/settings.json", R"({"hooks": [{"name": "testext.ContextLog", "options": {"path": ")" +
                                           (p / "events.txt").string() + R"(", "describe": "account"}}]})");
    p.write("data/in.json/2026-01-01T00.00.00.000Z/in.json", "3");
}

}  // namespace

TEST_CASE("kedro_hooks.before_node_run_replaces_an_input_under_in_process_runners") {
    for (std::string runner : {"SequentialRunner", "ThreadRunner"}) {
        CAPTURE(runner);
        Project p;
        swap_project(p, "a", "5");
        auto r = run_ext(p, {"--runner", runner});
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        CHECK(p.json_file("data/b.json") == json(-5.0));  // neg(5), not neg(seed() = 1)
    }
}

TEST_CASE("kedro_hooks.before_node_run_replacing_is_refused_in_worker_processes") {
    for (std::string method : {"fork", "spawn"}) {
        CAPTURE(method);
        Project p;
        swap_project(p, "a", "5");
        auto r = run_ext(p, {"--runner", "ParallelRunner", "--start-method", method});
        INFO(r.output);
        CHECK(r.exit_code == 1);
        CHECK(r.contains("node 'second': hook testext.InputSwap ("));
        CHECK(r.contains("replaced input 'a' in before_node_run, but this runner runs the node in another process"));
        CHECK(r.contains("use SequentialRunner or ThreadRunner"));
        CHECK_FALSE(fs::exists(p / "data/b.json"));
    }
}

TEST_CASE("kedro_hooks.a_bad_replacement_fails_the_node_naming_hook_node_and_dataset") {
    SUBCASE("another type") {
        Project p;
        swap_project(p, "a", R"("five")");
        auto r = run_ext(p, {});
        INFO(r.output);
        CHECK(r.exit_code == 1);
        CHECK(r.contains("node 'second': hook testext.InputSwap ("));
        CHECK(r.contains(") replaced input 'a' in before_node_run with a 'string' value, but the node reads '"));
    }
    SUBCASE("not an input of the node") {
        Project p;
        swap_project(p, "params:x", "5");
        auto r = run_ext(p, {});
        INFO(r.output);
        CHECK(r.exit_code == 1);
        CHECK(r.contains("replaced input 'params:x' in before_node_run, but it is not an input of the node (its inputs: 'a')"));
    }
}

TEST_CASE("kedro_hooks.context_and_catalog_hooks_fire_once_in_order_without_credentials") {
    const std::vector<std::vector<std::string>> runners = {
        {},
        {"--runner", "ThreadRunner"},
        {"--runner", "ParallelRunner", "--start-method", "fork"},
        {"--runner", "ParallelRunner", "--start-method", "spawn"},
        {"--runner", "testext.PoolRunner"}};
    for (const auto& runner : runners) {
        CAPTURE(runner.empty() ? std::string("SequentialRunner") : runner[1]);
        Project p;
        context_project(p);
        std::vector<std::string> args = runner;
        args.insert(args.end(), {"--params", "y=2"});
        auto r = run_ext(p, args, {"KEDRO_HOOKS_TEST_PASSWORD=" + password});
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        const std::string events = read_text(p / "events.txt");
        INFO(events);
        CHECK(events.find(password) == std::string::npos);
        CHECK(events.find("alice") == std::string::npos);  // every credential value is secret
        const std::string context =
            R"(after_context_created env=local conf=conf params={"x":1,"y":2} runtime={"y":2} project=ok)";
        const std::string catalog =
            R"(after_catalog_created run_id=ok save_version=run_id load_versions={"in":"2026-01-01T00.00.00.000Z"} runtime={"y":2} describe=)";
        REQUIRE(events.rfind(context + "\n" + catalog, 0) == 0);
        const std::string rest = events.substr(events.find('\n', context.size() + 1) + 1);
        CHECK(rest == "before_pipeline_run\nafter_pipeline_run\n");
    }
}

TEST_CASE("kedro_hooks.an_older_plugin_is_told_only_the_points_of_its_minor") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a"},
        {"name": "second", "func": "testnodes.neg", "inputs": "a", "outputs": "b"}
    ]}}})");
    p.write("settings.json", R"({"hooks": [{"name": "hooks_minor_4.OldHook", "options": {"path": ")" +
                                 (p / "events.txt").string() + R"("}}]})");
    auto r = p.run({"--plugin-path", test_plugins("hooks_minor_4")});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(read_text(p / "events.txt") ==
          "before_pipeline_run\n"
          "before_node_run node=first replacements=null\n"
          "before_node_run node=second replacements=null\n"
          "after_pipeline_run\n");
}

}  // namespace kedro_hooks_test_cases
