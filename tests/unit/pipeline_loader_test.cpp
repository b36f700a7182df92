// pipelines.json: node forms, default names, composition, and every error naming the
// file, the pipeline and the node.
#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "config/pipeline_loader.hpp"
#include "kiln/detail/node_binding.hpp"
#include "kiln/error.hpp"
#include "test_support.hpp"

using kiln::test::contains;

using kiln::ConfigError;
using kiln::PipelineError;
using kiln::core::default_node_name;
using kiln::core::FunctionResolver;
using kiln::core::load_pipelines;
using kiln::core::Node;
using kiln::core::NodeFunction;
using kiln::core::Pipeline;
using nlohmann::json;
using Names = std::vector<std::string>;

namespace pipeline_loader_test_cases {

namespace {

// Node functions as plugins would register them, and a resolver over them.
struct Functions {
    std::map<std::string, kiln::detail::NodeSpec> specs;
    std::map<std::string, NodeFunction> functions;

    Functions() {
        using kiln::detail::make_node_spec;
        add("t.add", make_node_spec("add", [](double a, double b) { return a + b; }, {}));
        add("t.neg", make_node_spec("neg", [](double a) { return -a; }, {}));
        add("t.count", make_node_spec(
                           "count", [](const std::vector<std::string>& w, std::int64_t n) { return n + std::int64_t(w.size()); },
                           {}));
        add("t.split", make_node_spec("split", [](double a) { return std::tuple<double, std::string>(a, "x"); }, {}));
        add("t.source", make_node_spec("source", [] { return 1.0; }, {}));
        add("t.sink", make_node_spec("sink", [](double) {}, {}));
        add("t.nothing", make_node_spec("nothing", [] {}, {}));
        add("t.bounds", make_node_spec("bounds", [](double a) { return std::tuple<double, std::string>(a, "x"); }, {}),
            {"low", "label"});
        add("t.scale", make_node_spec("scale", [](double x, const std::string& unit, double k) { return x * k + double(unit.size()); },
                                      {.args = {"x", "unit", "k"}}));
    }
    void add(const std::string& name, kiln::detail::NodeSpec spec, std::vector<std::string> output_names = {}) {
        auto& stored = specs.emplace(name, std::move(spec)).first->second;
        functions.emplace(name, NodeFunction{.qualified_name = name, .plugin_file = "libt.so", .spec = &stored, .output_names = std::move(output_names)});
    }
    FunctionResolver resolver() const {
        return [this](const std::string& name, std::string& hint) -> const NodeFunction* {
            if (auto it = functions.find(name); it != functions.end()) return &it->second;
            Names known;
            for (const auto& [key, fn] : functions) known.push_back(key);
            auto matches = kiln::core::close_matches(name, known);
            hint = matches.empty() ? "no plugin declares it" : "did you mean '" + matches.front() + "'?";
            return nullptr;
        };
    }
};

const Functions& functions() {
    static const Functions f;
    return f;
}

kiln::core::PipelineSet load(const json& doc) {
    return load_pipelines(doc, "pipes.json", functions().resolver());
}

kiln::core::PipelineSet load(const char* text) { return load(json::parse(text)); }

// The message of the kiln::Error that loading `text` throws.
std::string error_of(const char* text) {
    try {
        load(text);
    } catch (const kiln::Error& e) {
        return e.what();
    }
    return "<no error>";
}

Names names_of(const Pipeline& p) {
    Names out;
    for (const Node& n : p.nodes()) out.push_back(n.name);
    return out;
}

}  // namespace

TEST_CASE("pipeline_loader.nodes") {
    auto pipelines = load(R"({"pipelines": {"p": {"nodes": [
        {"func": "t.add", "inputs": ["a", "b"], "outputs": "c", "name": "adder", "tags": ["z", "m", "z"],
         "resources": {"gpu": 1}},
        {"func": "t.neg", "inputs": "c", "outputs": ["d"], "name": "neg", "namespace": "ns", "tags": "one"},
        {"func": "t.sink", "inputs": "d", "outputs": null, "name": "sink"},
        {"func": "t.source", "outputs": "a", "name": "src"}
    ]}}})");
    REQUIRE(pipelines.count("p"));
    const Pipeline& p = pipelines.at("p");
    CHECK(names_of(p) == Names{"src", "adder", "ns.neg", "sink"});
    const Node& adder = p.nodes()[*p.node_index("adder")];
    CHECK(adder.func == &functions().functions.at("t.add"));
    CHECK(adder.inputs == Names{"a", "b"});
    CHECK(adder.outputs == Names{"c"});
    CHECK(adder.tags == Names{"m", "z"});
    CHECK(adder.resources == json{{"gpu", 1}});
    CHECK(adder.origin == "pipes.json: pipeline 'p'");
    const Node& neg = p.nodes()[*p.node_index("ns.neg")];
    CHECK(neg.namespace_ == "ns");
    CHECK(neg.tags == Names{"one"});
    CHECK(neg.resources.is_null());
    CHECK(p.nodes()[*p.node_index("sink")].outputs.empty());
    CHECK(p.inputs() == Names{"b"});
}

