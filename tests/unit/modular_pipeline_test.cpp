// Modular pipelines in pipelines.json: Kedro's test cases for pipeline(pipe, namespace=,
// inputs=, outputs=, parameters=, tags=) (tests/pipeline/test_modular_pipeline.py), then
// what pipelines.json adds: nested reuses, reuses of one pipeline side by side, the
// --namespaces filter over them, and messages naming the file, pipeline and dataset.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "config/pipeline_loader.hpp"
#include "kiln/detail/node_binding.hpp"
#include "kiln/error.hpp"
#include "test_support.hpp"

using kiln::test::contains;

using kiln::core::default_node_name;
using kiln::core::load_pipelines;
using kiln::core::Node;
using kiln::core::NodeFunction;
using kiln::core::Pipeline;
using kiln::core::PipelineSet;
using nlohmann::json;
using Names = std::vector<std::string>;

namespace modular_pipeline_test_cases {

namespace {

// Kedro's identity, biconcat, triconcat and constant_output, on numbers.
struct Functions {
    std::map<std::string, kiln::detail::NodeSpec> specs;
    std::map<std::string, NodeFunction> functions;

    Functions() {
        using kiln::detail::make_node_spec;
        add("m.identity", make_node_spec("identity", [](double a) { return a; }, {}));
        add("m.biconcat", make_node_spec("biconcat", [](double a, double b) { return a + b; },
                                         {.args = {"input1", "input2"}}));
        add("m.triconcat", make_node_spec("triconcat", [](double a, double b, double c) { return a + b + c; }, {}));
        add("m.split", make_node_spec("split", [](double a, double b) { return std::tuple<double, double>(a, b); }, {}));
        add("m.constant", make_node_spec("constant", [] { return std::tuple<double, double>(1, 2); }, {}));
        add("m.source", make_node_spec("source", [] { return 1.0; }, {}));
        add("m.sink", make_node_spec("sink", [](double, double) {}, {}));
    }
    void add(const std::string& name, kiln::detail::NodeSpec spec) {
        auto& stored = specs.emplace(name, std::move(spec)).first->second;
        functions.emplace(name, NodeFunction{.qualified_name = name, .plugin_file = "libm.so", .spec = &stored});
    }
};

const Functions& functions() {
    static const Functions f;
    return f;
}

PipelineSet load(const std::string& text) {
    return load_pipelines(json::parse(text), "pipes.json", [](const std::string& name, std::string&) {
        auto it = functions().functions.find(name);
        return it == functions().functions.end() ? nullptr : &it->second;
    });
}

// Pipeline "new": `raw_nodes` (the nodes of pipeline "raw") reused as `reuse` says.
Pipeline reuse(const std::string& raw_nodes, const std::string& reuse) {
    return load(R"({"pipelines": {"raw": {"nodes": )" + raw_nodes + R"(},
                                  "new": {"pipelines": [)" + reuse + "]}}}")
        .at("new");
}

std::string error_of(const std::string& raw_nodes, const std::string& reuse_entry) {
    try {
        reuse(raw_nodes, reuse_entry);
    } catch (const kiln::Error& e) {
        return e.what();
    }
    return "<no error>";
}

const Node& node(const Pipeline& p, const std::string& name) {
    auto index = p.node_index(name);
    REQUIRE_MESSAGE(index, "no node '" << name << "'");
    return p.nodes()[*index];
}

Names names_of(const Pipeline& p) {
    Names out;
    for (const Node& n : p.nodes()) out.push_back(n.name);
    return out;
}

const char* three_nodes = R"([
    {"func": "m.identity", "inputs": "A", "outputs": "B", "name": "node1"},
    {"func": "m.split", "inputs": ["C", "D"], "outputs": ["E", "F"], "name": "node2"},
    {"func": "m.biconcat", "inputs": {"input1": "H", "input2": "J"}, "outputs": "L", "name": "node3"}])";

const char* chain = R"([
    {"func": "m.identity", "inputs": "A", "outputs": "B", "name": "node1"},
    {"func": "m.identity", "inputs": "B", "outputs": "C", "name": "node2"},
    {"func": "m.identity", "inputs": "C", "outputs": "D", "name": "node3"}])";

}  // namespace

