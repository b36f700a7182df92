// The walkthrough sample (samples/walkthrough): its node, runner and hook plugins, built
// in the tree, on a copy of its project.
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "kiln_process.hpp"
#include "test_support.hpp"

using namespace kiln::test;
namespace fs = std::filesystem;

namespace walkthrough_test_cases {

namespace {

KilnResult run_walkthrough(const TempDir& dir, const std::vector<std::string>& args,
                           const std::vector<std::string>& env = {}) {
    std::vector<std::string> all = {"run", "--project", dir.path().string(), "--plugin-path",
                                    KILN_WALKTHROUGH_PLUGIN_DIR};
    all.insert(all.end(), args.begin(), args.end());
    return run_kiln(all, env);
}

void copy_project(const TempDir& dir) {
    for (const char* f : {"pipelines.json", "catalog.json", "parameters.json", "settings.json"})
        fs::copy_file(fs::path(KILN_WALKTHROUGH_DIR) / f, dir / f);
    fs::create_directories(dir / "data/01_raw");
    fs::copy_file(fs::path(KILN_WALKTHROUGH_DIR) / "data/01_raw/readings.csv", dir / "data/01_raw/readings.csv");
}

}  // namespace

TEST_CASE("walkthrough.runs_with_its_own_runner_and_hook") {
    TempDir dir;
    copy_project(dir);
    auto r = run_walkthrough(dir, {"--runner", "ShuffleRunner"}, {"KILN_SHUFFLE_SEED=7"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.contains("with shuffle.ShuffleRunner"));
    CHECK(r.contains("ShuffleRunner: seed 7"));
    CHECK(r.contains("kept 7 of 9 readings"));
    CHECK(r.contains("slowest nodes: "));  // the hook, enabled by settings.json
    CHECK(read_text(dir / "data/03_reporting/warmest.txt") == "cairo\n");
    auto means = nlohmann::json::parse(read_text(dir / "data/02_model/means.json"));
    CHECK(means == nlohmann::json{{"cairo", 22.17}, {"lisbon", 15.0}, {"oslo", -2.25}});
}

TEST_CASE("walkthrough.gives_the_same_results_under_every_runner") {
    for (std::string runner : {"SequentialRunner", "ThreadRunner", "ParallelRunner", "ShuffleRunner"}) {
        CAPTURE(runner);
        TempDir dir;
        copy_project(dir);
        auto r = run_walkthrough(dir, {"--runner", runner});
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        CHECK(read_text(dir / "data/03_reporting/warmest.txt") == "cairo\n");
    }
}

TEST_CASE("walkthrough.hook_option_is_checked") {
    TempDir dir;
    copy_project(dir);
    dir.write("settings.json", R"({"hooks": [{"name": "slow_nodes.SlowNodes", "options": {"limit_s": -1}}]})");
    auto r = run_walkthrough(dir, {});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("\"limit_s\" must not be negative"));
}

}  // namespace walkthrough_test_cases
