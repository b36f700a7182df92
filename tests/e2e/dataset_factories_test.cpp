// Dataset factories (catalog keys with {placeholders}) and `kiln catalog`, through the real
// kiln binary: patterns that write files, Kedro's ranking, the catch-all, the three
// commands, the warning for an entry no pipeline uses, and the errors.
#include <doctest/doctest.h>

#include "kiln_process.hpp"
#include "project_builder.hpp"
#include "test_support.hpp"

using namespace kiln::test;
using nlohmann::json;

namespace dataset_factories_test_cases {

namespace {

// seed -> tea_products -> neg -> coffee_products -> neg -> total (a free output), and a
// second pipeline "extra": seed -> raw.milk_csv.
void products_project(Project& p, const std::string& catalog) {
    p.pipelines(R"({"pipelines": {
        "__default__": {"nodes": [
            {"name": "make", "func": "testnodes.seed", "outputs": "tea_products"},
            {"name": "turn", "func": "testnodes.neg", "inputs": "tea_products", "outputs": "coffee_products"},
            {"name": "sum", "func": "testnodes.add", "inputs": ["coffee_products", "params:bonus"], "outputs": "total"}
        ]},
        "extra": {"nodes": [{"name": "milk", "func": "testnodes.seed", "outputs": "raw.milk_csv"}]}
    }})");
    p.parameters(R"({"bonus": 10})");
    p.catalog(catalog);
}

// `kiln catalog ARGS... --project DIR --plugin-path <good test plugins> -q`.
KilnResult catalog_command(const Project& p, std::vector<std::string> args) {
    std::vector<std::string> all = {"catalog"};
    all.insert(all.end(), args.begin(), args.end());
    all.insert(all.end(), {"--project", p.dir(), "--plugin-path", test_plugins("good"), "-q"});
    return run_kiln(all);
}

}  // namespace