TEST_CASE("modular_pipeline.transform_dataset_names") {
    const Pipeline p = reuse(three_nodes, R"({"pipeline": "raw",
        "inputs": {"A": "A_new", "D": "D_new", "H": "H_new"}, "outputs": {"B": "B_new", "E": "E_new", "L": "L_new"}})");
    CHECK(node(p, "node1").inputs == Names{"A_new"});
    CHECK(node(p, "node1").outputs == Names{"B_new"});
    CHECK(node(p, "node2").inputs == Names{"C", "D_new"});
    CHECK(node(p, "node2").outputs == Names{"E_new", "F"});
    CHECK(node(p, "node3").inputs == Names{"H_new", "J"});
    CHECK(node(p, "node3").outputs == Names{"L_new"});
    CHECK(node(p, "node1").namespace_.empty());
}

TEST_CASE("modular_pipeline.prefix_dataset_names") {
    const Pipeline p = reuse(three_nodes, R"({"pipeline": "raw", "namespace": "PREFIX"})");
    CHECK(names_of(p) == Names{"PREFIX.node1", "PREFIX.node2", "PREFIX.node3"});
    CHECK(node(p, "PREFIX.node1").inputs == Names{"PREFIX.A"});
    CHECK(node(p, "PREFIX.node1").outputs == Names{"PREFIX.B"});
    CHECK(node(p, "PREFIX.node2").inputs == Names{"PREFIX.C", "PREFIX.D"});
    CHECK(node(p, "PREFIX.node2").outputs == Names{"PREFIX.E", "PREFIX.F"});
    CHECK(node(p, "PREFIX.node3").inputs == Names{"PREFIX.H", "PREFIX.J"});
    CHECK(node(p, "PREFIX.node3").outputs == Names{"PREFIX.L"});
    CHECK(node(p, "PREFIX.node3").namespace_ == "PREFIX");
}

TEST_CASE("modular_pipeline.prefixing_and_renaming") {
    const Pipeline p = reuse(R"([{"func": "m.split", "inputs": ["C", "D"], "outputs": ["E", "F"], "name": "n"}])",
                              R"({"pipeline": "raw", "namespace": "PREFIX", "inputs": {"C": "C_new"},
                                  "outputs": {"E": "E_new"}})");
    CHECK(node(p, "PREFIX.n").inputs == Names{"C_new", "PREFIX.D"});
    CHECK(node(p, "PREFIX.n").outputs == Names{"E_new", "PREFIX.F"});
}

TEST_CASE("modular_pipeline.prefix_exclude_free_inputs") {
    for (const char* forms : {R"("inputs": "A", "outputs": "D")", R"("inputs": ["A"], "outputs": ["D"])",
                              R"("inputs": {"A": "A"}, "outputs": {"D": "D"})"}) {
        CAPTURE(forms);
        const Pipeline& p =
            reuse(chain, std::string(R"({"pipeline": "raw", "namespace": "PREFIX", )") + forms + "}");
        CHECK(node(p, "PREFIX.node1").inputs == Names{"A"});
        CHECK(node(p, "PREFIX.node1").outputs == Names{"PREFIX.B"});
        CHECK(node(p, "PREFIX.node2").inputs == Names{"PREFIX.B"});
        CHECK(node(p, "PREFIX.node2").outputs == Names{"PREFIX.C"});
        CHECK(node(p, "PREFIX.node3").inputs == Names{"PREFIX.C"});
        CHECK(node(p, "PREFIX.node3").outputs == Names{"D"});
    }
}

TEST_CASE("modular_pipeline.transform_params_prefix_and_parameters") {
    const Pipeline p = reuse(R"([
        {"func": "m.identity", "inputs": "parameters", "outputs": "B", "name": "node1"},
        {"func": "m.split", "inputs": ["params:C", "D"], "outputs": ["E", "F"], "name": "node2"},
        {"func": "m.biconcat", "inputs": {"input1": "params:H", "input2": "parameters"}, "outputs": "L",
         "name": "node3"}])",
                              R"({"pipeline": "raw", "namespace": "PREFIX"})");
    CHECK(node(p, "PREFIX.node1").inputs == Names{"parameters"});
    CHECK(node(p, "PREFIX.node2").inputs == Names{"params:PREFIX.C", "PREFIX.D"});
    CHECK(node(p, "PREFIX.node3").inputs == Names{"params:PREFIX.H", "parameters"});
    CHECK(node(p, "PREFIX.node3").outputs == Names{"PREFIX.L"});
}

