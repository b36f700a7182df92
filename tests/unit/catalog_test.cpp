#include <doctest/doctest.h>
#include <map>
#include <nlohmann/json.hpp>

#include "catalog/catalog.hpp"
#include "json_dataset.hpp"
#include "kiln/dataset.hpp"
#include "kiln/sdk.hpp"
#include "plugins/registry.hpp"
#include "test_support.hpp"

using namespace kiln::core;
using kiln::test::error_of;
using kiln::test::TempDir;

namespace catalog_test_cases {

TEST_CASE("catalog.parameters.nested_keys_and_overrides") {
    Parameters p(nlohmann::json{{"model", {{"alpha", 0.5}, {"layers", {1, 2}}}}, {"name", "x"}});
    REQUIRE(p.find("model.alpha"));
    CHECK(*p.find("model.alpha") == 0.5);
    CHECK(p.find("model.beta") == nullptr);
    CHECK(p.find("name.deeper") == nullptr);
    p.set("model.alpha", 0.1);
    p.set("new.deep.key", "v");
    CHECK(*p.find("model.alpha") == 0.1);
    CHECK(*p.find("new.deep.key") == "v");
    auto keys = p.keys();
    CHECK(std::find(keys.begin(), keys.end(), "model.layers") != keys.end());
    auto msg = error_of([&] { p.set("name.sub", 1); });
    CHECK(msg.find("'name' is a string, not an object") != std::string::npos);
    msg = error_of([] { Parameters bad(nlohmann::json::array(), "conf/parameters.json"); });
    CHECK(msg.find("conf/parameters.json: parameters must be a JSON object") != std::string::npos);
}

TEST_CASE("catalog.params_option_parsing") {
    auto items = parse_params_option("a.b=1,name=hello world,xs=[1,2],flag=true,obj={\"k\":1}");
    REQUIRE(items.size() == 5);
    CHECK(items[0].first == "a.b");
    CHECK(items[0].second == 1);
    CHECK(items[1].second == "hello world");
    CHECK(items[2].second == nlohmann::json::array({1, 2}));
    CHECK(items[3].second == true);
    CHECK(items[4].second == nlohmann::json{{"k", 1}});
    CHECK(parse_params_option("").empty());
    auto msg = error_of([] { parse_params_option("a.b:1"); });
    CHECK(msg.find("item 'a.b:1' must be KEY=VALUE") != std::string::npos);
}

TEST_CASE("catalog.params_option_strips_whitespace_and_drops_empty_items") {
    // As Kedro's --params: items, keys and values are stripped; empty items are dropped.
    auto items = parse_params_option(" a=1, b = two words ,, xs=[1, 2], obj={\"k\": [1, 2]} , s=\" padded \",");
    REQUIRE(items.size() == 5);
    CHECK(items[0].first == "a");
    CHECK(items[0].second == 1);
    CHECK(items[1].first == "b");
    CHECK(items[1].second == "two words");
    CHECK(items[2].first == "xs");
    CHECK(items[2].second == nlohmann::json::array({1, 2}));
    CHECK(items[3].second == nlohmann::json{{"k", {1, 2}}});
    CHECK(items[4].second == " padded ");  // spaces inside a JSON string are the value's
    CHECK(parse_params_option(" , ,").empty());
    auto msg = error_of([] { parse_params_option("a=1, =2"); });
    CHECK(msg.find("item '=2' must be KEY=VALUE") != std::string::npos);
    msg = error_of([] { parse_params_option("a=1, b"); });
    CHECK(msg.find("item 'b' must be KEY=VALUE") != std::string::npos);
}

TEST_CASE("catalog.read_entries.errors_name_file_and_entry") {
    TempDir dir;
    CHECK(DataCatalog::read_entries(dir / "absent.json").empty());

    dir.write("c1.json", R"({"x": {"type": "kiln.JsonDataset", "filepath": "x.json"}})");
    auto entries = DataCatalog::read_entries(dir / "c1.json");
    REQUIRE(entries.count("x"));
    CHECK(entries["x"].type == "kiln.JsonDataset");
    CHECK(entries["x"].args == nlohmann::json{{"filepath", "x.json"}});

    dir.write("c2.json", R"({"x": {"filepath": "x.json"}})");
    auto msg = error_of([&] { DataCatalog::read_entries(dir / "c2.json"); });
    CHECK(msg.find("c2.json: catalog entry 'x' needs a \"type\"") != std::string::npos);

    dir.write("c3.json", R"({"x": "data/x.json"})");
    msg = error_of([&] { DataCatalog::read_entries(dir / "c3.json"); });
    CHECK(msg.find("c3.json: catalog entry 'x' must be an object") != std::string::npos);

    dir.write("c4.json", R"({"params:x": {"type": "kiln.JsonDataset"}})");
    msg = error_of([&] { DataCatalog::read_entries(dir / "c4.json"); });
    CHECK(msg.find("reserved for parameters") != std::string::npos);

    dir.write("c5.json", "{\n  \"x\": {\"type\": \"kiln.JsonDataset\",}\n}");
    msg = error_of([&] { DataCatalog::read_entries(dir / "c5.json"); });
    CHECK(msg.find("c5.json:2:") != std::string::npos);
}

TEST_CASE("catalog.datasets_and_parameters") {
    TempDir dir;
    Registry registry;
    registry.add_builtin("kiln", "test", [](kiln::Registrar& reg) { reg.dataset<kiln::datasets::JsonDataset>("JsonDataset"); });
    std::map<std::string, CatalogEntry> entries{
        {"good", {"good", "kiln.JsonDataset", {{"filepath", "out/good.json"}}}},
        {"short_type", {"short_type", "JsonDataset", {{"filepath", "s.json"}}}},
        {"typo", {"typo", "kiln.JsonDatset", {{"filepath", "t.json"}}}},
        {"no_path", {"no_path", "kiln.JsonDataset", nlohmann::json::object()}},
    };
    DataCatalog catalog(entries, Parameters(nlohmann::json{{"n", 3}, {"ratio", 0.5}, {"nested", {{"k", "v"}}}}),
                        dir.path(), registry);
    CHECK(catalog.contains("good"));
    CHECK_FALSE(catalog.contains("other"));
    CHECK(catalog.contains("params:nested.k"));
    CHECK(catalog.contains("parameters"));
    CHECK_FALSE(catalog.contains("params:absent"));

    auto& good = catalog.dataset("good", &kiln::type_ops<double>(), "run");
    CHECK(&good == &catalog.dataset("good", &kiln::type_ops<double>(), "run"));  // built once
    CHECK_FALSE(good.exists());
    good.save(kiln::Value::make(2.5));
    CHECK(good.exists());
    CHECK(good.load().get<double>() == 2.5);
    CHECK(catalog.dataset("short_type", &kiln::type_ops<double>(), "run").type() == "kiln.JsonDataset");

    auto msg = error_of([&] { catalog.dataset("typo", &kiln::type_ops<double>(), "run"); });
    CHECK(msg.find("catalog entry 'typo': unknown dataset type 'kiln.JsonDatset'") != std::string::npos);
    CHECK(msg.find("did you mean kiln.JsonDataset") != std::string::npos);
    msg = error_of([&] { catalog.dataset("no_path", &kiln::type_ops<double>(), "run"); });
    CHECK(msg.find("catalog entry 'no_path'") != std::string::npos);
    CHECK(msg.find("filepath") != std::string::npos);

    CHECK(catalog.parameter("params:n", kiln::type_ops<std::int64_t>()).get<std::int64_t>() == 3);
    CHECK(catalog.parameter("params:n", kiln::type_ops<double>()).get<double>() == 3.0);
    CHECK(catalog.parameter("parameters", kiln::type_ops<nlohmann::json>()).get<nlohmann::json>()["nested"]["k"] == "v");
    msg = error_of([&] { catalog.parameter("params:ratio", kiln::type_ops<std::int64_t>()); });
    CHECK(msg.find("parameter 'params:ratio' = 0.5 cannot be read as 'i64'") != std::string::npos);
    msg = error_of([&] { catalog.parameter("params:rati", kiln::type_ops<double>()); });
    CHECK(msg.find("parameter 'params:rati' is not defined") != std::string::npos);
    CHECK(msg.find("did you mean params:ratio") != std::string::npos);
}

// What a pipeline run cannot reach: a partitioned dataset no node types, and a value of
// another type handed to its save.
TEST_CASE("catalog.partitioned_dataset_refuses_what_it_cannot_type") {
    TempDir dir;
    Registry registry;
    registry.add_builtin("kiln", "test", [](kiln::Registrar& reg) {
        reg.dataset<kiln::datasets::JsonDataset>("JsonDataset");
        reg.node("parts", [](const std::map<std::string, double>& m) { return static_cast<double>(m.size()); });
    });
    nlohmann::json args = {{"path", "parts"}, {"dataset", "kiln.JsonDataset"}};
    DataCatalog catalog({{"untyped", {"untyped", "kiln.PartitionedDataset", args}},
                         {"typed", {"typed", "kiln.PartitionedDataset", args}}},
                        Parameters{}, dir.path(), registry);
    dir.write("parts/a", "1");
    auto& untyped = catalog.dataset("untyped", nullptr, "run");
    CHECK(untyped.exists());
    auto msg = error_of([&] { untyped.load(); });
    CHECK(msg.find("is used by no node, so the type of its partitions is unknown") != std::string::npos);

    auto& typed = catalog.dataset("typed", &kiln::type_ops<std::map<std::string, double>>(), "run");
    CHECK(typed.load().get<std::map<std::string, double>>() == std::map<std::string, double>{{"a", 1.0}});
    msg = error_of([&] { typed.save(kiln::Value::make(2.5)); });
    CHECK(msg.find("kiln.PartitionedDataset saves the 'map<string,f64>' the pipeline declared, not 'f64'") !=
          std::string::npos);
    CHECK(catalog.persists("typed"));
}

}  // namespace catalog_test_cases
