// Dataset factories: Kedro's matching, ranking and substitution (the cases of Kedro's
// TestDataCatalogDatasetFactories), and the catalog taking entries from patterns.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "catalog/catalog.hpp"
#include "catalog/dataset_patterns.hpp"
#include "catalog/unused_entries.hpp"
#include "json_dataset.hpp"
#include "kiln/dataset.hpp"
#include "kiln/sdk.hpp"
#include "plugins/registry.hpp"
#include "test_support.hpp"

using namespace kiln::core;
using kiln::test::error_of;
using kiln::test::TempDir;
using nlohmann::json;

namespace dataset_patterns_test_cases {

namespace {

std::vector<std::string> ranked(std::vector<std::string> keys) {
    std::vector<CatalogEntry> entries;
    for (auto& k : keys) entries.push_back({k, "kiln.JsonDataset", json::object()});
    const DatasetPatterns patterns(entries, "catalog.json");
    std::vector<std::string> out;
    for (const auto& e : patterns.ordered()) out.push_back(e.name);
    return out;
}

// Kedro's config_with_dataset_factories: one pattern, an explicit entry it would match,
// and a second pattern.
std::map<std::string, CatalogEntry> car_entries() {
    return {
        {"{brand}_cars", {"{brand}_cars", "kiln.JsonDataset", {{"filepath", "data/01_raw/{brand}_cars.json"}}}},
        {"audi_cars", {"audi_cars", "kiln.MemoryDataset", json::object()}},
        {"{kind}_boats", {"{kind}_boats", "kiln.JsonDataset", {{"filepath", "data/01_raw/{kind}_boats.json"}}}},
    };
}

}  // namespace

TEST_CASE("dataset_patterns.is_pattern_and_specificity") {
    CHECK(is_pattern("{brand}_cars"));
    CHECK_FALSE(is_pattern("cars"));
    CHECK(pattern_specificity("{brand}_cars") == 5);
    CHECK(pattern_specificity("{namespace}_{dataset}") == 1);
    CHECK(pattern_specificity("{default}") == 0);
    CHECK(pattern_specificity("{a}{b}") == 0);
    CHECK(pattern_specificity("x{unclosed") == 10);  // Kedro's regex needs the closing brace
    CHECK(placeholder_count("{namespace}_{dataset}") == 2);
}

TEST_CASE("dataset_patterns.match_whole_name_lazily") {
    auto v = match_pattern("{brand}_cars", "tesla_cars");
    REQUIRE(v);
    CHECK(v->at("brand") == "tesla");
    CHECK_FALSE(match_pattern("{brand}_cars", "tesla_card"));
    CHECK_FALSE(match_pattern("{brand}_cars", "_cars"));   // a placeholder takes one character at least
    CHECK_FALSE(match_pattern("{dataset}s", "boats_x"));  // the whole name must match
    CHECK_FALSE(match_pattern("{brand}_cars", "tesla@cars"));
    // As parse's lazy groups: the first placeholder takes as little as it can.
    v = match_pattern("{a}_{b}", "x_y_z");
    REQUIRE(v);
    CHECK(v->at("a") == "x");
    CHECK(v->at("b") == "y_z");
    v = match_pattern("{ns}.{name}_csv", "raw.tea_csv");
    REQUIRE(v);
    CHECK(v->at("ns") == "raw");
    CHECK(v->at("name") == "tea");
    // A placeholder named twice takes the same text both times.
    v = match_pattern("{x}_to_{x}", "a_to_a");
    REQUIRE(v);
    CHECK(v->at("x") == "a");
    CHECK_FALSE(match_pattern("{x}_to_{x}", "a_to_b"));
    // parse compares letters case-insensitively, as Kedro calls it; the values keep the name's case.
    v = match_pattern("{brand}_CARS", "Tesla_cars");
    REQUIRE(v);
    CHECK(v->at("brand") == "Tesla");
    // "{{" and "}}" are literal braces.
    CHECK(match_pattern("{{x}}_{y}", "{x}_1"));
}

TEST_CASE("dataset_patterns.kedro_sorting_order") {
    // Kedro's test_sorting_order_patterns.
    CHECK(ranked({"{default}", "{namespace}_{dataset}", "{country}_companies", "{dataset}s"}) ==
          std::vector<std::string>{"{country}_companies", "{namespace}_{dataset}", "{dataset}s", "{default}"});
    // Equal specificity: more placeholders first, then alphabetically.
    CHECK(ranked({"{a}x", "{a}{b}x", "{b}y"}) == std::vector<std::string>{"{a}{b}x", "{a}x", "{b}y"});
    auto msg = error_of([] { ranked({"{default}", "{a}{b}", "{x}_y"}); });
    CHECK(msg.find("catalog.json: more than one catch-all pattern ('{a}{b}', '{default}')") != std::string::npos);
}

TEST_CASE("dataset_patterns.fill_placeholders_everywhere") {
    // Kedro's test_factory_nested_config: strings in nested objects and arrays are filled.
    CatalogEntry pattern{"{brand}_cars",
                         "kiln.JsonDataset",
                         {{"filepath", "data/{brand}.json"},
                          {"metadata",
                           {{"my-plugin",
                             {{"brand", "{brand}"},
                              {"list_config", {"NA", "{brand}"}},
                              {"nested_list_dict", {json::object(), {{"brand", "{brand}"}}}},
                              {"count", 3}}}}},
                          {"braces", "{{literal}} {brand}"},
                          {"unclosed", "{ stays"}}};
    CatalogEntry e = fill_placeholders(pattern, {{"brand", "tesla"}}, "catalog.json");
    CHECK(e.args["filepath"] == "data/tesla.json");
    CHECK(e.args["metadata"]["my-plugin"]["brand"] == "tesla");
    CHECK(e.args["metadata"]["my-plugin"]["list_config"] == json{"NA", "tesla"});
    CHECK(e.args["metadata"]["my-plugin"]["nested_list_dict"] == json{json::object(), {{"brand", "tesla"}}});
    CHECK(e.args["metadata"]["my-plugin"]["count"] == 3);
    CHECK(e.args["braces"] == "{literal} tesla");
    CHECK(e.args["unclosed"] == "{ stays");  // no '}': Kedro leaves it alone

    // Kedro's test_unmatched_key_error_when_parsing_config, naming the entry and the argument.
    CatalogEntry bad{"{type}@planes", "kiln.JsonDataset", {{"filepath", "data/01_raw/{brand}_plane.pq"}}};
    auto msg = error_of([&] { fill_placeholders(bad, {{"type", "jet"}}, "catalog.json"); });
    CHECK(msg.find("catalog.json: catalog entry '{type}@planes': \"filepath\" uses the placeholder {brand}, which the "
                   "pattern does not have (it has {type})") != std::string::npos);
    CatalogEntry typed{"{kind}_x", "kiln.{kind}Dataset", json::object()};
    CHECK(fill_placeholders(typed, {{"kind", "Json"}}, "c").type == "kiln.JsonDataset");
}

TEST_CASE("dataset_patterns.catalog_contains_and_resolves") {
    TempDir dir;
    Registry registry;
    registry.add_builtin("kiln", "test", [](kiln::Registrar& reg) { reg.dataset<kiln::datasets::JsonDataset>("JsonDataset"); });
    DataCatalog catalog(car_entries(), Parameters(), dir.path(), registry);
    // Kedro's test_exists_in_catalog_config.
    CHECK(catalog.contains("audi_cars"));
    CHECK(catalog.contains("tesla_cars"));
    CHECK(catalog.contains("row_boats"));
    CHECK_FALSE(catalog.contains("boats"));  // "{kind}_boats" needs a kind
    CHECK_FALSE(catalog.contains("tesla_card"));
    // Kedro's test_patterns_not_in_catalog_datasets and test_explicit_entry_not_overwritten.
    CHECK(catalog.entries().count("audi_cars"));
    CHECK_FALSE(catalog.entries().count("{brand}_cars"));
    CHECK(catalog.is_memory("audi_cars"));
    CHECK(catalog.matching_pattern("audi_cars") == nullptr);
    REQUIRE(catalog.matching_pattern("tesla_cars"));
    CHECK(catalog.matching_pattern("tesla_cars")->name == "{brand}_cars");
    // Kedro's test_match_added_to_datasets_on_get: made when first asked for.
    CHECK(catalog.entries_from_patterns().empty());
    const CatalogEntry* tesla = catalog.find_entry("tesla_cars");
    REQUIRE(tesla);
    CHECK(tesla == catalog.find_entry("tesla_cars"));
    CHECK(tesla->name == "tesla_cars");
    CHECK(tesla->args["filepath"] == "data/01_raw/tesla_cars.json");
    CHECK(catalog.entries_from_patterns().count("tesla_cars"));
    CHECK(catalog.persists("tesla_cars"));

    auto& ds = catalog.dataset("tesla_cars", &kiln::type_ops<double>(), "run");
    ds.save(kiln::Value::make(1.5));
    CHECK(std::filesystem::exists(dir.path() / "data/01_raw/tesla_cars.json"));
    // Kedro's test_dataset_not_in_catalog_when_no_pattern_match.
    auto msg = error_of([&] { catalog.dataset("tesla@cars", &kiln::type_ops<double>(), "run"); });
    CHECK(msg.find("dataset 'tesla@cars' is not in the catalog") != std::string::npos);

    // The patterns travel with the explicit entries (a spawned worker resolves the same way).
    json doc = catalog.entries_to_json();
    CHECK(doc.contains("{brand}_cars"));
    CHECK(doc.contains("audi_cars"));
    CHECK_FALSE(doc.contains("tesla_cars"));
}

TEST_CASE("dataset_patterns.catch_all_and_errors_name_the_pattern") {
    TempDir dir;
    Registry registry;
    registry.add_builtin("kiln", "test", [](kiln::Registrar& reg) { reg.dataset<kiln::datasets::JsonDataset>("JsonDataset"); });
    std::map<std::string, CatalogEntry> entries{
        {"{default}", {"{default}", "kiln.JsonDataset", {{"filepath", "data/{default}.json"}}}},
        {"{type}@planes", {"{type}@planes", "kiln.JsonDataset", {{"filepath", "data/{brand}_plane.json"}}}},
        {"{x}_mem", {"{x}_mem", "kiln.MemoryDataset", {{"data", 7}}}},
    };
    DataCatalog catalog(entries, Parameters(json{{"a", 1}}), dir.path(), registry);
    // Kedro's test_default_dataset: the catch-all takes what nothing else matches.
    REQUIRE(catalog.find_entry("jet@cars"));
    CHECK(catalog.find_entry("jet@cars")->args["filepath"] == "data/jet@cars.json");
    CHECK(catalog.patterns().ordered().back().name == "{default}");
    CHECK(catalog.contains("params:a"));
    CHECK_FALSE(catalog.contains("params:b"));  // parameters are never matched
    CHECK(catalog.find_entry("params:a") == nullptr);
    // A pattern's MemoryDataset is a memory dataset with its preset.
    CHECK(catalog.is_memory("n_mem"));
    CHECK_FALSE(catalog.persists("n_mem"));
    CHECK(catalog.memory_preset("n_mem", kiln::type_ops<std::int64_t>()).get<std::int64_t>() == 7);
    // A placeholder the key lacks fails when a dataset matches, naming the pattern.
    auto msg = error_of([&] { catalog.dataset("jet@planes", &kiln::type_ops<double>(), "run"); });
    CHECK(msg.find("catalog entry '{type}@planes': \"filepath\" uses the placeholder {brand}") != std::string::npos);
}

TEST_CASE("dataset_patterns.unused_entries_warn_with_closest_name") {
    TempDir dir;
    Registry registry;
    std::map<std::string, CatalogEntry> entries{
        {"compnies", {"compnies", "kiln.JsonDataset", json::object()}},
        {"shuttles", {"shuttles", "kiln.JsonDataset", json::object()}},
        {"zzz_unrelated", {"zzz_unrelated", "kiln.JsonDataset", json::object()}},
        {"{name}_x", {"{name}_x", "kiln.JsonDataset", json::object()}},
    };
    DataCatalog catalog(entries, Parameters(), dir.path(), registry);
    auto warnings = unused_entry_warnings(catalog, {"companies", "shuttles", "params:compnies"}, "catalog.json");
    REQUIRE(warnings.size() == 2);
    CHECK(warnings[0] == "catalog.json: catalog entry 'compnies' is not used by any pipeline; did you mean 'companies'?");
    CHECK(warnings[1] == "catalog.json: catalog entry 'zzz_unrelated' is not used by any pipeline");
}

}  // namespace dataset_patterns_test_cases
