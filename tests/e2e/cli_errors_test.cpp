// Errors a user can make on the command line and in project files, as kiln reports them:
// each test runs the real binary on a generated project and checks the exit code (2 for a
// configuration or usage error) and that the message names what to fix.
#include <doctest/doctest.h>

#include "kiln_process.hpp"
#include "project_builder.hpp"
#include "test_support.hpp"

using namespace kiln::test;

namespace cli_errors_test_cases {

namespace {

// A valid two-node project: seed -> a -> neg -> b (b is a free output).
void tagged_two_node_project(Project& p) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a", "tags": ["t1"]},
        {"name": "second", "func": "testnodes.neg", "inputs": "a", "outputs": "b", "tags": ["t2"]}
    ]}}})");
}

}  // namespace

// ---------------------------------------------------------------- pipelines.json

TEST_CASE("cli.unknown_function") {
    Project p;
    p.pipelines(R"({"pipelines": {"main": {"nodes": [
        {"name": "adder", "func": "testnodes.ad", "inputs": ["params:x", "params:y"], "outputs": "s"}
    ]}}})");
    p.parameters(R"({"x": 1, "y": 2})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("pipelines.json"));
    CHECK(r.contains("pipeline 'main'"));
    CHECK(r.contains("nodes[0] 'adder'"));
    CHECK(r.contains("unknown node function 'testnodes.ad'"));
    CHECK(r.contains("did you mean"));
    CHECK(r.contains("testnodes.add"));
    // The report says so (CI always gets one), and nothing ran.
    auto rep = p.report();
    INFO(rep.dump(2));
    CHECK(rep["status"] == "error");
    CHECK(rep["nodes"] == nlohmann::json::array());
    CHECK_FALSE(r.contains("Running node"));
}

TEST_CASE("cli.unknown_function_lists_known_when_nothing_is_close") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "mystery", "func": "zzqqxx.completely_unrelated_name", "outputs": "s"}
    ]}}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("unknown node function 'zzqqxx.completely_unrelated_name'"));
    CHECK(r.contains("'mystery'"));
    CHECK(r.contains("known: "));
    CHECK(r.contains("testnodes.add"));
}

TEST_CASE("cli.unknown_function_without_plugins_points_at_plugin_path") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "adder", "func": "testnodes.add", "inputs": ["params:x", "params:y"], "outputs": "s"}
    ]}}})");
    auto r = p.run_bare({});  // no --plugin-path: only kiln's own dataset plugin is loaded
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("unknown node function 'testnodes.add'"));
    CHECK(r.contains("--plugin-path"));
}

TEST_CASE("cli.wrong_number_of_inputs") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "adder", "func": "testnodes.add", "inputs": ["params:x"], "outputs": "s"}
    ]}}})");
    p.parameters(R"({"x": 1})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("pipelines.json"));
    CHECK(r.contains("pipeline '__default__'"));
    CHECK(r.contains("'adder'"));
    CHECK(r.contains("'testnodes.add' takes 2 inputs (f64, f64) but 1 is given"));
}

TEST_CASE("cli.wrong_number_of_outputs") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "rng", "func": "testnodes.range", "inputs": "params:n", "outputs": "v"},
        {"name": "extremes", "func": "testnodes.min_max", "inputs": "v", "outputs": "lo"}
    ]}}})");
    p.parameters(R"({"n": 3})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("'extremes'"));
    CHECK(r.contains("'testnodes.min_max' returns 2 outputs (f64, f64) but 1 is given"));
}

TEST_CASE("cli.wrong_input_type_between_producer_and_consumer") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "words", "func": "testnodes.split_words", "inputs": "params:text", "outputs": "w"},
        {"name": "negate", "func": "testnodes.neg", "inputs": "w", "outputs": "o"}
    ]}}})");
    p.parameters(R"({"text": "a b c"})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("pipelines.json"));
    CHECK(r.contains("Type mismatch on dataset 'w'"));
    CHECK(r.contains("'words' (testnodes.split_words)"));
    CHECK(r.contains("'negate' (testnodes.neg)"));
    CHECK(r.contains("'vector<string>'"));
    CHECK(r.contains("'f64'"));
    CHECK_FALSE(r.contains("Running node"));  // checked before anything runs
}