TEST_CASE("modular_pipeline.dataset_transcoding_mapping_base_name") {
    const Pipeline p = reuse(R"([{"func": "m.split", "inputs": ["C@pandas", "D"], "outputs": ["E@spark", "F"],
                                   "name": "n"}])",
                              R"({"pipeline": "raw", "namespace": "PREFIX", "inputs": {"C": "C_new"}})");
    CHECK(node(p, "PREFIX.n").inputs == Names{"C_new@pandas", "PREFIX.D"});
    CHECK(node(p, "PREFIX.n").outputs == Names{"PREFIX.E@spark", "PREFIX.F"});
}

TEST_CASE("modular_pipeline.dataset_transcoding_mapping_full_dataset") {
    const Pipeline p = reuse(R"([
        {"func": "m.biconcat", "inputs": ["A@pandas", "B"], "outputs": "C", "name": "n1"},
        {"func": "m.biconcat", "inputs": ["A@spark", "C"], "outputs": "CC", "name": "n2"}])",
                              R"({"pipeline": "raw", "namespace": "PREFIX", "inputs": {"A@pandas": "Alpha"}})");
    CHECK(node(p, "PREFIX.n1").inputs == Names{"Alpha", "PREFIX.B"});
    CHECK(node(p, "PREFIX.n1").outputs == Names{"PREFIX.C"});
    CHECK(node(p, "PREFIX.n2").inputs == Names{"PREFIX.A@spark", "PREFIX.C"});
    CHECK(node(p, "PREFIX.n2").outputs == Names{"PREFIX.CC"});
}

TEST_CASE("modular_pipeline.empty_input_and_output") {
    const Pipeline out = reuse(R"([{"func": "m.constant", "outputs": ["A", "B"], "name": "n"}])",
                                R"({"pipeline": "raw", "namespace": "PREFIX", "outputs": {"A": "A_new"}})");
    CHECK(node(out, "PREFIX.n").inputs.empty());
    CHECK(node(out, "PREFIX.n").outputs == Names{"A_new", "PREFIX.B"});
    const Pipeline in = reuse(R"([{"func": "m.sink", "inputs": ["A", "B"], "name": "n"}])",
                               R"({"pipeline": "raw", "namespace": "PREFIX", "inputs": {"A": "A_new"}})");
    CHECK(node(in, "PREFIX.n").inputs == Names{"A_new", "PREFIX.B"});
    CHECK(node(in, "PREFIX.n").outputs.empty());
}

TEST_CASE("modular_pipeline.missing_dataset_name") {
    struct Case {
        const char* nodes;
        const char* mapping;
        const char* expected;
    };
    const std::vector<Case> cases = {
        {R"([{"func": "m.identity", "inputs": "A", "outputs": "OUT"}])",
         R"("inputs": {"A": "A_new", "B": "C", "D": "E"})", "\"inputs\" names 'B', 'D', which pipeline 'raw' does not use"},
        {R"([{"func": "m.biconcat", "inputs": ["A", "B"], "outputs": "OUT"}])", R"("inputs": {"C": "D"})",
         "\"inputs\" names 'C', which pipeline 'raw' does not use; its free inputs: 'A', 'B'"},
        {R"([{"func": "m.biconcat", "inputs": {"input1": "A", "input2": "B"}, "outputs": "OUT"}])",
         R"("inputs": {"C": "D"})", "\"inputs\" names 'C'"},
        {R"([{"func": "m.identity", "inputs": "IN", "outputs": "A"}])",
         R"("outputs": {"A": "A_new", "B": "C", "D": "E"})", "\"outputs\" names 'B', 'D', which pipeline 'raw' does not use"},
        {R"([{"func": "m.constant", "outputs": ["A", "B"]}])", R"("outputs": {"C": "D"})",
         "\"outputs\" names 'C', which pipeline 'raw' does not use; its nodes produce: 'A', 'B'"},
        {R"([{"func": "m.identity", "inputs": "A", "outputs": "B"}])", R"("inputs": {"A": "A_new"}, "outputs": {"B": "B_new", "C": "D"})",
         "\"outputs\" names 'C'"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.mapping);
        const std::string message = error_of(c.nodes, std::string(R"({"pipeline": "raw", "namespace": "PREFIX", )") +
                                                          c.mapping + "}");
        CHECK(contains(message, "pipes.json: pipeline 'new', pipelines[0] (pipeline 'raw' under namespace 'PREFIX'): "));
        CHECK(contains(message, c.expected));
    }
    CHECK(contains(error_of(chain, R"({"pipeline": "raw", "inputs": {"a": "x"}})"),
                   "\"inputs\" names 'a', which pipeline 'raw' does not use (did you mean 'A'?)"));
}

