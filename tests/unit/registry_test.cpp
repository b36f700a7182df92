// The registry loads real plugin files built by tests/plugins.
#include <doctest/doctest.h>

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>

#include "kiln/dataset.hpp"
#include "kiln/sdk.hpp"
#include "plugins/host_json_bridge.hpp"
#include "plugins/registry.hpp"
#include "test_support.hpp"

using kiln::core::Registry;
using kiln::test::error_of;
namespace fs = std::filesystem;

namespace registry_test_cases {

namespace {
const fs::path plugin_root = KILN_TEST_PLUGIN_DIR;
}

TEST_CASE("registry.loads_good_plugin") {
    Registry r;
    r.load_directory(plugin_root / "good", true);
    REQUIRE(r.plugins().size() == 1);
    CHECK(r.plugins()[0].name == "testnodes");
    CHECK(r.plugins()[0].version == "1.0.0");
    std::string hint;
    const auto* add = r.find_node("testnodes.add", hint);
    REQUIRE(add != nullptr);
    CHECK(add->qualified_name == "testnodes.add");
    REQUIRE(add->spec->inputs.size() == 2);
    CHECK(add->spec->inputs[0]->name == "f64");
    CHECK(add->spec->outputs[0]->name == "f64");
    CHECK(add->spec->options.args == std::vector<std::string>{"a", "b"});
    // Unqualified names work when unique.
    CHECK(r.find_node("min_max", hint) == r.find_node("testnodes.min_max", hint));
    CHECK(r.find_type("testnodes.Point") != nullptr);
    CHECK(r.find_type("vector<string>") != nullptr);
}

TEST_CASE("registry.calls_plugin_node") {
    Registry r;
    r.load_directory(plugin_root / "good", true);
    std::string hint;
    const auto* mm = r.find_node("testnodes.min_max", hint);
    REQUIRE(mm);
    kiln::Value in[1] = {kiln::Value::make(std::vector<double>{3, -1, 7})};
    kiln::Value out[2];
    std::string error;
    REQUIRE(mm->spec->invoke(mm->spec->callable.get(), in, out, &error));
    CHECK(out[0].get<double>() == -1);
    CHECK(out[1].get<double>() == 7);

    // A plugin's exception comes back as a message, with nothing thrown across.
    in[0] = kiln::Value::make(std::vector<double>{});
    CHECK_FALSE(mm->spec->invoke(mm->spec->callable.get(), in, out, &error));
    CHECK(error == "min_max of an empty vector");

    const auto* unknown = r.find_node("testnodes.fail_unknown", hint);
    kiln::Value one[1] = {kiln::Value::make(1.0)};
    CHECK_FALSE(unknown->spec->invoke(unknown->spec->callable.get(), one, out, &error));
    CHECK(error == "unknown exception");
}

TEST_CASE("registry.unknown_node_suggests") {
    Registry r;
    r.load_directory(plugin_root / "good", true);
    std::string hint;
    CHECK(r.find_node("testnodes.ad", hint) == nullptr);
    CHECK(hint.find("testnodes.add") != std::string::npos);
}

TEST_CASE("registry.same_file_twice_is_loaded_once") {
    Registry r;
    r.load_directory(plugin_root / "good", true);
    r.load_file(plugin_root / "good" / "testnodes.so");
    CHECK(r.plugins().size() == 1);
}

TEST_CASE("registry.rejects_wrong_abi_before_running_plugin_code") {
    Registry r;
    auto msg = error_of([&] { r.load_directory(plugin_root / "wrong_abi", true); });
    CHECK(msg.find("wrong_abi.so") != std::string::npos);
    CHECK(msg.find("ABI 99.0") != std::string::npos);
    CHECK(msg.find("Rebuild the plugin") != std::string::npos);
    CHECK(r.plugins().empty());
}

// The ABI rules of docs/abi.md, as the host applies them to a plugin's descriptor.
TEST_CASE("registry.abi.loads_plugin_of_an_older_minor") {
    Registry r;
    r.load_directory(plugin_root / "older_abi_minor", true);
    REQUIRE(r.plugins().size() == 1);
    std::string hint;
    const auto* twice = r.find_node("older_abi_minor.twice", hint);
    REQUIRE(twice != nullptr);
    kiln::Value in[1] = {kiln::Value::make(21.0)};
    kiln::Value out[1];
    std::string error;
    REQUIRE(twice->spec->invoke(twice->spec->callable.get(), in, out, &error));
    CHECK(out[0].get<double>() == 42);
    // Fields added since 1.0 are not read: its map is not keyed (ABI 1.8).
    const auto* keyed = r.find_node("older_abi_minor.keyed", hint);
    REQUIRE(keyed != nullptr);
    CHECK(keyed->keyed_result == nullptr);
    CHECK(r.keyed_element(keyed->spec->outputs.front()) == nullptr);
}

TEST_CASE("registry.abi.keyed_types_of_current_plugins") {
    Registry r;
    r.add_builtin("maps", "1", [](kiln::Registrar& reg) {
        reg.node("keyed", [](double x) { return std::map<std::string, std::int32_t>{{"x", static_cast<std::int32_t>(x)}}; });
    });
    std::string hint;
    const auto* keyed = r.find_node("maps.keyed", hint);
    REQUIRE(keyed != nullptr);
    REQUIRE(keyed->keyed_result != nullptr);
    CHECK(keyed->keyed_result->name == "map<string,i32>");
    CHECK(r.keyed_element(keyed->keyed_result) == &kiln::type_ops<std::int32_t>());
    // The element type is known to the registry though no node takes or returns it.
    CHECK(r.find_type("i32") == &kiln::type_ops<std::int32_t>());
}

// Before 1.4 a plugin converted the standard types to JSON itself and never asked for the
// host's bridge: its values still convert, with its own code.
TEST_CASE("registry.abi.plugin_of_minor_3_converts_json_itself") {
    Registry r;
    r.load_directory(plugin_root / "abi_minor_3", true);
    std::string hint;
    const auto* half = r.find_node("abi_minor_3.half", hint);
    REQUIRE(half != nullptr);
    const kiln::TypeOps& f64 = *half->spec->inputs.at(0);
    CHECK(f64.name == "f64");
    kiln::Value in[1] = {kiln::Value::from_json(f64, 3.0)};
    CHECK(in[0].to_json() == 3.0);
    CHECK_THROWS_WITH_AS(kiln::Value::from_json(f64, "x"),
                         doctest::Contains("cannot read 'f64' from JSON: expected a number, got \"x\""), kiln::TypeError);
    kiln::Value out[1];
    std::string error;
    REQUIRE(half->spec->invoke(half->spec->callable.get(), in, out, &error));
    CHECK(out[0].get<double>() == 1.5);
}

// A 1.4 plugin's standard types convert with the host's code (detail/json_bridge.hpp): in
// the host, and in another plugin (JsonDataset saving a value of testnodes' type).
TEST_CASE("registry.json_bridge.converts_standard_types_of_a_plugin") {
    Registry r;
    r.load_directory(plugin_root / "good", true);
    r.load_directory(KILN_STD_PLUGIN_DIR, true);
    std::string hint;
    const auto* split = r.find_node("testnodes.split_words", hint);
    const auto* tensor_sum = r.find_node("testnodes.tensor_sum", hint);
    REQUIRE(split != nullptr);
    REQUIRE(tensor_sum != nullptr);
    const kiln::TypeOps& words = *split->spec->outputs.at(0);
    const kiln::TypeOps& tensor = *tensor_sum->spec->inputs.at(0);
    REQUIRE(words.has_json());

    const auto list = nlohmann::json{"a", "b"};
    kiln::Value v = kiln::Value::from_json(words, list);
    CHECK(v.get<std::vector<std::string>>() == std::vector<std::string>{"a", "b"});
    CHECK(v.to_json() == list);
    CHECK_THROWS_WITH_AS(kiln::Value::from_json(words, 3),
                         doctest::Contains("cannot read 'vector<string>' from JSON: expected an array, got 3"),
                         kiln::TypeError);
    const auto t = nlohmann::json::parse(R"({"data": [1.0, 2.0], "shape": [2]})");
    CHECK(kiln::Value::from_json(tensor, t).to_json() == t);

    const auto* json_dataset = r.find_dataset_type("kiln.JsonDataset", hint);
    REQUIRE(json_dataset != nullptr);
    const kiln::test::TempDir dir;
    kiln::DatasetConfig config{"words", "kiln.JsonDataset", {{"filepath", "words.json"}}, dir.path(), &words, "run"};
    std::string error;
    auto dataset = json_dataset->spec.create(config, &error);
    REQUIRE_MESSAGE(dataset != nullptr, error);
    REQUIRE_MESSAGE(dataset->save(v, &error), error);
    kiln::Value loaded;
    REQUIRE_MESSAGE(dataset->load(&loaded, &error), error);
    CHECK(loaded.get<std::vector<std::string>>() == std::vector<std::string>{"a", "b"});
}

// The bridge converts only what it knows as the host knows it: a standard type's name with
// another size or layout (a plugin built against other headers) or an unknown name is refused
// with a message, never converted as if it were the host's type.
TEST_CASE("registry.json_bridge.refuses_types_it_does_not_know_as_the_host_does") {
    const kiln::detail::JsonBridge& bridge = kiln::core::host_json_bridge();
    const kiln::TypeOps& words = kiln::type_ops<std::vector<std::string>>();
    const std::vector<std::string> value{"a"};
    nlohmann::json out;
    std::string error;
    REQUIRE(bridge.to_json(words, &value, &out, &error));
    CHECK(out == nlohmann::json{"a"});

    kiln::TypeOps other_layout = words;
    other_layout.layout ^= 1;
    CHECK_FALSE(bridge.to_json(other_layout, &value, &out, &error));
    CHECK(error == "this kiln has no JSON conversion for type 'vector<string>' of this size and layout; rebuild "
                   "the plugin against this Kiln's SDK");
    error.clear();
    CHECK(bridge.from_json(other_layout, nlohmann::json{"a"}, &error) == nullptr);
    CHECK(error.find("of this size and layout") != std::string::npos);

    kiln::TypeOps unknown = words;
    unknown.name = "vector<vector<string>>";
    error.clear();
    CHECK_FALSE(bridge.to_json(unknown, &value, &out, &error));
    CHECK(error == "this kiln has no JSON conversion for type 'vector<vector<string>>'");
}

TEST_CASE("registry.abi.refuses_a_newer_minor") {
    Registry r;
    auto msg = error_of([&] { r.load_directory(plugin_root / "newer_abi_minor", true); });
    const std::string ours = std::to_string(kiln::detail::abi_major) + "." + std::to_string(kiln::detail::abi_minor);
    const std::string theirs = std::to_string(kiln::detail::abi_major) + "." + std::to_string(kiln::detail::abi_minor + 1);
    CHECK(msg.find("newer_abi_minor.so' needs Kiln plugin ABI " + theirs + ", newer than this kiln's " + ours) !=
          std::string::npos);
    CHECK(r.plugins().empty());
}

TEST_CASE("registry.abi.refuses_an_older_major") {
    Registry r;
    auto msg = error_of([&] { r.load_directory(plugin_root / "older_abi_major", true); });
    const std::string theirs = std::to_string(kiln::detail::abi_major - 1) + ".9";
    CHECK(msg.find("older_abi_major.so' was built for Kiln plugin ABI " + theirs + ", but this kiln uses ABI") !=
          std::string::npos);
    CHECK(msg.find("Rebuild the plugin against this Kiln's SDK") != std::string::npos);
    CHECK(r.plugins().empty());
}

TEST_CASE("registry.abi.reports_a_descriptor_smaller_than_needed") {
    Registry r;
    auto msg = error_of([&] { r.load_directory(plugin_root / "short_descriptor", true); });
    const std::string needs = std::to_string(offsetof(kiln::detail::PluginDescriptor, reserved));
    const std::string has = std::to_string(offsetof(kiln::detail::PluginDescriptor, build_key));
    CHECK(msg.find("short_descriptor.so' has a descriptor of " + has + " bytes, smaller than the " + needs + " bytes") !=
          std::string::npos);
    CHECK(msg.find("not made by KILN_PLUGIN") != std::string::npos);
    CHECK(r.plugins().empty());
}

TEST_CASE("registry.rejects_wrong_build_key") {
    Registry r;
    auto msg = error_of([&] { r.load_directory(plugin_root / "wrong_build_key", true); });
    CHECK(msg.find("wrong_build_key.so") != std::string::npos);
    CHECK(msg.find("incompatible settings") != std::string::npos);
}

TEST_CASE("registry.rejects_library_without_entry_point") {
    Registry r;
    auto msg = error_of([&] { r.load_directory(plugin_root / "no_entry_point", true); });
    CHECK(msg.find("no_entry_point.so' is not a Kiln plugin") != std::string::npos);
    CHECK(msg.find("KILN_PLUGIN") != std::string::npos);
}

TEST_CASE("registry.reports_loader_message_for_non_library") {
    Registry r;
    auto msg = error_of([&] { r.load_directory(plugin_root / "not_a_library", true); });
    CHECK(msg.find("cannot load plugin") != std::string::npos);
    CHECK(msg.find("notes.so") != std::string::npos);
}

TEST_CASE("registry.reports_throwing_register_block") {
    Registry r;
    auto msg = error_of([&] { r.load_directory(plugin_root / "throwing_register", true); });
    CHECK(msg.find("plugin 'throwing_register'") != std::string::npos);
    CHECK(msg.find("failed to register: configuration file missing: /etc/throwing.conf") != std::string::npos);
    // Nothing of the failed plugin is left behind.
    std::string hint;
    CHECK(r.find_node("throwing_register.twice", hint) == nullptr);
}

TEST_CASE("registry.duplicate_plugin_names_name_both_files") {
    Registry r;
    auto msg = error_of([&] { r.load_directory(plugin_root / "duplicate_name", true); });
    CHECK(msg.find("two plugins are named 'dup'") != std::string::npos);
    CHECK(msg.find("duplicate_name_a.so") != std::string::npos);
    CHECK(msg.find("duplicate_name_b.so") != std::string::npos);
}

TEST_CASE("registry.conflicting_type_names") {
    Registry r;
    r.load_directory(plugin_root / "good", true);
    auto msg = error_of([&] { r.load_directory(plugin_root / "conflicting_type", true); });
    CHECK(msg.find("value type 'testnodes.Point' means different things") != std::string::npos);
    CHECK(msg.find("testnodes.so") != std::string::npos);
    CHECK(msg.find("conflicting_type.so") != std::string::npos);
}

TEST_CASE("registry.missing_directory") {
    Registry r;
    CHECK_NOTHROW(r.load_directory("/nonexistent/kiln/plugins", false));
    auto msg = error_of([&] { r.load_directory("/nonexistent/kiln/plugins", true); });
    CHECK(msg.find("plugin directory '/nonexistent/kiln/plugins' does not exist") != std::string::npos);
}

TEST_CASE("registry.builtin_duplicates_and_ambiguity") {
    Registry r;
    r.add_builtin("alpha", "1", [](kiln::Registrar& reg) { reg.node("f", [](double x) { return x; }); });
    r.add_builtin("beta", "1", [](kiln::Registrar& reg) { reg.node("f", [](double x) { return x; }); });
    std::string hint;
    CHECK(r.find_node("f", hint) == nullptr);
    CHECK(hint.find("ambiguous") != std::string::npos);
    CHECK(r.find_node("beta.f", hint) != nullptr);

    auto msg = error_of([&] {
        r.add_builtin("gamma", "1", [](kiln::Registrar& reg) {
            reg.node("g", [](double x) { return x; });
            reg.node("g", [](double x) { return x; });
        });
    });
    CHECK(msg.find("declares node 'g' twice") != std::string::npos);

    msg = error_of([&] { r.add_builtin("delta", "1", [](kiln::Registrar& reg) { reg.node("bad name", [](double x) { return x; }); }); });
    CHECK(msg.find("node named 'bad name'") != std::string::npos);
}

TEST_CASE("registry.node_traits_reach_the_node_function_and_bad_ones_are_refused") {
    Registry r;
    r.add_builtin("traits", "1", [](kiln::Registrar& reg) {
        reg.node("pinned", [](double x) { return x; }, {.version = "3"});
        reg.node("side", [](double x) { return x; }, {.always_run = true});
        reg.node("plain", [](double x) { return x; });
    });
    std::string hint;
    CHECK(r.find_node("traits.pinned", hint)->version == "3");
    CHECK_FALSE(r.find_node("traits.pinned", hint)->always_run);
    CHECK(r.find_node("traits.side", hint)->always_run);
    CHECK(r.find_node("traits.plain", hint)->version.empty());

    // Traits must follow their node's add_node, and cover the fields of ABI 1.6.
    auto msg = error_of([&] {
        r.add_builtin("stray", "1", [](kiln::Registrar& reg) {
            reg.node("f", [](double x) { return x; });
            kiln::detail::NodeTraits traits;
            kiln::detail::RegistrarAccess::set_node_traits(reg, "g", &traits);
        });
    });
    CHECK(msg.find("set_node_traits for 'g' does not follow its add_node") != std::string::npos);
    msg = error_of([&] {
        r.add_builtin("short", "1", [](kiln::Registrar& reg) {
            reg.node("f", [](double x) { return x; });
            kiln::detail::NodeTraits traits;
            traits.struct_size = 4;
            kiln::detail::RegistrarAccess::set_node_traits(reg, "f", &traits);
        });
    });
    CHECK(msg.find("node 'f' has NodeTraits of 4 bytes, fewer than ABI 1.6's") != std::string::npos);
}

TEST_CASE("registry.output_names_reach_the_node_function_and_must_count_what_it_returns") {
    Registry r;
    r.add_builtin("named", "1", [](kiln::Registrar& reg) {
        reg.node("split", [](double x) { return std::tuple<double, double>(x, -x); }, {.outputs = {"plus", "minus"}});
        reg.node("plain", [](double x) { return x; });
    });
    std::string hint;
    CHECK(r.find_node("named.split", hint)->output_names == std::vector<std::string>{"plus", "minus"});
    CHECK(r.find_node("named.plain", hint)->output_names.empty());
    auto msg = error_of([&] {
        r.add_builtin("miscounted", "1", [](kiln::Registrar& reg) {
            reg.node("f", [](double x) { return x; }, {.outputs = {"a", "b"}});
        });
    });
    CHECK(msg.find("node 'f' names 2 outputs in its NodeOptions but returns 1 value; name each value it returns, "
                   "in order") != std::string::npos);
    // A 1.6 plugin's NodeTraits end before output_names: read without them.
    r.add_builtin("older", "1", [](kiln::Registrar& reg) {
        reg.node("f", [](double x) { return std::tuple<double, double>(x, x); });
        kiln::detail::NodeTraits traits;
        traits.struct_size = offsetof(kiln::detail::NodeTraits, version_size) + sizeof(std::size_t);
        traits.always_run = true;
        const char* names[] = {"a", "b"};
        traits.output_names = names;  // beyond what a 1.6 plugin knew: not read
        traits.output_count = 2;
        kiln::detail::RegistrarAccess::set_node_traits(reg, "f", &traits);
    });
    CHECK(r.find_node("older.f", hint)->always_run);
    CHECK(r.find_node("older.f", hint)->output_names.empty());
}

}  // namespace registry_test_cases