TEST_CASE("cli.wrong_type_between_two_readers_of_a_catalog_dataset") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "as_number", "func": "testnodes.neg", "inputs": "raw", "outputs": "n"},
        {"name": "as_text", "func": "testnodes.greet", "inputs": "raw", "outputs": "g"}
    ]}}})");
    p.catalog(R"({"raw": {"type": "kiln.JsonDataset", "filepath": "raw.json"}})");
    p.write("raw.json", "1.5\n");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("Type mismatch on free input 'raw'"));
    CHECK(r.contains("'as_number' (testnodes.neg)"));
    CHECK(r.contains("'as_text' (testnodes.greet)"));
    CHECK(r.contains("'f64'"));
    CHECK(r.contains("'string'"));
}

TEST_CASE("cli.output_produced_by_two_nodes") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "one", "func": "testnodes.seed", "outputs": "w"},
        {"name": "other", "func": "testnodes.seed", "outputs": "w"}
    ]}}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("pipelines.json"));
    CHECK(r.contains("A dataset can be written by only one node"));
    CHECK(r.contains("'w' is an output of nodes 'one' (testnodes.seed) and 'other' (testnodes.seed)"));
}

TEST_CASE("cli.duplicate_node_names") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "twin", "func": "testnodes.seed", "outputs": "w"},
        {"name": "twin", "func": "testnodes.seed", "outputs": "v"}
    ]}}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("must have unique names"));
    CHECK(r.contains("'twin' (2 nodes"));
    CHECK(r.contains("pipelines.json: pipeline '__default__'"));
}

TEST_CASE("cli.cycle_is_printed") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "a", "func": "testnodes.neg", "inputs": "x", "outputs": "y"},
        {"name": "b", "func": "testnodes.neg", "inputs": "y", "outputs": "x"},
        {"name": "after", "func": "testnodes.neg", "inputs": "y", "outputs": "z"}
    ]}}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("pipelines.json"));
    CHECK(r.contains("dependency cycle"));
    CHECK(r.contains("a -> (y) -> b -> (x) -> a"));
    CHECK(r.contains("3 nodes are in or downstream of a cycle"));
}

TEST_CASE("cli.node_reading_its_own_output") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "loop", "func": "testnodes.neg", "inputs": "x", "outputs": "x"}
    ]}}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("'loop' (testnodes.neg) reads its own output 'x'"));
}

TEST_CASE("cli.malformed_pipelines_json") {
    Project p;
    // A trailing comma: the '}' at line 2, column 58 is the offending character.
    p.pipelines("{\"pipelines\": {\"__default__\": {\"nodes\": [\n"
                "  {\"name\": \"a\", \"func\": \"testnodes.seed\", \"outputs\": \"w\",}\n"
                "]}}}\n");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("pipelines.json:2:58:"));
    CHECK(r.contains("no comma before a closing"));
}

TEST_CASE("cli.pipelines_json_of_the_wrong_shape") {
    Project p;
    p.pipelines(R"([{"func": "testnodes.seed", "outputs": "w"}])");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("pipelines.json"));
    CHECK(r.contains("\"pipelines\" object"));
    CHECK(r.contains("a list"));
}

TEST_CASE("cli.unknown_key_in_a_node") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "n", "func": "testnodes.neg", "input": "x", "outputs": "y"}
    ]}}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("'n'"));
    CHECK(r.contains("unknown key \"input\""));
    CHECK(r.contains("did you mean 'inputs'"));
}

TEST_CASE("cli.dict_inputs_with_an_unknown_parameter_name") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "stats", "func": "testnodes.summary", "inputs": {"totl": "params:x", "n": "params:n"}, "outputs": "s"}
    ]}}})");
    p.parameters(R"({"x": 1, "n": 2})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("'stats'"));
    CHECK(r.contains("'testnodes.summary' does not have: 'totl'"));
    CHECK(r.contains("did you mean 'total'"));
    CHECK(r.contains("its parameters are total (f64), n (i64)"));
}

TEST_CASE("cli.dict_inputs_missing_a_parameter") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "adder", "func": "testnodes.add", "inputs": {"a": "params:x"}, "outputs": "s"}
    ]}}})");
    p.parameters(R"({"x": 1})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("'adder'"));
    CHECK(r.contains("gives no dataset for parameter 'b' of 'testnodes.add'"));
}