TEST_CASE("modular_pipeline.node_properties_preserved") {
    const Pipeline p = reuse(R"([{"func": "m.identity", "inputs": "A", "outputs": "B", "name": "node1",
                                   "tags": ["tag1"], "resources": {"gpu": 1}}])",
                              R"({"pipeline": "raw", "namespace": "PREFIX"})");
    CHECK(node(p, "PREFIX.node1").tags == Names{"tag1"});
    CHECK(node(p, "PREFIX.node1").resources == json{{"gpu", 1}});
    CHECK(node(p, "PREFIX.node1").origin ==
          "pipes.json: pipeline 'raw', reused by pipeline 'new' under namespace 'PREFIX'");
}

TEST_CASE("modular_pipeline.default_node_name_is_namespaced") {
    auto set = load(R"({"pipelines": {
        "raw":   {"nodes": [{"func": "m.identity", "inputs": "A", "outputs": "B"}]},
        "first": {"pipelines": [{"pipeline": "raw", "namespace": "PREFIX"}]},
        "second": {"pipelines": [{"pipeline": "first", "namespace": "PRE"}]}}})");
    const Node& first = set.at("first").nodes()[0];
    CHECK(first.namespace_ == "PREFIX");
    // Named after its datasets, as Kedro names an unnamed node: the prefixed ones now.
    CHECK(first.name == "PREFIX." + default_node_name("m.identity", {"PREFIX.A"}, {"PREFIX.B"}));
    const Node& second = set.at("second").nodes()[0];
    CHECK(second.namespace_ == "PRE.PREFIX");
    CHECK(second.name == "PRE.PREFIX." + default_node_name("m.identity", {"PRE.PREFIX.A"}, {"PRE.PREFIX.B"}));
    CHECK(second.inputs == Names{"PRE.PREFIX.A"});
}

TEST_CASE("modular_pipeline.expose_intermediate_output") {
    const Pipeline p = reuse(R"([
        {"func": "m.identity", "inputs": "A", "outputs": "B", "name": "node1"},
        {"func": "m.identity", "inputs": "B", "outputs": "C", "name": "node2"},
        {"func": "m.identity", "inputs": "C", "outputs": "D", "name": "node3"},
        {"func": "m.biconcat", "inputs": ["D", "params:x"], "outputs": "X", "name": "node4"}])",
                              R"({"pipeline": "raw", "namespace": "ACTUAL", "outputs": {"B": "B_new"}})");
    CHECK(node(p, "ACTUAL.node1").outputs == Names{"B_new"});
    CHECK(node(p, "ACTUAL.node2").inputs == Names{"B_new"});
    CHECK(node(p, "ACTUAL.node1").inputs == Names{"ACTUAL.A"});
    CHECK(node(p, "ACTUAL.node2").outputs == Names{"ACTUAL.C"});
    CHECK(node(p, "ACTUAL.node3").inputs == Names{"ACTUAL.C"});
    CHECK(node(p, "ACTUAL.node3").outputs == Names{"ACTUAL.D"});
    CHECK(node(p, "ACTUAL.node4").inputs == Names{"ACTUAL.D", "params:ACTUAL.x"});
    CHECK(node(p, "ACTUAL.node4").outputs == Names{"ACTUAL.X"});
}

