// Config input written to break kiln (issue 11), run with the real binary: each must end
// with a clear message and a non-zero exit (never a signal), or run as asked. The big
// inputs are generated here.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "kiln_child.hpp"
#include "project_builder.hpp"

using namespace kiln::test;

namespace hostile_input_test_cases {

namespace {

// Runs `kiln run` on the project with the test plugins, bounded in time.
struct Finished {
    int exit_code;
    std::string output;
    bool contains(const std::string& s) const { return output.find(s) != std::string::npos; }
};

Finished run_bounded(const Project& p, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"run", "--project", p.dir(), "--plugin-path", test_plugins("good"),
                                     "--report", p.report_path()};
    args.insert(args.end(), extra.begin(), extra.end());
    KilnChild kiln(args);
    const int code = kiln.wait_or_fail(std::chrono::seconds(60));
    return {code, kiln.output()};
}

std::string nested_objects(std::size_t depth) {
    std::string text;
    for (std::size_t i = 0; i < depth; ++i) text += "{\"a\":";
    return text + "1" + std::string(depth, '}');
}

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

const char* neg_of_param_x =
    R"({"pipelines": {"__default__": {"nodes": [{"name": "n", "func": "testnodes.neg", "inputs": "params:x", "outputs": "y"}]}}})";

}  // namespace

TEST_CASE("hostile_input.deep_resources_are_refused_with_the_key_path") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [{"func": "testnodes.seed", "outputs": "a", "resources": {"x": )" +
                nested_objects(100000) + "}}]}}}");
    auto r = run_bounded(p);
    INFO(r.output.substr(0, 2000));
    CHECK(r.exit_code == 2);  // was SIGSEGV
    CHECK(r.contains("pipelines.json: the value at \"pipelines.__default__.nodes[0].resources.x.a.a"));
    CHECK(r.contains("nests deeper than 256 levels"));
    CHECK(p.report()["status"] == "error");
}

TEST_CASE("hostile_input.deep_parameter_read_as_a_number") {
    Project p;
    p.pipelines(neg_of_param_x);
    p.parameters("{\"x\": " + nested_arrays(100000) + "}");
    auto r = run_bounded(p);
    INFO(r.output.substr(0, 2000));
    CHECK(r.exit_code == 2);  // was SIGSEGV
    CHECK(r.contains("parameters.json: the value at \"x[0][0]"));
}

TEST_CASE("hostile_input.deep_params_option") {
    Project p;
    p.pipelines(neg_of_param_x);
    p.parameters(R"({"x": 1})");
    auto r = run_bounded(p, {"--params", "x=" + nested_arrays(65000)});
    INFO(r.output.substr(0, 2000));
    CHECK(r.exit_code == 2);  // was SIGSEGV
    CHECK(r.contains("--params: parameter 'x': the value at \"[0][0]"));
    CHECK(r.contains("nests deeper than 256 levels"));
}

TEST_CASE("hostile_input.params_option_not_utf8") {
    Project p;
    p.pipelines(neg_of_param_x);
    p.parameters(R"({"x": 1})");
    auto r = run_bounded(p, {"--params", "x=\xff"});
    INFO(r.output);
    CHECK(r.exit_code == 2);  // was 3, "unexpected error: [json.exception.type_error.316]"
    CHECK(r.contains("--params: the value of parameter 'x' is not UTF-8 text (byte \"\\xff\" at offset 0)"));
    CHECK_FALSE(r.contains("json.exception"));
    CHECK(p.report()["status"] == "error");  // the report is still written
}

TEST_CASE("hostile_input.chained_pipelines") {
    // 20,000 pipelines, each including the previous one: a stack overflow when includes
    // were walked recursively, and minutes of quadratic composition.
    std::string text = R"({"pipelines": {"__default__": {"pipelines": ["p19999"]})";
    for (int i = 0; i < 20000; ++i) {
        const std::string k = std::to_string(i);
        text += ",\"p" + k + "\": {\"nodes\": [{\"name\": \"n" + k + "\", \"func\": \"testnodes.neg\", \"inputs\": \"d" +
                k + "\", \"outputs\": \"d" + std::to_string(i + 1) + "\"}]" +
                (i ? ", \"pipelines\": [\"p" + std::to_string(i - 1) + "\"]" : std::string()) + "}";
    }
    Project p;
    p.pipelines(text + "}}");
    p.catalog(R"({"d0": {"type": "kiln.MemoryDataset", "data": 1.5}})");
    auto r = run_bounded(p, {"--quiet"});
    INFO(r.output.substr(0, 2000));
    CHECK(r.exit_code == 0);
    const auto report = p.report();
    CHECK(report["status"] == "success");
    CHECK(report["nodes"].size() == 20000);
    CHECK(report["outputs"]["d20000"] == 1.5);  // 20,000 negations
}

