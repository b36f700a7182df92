// One scenario matrix over every runner: Sequential, Thread, Parallel (forked and
// spawned), a plugin runner written against the SDK only (testext.PoolRunner), and the
// MpiRunner under a real mpirun when MPI was found. They all go through the host's one
// node lifecycle and ready set, so each scenario must come out the same under each:
// outputs, exit code, which nodes ran, the messages, --resume, --keep-going, and the
// --resources caps (refused when a node could never run, never exceeded when it can).
#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "kiln_child.hpp"
#include "project_builder.hpp"

using namespace kiln::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using nlohmann::json;

namespace runner_matrix_test_cases {

namespace {

// How kiln is started for one runner: the launcher (mpirun) and the runner's options.
struct Launch {
    std::string label;
    std::vector<std::string> args;
    bool mpi = false;
};

std::vector<Launch> every_runner() {
    std::vector<Launch> all = {
        {"SequentialRunner", {"--runner", "SequentialRunner"}},
        {"ThreadRunner", {"--runner", "ThreadRunner", "--max-workers", "2"}},
        {"ParallelRunner", {"--parallel", "--max-workers", "2"}},
        {"ParallelRunner spawn", {"--parallel", "--max-workers", "2", "--start-method", "spawn"}},
        {"testext.PoolRunner", {"--runner", "PoolRunner", "--max-workers", "2"}},
    };
#ifdef KILN_MPIEXEC
    all.push_back({"MpiRunner", {"--runner", "MpiRunner"}, true});
#endif
    return all;
}

struct Run {
    int exit_code = -1;
    std::string output;
    bool contains(const std::string& s) const { return output.find(s) != std::string::npos; }
};

// Runs kiln on the project under `launch`, with a bounded wait; afterwards nothing of the
// run may be left (processes, segments).
Run run(const Project& p, const Launch& launch, const std::vector<std::string>& extra,
        const std::vector<std::string>& env = {}) {
    std::error_code ec;
    fs::remove(p.report_path(), ec);
    std::vector<std::string> args = {"run", "--project", p.dir(), "--report", p.report_path(),
                                     "--plugin-path", test_plugins("good"), "--plugin-path", test_plugins("ext")};
    args.insert(args.end(), launch.args.begin(), launch.args.end());
    args.insert(args.end(), extra.begin(), extra.end());
    std::string binary = KILN_BINARY;
#ifdef KILN_MPIEXEC
    if (launch.mpi) {
        // As root here, and more ranks than cores; the environment goes to every rank.
        std::vector<std::string> mpi = {"--allow-run-as-root", "--oversubscribe", "-np", "3"};
        for (const auto& e : env) mpi.insert(mpi.end(), {"-x", e});
        mpi.insert(mpi.end(), {"-x", "ASAN_OPTIONS=detect_leaks=0:handle_segv=0"});
        mpi.push_back(KILN_BINARY);
        args.insert(args.begin(), mpi.begin(), mpi.end());
        binary = KILN_MPIEXEC;
    }
#endif
    KilnChild kiln(args, env, binary);
    Run r;
    r.exit_code = kiln.wait_or_fail(120s);
    r.output = kiln.output();
    CHECK_MESSAGE(kiln.group_members().empty(), "processes left: " << describe(kiln.group_members()));
    kiln.reap();
    return r;
}

// load -> a (a.json); bump = unreliable(a) -> b (memory); last = neg(b) -> c (c.json);
// side = add(a, params:bonus) -> s (s.json); total = add(c, s) -> t (free output).
void diamond_project(Project& p) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "load", "func": "testnodes.seed", "outputs": "a"},
        {"name": "bump", "func": "testnodes.unreliable", "inputs": "a", "outputs": "b"},
        {"name": "last", "func": "testnodes.neg", "inputs": "b", "outputs": "c"},
        {"name": "side", "func": "testnodes.add", "inputs": {"a": "a", "b": "params:bonus"}, "outputs": "s"},
        {"name": "total", "func": "testnodes.add", "inputs": {"a": "c", "b": "s"}, "outputs": "t"}
    ]}}})");
    p.parameters(R"({"bonus": 10})");
    p.catalog(R"({
        "a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"},
        "c": {"type": "kiln.JsonDataset", "filepath": "data/c.json"},
        "s": {"type": "kiln.JsonDataset", "filepath": "data/s.json"}
    })");
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

std::map<std::string, std::string> statuses(const Project& p) {
    std::map<std::string, std::string> out;
    const json report = p.report();
    if (!report.is_object()) return out;
    for (const auto& n : report["nodes"]) out[n.value("name", "")] = n.value("status", "");
    return out;
}

}  // namespace

