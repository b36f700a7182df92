// Config input written to break Kiln (issue 11): nesting deep enough to overflow a
// recursive walk, numbers out of range, text that is not UTF-8, names holding control
// characters, and pipeline files large enough to expose quadratic composition. Each
// must give a ConfigError/PipelineError naming where, never a crash.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "config/json_file.hpp"
#include "config/pipeline_loader.hpp"
#include "kiln/detail/node_binding.hpp"
#include "kiln/error.hpp"
#include "test_support.hpp"
#include "text/name_text.hpp"

using kiln::test::contains;

using kiln::ConfigError;
using kiln::core::max_json_nesting;
using nlohmann::json;

namespace hostile_config_test_cases {

namespace {

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string nested_objects(std::size_t depth) {
    std::string text;
    for (std::size_t i = 0; i < depth; ++i) text += "{\"k\":";
    text += "1";
    return text + std::string(depth, '}');
}

template <class F>
std::string config_error_of(F&& f) {
    try {
        f();
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "<no ConfigError>";
}

// One node function, "t.neg" (double -> double), and a resolver over it.
struct NegFunction {
    kiln::detail::NodeSpec spec = kiln::detail::make_node_spec("neg", [](double a) { return -a; }, {});
    kiln::core::NodeFunction fn{.qualified_name = "t.neg", .plugin_file = "libt.so", .spec = &spec};
    kiln::core::FunctionResolver resolver() const {
        return [this](const std::string& name, std::string&) { return name == "t.neg" ? &fn : nullptr; };
    }
};

// {"pipelines": {"p0": {n0}, "p1": {n1, includes p0}, ...}}: pipeline k holds k + 1 nodes.
json chained_pipelines(std::size_t n) {
    json pipelines = json::object();
    for (std::size_t i = 0; i < n; ++i) {
        json entry = {{"nodes", json::array({{{"name", "n" + std::to_string(i)},
                                              {"func", "t.neg"},
                                              {"inputs", "d" + std::to_string(i)},
                                              {"outputs", "d" + std::to_string(i + 1)}}})}};
        if (i > 0) entry["pipelines"] = json::array({"p" + std::to_string(i - 1)});
        pipelines["p" + std::to_string(i)] = std::move(entry);
    }
    return {{"pipelines", std::move(pipelines)}};
}

}  // namespace

TEST_CASE("hostile_config.nesting_up_to_the_limit_is_read") {
    CHECK(kiln::core::json_nesting(kiln::core::parse_json_text(nested_arrays(max_json_nesting), "f.json")) ==
          max_json_nesting);
    CHECK(kiln::core::json_nesting(kiln::core::parse_json_text(nested_objects(max_json_nesting), "f.json")) ==
          max_json_nesting);
    CHECK(kiln::core::json_nesting(json(1)) == 0);
    CHECK(kiln::core::json_nesting(json::parse("[1, {\"a\": []}]")) == 3);
}

TEST_CASE("hostile_config.nesting_past_the_limit_names_file_and_key_path") {
    const std::string one_more = config_error_of([] {
        kiln::core::parse_json_text("{\"x\": " + nested_arrays(max_json_nesting) + "}", "params.json");
    });
    CHECK(contains(one_more, "params.json: the value at \"x[0][0]"));
    CHECK(contains(one_more, "nests deeper than 256 levels"));
    // 100,000 levels: refused, not a stack overflow, and the path stays short.
    const std::string deep = config_error_of([] {
        kiln::core::parse_json_text("{\"pipelines\": {\"a\": " + nested_objects(100000) + "}}", "pipelines.json");
    });
    CHECK(contains(deep, "pipelines.json: the value at \"pipelines.a.k.k"));
    CHECK(contains(deep, "more levels"));
    CHECK(deep.size() < 400);
}

TEST_CASE("hostile_config.number_out_of_range_gets_line_and_column") {
    const std::string e = config_error_of([] { kiln::core::parse_json_text("{\n  \"x\": [1, 1e400]\n}", "f.json"); });
    CHECK(contains(e, "f.json:2:12: the number 1e400 is out of range"));
    CHECK_FALSE(contains(e, "json.exception"));
    // Syntax errors keep their position as before.
    CHECK(contains(config_error_of([] { kiln::core::parse_json_text("{\"a\": 1,}", "f.json"); }), "f.json:1:9:"));
}

TEST_CASE("hostile_config.params_option") {
    using kiln::core::parse_params_option;
    CHECK(contains(config_error_of([] { parse_params_option("x=" + nested_arrays(65000)); }),
                   "--params: parameter 'x': the value at \"[0][0]"));
    CHECK(contains(config_error_of([] { parse_params_option("x=" + nested_arrays(max_json_nesting + 1)); }),
                   "nests deeper than 256 levels"));
    // The parameters object is a level too, as in parameters.json: {"x": [[...]]}.
    CHECK(contains(config_error_of([] { parse_params_option("x=" + nested_arrays(max_json_nesting)); }),
                   "the key's 1 dotted parts and the value's 256 levels nest deeper than 256 levels"));
    CHECK(parse_params_option("x=" + nested_arrays(max_json_nesting - 1)).size() == 1);
    // Dotted parts nest the value too.
    std::string dotted;
    for (int i = 0; i < 3000; ++i) dotted += "a.";
    const std::string e = config_error_of([&] { parse_params_option(dotted + "b=1"); });
    CHECK(contains(e, "the key's 3001 dotted parts"));
    CHECK(e.size() < 400);
    // Not UTF-8, in a value or a name; control characters in a name.
    CHECK(contains(config_error_of([] { parse_params_option("x=\xff"); }),
                   "--params: the value of parameter 'x' is not UTF-8 text (byte \"\\xff\" at offset 0)"));
    CHECK(contains(config_error_of([] { parse_params_option("caf\xe9=1"); }),
                   "--params: the parameter name \"caf\\xe9\" is not UTF-8 text"));
    CHECK(contains(config_error_of([] { parse_params_option("x\x1b[31m=1"); }),
                   "--params: the parameter name \"x\\u001b[31m\" holds a control character"));
    // What stays as it was: UTF-8 text and plain words.
    auto ok = parse_params_option("name=caf\xc3\xa9,n=3");
    REQUIRE(ok.size() == 2);
    CHECK(ok[0].second == "caf\xc3\xa9");
    CHECK(ok[1].second == 3);
    CHECK(parse_params_option("x=1e400")[0].second == "1e400");  // not a JSON number: a word, as before
}

TEST_CASE("hostile_config.parameter_names_with_control_characters") {
    const std::string e = config_error_of([] {
        kiln::core::Parameters(json{{"model", {{"alpha\x1b[2J", 1}}}}, "parameters.json");
    });
    CHECK(contains(e, "parameters.json: in \"model\": the parameter name \"alpha\\u001b[2J\" holds a control character"));
    CHECK_NOTHROW(kiln::core::Parameters(json{{"model", {{"alpha", 1}}}}, "parameters.json"));
}

TEST_CASE("hostile_config.dataset_names_with_control_characters") {
    NegFunction neg;
    const json pipelines = {{"pipelines",
                             {{"p",
                               {{"nodes", json::array({{{"name", "n"},
                                                        {"func", "t.neg"},
                                                        {"inputs", "in"},
                                                        {"outputs", "out\x1b[2J"}}})}}}}}};
    const std::string e = config_error_of([&] { kiln::core::load_pipelines(pipelines, "pipes.json", neg.resolver()); });
    CHECK(contains(e, "pipes.json: pipeline 'p', nodes[0] 'n': the dataset name \"out\\u001b[2J\" holds a control "
                      "character"));
    const std::string c = config_error_of([] {
        kiln::core::DataCatalog::entries_from_json(json{{"a\nb", {{"type", "kiln.JsonDataset"}}}}, "catalog.json");
    });
    CHECK(contains(c, "catalog.json: the dataset name \"a\\nb\" holds a control character"));
}

TEST_CASE("hostile_config.name_text") {
    using kiln::core::escaped;
    using kiln::core::has_control_character;
    using kiln::core::invalid_utf8_at;
    CHECK_FALSE(invalid_utf8_at("plain caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80").has_value());
    CHECK(invalid_utf8_at("ab\xff") == 2u);
    CHECK(invalid_utf8_at("\xc3") == 0u);              // cut short
    CHECK(invalid_utf8_at("\xc0\xaf") == 0u);          // overlong '/'
    CHECK(invalid_utf8_at("x\xed\xa0\x80") == 1u);     // a surrogate
    CHECK(invalid_utf8_at("\xf4\x90\x80\x80") == 0u);  // above U+10FFFF
    CHECK(has_control_character("a\tb"));
    CHECK(has_control_character("\x7f"));
    CHECK(has_control_character("a\xc2\x9b" "31m"));  // C1 CSI
    CHECK_FALSE(has_control_character("caf\xc3\xa9.model-1_x"));
    CHECK(escaped("a\x1b[2J\n\"\xff") == "\"a\\u001b[2J\\n\\\"\\xff\"");
    CHECK(escaped("caf\xc3\xa9") == "\"caf\xc3\xa9\"");
}

TEST_CASE("hostile_config.chained_pipelines_load_in_linear_time") {
    NegFunction neg;
    // 20,000 pipelines each including the previous one overflowed the stack when the
    // includes were walked recursively; building every closure was quadratic.
    json doc = chained_pipelines(20000);
    const auto started = std::chrono::steady_clock::now();
    const auto pipelines = kiln::core::load_pipelines(doc, "pipes.json", neg.resolver());
    CHECK(pipelines.at("__default__").size() == 20000);  // no "__default__": every pipeline together
    CHECK(pipelines.at("p19999").size() == 20000);
    CHECK(pipelines.at("p9").size() == 10);
    // Quadratic composition took minutes here (200 million node copies); linear is well under.
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20));
}