TEST_CASE("pipeline_loader.default_names") {
    const std::string name = default_node_name("t.add", {"a", "b"}, {"c"});
    REQUIRE(name.size() == std::string("add__").size() + 8);
    CHECK(name.rfind("add__", 0) == 0);
    CHECK(name.find_first_not_of("0123456789abcdef", 5) == std::string::npos);
    CHECK(name == default_node_name("t.add", {"a", "b"}, {"c"}));  // deterministic
    CHECK(name != default_node_name("t.add", {"b", "a"}, {"c"}));
    CHECK(name != default_node_name("t.add", {"a"}, {"b", "c"}));   // "|a,b|c" vs "|a|b,c"
    CHECK(default_node_name("add", {}, {}).rfind("add__", 0) == 0);

    auto pipelines = load(R"({"pipelines": {"p": {"nodes": [
        {"func": "t.add", "inputs": ["a", "b"], "outputs": "c"},
        {"func": "t.neg", "inputs": "c", "outputs": "d", "namespace": "ns"}
    ]}}})");
    const Pipeline& p = pipelines.at("p");
    CHECK(p.node_index(name));
    CHECK(p.node_index("ns." + default_node_name("t.neg", {"c"}, {"d"})));
}

TEST_CASE("pipeline_loader.inputs_by_parameter_name") {
    auto pipelines = load(R"({"pipelines": {"p": {"nodes": [
        {"func": "t.scale", "inputs": {"k": "params:k", "x": "value", "unit": "params:unit"}, "outputs": "y",
         "name": "scale"}
    ]}}})");
    CHECK(pipelines.at("p").nodes()[0].inputs == Names{"value", "params:unit", "params:k"});

    CHECK(contains(error_of(R"({"pipelines": {"p": {"nodes": [
        {"func": "t.scale", "inputs": {"x": "a", "units": "b", "k": "c"}, "outputs": "y", "name": "s"}]}}})"),
                   "pipes.json: pipeline 'p', nodes[0] 's': \"inputs\" names a parameter that 't.scale' does not "
                   "have: 'units' (did you mean 'unit'?); its parameters are x (f64), unit (string), k (f64)"));
    CHECK(contains(error_of(R"({"pipelines": {"p": {"nodes": [
        {"func": "t.scale", "inputs": {"x": "a"}, "outputs": "y", "name": "s"}]}}})"),
                   "\"inputs\" gives no dataset for parameters 'unit', 'k' of 't.scale'"));
    const std::string undeclared = error_of(R"({"pipelines": {"p": {"nodes": [
        {"func": "t.add", "inputs": {"a": "x", "b": "y"}, "outputs": "z"}]}}})");
    CHECK(contains(undeclared, "pipes.json: pipeline 'p', nodes[0] (unnamed): \"inputs\" maps parameter names"));
    CHECK(contains(undeclared, "'t.add' declares no parameter names"));
    CHECK(contains(undeclared, "reg.node(\"add\", ..., {.args = {\"param1\", \"param2\"}})"));
    CHECK(contains(error_of(R"({"pipelines": {"p": {"nodes": [
        {"func": "t.scale", "inputs": {"x": "a", "unit": 3, "k": "c"}, "outputs": "y"}]}}})"),
                   "maps parameter 'unit' to 3"));
}

