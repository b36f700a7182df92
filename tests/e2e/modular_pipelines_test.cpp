// Modular pipelines through the real kiln binary: one pipeline reused under two
// namespaces with other inputs and parameters, reused again inside another namespace, the
// --namespaces filter over them, `kiln registry list|describe`, and every refusal with
// its message.
#include <doctest/doctest.h>

#include <filesystem>

#include "common_projects.hpp"
#include "kiln_process.hpp"
#include "project_builder.hpp"
#include "test_support.hpp"

using namespace kiln::test;
namespace fs = std::filesystem;

namespace modular_pipelines_test_cases {

namespace {

// cook:  season: add(raw, params:salt) -> dish;  plate.serve: neg(dish) -> result
// meals: cook as "lunch" (raw from lunch_raw) and as "dinner" (raw from dinner_raw, salt
//        from params:dinner_salt, result written as dinner_result)
// world: meals as "eu", keeping lunch_raw and dinner_raw
// Lunch: -(10 + 2) = -12; dinner: -(20 + 5) = -25; eu lunch: -(10 + 3); eu dinner: -(20 + 4).
const char* kitchen_pipelines = R"({"pipelines": {
    "cook": {"nodes": [
        {"name": "season", "func": "testnodes.add", "inputs": ["raw", "params:salt"], "outputs": "dish"},
        {"name": "serve", "namespace": "plate", "func": "testnodes.neg", "inputs": "dish", "outputs": "result"}]},
    "meals": {"pipelines": [
        {"pipeline": "cook", "namespace": "lunch", "inputs": {"raw": "lunch_raw"}},
        {"pipeline": "cook", "namespace": "dinner", "inputs": {"raw": "dinner_raw"},
         "parameters": {"salt": "dinner_salt"}, "outputs": {"result": "dinner_result"}}]},
    "world": {"pipelines": [{"pipeline": "meals", "namespace": "eu", "inputs": ["lunch_raw", "dinner_raw"]}]},
    "__default__": {"pipelines": ["meals"]}
}})";

void kitchen_project(Project& p, const std::string& pipelines = kitchen_pipelines) {
    p.pipelines(pipelines);
    p.parameters(R"({"lunch": {"salt": 2}, "dinner_salt": 5, "eu": {"lunch": {"salt": 3}, "dinner_salt": 4}})");
    p.catalog(R"({
        "lunch_raw": {"type": "kiln.JsonDataset", "filepath": "data/lunch_raw.json"},
        "dinner_raw": {"type": "kiln.JsonDataset", "filepath": "data/dinner_raw.json"},
        "lunch.result": {"type": "kiln.JsonDataset", "filepath": "data/lunch/result.json"},
        "dinner_result": {"type": "kiln.JsonDataset", "filepath": "data/dinner_result.json"},
        "eu.lunch.result": {"type": "kiln.JsonDataset", "filepath": "data/eu/lunch_result.json"},
        "eu.dinner_result": {"type": "kiln.JsonDataset", "filepath": "data/eu/dinner_result.json"}
    })");
    p.write("data/lunch_raw.json", "10");
    p.write("data/dinner_raw.json", "20");
}

// `kiln registry ARGS... --plugin-path <good test plugins>`, in `dir` when given.
KilnResult registry(std::vector<std::string> args, const std::string& dir = {}) {
    args.insert(args.begin(), "registry");
    args.insert(args.end(), {"--plugin-path", test_plugins("good")});
    return run_kiln(args, dir.empty() ? std::vector<std::string>{} : std::vector<std::string>{"-C", dir});
}

// The message `kiln run` refuses the kitchen project with when "meals" reuses "cook" as `entry`.
KilnResult run_with_meals(const std::string& entry) {
    Project p;
    kitchen_project(p, R"({"pipelines": {
        "cook": {"nodes": [
            {"name": "season", "func": "testnodes.add", "inputs": ["raw", "params:salt"], "outputs": "dish"},
            {"name": "serve", "namespace": "plate", "func": "testnodes.neg", "inputs": "dish", "outputs": "result"}]},
        "meals": {"pipelines": [)" + entry + R"(]},
        "__default__": {"pipelines": ["meals"]}}})");
    return p.run();
}

}  // namespace