TEST_CASE("hostile_input.number_out_of_range_has_line_and_column") {
    Project p;
    p.pipelines("{\"pipelines\": {\"__default__\": {\"nodes\": [{\"func\": \"testnodes.seed\", \"outputs\": \"a\",\n"
                " \"resources\": {\"x\": 1e400}}]}}}");
    auto r = run_bounded(p);
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("pipelines.json:2:21: the number 1e400 is out of range"));
    CHECK_FALSE(r.contains("json.exception"));
}

TEST_CASE("hostile_input.long_cycle_is_shortened") {
    std::string nodes;
    const int n = 20000;
    for (int i = 0; i < n; ++i)
        nodes += std::string(i ? "," : "") + "{\"name\": \"n" + std::to_string(i) +
                 "\", \"func\": \"testnodes.neg\", \"inputs\": \"d" + std::to_string(i) + "\", \"outputs\": \"d" +
                 std::to_string((i + 1) % n) + "\"}";
    Project p;
    p.pipelines("{\"pipelines\": {\"__default__\": {\"nodes\": [" + nodes + "]}}}");
    auto r = run_bounded(p);
    INFO(r.output.substr(0, 2000));
    CHECK(r.exit_code == 2);
    CHECK(r.contains("dependency cycle: n0 -> (d1) -> n1"));
    CHECK(r.contains("... 19994 more nodes ..."));
    CHECK(r.output.size() < 10000);  // was 400 KB here, 2 MB with 100,000 nodes
}

TEST_CASE("hostile_input.control_characters_in_names") {
    SUBCASE("an output") {
        Project p;
        p.pipelines(R"({"pipelines": {"__default__": {"nodes": [{"name": "s", "func": "testnodes.seed", "outputs": "a\u001b[31mred"}]}}})");
        auto r = run_bounded(p);
        INFO(r.output);
        CHECK(r.exit_code == 2);  // ran, and printed the escape to the terminal
        CHECK(r.contains("pipelines.json: pipeline '__default__', nodes[0] 's': the dataset name \"a\\u001b[31mred\" holds a control character"));
        CHECK_FALSE(r.contains("\x1b[31m"));
    }
    SUBCASE("a catalog entry") {
        Project p;
        p.pipelines(R"({"pipelines": {"__default__": {"nodes": [{"name": "s", "func": "testnodes.seed", "outputs": "a"}]}}})");
        p.catalog(R"({"a\u0007": {"type": "kiln.MemoryDataset"}})");
        auto r = run_bounded(p);
        INFO(r.output);
        CHECK(r.exit_code == 2);
        CHECK(r.contains("catalog.json: the dataset name \"a\\u0007\" holds a control character"));
    }
    SUBCASE("a parameter") {
        Project p;
        p.pipelines(neg_of_param_x);
        p.parameters(R"({"x": 1, "x\u001b[2J": 2})");
        auto r = run_bounded(p);
        INFO(r.output);
        CHECK(r.exit_code == 2);
        CHECK(r.contains("parameters.json: the parameter name \"x\\u001b[2J\" holds a control character"));
    }
}

TEST_CASE("hostile_input.latin1_bytes_do_not_fail_a_run_after_the_fact") {
    SUBCASE("a free output holding Latin-1 completes with its report and record") {
        Project p;
        p.write("name.txt", "caf\xe9");
        p.pipelines(R"({"pipelines": {"__default__": {"nodes": [{"name": "g", "func": "testnodes.greet", "inputs": "name", "outputs": "out"}]}}})");
        p.catalog(R"({"name": {"type": "kiln.TextDataset", "filepath": "name.txt"}})");
        auto r = run_bounded(p);
        INFO(r.output);
        CHECK(r.exit_code == 0);
        CHECK(p.report()["status"] == "success");
        CHECK(p.report()["outputs"]["out"] == "hello caf\xef\xbf\xbd");  // U+FFFD in the report
        CHECK(p.json_file(".kiln/last_run.json")["status"] == "success");
    }
    SUBCASE("a node error quoting Latin-1 is recorded, not turned into an unexpected error") {
        Project p;
        p.write("in.json", "[\"caf\xe9\"]");
        p.pipelines(R"({"pipelines": {"__default__": {"nodes": [{"name": "g", "func": "testnodes.identity", "inputs": "in", "outputs": "out"}]}}})");
        p.catalog(R"({"in": {"type": "kiln.JsonDataset", "filepath": "in.json"}})");
        auto r = run_bounded(p);
        INFO(r.output);
        CHECK(r.exit_code == 1);  // was 3: "unexpected error: [json.exception.type_error.316]"
        CHECK_FALSE(r.contains("unexpected error"));
        CHECK(r.contains("failed to load dataset 'in'"));
        const auto record = p.json_file(".kiln/last_run.json");
        CHECK(record["status"] == "failed");
        CHECK(record["failed_node"] == "g");
    }
}

}  // namespace hostile_input_test_cases