TEST_CASE("pipeline_loader.outputs_by_value_name") {
    // Kedro's dict outputs: by the names NodeOptions::outputs gives, in the function's order.
    auto pipelines = load(R"({"pipelines": {"p": {"nodes": [
        {"func": "t.bounds", "inputs": "a", "outputs": {"label": "tag", "low": "floor"}, "name": "b"}
    ]}}})");
    CHECK(pipelines.at("p").nodes()[0].outputs == Names{"floor", "tag"});

    CHECK(contains(error_of(R"({"pipelines": {"p": {"nodes": [
        {"func": "t.bounds", "inputs": "a", "outputs": {"lo": "x", "label": "y"}, "name": "b"}]}}})"),
                   "pipes.json: pipeline 'p', nodes[0] 'b': \"outputs\" names a value that 't.bounds' does not "
                   "return: 'lo' (did you mean 'low'?); it returns low (f64), label (string)"));
    CHECK(contains(error_of(R"({"pipelines": {"p": {"nodes": [
        {"func": "t.bounds", "inputs": "a", "outputs": {"low": "x"}, "name": "b"}]}}})"),
                   "\"outputs\" gives no dataset for the value 'label' that 't.bounds' returns"));
    CHECK(contains(error_of(R"({"pipelines": {"p": {"nodes": [
        {"func": "t.bounds", "inputs": "a", "outputs": {"low": "x", "label": ["y"]}, "name": "b"}]}}})"),
                   "\"outputs\" maps 'label' to [\"y\"], but it must map to a dataset name"));
    const std::string unnamed = error_of(R"({"pipelines": {"p": {"nodes": [
        {"func": "t.split", "inputs": "a", "outputs": {"first": "x", "second": "y"}}]}}})");
    CHECK(contains(unnamed, "\"outputs\" maps names to datasets, but 't.split' names none of the values it returns"));
    CHECK(contains(unnamed, "reg.node(\"split\", ..., {.outputs = {\"value1\", \"value2\"}})"));
    CHECK(contains(error_of(R"({"pipelines": {"p": {"nodes": [{"func": "t.neg", "inputs": "a", "outputs": 3}]}}})"),
                   "\"outputs\" must be a dataset name or a list of them (or an object mapping the names of the "
                   "values it returns to datasets), not a number"));
}

TEST_CASE("pipeline_loader.errors.node_fields") {
    CHECK(contains(error_of(R"({"pipelines": {"etl": {"nodes": [
        {"func": "t.add", "inputs": ["a", "b"], "outputs": "c", "name": "ok"},
        {"func": "t.ad", "inputs": ["a", "b"], "outputs": "d", "name": "typo"}]}}})"),
                   "pipes.json: pipeline 'etl', nodes[1] 'typo': unknown node function 't.ad': did you mean 't.add'?"));
    CHECK(contains(error_of(R"({"pipelines": {"etl": {"nodes": [{"func": "t.neg", "input": "a", "outputs": "b"}]}}})"),
                   "nodes[0] (unnamed): unknown key \"input\" (did you mean 'inputs'?); a node takes \"func\", "
                   "\"inputs\", \"outputs\", \"name\", \"namespace\", \"tags\", \"resources\""));
    CHECK(contains(error_of(R"({"pipelines": {"etl": {"nodes": [{"inputs": "a", "outputs": "b", "name": "n"}]}}})"),
                   "pipes.json: pipeline 'etl', nodes[0] 'n': no \"func\""));
    CHECK(contains(error_of(R"({"pipelines": {"etl": {"nodes": [{"func": 3}]}}})"), "\"func\" must be the name"));
    CHECK(contains(error_of(R"({"pipelines": {"etl": {"nodes": ["t.neg"]}}})"),
                   "nodes[0] (unnamed): a node must be an object"));
    CHECK(contains(error_of(R"({"pipelines": {"etl": {"nodes": [{"func": "t.neg", "inputs": 5, "outputs": "b"}]}}})"),
                   "\"inputs\" must be a dataset name or a list of them (or an object mapping parameter names to "
                   "datasets), not a number"));
    CHECK(contains(error_of(R"({"pipelines": {"etl": {"nodes": [{"func": "t.neg", "inputs": ["a", ""], "outputs": "b"}]}}})"),
                   "\"inputs\" must hold dataset names (non-empty strings), but it has \"\""));
    CHECK(contains(error_of(R"({"pipelines": {"etl": {"nodes": [{"func": "t.neg", "inputs": "a", "outputs": {"x": "b"}}]}}})"),
                   "\"outputs\" maps names to datasets, but 't.neg' names none of the values it returns"));
    CHECK(contains(error_of(R"({"pipelines": {"etl": {"nodes": [{"func": "t.neg", "inputs": "a", "outputs": "b", "name": "bad name"}]}}})"),
                   "'bad name' is not a valid node name: it may contain only letters, digits, '_', '-' and '.'"));
    CHECK(contains(error_of(R"({"pipelines": {"etl": {"nodes": [{"func": "t.neg", "inputs": "a", "outputs": "b", "namespace": "a b"}]}}})"),
                   "\"namespace\" must be a string of letters"));
    CHECK(contains(error_of(R"({"pipelines": {"etl": {"nodes": [{"func": "t.neg", "inputs": "a", "outputs": "b", "name": "n", "tags": ["ok", "no way"]}]}}})"),
                   "nodes[0] 'n': tag \"no way\" is not valid"));
    CHECK(contains(error_of(R"({"pipelines": {"etl": {"nodes": [{"func": "t.neg", "inputs": "a", "outputs": "b", "resources": {"gpu": "one"}}]}}})"),
                   "resource \"gpu\" must be a number, not \"one\""));
    CHECK(contains(error_of(R"({"pipelines": {"etl": {"nodes": [{"func": "t.neg", "inputs": "a", "outputs": "b", "resources": [1]}]}}})"),
                   "\"resources\" must be an object of numbers"));
}