TEST_CASE("modular.one_pipeline_reused_under_two_namespaces") {
    Project p;
    kitchen_project(p);
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"dinner.season", "lunch.season", "dinner.plate.serve", "lunch.plate.serve"});
    CHECK(p.json_file("data/lunch/result.json") == -12.0);
    CHECK(p.json_file("data/dinner_result.json") == -25.0);
}

TEST_CASE("modular.nested_namespaces") {
    Project p;
    kitchen_project(p);
    auto r = p.run({"--pipeline", "world"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"eu.dinner.season", "eu.lunch.season", "eu.dinner.plate.serve", "eu.lunch.plate.serve"});
    CHECK(p.json_file("data/eu/lunch_result.json") == -13.0);
    CHECK(p.json_file("data/eu/dinner_result.json") == -24.0);
    CHECK_FALSE(p.exists("data/lunch/result.json"));  // only the eu copies ran
}

TEST_CASE("modular.namespaces_filter_selects_a_namespace_and_those_under_it") {
    Project p;
    kitchen_project(p);
    auto r = p.run({"--pipeline", "world", "--namespaces", "eu.lunch"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"eu.lunch.season", "eu.lunch.plate.serve"});
    CHECK(p.exists("data/eu/lunch_result.json"));
    CHECK_FALSE(p.exists("data/eu/dinner_result.json"));

    r = p.run({"--pipeline", "world", "--namespaces", "eu"});
    REQUIRE(r.exit_code == 0);
    CHECK(p.ran_nodes().size() == 4);

    r = p.run({"--namespaces", "dinner, lunch"});
    REQUIRE(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"dinner.season", "lunch.season", "dinner.plate.serve", "lunch.plate.serve"});

    // A namespace matches from its start: "plate" is not "lunch.plate".
    r = p.run({"--namespaces", "plate"});
    CHECK(r.exit_code == 2);
    CHECK(r.contains("Pipeline does not contain nodes with the following namespaces: ['plate']. Did you mean: "
                     "['dinner.plate', 'lunch.plate']?"));
    r = p.run({"--namespaces", "lunch.plat"});
    CHECK(r.exit_code == 2);
    CHECK(r.contains("Did you mean: ['lunch.plate']?"));
}

TEST_CASE("modular.registry_list_and_describe") {
    Project p;
    kitchen_project(p);
    auto r = registry({"list", "--project", p.dir()});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.output == "__default__\ncook\nmeals\nworld\n");

    r = registry({"describe", "--project", p.dir()});
    REQUIRE(r.exit_code == 0);
    CHECK(r.output ==
          "Nodes:\n"
          "- dinner.season (testnodes.add)\n"
          "- lunch.season (testnodes.add)\n"
          "- dinner.plate.serve (testnodes.neg)\n"
          "- lunch.plate.serve (testnodes.neg)\n");

    r = registry({"describe", "cook", "--project", p.dir()});
    REQUIRE(r.exit_code == 0);
    CHECK(r.output == "Nodes:\n- season (testnodes.add)\n- plate.serve (testnodes.neg)\n");

    // From a subfolder, the project is found as `kiln run` finds it.
    fs::create_directories(p / "notebooks");
    r = registry({"describe", "world"}, (p / "notebooks").string());
    REQUIRE(r.exit_code == 0);
    CHECK(r.contains("- eu.lunch.plate.serve (testnodes.neg)\n"));
    r = registry({"list"}, (p / "notebooks").string());
    CHECK(r.output == "__default__\ncook\nmeals\nworld\n");

    r = registry({"describe", "mels", "--project", p.dir()});
    CHECK(r.exit_code == 2);
    CHECK(r.contains("no pipeline named 'mels'; did you mean meals?"));
    r = registry({"list", "--project", p.dir(), "--params", "=x"});
    CHECK(r.exit_code == 2);
    CHECK(r.contains("--params: item '=x' must be KEY=VALUE"));
    r = run_kiln({"registry", "--project", p.dir()});
    CHECK(r.exit_code == 2);
}

