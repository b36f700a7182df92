// Transcoding through the real kiln binary: "x@json" written by one node and "x@text" read
// by another are one dataset on one file, so every runner orders the reader after the
// writer; filters, --only-missing-outputs and --resume follow the underlying dataset; and
// the mistakes Kedro refuses (and one it does not) are refused with their messages.
#include <doctest/doctest.h>

#include <filesystem>

#include "kiln_process.hpp"
#include "project_builder.hpp"
#include "test_support.hpp"

using namespace kiln::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace transcoding_test_cases {

namespace {

constexpr const char* shared_file_catalog = R"({
    "x@json": {"type": "kiln.JsonDataset", "filepath": "data/x.json"},
    "x@text": {"type": "kiln.TextDataset", "filepath": "data/x.json"},
    "n": {"type": "kiln.JsonDataset", "filepath": "data/n.json"}
})";

// write: greet(params:name) -> x@json (a JSON string in data/x.json)
// split: split_words(x@text) -> words (memory; the file's text, quotes included)
// count: count_words(words) -> n (data/n.json)
// shout: greet(x@json) -> shouted (memory, a free output)
// Declared backwards, and "count", "shout" and "split" sort before "write": only the shared
// dataset x puts write first.
void words_project(Project& p, const std::string& catalog = shared_file_catalog) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "count", "func": "testnodes.count_words", "inputs": "words", "outputs": "n"},
        {"name": "split", "func": "testnodes.split_words", "inputs": "x@text", "outputs": "words"},
        {"name": "shout", "func": "testnodes.greet", "inputs": "x@json", "outputs": "shouted"},
        {"name": "write", "func": "testnodes.greet", "inputs": "params:name", "outputs": "x@json"}
    ]}}})");
    p.parameters(R"({"name": "kiln"})");
    p.catalog(catalog);
}

// write: seed -> x@json (data/x.json holds 1);  check: fail_if(x@num, params:should_fail) ->
// out, with x@num a second JSON form of the same file;  split and count as above, through
// x@text. Layers: write | check, split | count.
void failing_project(Project& p) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "count", "func": "testnodes.count_words", "inputs": "words", "outputs": "n"},
        {"name": "split", "func": "testnodes.split_words", "inputs": "x@text", "outputs": "words"},
        {"name": "check", "func": "testnodes.fail_if", "inputs": {"x": "x@num", "fail": "params:should_fail"},
         "outputs": "out"},
        {"name": "write", "func": "testnodes.seed", "outputs": "x@json"}
    ]}}})");
    p.parameters(R"({"should_fail": true})");
    p.catalog(R"({
        "x@json": {"type": "kiln.JsonDataset", "filepath": "data/x.json"},
        "x@num": {"type": "kiln.JsonDataset", "filepath": "data/x.json"},
        "x@text": {"type": "kiln.TextDataset", "filepath": "data/x.json"},
        "n": {"type": "kiln.JsonDataset", "filepath": "data/n.json"},
        "out": {"type": "kiln.JsonDataset", "filepath": "data/out.json"}
    })");
}

// The position of `name` in the report's run order.
std::size_t position(const Project& p, const std::string& name) {
    const Names ran = p.ran_nodes();
    return static_cast<std::size_t>(std::find(ran.begin(), ran.end(), name) - ran.begin());
}

// The same scenario under each built-in runner.
void runs_in_order(const std::vector<std::string>& runner_args) {
    Project p;
    words_project(p);
    auto r = p.run(runner_args);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(p.ran_nodes().size() == 4);
    CHECK(position(p, "write") < position(p, "split"));
    CHECK(position(p, "write") < position(p, "shout"));
    CHECK(position(p, "split") < position(p, "count"));
    CHECK(p.json_file("data/x.json") == "hello kiln");
    CHECK(p.json_file("data/n.json") == 2);  // "\"hello" and "kiln\"": the text, not the JSON value
    CHECK(p.report()["outputs"]["shouted"] == "hello hello kiln");
}

}  // namespace

TEST_CASE("transcoding.sequential_runner_orders_reader_after_writer") {
    runs_in_order({});
}

TEST_CASE("transcoding.thread_runner_orders_reader_after_writer") {
    runs_in_order({"--runner", "ThreadRunner", "--max-workers", "4"});
}

TEST_CASE("transcoding.parallel_runner_orders_reader_after_writer") {
    runs_in_order({"--runner", "ParallelRunner", "--max-workers", "4"});
    // Spawned workers rebuild the pipeline and catalog from the project: the same forms.
    runs_in_order({"--runner", "ParallelRunner", "--start-method", "spawn", "--max-workers", "2"});
}