TEST_CASE("modular_pipeline.parameters_left_intact") {
    const Pipeline one = reuse(R"([{"func": "m.biconcat", "inputs": ["A", "params:x"], "outputs": "AA", "name": "n"}])",
                                R"({"pipeline": "raw", "namespace": "PREFIX", "outputs": {"AA": "B"}, "parameters": "x"})");
    CHECK(node(one, "PREFIX.n").inputs == Names{"PREFIX.A", "params:x"});
    CHECK(node(one, "PREFIX.n").outputs == Names{"B"});
    // x is listed, so kept; y is not, so prefixed. With or without "params:".
    for (const char* parameters : {R"("params:x")", R"(["params:x"])", R"({"params:x": "params:x"})", R"(["x"])",
                                   R"({"x": "x"})"}) {
        CAPTURE(parameters);
        const Pipeline& p =
            reuse(R"([{"func": "m.triconcat", "inputs": ["A", "params:x", "params:y"], "outputs": "AA", "name": "n"}])",
                  std::string(R"({"pipeline": "raw", "namespace": "PREFIX", "outputs": {"AA": "B"}, "parameters": )") +
                      parameters + "}");
        CHECK(node(p, "PREFIX.n").inputs == Names{"PREFIX.A", "params:x", "params:PREFIX.y"});
    }
}

TEST_CASE("modular_pipeline.parameters_updated_with_dict") {
    const Pipeline p = reuse(R"([
        {"func": "m.biconcat", "inputs": ["A", "params:x"], "outputs": "AA", "name": "node1"},
        {"func": "m.biconcat", "inputs": ["AA", "params:y"], "outputs": "B", "name": "node2"},
        {"func": "m.biconcat", "inputs": ["B", "params:x"], "outputs": "BB", "name": "node3"}])",
                              R"({"pipeline": "raw", "namespace": "ACTUAL", "outputs": {"B": "B_new"},
                                  "parameters": {"x": "X"}})");
    CHECK(node(p, "ACTUAL.node1").inputs == Names{"ACTUAL.A", "params:X"});
    CHECK(node(p, "ACTUAL.node1").outputs == Names{"ACTUAL.AA"});
    CHECK(node(p, "ACTUAL.node2").inputs == Names{"ACTUAL.AA", "params:ACTUAL.y"});
    CHECK(node(p, "ACTUAL.node2").outputs == Names{"B_new"});
    CHECK(node(p, "ACTUAL.node3").inputs == Names{"B_new", "params:X"});
    CHECK(node(p, "ACTUAL.node3").outputs == Names{"ACTUAL.BB"});
}

TEST_CASE("modular_pipeline.errors.parameters_specified_under_inputs") {
    const char* nodes = R"([
        {"func": "m.biconcat", "inputs": ["A", "params:alpha"], "outputs": "AA", "name": "node1"},
        {"func": "m.biconcat", "inputs": ["AA", "parameters"], "outputs": "BB", "name": "node2"}])";
    CHECK(contains(error_of(nodes, R"({"pipeline": "raw", "inputs": {"params:alpha": "params:beta"}})"),
                   "pipes.json: pipeline 'new', pipelines[0] (pipeline 'raw'): \"inputs\" names the parameter "
                   "'params:alpha': give parameters under \"parameters\""));
    CHECK(contains(error_of(nodes, R"({"pipeline": "raw", "inputs": {"parameters": "some_dataset"}})"),
                   "\"inputs\" names the parameter 'parameters'"));
}

TEST_CASE("modular_pipeline.errors.non_existent_parameters_mapped") {
    const char* nodes = R"([
        {"func": "m.biconcat", "inputs": ["A", "params:alpha"], "outputs": "AA", "name": "node1"},
        {"func": "m.biconcat", "inputs": ["AA", "CC"], "outputs": "BB", "name": "node2"}])";
    CHECK(contains(error_of(nodes, R"({"pipeline": "raw", "parameters": {"beta": "gamma"}})"),
                   "\"parameters\" names 'params:beta', which no node of pipeline 'raw' reads (did you mean "
                   "'params:alpha'?); it reads: 'params:alpha'"));
    CHECK(contains(error_of(nodes, R"({"pipeline": "raw", "parameters": ["parameters"]})"),
                   "\"parameters\" names 'parameters', which no node of pipeline 'raw' reads"));
    CHECK(contains(error_of(nodes, R"({"pipeline": "raw", "parameters": ["alpa"]})"),
                   "(did you mean 'params:alpha'?)"));
}