TEST_CASE("matrix.a_run_completes_the_same_under_every_runner") {
    for (const Launch& launch : every_runner()) {
        CAPTURE(launch.label);
        Project p;
        diamond_project(p);
        Run r = run(p, launch, {});
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        CHECK(p.json_file("data/a.json") == 1.0);
        CHECK(p.json_file("data/c.json") == -2.0);
        CHECK(p.json_file("data/s.json") == 11.0);
        CHECK(sorted(p.ran_nodes()) == std::vector<std::string>{"bump", "last", "load", "side", "total"});
        for (const auto& [name, status] : statuses(p)) CHECK_MESSAGE(status == "completed", name);
        // The host's lifecycle logs every node, whoever ordered it.
        CHECK(r.contains("Completed 5 out of 5 tasks"));
        CHECK(r.contains("Completed node: total"));
        CHECK(p.report()["status"] == "success");
    }
}

TEST_CASE("matrix.a_failure_stops_the_run_names_the_node_and_resume_finishes_it") {
    for (const Launch& launch : every_runner()) {
        CAPTURE(launch.label);
        Project p;
        diamond_project(p);
        Run first = run(p, launch, {}, {"TESTNODES_FAIL=throw"});
        INFO(first.output);
        CHECK(first.exit_code == 1);
        CHECK(first.contains("'bump'"));
        CHECK(first.contains("asked to fail by TESTNODES_FAIL"));
        CHECK(first.contains("run --resume --project " + p.dir()));
        if (launch.mpi) CHECK(first.contains("mpirun -np 3 "));
        CHECK(p.report()["failure"]["node"] == "bump");
        CHECK(statuses(p)["bump"] == "failed");
        // Nothing downstream of the failure ran; what was saved stays.
        CHECK(p.json_file("data/a.json") == 1.0);
        CHECK_FALSE(p.exists("data/c.json"));
        CHECK(statuses(p).count("last") == 0);
        CHECK(statuses(p).count("total") == 0);

        Run second = run(p, launch, {"--resume"});
        INFO(second.output);
        CHECK(second.exit_code == 0);
        const auto ran = p.ran_nodes();
        CHECK(std::find(ran.begin(), ran.end(), "load") == ran.end());
        CHECK(std::find(ran.begin(), ran.end(), "bump") != ran.end());
        CHECK(p.json_file("data/c.json") == -2.0);
        CHECK(p.json_file("data/s.json") == 11.0);
    }
}

TEST_CASE("matrix.keep_going_runs_everything_that_does_not_depend_on_the_failure") {
    for (const Launch& launch : every_runner()) {
        CAPTURE(launch.label);
        Project p;
        diamond_project(p);
        Run r = run(p, launch, {"--keep-going"}, {"TESTNODES_FAIL=throw"});
        INFO(r.output);
        CHECK(r.exit_code == 1);
        auto st = statuses(p);
        CHECK(st["load"] == "completed");
        CHECK(st["side"] == "completed");
        CHECK(st["bump"] == "failed");
        CHECK(st.count("last") == 0);
        CHECK(st.count("total") == 0);
        CHECK(p.json_file("data/s.json") == 11.0);
        CHECK_FALSE(p.exists("data/c.json"));
    }
}

TEST_CASE("matrix.a_node_needing_more_than_a_cap_is_refused_before_anything_runs") {
    for (const Launch& launch : every_runner()) {
        CAPTURE(launch.label);
        Project p;
        p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
            {"name": "load", "func": "testnodes.seed", "outputs": "a"},
            {"name": "train", "func": "testnodes.neg", "inputs": "a", "outputs": "b", "resources": {"gpu": 2}}
        ]}}})");
        p.catalog(R"({"a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"}})");
        Run r = run(p, launch, {"--resources", "gpu=1"});
        INFO(r.output);
        CHECK(r.exit_code != 0);
        CHECK(r.contains("node 'train' needs gpu=2 but the cap is gpu=1"));
        CHECK_FALSE(p.exists("data/a.json"));

        Run bad = run(p, launch, {"--resources", "gpu=nan"});
        INFO(bad.output);
        CHECK(bad.exit_code != 0);
        CHECK(bad.contains("gpu"));
        CHECK_FALSE(p.exists("data/a.json"));
    }
}

TEST_CASE("matrix.nodes_sharing_a_capped_resource_never_overlap") {
    for (const Launch& launch : every_runner()) {
        CAPTURE(launch.label);
        Project p;
        // Three independent nodes of 300 ms, each needing the one GPU, and a free one.
        p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
            {"name": "g1", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "o1", "resources": {"gpu": 1}},
            {"name": "g2", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "o2", "resources": {"gpu": 1}},
            {"name": "g3", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "o3", "resources": {"gpu": 1}},
            {"name": "cpu", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "o4"}
        ]}}})");
        p.parameters(R"({"ms": 300})");
        Run r = run(p, launch, {"--resources", "gpu=1"});
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        std::vector<std::pair<double, double>> gpu;
        const json report = p.report();
        for (const auto& n : report["nodes"])
            if (n["name"].get<std::string>()[0] == 'g') gpu.emplace_back(n["start_s"], n["end_s"]);
        REQUIRE(gpu.size() == 3);
        std::sort(gpu.begin(), gpu.end());
        for (std::size_t k = 1; k < gpu.size(); ++k)
            CHECK_MESSAGE(gpu[k].first >= gpu[k - 1].second, "GPU nodes overlap: " << report["nodes"].dump());
    }
}

}  // namespace runner_matrix_test_cases
