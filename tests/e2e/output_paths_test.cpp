// Dataset paths that are not plain files: a symbolic link is written through (the link
// stays), a FIFO or device is refused with the dataset named, a NUL in "filepath" is
// refused before anything runs.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include "project_builder.hpp"

using namespace kiln::test;
namespace fs = std::filesystem;

namespace output_paths_test_cases {

namespace {

void seed_to(Project& p, const std::string& filepath_json) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "make", "func": "testnodes.seed", "outputs": "out"}]}}})");
    p.catalog(R"({"out": {"type": "kiln.JsonDataset", "filepath": )" + filepath_json + "}}");
}

}  // namespace

TEST_CASE("output_paths.a_symlinked_output_is_written_through_under_every_runner") {
    for (const std::vector<std::string>& runner :
         {std::vector<std::string>{}, {"--runner", "ThreadRunner"}, {"--parallel", "--max-workers", "2"}}) {
        Project p;
        seed_to(p, R"("data/out.json")");
        p.write("shared/real.json", "0\n");
        fs::create_directories(p / "data");
        fs::create_symlink("../shared/real.json", p / "data/out.json");
        auto r = p.run(runner);
        INFO(r.output);
        CHECK(r.exit_code == 0);
        CHECK(fs::is_symlink(p / "data/out.json"));
        CHECK(p.json_file("shared/real.json") == 1.0);
    }
}

TEST_CASE("output_paths.a_fifo_output_is_refused_naming_the_dataset") {
    Project p;
    seed_to(p, R"("data/out.json")");
    fs::create_directories(p / "data");
    REQUIRE(::mkfifo((p / "data/out.json").c_str(), 0600) == 0);
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("'out'"));
    CHECK(r.contains("it is a FIFO"));
    struct stat st {};
    REQUIRE(::lstat((p / "data/out.json").c_str(), &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));
}

TEST_CASE("output_paths.a_fifo_input_is_refused_instead_of_blocking") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "copy", "func": "testnodes.identity", "inputs": "in", "outputs": "out"}]}}})");
    p.catalog(R"({"in": {"type": "kiln.JsonDataset", "filepath": "data/in.json"},
                  "out": {"type": "kiln.JsonDataset", "filepath": "data/out.json"}})");
    fs::create_directories(p / "data");
    REQUIRE(::mkfifo((p / "data/in.json").c_str(), 0600) == 0);
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("dataset 'in'"));
    CHECK(r.contains("not a regular file"));
}

TEST_CASE("output_paths.a_device_output_is_refused") {
    Project p;
    seed_to(p, R"("/dev/null")");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("character device"));
}

TEST_CASE("output_paths.a_nul_in_filepath_is_refused_before_the_run") {
    Project p;
    seed_to(p, R"("data/out\u0000.json")");
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("'out'"));
    CHECK(r.contains("NUL character"));
    CHECK_FALSE(p.exists("data/out"));
    CHECK_FALSE(p.exists("data"));
}

}  // namespace output_paths_test_cases