TEST_CASE("modular.errors_name_the_file_pipeline_and_dataset") {
    const std::string where =
        "pipelines.json: pipeline 'meals', pipelines[0] (pipeline 'cook' under namespace 'lunch'): ";
    struct Case {
        const char* entry;
        std::string message;
    };
    const std::vector<Case> cases = {
        {R"({"pipeline": "cook", "namespace": "lunch", "inputs": {"rw": "lunch_raw"}})",
         where + "\"inputs\" names 'rw', which pipeline 'cook' does not use (did you mean 'raw'?); its free inputs: 'raw'"},
        {R"({"pipeline": "cook", "namespace": "lunch", "inputs": {"dish": "x"}})",
         where + "\"inputs\" names 'dish', which a node of pipeline 'cook' produces: \"inputs\" may name only its free "
                 "inputs ('raw'); to rename a dataset it produces, list it under \"outputs\""},
        {R"({"pipeline": "cook", "namespace": "lunch", "outputs": ["raw"]})",
         where + "\"outputs\" names 'raw', a free input of pipeline 'cook' that none of its nodes produces"},
        {R"({"pipeline": "cook", "namespace": "lunch", "outputs": ["rslt"]})",
         where + "\"outputs\" names 'rslt', which pipeline 'cook' does not use (did you mean 'result'?); its nodes "
                 "produce: 'dish', 'result'"},
        {R"({"pipeline": "cook", "namespace": "lunch", "parameters": ["slt"]})",
         where + "\"parameters\" names 'params:slt', which no node of pipeline 'cook' reads (did you mean "
                 "'params:salt'?); it reads: 'params:salt'"},
        {R"({"pipeline": "cook", "namespace": "lunch", "inputs": ["params:salt"]})",
         where + "\"inputs\" names the parameter 'params:salt': give parameters under \"parameters\""},
        {R"({"pipeline": "cook", "namespace": "lunch", "input": ["raw"]})",
         "pipelines.json: pipeline 'meals', pipelines[0] (pipeline 'cook' under namespace 'lunch'): unknown key "
         "\"input\" (did you mean 'inputs'?)"},
        {R"({"pipeline": "cok", "namespace": "lunch"})",
         "pipeline 'meals' reuses pipeline 'cok', which the file does not define (did you mean 'cook'?)"},
    };
    for (const Case& c : cases) {
        auto r = run_with_meals(c.entry);
        INFO(r.output);
        CHECK(r.exit_code == 2);
        CHECK(r.contains(c.message));
    }
}

TEST_CASE("modular.viz_draws_nested_namespaces_as_nested_groups") {
    Project p;
    kitchen_project(p);
    auto r = run_kiln({"viz", "--project", p.dir(), "--pipeline", "world", "--plugin-path", test_plugins("good"), "-q"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.contains("\n    subgraph g1[\"eu\"]\n"));
    CHECK(r.contains("\n        subgraph g2[\"eu.dinner\"]\n            n0[\"eu.dinner.season<br/>testnodes.add\"]"));
    CHECK(r.contains("\n            subgraph g3[\"eu.dinner.plate\"]\n"
                     "                n2[\"eu.dinner.plate.serve<br/>testnodes.neg\"]"));
}

// Kedro's dict outputs: a function that names what it returns (NodeOptions::outputs) is
// given its datasets by name, in any order, also inside a reused, namespaced pipeline.
TEST_CASE("modular.dict_outputs_map_named_values_to_datasets") {
    Project p;
    p.pipelines(R"({"pipelines": {
        "range": {"nodes": [{"name": "bounds", "func": "testnodes.spread", "inputs": "v",
                             "outputs": {"high": "top", "low": "bottom"}}]},
        "__default__": {"pipelines": [{"pipeline": "range", "namespace": "a", "inputs": {"v": "va"}},
                                      {"pipeline": "range", "namespace": "b", "inputs": {"v": "vb"}}]}
    }})");
    p.catalog(R"({"va": {"type": "kiln.JsonDataset", "filepath": "data/va.json"},
                  "vb": {"type": "kiln.JsonDataset", "filepath": "data/vb.json"},
                  "{ns}.{part}": {"type": "kiln.JsonDataset", "filepath": "data/{ns}_{part}.json"}})");
    p.write("data/va.json", "[3, 1, 2]");
    p.write("data/vb.json", "[-5, 7]");
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(p.json_file("data/a_bottom.json") == 1);
    CHECK(p.json_file("data/a_top.json") == 3);
    CHECK(p.json_file("data/b_bottom.json") == -5);
    CHECK(p.json_file("data/b_top.json") == 7);

    // A name the function does not return, with the names it does.
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "bounds", "func": "testnodes.spread", "inputs": "va", "outputs": {"hihg": "top", "low": "bottom"}}]}}})");
    auto bad = p.run();
    INFO(bad.output);
    CHECK(bad.exit_code == 2);
    CHECK(bad.contains("pipeline '__default__', nodes[0] 'bounds': \"outputs\" names a value that "
                       "'testnodes.spread' does not return: 'hihg' (did you mean 'high'?); it returns low (f64), high (f64)"));
    // A function that names nothing it returns.
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "mm", "func": "testnodes.min_max", "inputs": "va", "outputs": {"low": "bottom", "high": "top"}}]}}})");
    auto unnamed = p.run();
    INFO(unnamed.output);
    CHECK(unnamed.exit_code == 2);
    CHECK(unnamed.contains("'testnodes.min_max' names none of the values it returns"));
    CHECK(unnamed.contains("{.outputs = {\"value1\", \"value2\"}}"));
}