TEST_CASE("cli.dict_inputs_for_a_function_without_parameter_names") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "negate", "func": "testnodes.neg", "inputs": {"v": "params:x"}, "outputs": "s"}
    ]}}})");
    p.parameters(R"({"x": 1})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("'testnodes.neg' declares no parameter names"));
}

TEST_CASE("cli.included_pipeline_not_defined") {
    Project p;
    p.pipelines(R"({"pipelines": {
        "prep": {"nodes": [{"name": "s", "func": "testnodes.seed", "outputs": "a"}]},
        "__default__": {"pipelines": ["prep", "reprot"]}
    }})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("pipeline '__default__' includes pipeline 'reprot', which the file does not define"));
}

TEST_CASE("cli.unknown_pipeline_name") {
    Project p;
    p.pipelines(R"({"pipelines": {
        "prepare": {"nodes": [{"name": "s", "func": "testnodes.seed", "outputs": "a"}]},
        "report": {"nodes": [{"name": "n", "func": "testnodes.neg", "inputs": "a", "outputs": "b"}]}
    }})");
    auto r = p.run({"--pipeline", "prepar"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("pipelines.json"));
    CHECK(r.contains("no pipeline named 'prepar'"));
    CHECK(r.contains("did you mean prepare"));
    CHECK(r.contains("Defined: __default__, prepare, report"));
}

// ---------------------------------------------------------------- catalog.json

TEST_CASE("cli.free_input_missing_from_catalog") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "adder", "func": "testnodes.add", "inputs": ["raw", "params:alpha"], "outputs": "s"},
        {"name": "negate", "func": "testnodes.neg", "inputs": "raw", "outputs": "t"}
    ]}}})");
    p.parameters(R"({"alpha": 1.5})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("not found in the catalog"));
    CHECK(r.contains("'raw' (read by 'adder', 'negate')"));
    CHECK(r.contains("catalog.json"));  // says where to add it
    CHECK_FALSE(r.contains("Running node"));
}

TEST_CASE("cli.malformed_catalog_json") {
    Project p;
    tagged_two_node_project(p);
    p.catalog("{\"b\": {\"type\": \"kiln.JsonDataset\", \"filepath\": \"b.json\"},\n}\n");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("catalog.json:2:1:"));
    CHECK(r.contains("no comma before a closing"));
}

TEST_CASE("cli.catalog_key_written_twice") {
    Project p;
    tagged_two_node_project(p);
    p.catalog(R"({"b": {"type": "kiln.JsonDataset", "filepath": "b.json"},
                  "b": {"type": "kiln.TextDataset", "filepath": "b.txt"}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("catalog.json"));
    CHECK(r.contains("key \"b\" appears twice"));
}

TEST_CASE("cli.unknown_dataset_type") {
    Project p;
    tagged_two_node_project(p);
    p.catalog(R"({"b": {"type": "kiln.JsonDatset", "filepath": "b.json"}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("catalog entry 'b'"));
    CHECK(r.contains("unknown dataset type 'kiln.JsonDatset'"));
    CHECK(r.contains("did you mean"));
    CHECK(r.contains("kiln.JsonDataset"));
    CHECK_FALSE(r.contains("Running node"));
    CHECK_FALSE(p.exists("b.json"));
}

TEST_CASE("cli.catalog_entry_without_type") {
    Project p;
    tagged_two_node_project(p);
    p.catalog(R"({"b": {"filepath": "b.json"}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("catalog.json"));
    CHECK(r.contains("catalog entry 'b' needs a \"type\""));
    CHECK(r.contains("kiln.JsonDataset"));
}

TEST_CASE("cli.catalog_entry_with_a_parameter_name") {
    Project p;
    tagged_two_node_project(p);
    p.catalog(R"({"params:x": {"type": "kiln.JsonDataset", "filepath": "x.json"}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("catalog entry 'params:x' uses a name reserved for parameters"));
}

// ---------------------------------------------------------------- parameters

TEST_CASE("cli.unknown_parameter") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "adder", "func": "testnodes.add", "inputs": ["params:alpha", "params:alpah"], "outputs": "s"}
    ]}}})");
    p.parameters(R"({"alpha": 1.5, "beta": {"gamma": 2}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("parameter 'params:alpah' is not defined"));
    CHECK(r.contains("did you mean params:alpha?"));
    CHECK_FALSE(r.contains("'params:alpha' is not defined"));
}

