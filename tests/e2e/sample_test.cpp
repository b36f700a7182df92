// The word-count sample, run by the real kiln binary on a copy of the project.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include <nlohmann/json.hpp>

#include "kiln_process.hpp"
#include "test_support.hpp"

using namespace kiln::test;
namespace fs = std::filesystem;

namespace sample_test_cases {

namespace {
// A copy of the sample project without outputs of earlier runs.
void copy_sample(const TempDir& dir) {
    fs::copy(KILN_SAMPLE_DIR, dir.path(), fs::copy_options::recursive);
    for (const char* out : {"data/02_intermediate", "data/03_primary", "data/08_reporting", ".kiln"})
        fs::remove_all(dir / out);
}
}  // namespace

TEST_CASE("sample.wordcount.runs_and_writes_outputs") {
    TempDir dir;
    copy_sample(dir);
    auto r = run_kiln({"run", "--project", dir.path().string(), "--plugin-path", KILN_SAMPLE_PLUGIN_DIR, "--report",
                       (dir / "report.json").string()});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.contains("Completed 8 out of 8 tasks"));
    CHECK(r.contains("Pipeline execution completed successfully"));

    auto stats = nlohmann::json::parse(read_text(dir / "data/03_primary/text_stats.json"));
    CHECK(stats["words"].get<int>() > 200);
    CHECK(stats["unique_words"].get<int>() < stats["words"].get<int>());
    auto counts = nlohmann::json::parse(read_text(dir / "data/02_intermediate/word_counts.json"));
    CHECK(counts["kiln"] == 4);  // "kiln" appears four times in the corpus
    CHECK_FALSE(counts.contains("the"));  // a stopword
    std::string csv = read_text(dir / "data/08_reporting/top_words.csv");
    CHECK(csv.rfind("count,rank,word\n", 0) == 0);  // JSON object keys come sorted
    std::string report = read_text(dir / "data/08_reporting/report.md");
    CHECK(report.find("# Word count report") == 0);
    CHECK(fs::file_size(dir / "data/03_primary/length_histogram.npy") > 128);

    auto rep = nlohmann::json::parse(read_text(dir / "report.json"));
    CHECK(rep["status"] == "success");
    CHECK(rep["nodes"].size() == 8);
    CHECK(rep["nodes"][0]["name"] == "normalize");
    CHECK(rep["outputs"]["report"]["persisted_in"].get<std::string>().find("report.md") != std::string::npos);
}

TEST_CASE("sample.wordcount.params_override_and_filters") {
    TempDir dir;
    copy_sample(dir);
    auto r = run_kiln({"run", "--project", dir.path().string(), "--plugin-path", KILN_SAMPLE_PLUGIN_DIR, "--params",
                       "report.top_n=3", "--tags", "prepare,analyse", "--quiet"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    std::string csv = read_text(dir / "data/08_reporting/top_words.csv");
    CHECK(std::count(csv.begin(), csv.end(), '\n') == 4);  // header + 3 rows
    CHECK_FALSE(fs::exists(dir / "data/08_reporting/report.md"));  // the report node was filtered out
}

TEST_CASE("sample.wordcount.incremental_runs_only_what_a_parameter_change_affects") {
    TempDir dir;
    copy_sample(dir);
    const std::vector<std::string> base = {"run", "--incremental", "--project", dir.path().string(), "--plugin-path",
                                           KILN_SAMPLE_PLUGIN_DIR, "--report", (dir / "report.json").string()};
    auto ran = [&] {
        std::vector<std::string> names;
        const auto report = nlohmann::json::parse(read_text(dir / "report.json"));
        for (const auto& n : report["nodes"]) names.push_back(n["name"]);
        return names;
    };
    REQUIRE(run_kiln(base).exit_code == 0);
    CHECK(ran().size() == 8);
    REQUIRE(run_kiln(base).exit_code == 0);
    CHECK(ran().empty());
    auto with = [&](const std::string& params) {
        auto args = base;
        args.insert(args.end(), {"--params", params});
        return run_kiln(args);
    };
    auto top5 = with("report.top_n=5");
    INFO(top5.output);
    REQUIRE(top5.exit_code == 0);
    CHECK(top5.contains("Node 'top_words' runs: parameter 'params:report.top_n' changed: 10 -> 5"));
    CHECK(ran() == std::vector<std::string>{"top_words", "write_report"});
    // A parameter read early runs everything downstream of its reader, and normalize, whose
    // in-memory output the reader needs.
    auto longer = with("report.top_n=5,min_word_length=4");
    INFO(longer.output);
    REQUIRE(longer.exit_code == 0);
    CHECK(longer.contains("Node 'tokenize' runs: parameter 'params:min_word_length' changed: 2 -> 4"));
    CHECK(longer.contains("Node 'normalize' runs: its in-memory output 'clean_text' is read by node 'tokenize', which runs"));
    CHECK(ran().size() == 8);
}

// samples/corpora: the word-count nodes as a Kedro-style project (environments, dataset
// factories, one pipeline reused under two namespaces, a versioned report, a partitioned
// folder of notes).
TEST_CASE("sample.corpora.environments_factories_namespaces_versions") {
    TempDir dir;
    fs::copy(KILN_CORPORA_SAMPLE_DIR, dir.path(), fs::copy_options::recursive);
    for (const char* out : {"data/02_intermediate", "data/08_reporting", ".kiln"}) fs::remove_all(dir / out);
    auto run = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = {"run", "--project", dir.path().string(), "--plugin-path",
                                         KILN_SAMPLE_PLUGIN_DIR, "-q"};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_kiln(args);
    };
    auto r = run({});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    // Factories put each corpus's files in its own folder; CsvDataset's save_args order the columns.
    const std::string poems = read_text(dir / "data/08_reporting/poems/top_words.csv");
    CHECK(poems.rfind("rank,word,count\n1,kiln,4\n", 0) == 0);
    CHECK(std::count(poems.begin(), poems.end(), '\n') == 6);  // conf/base: poems.report.top_n is 5
    auto letters = nlohmann::json::parse(read_text(dir / "data/02_intermediate/letters/word_counts.json"));
    CHECK(letters["carrier"] == 2);
    CHECK_FALSE(letters.contains("the"));  // the shared stopwords reach both namespaces
    // The notes folder (kiln.PartitionedDataset): a counts file per note, sub-folders kept.
    auto monday = nlohmann::json::parse(read_text(dir / "data/02_intermediate/notes/2026/monday.json"));
    CHECK(monday["kiln"] == 2);
    CHECK(fs::exists(dir / "data/02_intermediate/notes/todo.json"));

    // --env prod deepens the reports; the versioned report keeps both runs.
    r = run({"--env", "prod"});
    REQUIRE(r.exit_code == 0);
    const std::string longer = read_text(dir / "data/08_reporting/poems/top_words.csv");
    CHECK(std::count(longer.begin(), longer.end(), '\n') == 11);
    std::vector<fs::path> versions;
    for (const auto& e : fs::directory_iterator(dir / "data/08_reporting/poems/report.md")) versions.push_back(e.path());
    REQUIRE(versions.size() == 2);
    for (const auto& v : versions) CHECK(read_text(v / "report.md").find("# Word count report") == 0);

    // One namespace alone.
    fs::remove_all(dir / "data/02_intermediate");
    r = run({"--namespaces", "letters"});
    REQUIRE(r.exit_code == 0);
    CHECK(fs::exists(dir / "data/02_intermediate/letters/word_counts.json"));
    CHECK_FALSE(fs::exists(dir / "data/02_intermediate/poems/word_counts.json"));
}

}  // namespace sample_test_cases