TEST_CASE("hostile_config.long_include_loop_is_shortened") {
    json pipelines = json::object();
    for (int i = 0; i < 20000; ++i) pipelines["p" + std::to_string(i)] = {{"pipelines", {"p" + std::to_string((i + 1) % 20000)}}};
    NegFunction neg;
    const std::string e = config_error_of([&] {
        kiln::core::load_pipelines(json{{"pipelines", pipelines}}, "pipes.json", neg.resolver());
    });
    CHECK(contains(e, "pipes.json: pipelines include each other in a loop: 'p0' -> 'p1' -> 'p2' -> 'p3' -> ... 19994 "
                      "more pipelines ... -> 'p19998' -> 'p19999' -> 'p0'"));
}

TEST_CASE("hostile_config.long_dependency_cycle_is_shortened") {
    json nodes = json::array();
    const int n = 20000;
    for (int i = 0; i < n; ++i)
        nodes.push_back({{"name", "n" + std::to_string(i)},
                         {"func", "t.neg"},
                         {"inputs", "d" + std::to_string(i)},
                         {"outputs", "d" + std::to_string((i + 1) % n)}});
    NegFunction neg;
    std::string e;
    try {
        kiln::core::load_pipelines(json{{"pipelines", {{"p", {{"nodes", nodes}}}}}}, "pipes.json", neg.resolver());
    } catch (const kiln::PipelineError& error) {
        e = error.what();
    }
    CHECK(contains(e, "dependency cycle: n0 -> (d1) -> n1 -> (d2) -> n2 -> (d3) -> n3 -> (d4) -> ... 19994 more "
                      "nodes ... -> n19998 -> (d19999) -> n19999 -> (d0) -> n0"));
    CHECK(e.size() < 1000);
}

}  // namespace hostile_config_test_cases