TEST_CASE("cli.parameter_of_the_wrong_type") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "adder", "func": "testnodes.add", "inputs": ["params:beta", "params:alpha"], "outputs": "s"}
    ]}}})");
    p.parameters(R"({"alpha": 1.5, "beta": "not a number"})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("parameter 'params:beta' = \"not a number\" cannot be read as 'f64'"));
}

TEST_CASE("cli.parameter_override_of_the_wrong_type") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "rng", "func": "testnodes.range", "inputs": "params:n", "outputs": "v"}
    ]}}})");
    p.parameters(R"({"n": 3})");
    auto r = p.run({"--params", "n=[1,2]"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("parameter 'params:n' = [1,2] cannot be read as 'i64'"));
}

TEST_CASE("cli.params_without_equals") {
    Project p;
    tagged_two_node_project(p);
    auto r = p.run({"--params", "alpha"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("--params: item 'alpha' must be KEY=VALUE"));
}

TEST_CASE("cli.params_into_a_value_that_is_not_an_object") {
    Project p;
    tagged_two_node_project(p);
    p.parameters(R"({"alpha": 1.5})");
    auto r = p.run({"--params", "alpha.x=2"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("cannot set parameter 'alpha.x'"));
    CHECK(r.contains("not an object"));
}

TEST_CASE("cli.malformed_parameters_json") {
    Project p;
    tagged_two_node_project(p);
    p.parameters("{\"alpha\": 1.5,\n \"beta\": tru}\n");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("parameters.json:2:"));
}

// ---------------------------------------------------------------- options

TEST_CASE("cli.unknown_runner") {
    Project p;
    tagged_two_node_project(p);
    auto r = p.run({"--runner", "WarpRunner"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("unknown runner 'WarpRunner'"));
    CHECK(r.contains("available runners:"));
    CHECK(r.contains("SequentialRunner"));
}

TEST_CASE("cli.parallel_and_runner_together") {
    auto r = run_kiln({"run", "--parallel", "--runner", "SequentialRunner"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("--parallel and --runner cannot be used together"));
}

TEST_CASE("cli.max_workers_must_be_positive") {
    Project p;
    tagged_two_node_project(p);
    for (const char* n : {"0", "-3"}) {
        CAPTURE(n);
        auto r = p.run({"--max-workers", n});
        INFO(r.output);
        CHECK(r.exit_code == 2);
        CHECK(r.contains("--max-workers must be a positive number of workers, got " + std::string(n)));
        CHECK_FALSE(r.contains("Running node"));
    }
}

TEST_CASE("cli.no_pipelines_json_in_project") {
    Project p;  // an empty directory
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("no pipelines.json in project '" + p.dir() + "'"));
    CHECK(r.contains("--project"));
}

TEST_CASE("cli.project_dir_does_not_exist") {
    Project p;
    std::string missing = (p / "no-such-project").string();
    auto r = run_kiln({"run", "--project", missing, "--plugin-path", test_plugins("good")});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("project directory '" + missing + "' does not exist"));
}

TEST_CASE("cli.resume_cannot_be_combined_with_filters") {
    Project p;
    tagged_two_node_project(p);
    REQUIRE(p.run().exit_code == 0);
    auto r = p.run({"--resume", "--nodes", "second"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("--resume"));
    CHECK(r.contains("cannot be combined"));
}

TEST_CASE("cli.resume_after_the_pipeline_lost_a_node") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "start", "func": "testnodes.seed", "outputs": "a"},
        {"name": "boom", "func": "testnodes.fail", "inputs": "a", "outputs": "b"}
    ]}}})");
    REQUIRE(p.run().exit_code == 1);
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "start", "func": "testnodes.seed", "outputs": "a"},
        {"name": "fixed", "func": "testnodes.neg", "inputs": "a", "outputs": "b"}
    ]}}})");
    auto refused = p.run({"--resume"});
    INFO(refused.output);
    CHECK(refused.exit_code == 2);
    CHECK(refused.contains("pipelines.json changed"));
    auto r = p.run({"--resume", "--force"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("cannot resume: node(s) boom of the interrupted run are no longer in pipeline '__default__'"));
    CHECK_FALSE(r.contains("Running node"));
}