TEST_CASE("modular.dict_outputs_split_a_returned_map_by_key") {
    // testnodes.stats returns {"max": .., "mean": .., "min": ..}; each key goes to its dataset.
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "stats", "func": "testnodes.stats", "inputs": "v",
         "outputs": {"min": "lowest", "max": "highest", "mean": "average"}},
        {"name": "flip", "func": "testnodes.neg", "inputs": "lowest", "outputs": "flipped"}]}}})");
    p.catalog(R"({"v": {"type": "kiln.JsonDataset", "filepath": "data/v.json"},
                  "{name}": {"type": "kiln.JsonDataset", "filepath": "data/{name}.json"}})");
    p.write("data/v.json", "[3, 1, 8]");
    for (const auto& runner : in_process_and_parallel()) {
        CAPTURE(runner);
        auto r = p.run(runner);
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        CHECK(p.json_file("data/lowest.json") == 1);
        CHECK(p.json_file("data/highest.json") == 8);
        CHECK(p.json_file("data/average.json") == 4);
        CHECK(p.json_file("data/flipped.json") == -1);
    }

    // Kedro's rule: the map's keys must be exactly those "outputs" names.
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "stats", "func": "testnodes.stats", "inputs": "v", "outputs": {"min": "lowest", "median": "mid"}}]}}})");
    auto differ = p.run();
    INFO(differ.output);
    CHECK(differ.exit_code == 1);
    CHECK(differ.contains("node 'stats'"));
    CHECK(differ.contains("the keys of the map it returned ('max', 'mean', 'min') are not those \"outputs\" names "
                          "('median', 'min'); missing: 'median'; not saved anywhere: 'max', 'mean'"));
    p.write("data/v.json", "[]");  // stats returns an empty map
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "stats", "func": "testnodes.stats", "inputs": "v", "outputs": {"min": "lowest"}}]}}})");
    auto empty = p.run();
    INFO(empty.output);
    CHECK(empty.exit_code == 1);
    CHECK(empty.contains("the keys of the map it returned (none) are not those"));
    // The keys' values are typed: a consumer of another type is refused before the run.
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "stats", "func": "testnodes.stats", "inputs": "v", "outputs": {"min": "lowest"}},
        {"name": "count", "func": "testnodes.count_words", "inputs": "lowest", "outputs": "n"}]}}})");
    auto typed = p.run();
    INFO(typed.output);
    CHECK(typed.exit_code == 2);
    CHECK(typed.contains("lowest"));
    CHECK(typed.contains("vector<string>"));
    // An empty object, and a key mapped to something not a dataset name.
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "stats", "func": "testnodes.stats", "inputs": "v", "outputs": {}}]}}})");
    CHECK(p.run().contains("\"outputs\" maps no key of the 'map<string,f64>' that 'testnodes.stats' returns"));
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "stats", "func": "testnodes.stats", "inputs": "v", "outputs": {"min": 3}}]}}})");
    CHECK(p.run().contains("\"outputs\" maps the key 'min' to 3, but it must map to a dataset name"));
}

}  // namespace modular_pipelines_test_cases