TEST_CASE("pipeline_loader.errors.signature") {
    CHECK(contains(error_of(R"({"pipelines": {"wc": {"nodes": [
        {"func": "t.count", "inputs": "words", "outputs": "n", "name": "x"}]}}})"),
                   "pipes.json: pipeline 'wc', nodes[0] 'x': 't.count' takes 2 inputs (vector<string>, i64) but 1 "
                   "is given"));
    CHECK(contains(error_of(R"({"pipelines": {"wc": {"nodes": [{"func": "t.source", "inputs": "a", "outputs": "b"}]}}})"),
                   "'t.source' takes no inputs but 1 is given"));
    CHECK(contains(error_of(R"({"pipelines": {"wc": {"nodes": [{"func": "t.split", "inputs": "a", "outputs": "b"}]}}})"),
                   "'t.split' returns 2 outputs (f64, string) but 1 is given in \"outputs\""));
    CHECK(contains(error_of(R"({"pipelines": {"wc": {"nodes": [{"func": "t.sink", "inputs": "a", "outputs": "b"}]}}})"),
                   "'t.sink' returns nothing (void) but 1 is given"));
    CHECK(contains(error_of(R"({"pipelines": {"wc": {"nodes": [{"func": "t.neg", "inputs": "a"}]}}})"),
                   "'t.neg' returns 1 output (f64) but none is given"));
    CHECK(contains(error_of(R"({"pipelines": {"wc": {"nodes": [{"func": "t.nothing", "name": "idle"}]}}})"),
                   "nodes[0] 'idle': 't.nothing' takes no inputs and returns nothing"));
}

TEST_CASE("pipeline_loader.errors.document_shape") {
    CHECK(contains(error_of("[1]"), "pipes.json: a pipelines file is a JSON object with a \"pipelines\" object"));
    CHECK(contains(error_of("[1]"), "{\"pipelines\": {\"__default__\": {\"nodes\": [{\"func\": \"myplugin.add\""));
    CHECK(contains(error_of("[1]"), "but this file holds a list"));
    CHECK(contains(error_of(R"({"pipeline": {}})"), "it has no \"pipelines\" key (its keys: \"pipeline\")"));
    CHECK(contains(error_of(R"({"pipelines": []})"), "but \"pipelines\" is a list"));
    CHECK(contains(error_of(R"({"pipelines": {}, "nodes": []})"), "pipes.json: unknown top-level key \"nodes\""));
    CHECK(contains(error_of(R"({"pipelines": {"p": []}})"),
                   "pipes.json: pipeline 'p' must be an object such as {\"nodes\": [...], \"pipelines\": [...]}, not "
                   "a list (put the list of nodes under \"nodes\")"));
    CHECK(contains(error_of(R"({"pipelines": {"p": {"node": []}}})"),
                   "pipes.json: pipeline 'p': unknown key \"node\" (did you mean 'nodes'?)"));
    CHECK(contains(error_of(R"({"pipelines": {"p": {"nodes": {}}}})"), "pipeline 'p': \"nodes\" must be a list"));
    CHECK(contains(error_of(R"({"pipelines": {"p": {"pipelines": "q"}}})"),
                   "pipeline 'p': \"pipelines\" must be a list of pipeline names"));
    CHECK(load(R"({"pipelines": {}})").empty());
    CHECK(load(R"({"$schema": "x", "pipelines": {"p": {}}})").at("p").empty());
}