TEST_CASE("factories.pattern_entries_write_files") {
    Project p;
    products_project(p, R"({"{name}_products": {"type": "kiln.JsonDataset", "filepath": "data/{name}.json"}})");
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(p.json_file("data/tea.json") == 1.0);
    CHECK(p.json_file("data/coffee.json") == -1.0);
    CHECK_FALSE(p.exists("data/total.json"));  // nothing matches "total": it stays in memory

    // Pattern datasets persist: --only-missing-outputs finds them and skips their producers.
    r = p.run({"--only-missing-outputs"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.contains("Skipping all 3 nodes (all persistent outputs exist)"));
    CHECK(p.ran_nodes().empty());

    // A spawned ParallelRunner worker gets the patterns with the catalog and resolves alike.
    std::filesystem::remove_all(p / "data");
    r = p.run({"--runner", "ParallelRunner", "--start-method", "spawn", "--max-workers", "2"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(p.json_file("data/tea.json") == 1.0);
    CHECK(p.json_file("data/coffee.json") == -1.0);
}

TEST_CASE("factories.most_specific_pattern_wins_and_explicit_entries_first") {
    Project p;
    // "tea_products" matches "{a}_{b}" (1 literal character) and "{name}_products" (9):
    // the second wins. "coffee_products" has its own entry, which wins over both.
    products_project(p, R"({
        "{a}_{b}": {"type": "kiln.JsonDataset", "filepath": "data/two/{a}-{b}.json"},
        "{name}_products": {"type": "kiln.JsonDataset", "filepath": "data/products/{name}.json"},
        "coffee_products": {"type": "kiln.JsonDataset", "filepath": "data/explicit.json"}
    })");
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(p.json_file("data/products/tea.json") == 1.0);
    CHECK(p.json_file("data/explicit.json") == -1.0);
    CHECK_FALSE(p.exists("data/two"));

    r = catalog_command(p, {"patterns"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output == "{name}_products\n{a}_{b}\n");
}

TEST_CASE("factories.catch_all_replaces_the_default_dataset") {
    Project p;
    products_project(p, R"({
        "{name}_products": {"type": "kiln.JsonDataset", "filepath": "data/{name}.json"},
        "{default}": {"type": "kiln.JsonDataset", "filepath": "data/other/{default}.json"}
    })");
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(p.json_file("data/tea.json") == 1.0);
    CHECK(p.json_file("data/other/total.json") == 9.0);  // the free output too
    CHECK(r.contains("Dataset 'total' takes its entry from the catch-all pattern '{default}'"));
    CHECK_FALSE(p.exists("data/other/params:bonus.json"));  // parameters are never matched
}

TEST_CASE("factories.catalog_list_resolve_patterns") {
    Project p;
    products_project(p, R"({
        "{name}_products": {"type": "JsonDataset", "filepath": "data/{name}.json", "metadata": {"tags": ["{name}"]}},
        "{ns}.{name}_csv": {"type": "kiln.TextDataset", "filepath": "data/{ns}/{name}.csv"},
        "coffee_products": {"type": "kiln.MemoryDataset"}
    })");

    auto r = catalog_command(p, {"list"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.output ==
          "Pipeline '__default__':\n"
          "  coffee_products  entry (kiln.MemoryDataset)\n"
          "  params:bonus     parameter\n"
          "  tea_products     pattern '{name}_products' (kiln.JsonDataset)\n"
          "  total            default (the runner's default dataset; in memory with the built-in runners)\n"
          "\n"
          "Pipeline 'extra':\n"
          "  raw.milk_csv  pattern '{ns}.{name}_csv' (kiln.TextDataset)\n");

    r = catalog_command(p, {"list", "--pipeline", "extra"});
    CHECK(r.exit_code == 0);
    CHECK(r.output == "Pipeline 'extra':\n  raw.milk_csv  pattern '{ns}.{name}_csv' (kiln.TextDataset)\n");
    r = catalog_command(p, {"list", "--pipeline", "extr"});
    CHECK(r.exit_code == 2);
    CHECK(r.contains("extra"));

    r = catalog_command(p, {"resolve"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.output) == json::parse(R"({
        "coffee_products": {"type": "kiln.MemoryDataset"},
        "tea_products": {"type": "JsonDataset", "filepath": "data/tea.json", "metadata": {"tags": ["tea"]}},
        "raw.milk_csv": {"type": "kiln.TextDataset", "filepath": "data/raw/milk.csv"}
    })"));

    r = catalog_command(p, {"patterns"});
    CHECK(r.exit_code == 0);
    CHECK(r.output == "{name}_products\n{ns}.{name}_csv\n");

    // `kiln viz` draws a pattern's dataset as persisted, with the pattern's type.
    r = run_kiln({"viz", "--project", p.dir(), "--plugin-path", test_plugins("good"), "-q"});
    CHECK(r.exit_code == 0);
    CHECK(r.contains("tea_products<br/>kiln.JsonDataset"));
    CHECK(r.contains("coffee_products<br/>kiln.MemoryDataset"));

    r = run_kiln({"catalog", "--project", p.dir()});
    CHECK(r.exit_code == 2);
    CHECK(r.contains("subcommand"));
}

TEST_CASE("factories.unused_entry_warns_with_did_you_mean") {
    Project p;
    products_project(p, R"({
        "{name}_products": {"type": "kiln.JsonDataset", "filepath": "data/{name}.json"},
        "totl": {"type": "kiln.JsonDataset", "filepath": "data/total.json"}
    })");
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 0);  // a warning, not an error
    CHECK(r.contains("catalog entry 'totl' is not used by any pipeline; did you mean 'total'?"));
    CHECK_FALSE(p.exists("data/total.json"));
    CHECK_FALSE(r.contains("'{name}_products' is not used"));
}

TEST_CASE("factories.errors_name_the_pattern") {
    Project p;
    products_project(p, R"({"{name}_products": {"type": "kiln.JsonDataset", "filepath": "data/{brand}.json"}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("catalog entry '{name}_products': \"filepath\" uses the placeholder {brand}, which the pattern "
                     "does not have (it has {name})"));
    CHECK_FALSE(p.exists("data"));

    products_project(p, R"({
        "{default}": {"type": "kiln.JsonDataset", "filepath": "data/{default}.json"},
        "{a}{b}": {"type": "kiln.JsonDataset", "filepath": "data/{a}{b}.json"}
    })");
    r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("more than one catch-all pattern ('{a}{b}', '{default}')"));
    r = catalog_command(p, {"patterns"});
    CHECK(r.exit_code == 2);
    CHECK(r.contains("more than one catch-all pattern"));
}

}  // namespace dataset_factories_test_cases
