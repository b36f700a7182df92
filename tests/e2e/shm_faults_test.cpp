// The ParallelRunner's shared memory and worker messages under hostile conditions, with
// the real binary: a node with 100,000 in-memory inputs (messages far larger than one
// socket packet) under every runner. Every wait is bounded.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "kiln_child.hpp"
#include "kiln_process.hpp"
#include "project_builder.hpp"
#include "test_support.hpp"

using namespace kiln::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::vector<std::string> run_args(const Project& p, const std::vector<std::string>& args,
                                  const std::vector<std::string>& plugin_dirs = {"good"}) {
    std::vector<std::string> all = {"run", "--project", p.dir(), "--report", p.report_path()};
    for (const auto& dir : plugin_dirs) all.insert(all.end(), {"--plugin-path", test_plugins(dir)});
    all.insert(all.end(), args.begin(), args.end());
    return all;
}

struct Finished {
    int exit_code = -1;
    std::string output;
    bool contains(const std::string& s) const { return output.find(s) != std::string::npos; }
};

// Runs `binary args...` to its end (bounded: the test fails instead of hanging) and checks
// that nothing of the run is left: no process of its group, no segment named after it.
Finished finish(KilnChild& kiln, std::chrono::milliseconds timeout) {
    Finished f;
    f.exit_code = kiln.wait_or_fail(timeout);
    f.output = kiln.output();
    INFO(f.output);
    CHECK_MESSAGE(kiln.group_members().empty(), "processes left: " << describe(kiln.group_members()));
    const auto segments = shm_segments_of(kiln.pid());
    CHECK_MESSAGE(segments.empty(), "shared memory left in /dev/shm: " << join_names(segments));
    kiln.reap();
    return f;
}

// ------------------------------------------------------------------ wide nodes

// spread_100k -> v0..v99999 -> gather_100k -> total (a JSON file): one fan-out and one
// fan-in of 100,000 in-memory values.
void wide_project(Project& p) {
    constexpr int width = 100'000;
    json outputs = json::array();
    for (int i = 0; i < width; ++i) outputs.push_back("v" + std::to_string(i));
    json pipeline = {{"pipelines",
                      {{"__default__",
                        {{"nodes",
                          {{{"name", "spread"}, {"func", "wide_nodes.spread_100k"}, {"outputs", outputs}},
                           {{"name", "gather"},
                            {"func", "wide_nodes.gather_100k"},
                            {"inputs", outputs},
                            {"outputs", "total"}}}}}}}}};
    p.pipelines(pipeline.dump());
    p.catalog(R"({"total": {"type": "kiln.JsonDataset", "filepath": "data/total.json"}})");
}

constexpr std::int64_t wide_total = 100'000LL * 99'999 / 2;

void check_wide_run(const Project& p, const std::vector<std::string>& runner) {
    INFO("kiln run " << [&] {
        std::string s;
        for (const auto& a : runner) s += a + " ";
        return s;
    }());
    std::error_code ec;
    fs::remove(p / "data/total.json", ec);
    KilnChild kiln(run_args(p, runner, {"wide"}));
    const Finished r = finish(kiln, 60s);
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK_FALSE(r.contains("truncated"));
    const json total = p.json_file("data/total.json");
    CHECK(total == json(wide_total));
}

TEST_CASE("shm.wide_nodes.fan_in_of_100000_inputs_under_every_builtin_runner") {
    Project p;
    wide_project(p);
    check_wide_run(p, {"--runner", "SequentialRunner"});
    check_wide_run(p, {"--runner", "ThreadRunner"});
    check_wide_run(p, {"--runner", "ParallelRunner", "--max-workers", "2"});
    check_wide_run(p, {"--runner", "ParallelRunner", "--max-workers", "2", "--start-method", "spawn"});
}

}  // namespace