TEST_CASE("cli.resume_with_a_corrupt_run_journal") {
    Project p;
    tagged_two_node_project(p);
    p.write(".kiln/journal", R"({"format": "kiln-run-record/1", "run_id": 3})");
    auto r = p.run({"--resume"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains(".kiln/journal: not a kiln run journal"));
    CHECK(r.contains("without --resume"));
}

// ---------------------------------------------------------------- plugins

TEST_CASE("cli.plugin_path_missing_dir") {
    Project p;
    tagged_two_node_project(p);
    std::string missing = (p / "no-plugins-here").string();
    auto r = p.run_bare({"--plugin-path", missing});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("plugin directory '" + missing + "' does not exist"));
    CHECK(r.contains("--plugin-path"));
}

TEST_CASE("cli.kiln_plugin_path_env_missing_dir") {
    Project p;
    tagged_two_node_project(p);
    std::string missing = (p / "nowhere").string();
    auto r = p.run_bare({}, {"KILN_PLUGIN_PATH=" + missing});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("plugin directory '" + missing + "' does not exist"));
    CHECK(r.contains("KILN_PLUGIN_PATH"));
}

namespace {
// Runs a valid project with the good plugins plus one broken plugin folder.
KilnResult run_with_broken(const std::string& folder) {
    Project p;
    tagged_two_node_project(p);
    return p.run_bare({"--plugin-path", test_plugins("good"), "--plugin-path", test_plugins(folder)});
}
}  // namespace

TEST_CASE("cli.plugin.wrong_abi") {
    auto r = run_with_broken("wrong_abi");
    INFO(r.output);
    CHECK(r.exit_code == 2);  // refused before its register function (which aborts) runs
    CHECK(r.contains("wrong_abi.so' was built for Kiln plugin ABI 99.0, but this kiln uses ABI"));
    CHECK(r.contains("Rebuild the plugin"));
}

TEST_CASE("cli.plugin.wrong_build_key") {
    auto r = run_with_broken("wrong_build_key");
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("wrong_build_key.so' was built with incompatible settings"));
    CHECK(r.contains("'clang99/cxx11abi0/json2.0/asan/stldebug'"));
}

TEST_CASE("cli.plugin.no_entry_point") {
    auto r = run_with_broken("no_entry_point");
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("no_entry_point.so' is not a Kiln plugin"));
    CHECK(r.contains("'kiln_plugin_entry' entry point"));
    CHECK(r.contains("KILN_PLUGIN(name)"));
}

TEST_CASE("cli.plugin.not_a_library") {
    auto r = run_with_broken("not_a_library");
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("cannot load plugin '"));
    CHECK(r.contains("notes.so"));
    CHECK(r.contains("shared library"));
}

TEST_CASE("cli.plugin.throwing_register") {
    auto r = run_with_broken("throwing_register");
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("plugin 'throwing_register'"));
    CHECK(r.contains("failed to register: configuration file missing: /etc/throwing.conf"));
}

TEST_CASE("cli.plugin.duplicate_name") {
    auto r = run_with_broken("duplicate_name");
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("two plugins are named 'dup'"));
    CHECK(r.contains("duplicate_name_a.so"));
    CHECK(r.contains("duplicate_name_b.so"));
}

TEST_CASE("cli.plugin.conflicting_type") {
    auto r = run_with_broken("conflicting_type");
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("value type 'testnodes.Point' means different things"));
    CHECK(r.contains("testnodes.so (16 bytes)"));
    CHECK(r.contains("conflicting_type.so (24 bytes)"));
}

TEST_CASE("cli.plugin.broken_plugin_also_fails_kiln_plugins") {
    auto r = run_kiln({"plugins", "--plugin-path", test_plugins("wrong_abi")});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("was built for Kiln plugin ABI 99.0"));
}

// ---------------------------------------------------------------- filters