TEST_CASE("transcoding.filters_follow_the_underlying_dataset") {
    Project p;
    words_project(p);
    REQUIRE(p.run().exit_code == 0);
    struct Case {
        std::vector<std::string> args;
        Names ran;
    };
    const std::vector<Case> cases = {
        {{"--from-inputs", "x"}, {"shout", "split", "count"}},  // every form's readers
        {{"--from-inputs", "x@text"}, {"split", "count"}},      // a form: its own readers
        {{"--from-inputs", "x@json"}, {"shout"}},
        {{"--to-outputs", "x"}, {"write"}},
        {{"--to-outputs", "n"}, {"write", "split", "count"}},
        {{"--from-nodes", "write"}, {"write", "shout", "split", "count"}},
        {{"--to-nodes", "split"}, {"write", "split"}},
    };
    for (const Case& c : cases) {
        auto r = p.run(c.args);
        INFO(c.args[0] << " " << c.args[1] << "\n" << r.output);
        CHECK(r.exit_code == 0);
        CHECK(p.ran_nodes() == c.ran);
    }
    // Kedro: no node writes x@text under that name.
    auto r = p.run({"--to-outputs", "x@text"});
    CHECK(r.exit_code == 2);
    CHECK(r.contains("Pipeline contains no nodes after applying all provided filters"));
    r = p.run({"--from-inputs", "x@csv"});
    CHECK(r.exit_code == 2);
    CHECK(r.contains("Pipeline does not contain datasets named ['x@csv']"));
}

TEST_CASE("transcoding.only_missing_outputs_checks_the_underlying_data") {
    Project p;
    words_project(p);
    REQUIRE(p.run().exit_code == 0);
    auto r = p.run({"--only-missing-outputs"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.contains("Skipping all 4 nodes"));

    // count must run; it reads words (memory), so split runs; split reads x@text, whose
    // data write stored as x@json: write does not run again.
    fs::remove(p / "data/n.json");
    r = p.run({"--only-missing-outputs"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"split", "count"});
    CHECK(p.json_file("data/n.json") == 2);

    // With the shared file gone too, write runs again before split reads it.
    fs::remove(p / "data/n.json");
    fs::remove(p / "data/x.json");
    r = p.run({"--only-missing-outputs"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"write", "split", "count"});
    CHECK(p.json_file("data/n.json") == 2);
}

TEST_CASE("transcoding.resume_after_a_failure_downstream") {
    Project p;
    failing_project(p);
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 1);
    CHECK(p.ran_nodes() == Names{"write", "check"});
    p.parameters(R"({"should_fail": false})");

    // The data of x is on disk: what is left runs, write does not.
    r = p.run({"--resume", "--force"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"check", "split", "count"});
    CHECK(p.json_file("data/out.json") == 1);

    // Fail again, then lose the shared file: the walk up from check (reading x@num) reaches
    // write (writing x@json).
    p.parameters(R"({"should_fail": true})");
    REQUIRE(p.run().exit_code == 1);
    p.parameters(R"({"should_fail": false})");
    fs::remove(p / "data/x.json");
    r = p.run({"--resume", "--force"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"write", "check", "split", "count"});
}

TEST_CASE("transcoding.errors.plain_and_transcoded_names") {
    Project p;
    words_project(p);
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "write", "func": "testnodes.greet", "inputs": "params:name", "outputs": "x@json"},
        {"name": "shout", "func": "testnodes.greet", "inputs": "x", "outputs": "shouted"}
    ]}}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("These datasets are used with transcoding ('name@format') and also without it:\n"
                     "  - 'x', also used as 'x@json'"));
}

TEST_CASE("transcoding.errors.two_separators") {
    Project p;
    words_project(p);
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "write", "func": "testnodes.greet", "inputs": "params:name", "outputs": "x@json@gz"}
    ]}}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("A dataset name may contain '@' at most once"));
    CHECK(r.contains("'x@json@gz' (node 'write' (testnodes.greet))"));
}

TEST_CASE("transcoding.errors.two_writers") {
    Project p;
    words_project(p);
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "a", "func": "testnodes.greet", "inputs": "params:name", "outputs": "x@json"},
        {"name": "b", "func": "testnodes.greet", "inputs": "params:name", "outputs": "x@text"}
    ]}}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("the transcoded dataset 'x' is written by node 'a' (testnodes.greet) as 'x@json' and node 'b' "
                     "(testnodes.greet) as 'x@text'"));
}

TEST_CASE("transcoding.errors.form_without_catalog_entry_is_refused_before_the_run") {
    Project p;
    words_project(p, R"({"x@json": {"type": "kiln.JsonDataset", "filepath": "data/x.json"}})");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("transcoded dataset(s) cannot pass from node to node in memory"));
    CHECK(r.contains("'x' is written as 'x@json' by node 'write' and read as 'x@text', but 'x@text' has no catalog "
                     "entry and no dataset pattern matches it. Declare 'x@json', 'x@text' in catalog.json with the "
                     "same filepath, each with the dataset type for its format."));
    CHECK_FALSE(r.contains("Running node"));
    CHECK_FALSE(p.exists("data/x.json"));

    // A pattern counts as an entry.
    p.catalog(R"({"x@json": {"type": "kiln.JsonDataset", "filepath": "data/x.json"},
                  "{name}@text": {"type": "kiln.TextDataset", "filepath": "data/{name}.json"}})");
    r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.report()["outputs"]["n"] == 2);

    // A kiln.MemoryDataset holds one form's value only.
    p.catalog(R"({"x@json": {"type": "kiln.MemoryDataset"},
                  "x@text": {"type": "kiln.TextDataset", "filepath": "data/x.json"}})");
    r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("but 'x@json' is a kiln.MemoryDataset."));
}

}  // namespace transcoding_test_cases