TEST_CASE("modular_pipeline.errors.inputs_must_be_free_and_outputs_produced") {
    const char* nodes = R"([
        {"func": "m.biconcat", "inputs": ["A", "params:alpha"], "outputs": "AA", "name": "node1"},
        {"func": "m.biconcat", "inputs": ["AA", "parameters"], "outputs": "BB", "name": "node2"}])";
    CHECK(contains(error_of(nodes, R"({"pipeline": "raw", "inputs": {"AA": "CC"}})"),
                   "\"inputs\" names 'AA', which a node of pipeline 'raw' produces: \"inputs\" may name only its "
                   "free inputs ('A'); to rename a dataset it produces, list it under \"outputs\""));
    CHECK(contains(error_of(nodes, R"({"pipeline": "raw", "outputs": {"A": "C"}})"),
                   "\"outputs\" names 'A', a free input of pipeline 'raw' that none of its nodes produces: "
                   "\"outputs\" may name only datasets its nodes produce ('AA', 'BB')"));
}

TEST_CASE("modular_pipeline.tags") {
    const Pipeline p = reuse(R"([{"func": "m.source", "outputs": "A", "name": "a", "tags": "own"},
                                  {"func": "m.source", "outputs": "B", "name": "b"}])",
                              R"({"pipeline": "raw", "tags": ["tag", "own"]})");
    CHECK(node(p, "a").tags == Names{"own", "tag"});
    CHECK(node(p, "b").tags == Names{"own", "tag"});
    CHECK(node(p, "b").outputs == Names{"B"});  // no namespace, no renaming: the same datasets
}

TEST_CASE("modular_pipeline.one_pipeline_reused_side_by_side") {
    auto set = load(R"({"pipelines": {
        "cook": {"nodes": [
            {"func": "m.biconcat", "inputs": ["raw", "params:salt"], "outputs": "dish", "name": "season"},
            {"func": "m.identity", "inputs": "dish", "outputs": "plate", "name": "serve", "namespace": "front"}]},
        "meals": {"pipelines": [
            {"pipeline": "cook", "namespace": "lunch", "inputs": {"raw": "lunch_raw"}, "outputs": ["plate"]},
            {"pipeline": "cook", "namespace": "dinner", "inputs": {"raw": "dinner_raw"},
             "outputs": {"plate": "dinner_plate"}, "parameters": {"salt": "dinner_salt"}}]},
        "__default__": {"pipelines": ["meals"]}}})");
    const Pipeline& meals = set.at("meals");
    CHECK(names_of(meals) == Names{"dinner.season", "lunch.season", "dinner.front.serve", "lunch.front.serve"});
    CHECK(node(meals, "lunch.season").inputs == Names{"lunch_raw", "params:lunch.salt"});
    CHECK(node(meals, "dinner.season").inputs == Names{"dinner_raw", "params:dinner_salt"});
    CHECK(node(meals, "lunch.front.serve").namespace_ == "lunch.front");
    CHECK(node(meals, "lunch.front.serve").outputs == Names{"plate"});
    CHECK(node(meals, "dinner.front.serve").outputs == Names{"dinner_plate"});
    CHECK(meals.inputs() == Names{"dinner_raw", "lunch_raw", "params:dinner_salt", "params:lunch.salt"});
    CHECK(names_of(set.at("__default__")) == names_of(meals));
    // The pipeline reused keeps its own names.
    CHECK(names_of(set.at("cook")) == Names{"season", "front.serve"});

    // --namespaces: a namespace and everything under it, as Kedro's only_nodes_with_namespaces.
    CHECK(names_of(meals.only_nodes_with_namespaces({"lunch"})) == Names{"lunch.season", "lunch.front.serve"});
    CHECK(names_of(meals.only_nodes_with_namespaces({"dinner.front"})) == Names{"dinner.front.serve"});
    CHECK(names_of(meals.only_nodes_with_namespaces({"lunch", "dinner.front"})) ==
          Names{"dinner.front.serve", "lunch.season", "lunch.front.serve"});
    CHECK_THROWS_WITH_AS(meals.only_nodes_with_namespaces({"lunc"}), doctest::Contains("Did you mean: ['lunch']?"),
                         kiln::PipelineError);
}