TEST_CASE("pipeline_loader.errors.pipeline_structure_names_the_file") {
    const std::string cycle = error_of(R"({"pipelines": {"loop": {"nodes": [
        {"func": "t.neg", "inputs": "a", "outputs": "b", "name": "n1"},
        {"func": "t.neg", "inputs": "b", "outputs": "a", "name": "n2"}]}}})");
    CHECK(contains(cycle, "pipes.json: pipeline 'loop': The pipeline has a dependency cycle: n1 -> (b) -> n2 -> (a) -> n1"));
    CHECK_THROWS_AS(load(R"({"pipelines": {"loop": {"nodes": [
        {"func": "t.neg", "inputs": "a", "outputs": "b", "name": "n1"},
        {"func": "t.neg", "inputs": "b", "outputs": "a", "name": "n2"}]}}})"),
                    PipelineError);
    CHECK(contains(error_of(R"({"pipelines": {"p": {"nodes": [
        {"func": "t.split", "inputs": "a", "outputs": ["b", "c"], "name": "split"},
        {"func": "t.neg", "inputs": "c", "outputs": "d", "name": "use"}]}}})"),
                   "pipes.json: pipeline 'p': Type mismatch on dataset 'c': node 'split' (t.split) outputs it as "
                   "'string', but node 'use' (t.neg) reads it as 'f64'"));
    CHECK(contains(error_of(R"({"pipelines": {"p": {"nodes": [
        {"func": "t.neg", "inputs": "a", "outputs": "b", "name": "same"},
        {"func": "t.neg", "inputs": "b", "outputs": "c", "name": "same"}]}}})"),
                   "'same' (2 nodes, declared in pipes.json: pipeline 'p')"));
}

TEST_CASE("pipeline_loader.composition") {
    auto pipelines = load(R"({"pipelines": {
        "prep":   {"nodes": [{"func": "t.neg", "inputs": "raw", "outputs": "clean", "name": "prep"}]},
        "model":  {"nodes": [{"func": "t.neg", "inputs": "clean", "outputs": "model", "name": "fit"}],
                   "pipelines": ["prep"]},
        "report": {"nodes": [{"func": "t.sink", "inputs": "model", "name": "report"}], "pipelines": ["model", "prep"]},
        "twice":  {"nodes": [{"func": "t.neg", "inputs": "raw", "outputs": "clean", "name": "prep"}],
                   "pipelines": ["prep"]}
    }})");
    CHECK(names_of(pipelines.at("model")) == Names{"prep", "fit"});
    CHECK(names_of(pipelines.at("report")) == Names{"prep", "fit", "report"});  // "prep" reached twice, kept once
    CHECK(names_of(pipelines.at("twice")) == Names{"prep"});  // an identical re-declaration is the same node
    REQUIRE(pipelines.count("__default__"));
    CHECK(names_of(pipelines.at("__default__")) == Names{"prep", "fit", "report"});
    CHECK(pipelines.at("model").nodes()[0].origin == "pipes.json: pipeline 'prep'");
}

TEST_CASE("pipeline_loader.composition.explicit_default") {
    auto pipelines = load(R"({"pipelines": {
        "a": {"nodes": [{"func": "t.source", "outputs": "x", "name": "a"}]},
        "b": {"nodes": [{"func": "t.source", "outputs": "y", "name": "b"}]},
        "__default__": {"pipelines": ["b"]}
    }})");
    CHECK(names_of(pipelines.at("__default__")) == Names{"b"});
    CHECK(pipelines.size() == 3);
}

TEST_CASE("pipeline_loader.composition.errors") {
    CHECK(contains(error_of(R"({"pipelines": {"prep": {}, "all": {"pipelines": ["prepp"]}}})"),
                   "pipes.json: pipeline 'all' includes pipeline 'prepp', which the file does not define (did you "
                   "mean 'prep'?); defined: 'all', 'prep'"));
    CHECK(contains(error_of(R"({"pipelines": {"a": {"pipelines": ["b"]}, "b": {"pipelines": ["c"]}, "c": {"pipelines": ["a"]}}})"),
                   "pipes.json: pipelines include each other in a loop: 'a' -> 'b' -> 'c' -> 'a'"));
    CHECK(contains(error_of(R"({"pipelines": {"a": {"pipelines": ["a"]}}})"), "'a' -> 'a'"));
    // Two different nodes under one name, from two pipelines: each alone is fine, together not.
    const std::string clash = error_of(R"({"pipelines": {
        "one": {"nodes": [{"func": "t.neg", "inputs": "a", "outputs": "b", "name": "n"}]},
        "two": {"nodes": [{"func": "t.neg", "inputs": "c", "outputs": "d", "name": "n"}]}}})");
    CHECK(contains(clash, "pipes.json: pipeline '__default__' (every pipeline together, as the file defines no "
                          "\"__default__\"): Pipeline nodes must have unique names"));
    CHECK(contains(clash, "'n' (2 nodes, declared in pipes.json: pipeline 'one'; pipes.json: pipeline 'two')"));
}

}  // namespace pipeline_loader_test_cases