TEST_CASE("cli.unknown_node_in_nodes") {
    Project p;
    tagged_two_node_project(p);
    auto r = p.run({"--nodes", "secnd"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("Pipeline does not contain nodes named ['secnd']"));
    CHECK(r.contains("Did you mean: ['second']?"));
    CHECK_FALSE(r.contains("Running node"));
}

TEST_CASE("cli.unknown_node_in_from_nodes_and_to_nodes") {
    Project p;
    tagged_two_node_project(p);
    auto r = p.run({"--from-nodes", "frist"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("Pipeline does not contain nodes named ['frist']"));
    CHECK(r.contains("['first']"));
    r = p.run({"--to-nodes", "nobody"});
    CHECK(r.exit_code == 2);
    CHECK(r.contains("Pipeline does not contain nodes named ['nobody']"));
}

TEST_CASE("cli.unknown_node_without_its_namespace") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "s", "func": "testnodes.seed", "outputs": "a"},
        {"name": "negate", "namespace": "side.sub", "func": "testnodes.neg", "inputs": "a", "outputs": "b"}
    ]}}})");
    auto r = p.run({"--nodes", "negate"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("Pipeline does not contain nodes named ['negate']"));
    CHECK(r.contains("Did you mean: ['side.sub.negate']?"));
}

TEST_CASE("cli.unknown_dataset_in_from_inputs_and_to_outputs") {
    Project p;
    tagged_two_node_project(p);
    auto r = p.run({"--from-inputs", "aa"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("Pipeline does not contain datasets named ['aa']"));
    r = p.run({"--to-outputs", "zz"});
    CHECK(r.exit_code == 2);
    CHECK(r.contains("Pipeline does not contain datasets named ['zz']"));
}

TEST_CASE("cli.unknown_namespace") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "s", "namespace": "prep", "func": "testnodes.seed", "outputs": "a"},
        {"name": "n", "func": "testnodes.neg", "inputs": "a", "outputs": "b"}
    ]}}})");
    auto r = p.run({"--namespaces", "perp"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("Pipeline does not contain nodes with the following namespaces: ['perp']"));
    CHECK(r.contains("['prep']"));
}