TEST_CASE("modular_pipeline.unnamed_nodes_reused_without_namespace_do_not_clash") {
    auto set = load(R"({"pipelines": {
        "raw": {"nodes": [{"func": "m.identity", "inputs": "A", "outputs": "B"}]},
        "two": {"pipelines": [{"pipeline": "raw", "inputs": {"A": "A1"}, "outputs": {"B": "B1"}},
                              {"pipeline": "raw", "inputs": {"A": "A2"}, "outputs": {"B": "B2"}}]}}})");
    // Without "__default__", the default leaves out "raw": only its reuses run.
    CHECK(names_of(set.at("__default__")) == names_of(set.at("two")));
    Names names = names_of(set.at("two"));
    Names expected = {default_node_name("m.identity", {"A1"}, {"B1"}), default_node_name("m.identity", {"A2"}, {"B2"})};
    std::sort(names.begin(), names.end());
    std::sort(expected.begin(), expected.end());
    CHECK(names == expected);
}

TEST_CASE("modular_pipeline.errors.shape_and_names") {
    const char* nodes = R"([{"func": "m.identity", "inputs": "A", "outputs": "B", "name": "n"}])";
    CHECK(contains(error_of(nodes, R"({"pipeline": "raw", "namespce": "x"})"),
                   "pipes.json: pipeline 'new', pipelines[0] (pipeline 'raw'): unknown key \"namespce\" (did you mean "
                   "'namespace'?)"));
    CHECK(contains(error_of(nodes, R"({"namespace": "x"})"),
                   "pipes.json: pipeline 'new', pipelines[0]: \"pipeline\" must name the pipeline to reuse"));
    CHECK(contains(error_of(nodes, R"({"pipeline": "raw", "namespace": "a b"})"),
                   "\"namespace\" must be a string of letters, digits, '_', '-' and '.', not \"a b\""));
    CHECK(contains(error_of(nodes, R"({"pipeline": "raw", "inputs": 3})"),
                   "(pipeline 'raw'): \"inputs\" must be a list of names to keep or an object renaming them"));
    CHECK(contains(error_of(nodes, R"({"pipeline": "raw", "outputs": {"B": ""}})"),
                   "\"outputs\" must hold dataset names (non-empty strings), but it has \"\""));
    CHECK(contains(error_of(nodes, R"({"pipeline": "raw", "tags": ["a b"]})"), "tag \"a b\" is not valid"));
    CHECK(contains(error_of(nodes, R"({"pipeline": "rw"})"),
                   "pipes.json: pipeline 'new' reuses pipeline 'rw', which the file does not define (did you mean "
                   "'raw'?)"));
    CHECK(contains(error_of(nodes, R"(3)"), "\"pipelines\" must be a list of pipeline names to include"));
    CHECK(contains(error_of(nodes, R"({"pipeline": "new", "namespace": "x"})"),
                   "pipelines include each other in a loop: 'new' -> 'new'"));
}

TEST_CASE("modular_pipeline.errors.clash_names_both_reuses") {
    // Reused twice under one namespace: the same node names, with different datasets.
    const std::string message = error_of(R"([{"func": "m.identity", "inputs": "A", "outputs": "B", "name": "n"}])",
                                         R"({"pipeline": "raw", "namespace": "x", "inputs": {"A": "A1"}},
                                            {"pipeline": "raw", "namespace": "x", "inputs": {"A": "A2"}})");
    CHECK(contains(message, "pipes.json: pipeline 'new': "));
    CHECK(contains(message, "'x.n'"));
    CHECK(contains(message, "reused by pipeline 'new' under namespace 'x'"));
}

TEST_CASE("modular_pipeline.errors.reused_pipeline_broken_is_named") {
    auto error = [](const std::string& text) {
        try {
            load(text);
        } catch (const kiln::Error& e) {
            return std::string(e.what());
        }
        return std::string("<no error>");
    };
    const std::string message = error(R"({"pipelines": {
        "new": {"pipelines": [{"pipeline": "raw", "namespace": "x"}]},
        "raw": {"nodes": [{"func": "m.identity", "inputs": "A", "outputs": "A", "name": "loop"}]}}})");
    CHECK(contains(message, "pipes.json: pipeline 'raw': "));
}

}  // namespace modular_pipeline_test_cases
