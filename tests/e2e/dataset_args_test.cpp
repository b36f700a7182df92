// Dataset arguments Kedro users carry over, through the real kiln: CsvDataset's
// load_args and save_args under each built-in runner, and their errors.
#include <doctest/doctest.h>

#include "kiln_process.hpp"
#include "project_builder.hpp"
#include "test_support.hpp"

using namespace kiln::test;

namespace dataset_args_test_cases {

namespace {

// customers.csv (semicolons, a comment line, ids read as text) -> unchanged_json -> out.csv
void customers_project(Project& p, const std::string& save_args) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "copy", "func": "testnodes.unchanged_json", "inputs": "customers", "outputs": "report"}
    ]}}})");
    p.catalog(R"({
        "customers": {"type": "kiln.CsvDataset", "filepath": "data/customers.csv",
                      "load_args": {"sep": ";", "skiprows": 1, "usecols": ["id", "name"], "dtype": {"id": "str"}}},
        "report": {"type": "kiln.CsvDataset", "filepath": "data/report.csv", "save_args": )" + save_args + "}}");
    p.write("data/customers.csv", "# exported from the shop\nid;name;notes\n007;Ann;vip\n12;Bob;\n");
}

}  // namespace

TEST_CASE("dataset_args.csv_load_and_save_args_under_every_runner") {
    for (const std::vector<std::string>& runner :
         {std::vector<std::string>{}, {"--runner", "ThreadRunner"}, {"--parallel"}}) {
        CAPTURE(runner.size());
        Project p;
        customers_project(p, R"({"columns": ["name", "id"], "header": ["Name", "Id"], "index": false})");
        auto r = p.run(runner);
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        // Read as text (dtype), "12" stays a string, so it is written quoted; "notes" is
        // left out (usecols); the columns come in the order asked, under the names asked.
        CHECK(read_text(p / "data/report.csv") == "Name,Id\nAnn,007\nBob,\"12\"\n");
    }
}

TEST_CASE("dataset_args.csv_argument_errors_name_the_dataset") {
    Project p;
    customers_project(p, R"({"columns": ["name"], "index": true})");
    auto r = p.run();
    CHECK(r.exit_code == 2);
    CHECK(r.contains("dataset 'report' (kiln.CsvDataset): \"save_args\".index is true, but CsvDataset rows have no "
                     "index column to write"));
    CHECK_FALSE(p.exists("data/report.csv"));

    customers_project(p, R"({"columns": ["name"]})");
    p.write("data/customers.csv", "# exported\nid;nmae\n1;Ann\n");
    r = p.run();
    CHECK(r.exit_code == 1);
    CHECK(r.contains("\"load_args\".usecols names column 'name', which the file does not have; its columns: 'id', "
                     "'nmae'"));
}

}  // namespace dataset_args_test_cases