TEST_CASE("cli.filters_that_leave_no_nodes") {
    Project p;
    tagged_two_node_project(p);
    auto r = p.run({"--tags", "t1", "--nodes", "second"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("Pipeline contains no nodes after applying all provided filters"));
    CHECK(r.contains("Please ensure that provided pipeline and filters are valid"));
    CHECK(r.contains("tags=['t1']"));
    CHECK(r.contains("node_names=['second']"));
}

TEST_CASE("cli.tag_that_no_node_has") {
    Project p;
    tagged_two_node_project(p);
    auto r = p.run({"--tags", "nonexistent"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("Pipeline contains no nodes after applying all provided filters"));
    CHECK(r.contains("Please ensure that provided pipeline and filters are valid"));
    CHECK(r.contains("tags=['nonexistent']"));
}

TEST_CASE("cli.empty_pipeline_is_an_error") {
    // As Kedro: a pipeline with no nodes to run is refused, naming the pipeline and the file.
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a"}]}, "nothing": {"nodes": []}}})");
    auto r = p.run({"--pipeline", "nothing"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("pipelines.json: pipeline 'nothing' has no nodes"));
    CHECK(r.contains("Pipeline contains no nodes after applying all provided filters. Please ensure that provided "
                     "pipeline and filters are valid."));
    CHECK_FALSE(r.contains("Pipeline execution completed successfully"));
    CHECK_FALSE(p.exists(".kiln/last_run.json"));

    // The same for a project whose only pipeline is empty, under another runner.
    Project q;
    q.pipelines(R"({"pipelines": {"__default__": {"nodes": []}}})");
    r = q.run({"--runner", "ThreadRunner"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("pipeline '__default__' has no nodes"));
    CHECK_FALSE(r.contains("Pipeline execution completed successfully"));
}

TEST_CASE("cli.resources_must_be_finite") {
    Project p;
    tagged_two_node_project(p);
    for (const char* bad : {"gpu=nan", "gpu=NaN", "gpu=inf", "gpu=Infinity", "gpu=1,cpu=inf", "gpu=-inf"}) {
        CAPTURE(bad);
        auto r = p.run({"--resources", bad});
        INFO(r.output);
        CHECK(r.exit_code == 2);
        CHECK(r.contains("--resources: '"));
        CHECK(r.contains("must be NAME=AMOUNT with a finite non-negative number"));
        CHECK_FALSE(r.contains("Running node"));
    }
}

// ---------------------------------------------------------------- --report on errors

TEST_CASE("cli.report_is_written_for_configuration_errors") {
    Project p;
    tagged_two_node_project(p);

    // An error in the project (a filter naming no node), found while preparing the run.
    auto r = p.run({"--nodes", "nope"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    auto rep = p.report();
    INFO(rep.dump(2));
    REQUIRE(rep.is_object());
    CHECK(rep["status"] == "error");
    CHECK(rep["exit_code"] == 2);
    CHECK(rep["run_id"].is_null());
    CHECK(rep["pipeline"] == "__default__");
    CHECK(rep.contains("kiln_version"));
    const std::string error = rep.value("error", "");
    CHECK(error.find("Pipeline does not contain nodes named ['nope']") != std::string::npos);
    CHECK(rep["failure"]["error"] == error);
    CHECK(rep["nodes"] == nlohmann::json::array());

    // An option kiln refuses before reading the project.
    r = p.run({"--resources", "gpu=nan"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    rep = p.report();
    CHECK(rep["status"] == "error");
    CHECK(rep.value("error", "").find("--resources: 'gpu=nan'") != std::string::npos);

    // A usage error the command-line parser reports.
    r = p.run({"--no-such-option"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    rep = p.report();
    CHECK(rep["status"] == "error");
    CHECK(rep["exit_code"] == 2);
    CHECK(rep.value("error", "").find("--no-such-option") != std::string::npos);

    // --report=FILE, into a folder that does not exist yet; nothing else is left beside it.
    const auto nested = p / "out" / "ci" / "report.json";
    r = run_kiln({"run", "--project", p.dir(), "--plugin-path", test_plugins("good"), "--pipeline", "nope",
                  "--report=" + nested.string()});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("no pipeline named 'nope'"));
    rep = nlohmann::json::parse(read_text(nested), nullptr, false);
    CHECK(rep["status"] == "error");
    CHECK(rep["pipeline"] == "nope");
    CHECK(rep.value("error", "").find("no pipeline named 'nope'") != std::string::npos);
    CHECK(p.files_containing("kiln-tmp").empty());
}

TEST_CASE("cli.report_that_cannot_be_written_does_not_hide_the_error") {
    Project p;
    tagged_two_node_project(p);
    p.write("blocker", "a file, not a folder\n");
    const std::string report = (p / "blocker" / "report.json").string();
    auto r = run_kiln({"run", "--project", p.dir(), "--plugin-path", test_plugins("good"), "--nodes", "nope",
                       "--report", report});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("Pipeline does not contain nodes named ['nope']"));
    CHECK(r.contains("could not write the run report"));
}

// ---------------------------------------------------------------- usage

TEST_CASE("cli.no_subcommand") {
    auto r = run_kiln({});
    INFO(r.output);
    CHECK(r.exit_code == 2);  // a usage error (README: exit codes)
    CHECK(r.contains("subcommand is required"));
    CHECK(r.contains("--help"));
}

TEST_CASE("cli.bad_option") {
    auto r = run_kiln({"run", "--bogus-option"});
    INFO(r.output);
    CHECK(r.exit_code == 2);  // a usage error (README: exit codes)
    CHECK(r.contains("--bogus-option"));
    CHECK(r.contains("--help"));
}

TEST_CASE("cli.unknown_subcommand") {
    auto r = run_kiln({"walk"});
    INFO(r.output);
    CHECK(r.exit_code == 2);  // a usage error (README: exit codes)
    CHECK(r.contains("walk"));  // the message names what was not understood
}

TEST_CASE("cli.run_help_lists_the_options") {
    auto r = run_kiln({"run", "--help"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.contains("Usage:"));
    for (const char* option : {"--pipeline", "--runner", "--params", "--nodes", "--from-nodes", "--to-nodes", "--tags",
                               "--from-inputs", "--to-outputs", "--namespaces", "--only-missing-outputs", "--resume",
                               "--report", "--project", "--plugin-path", "--max-workers", "--parallel"}) {
        CAPTURE(option);
        CHECK(r.contains(option));
    }
}

TEST_CASE("cli.top_level_help_lists_subcommands") {
    auto r = run_kiln({"--help"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.contains("run"));
    CHECK(r.contains("plugins"));
    CHECK(r.contains("Run a pipeline"));
}

TEST_CASE("cli.version") {
    auto r = run_kiln({"--version"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.contains("0."));
}

}  // namespace cli_errors_test_cases
