// The MpiRunner for real: `mpirun --oversubscribe -np 3 kiln run --runner MpiRunner` on
// this machine (built only when MPI is found). Same results as the SequentialRunner,
// large values between ranks, placement by locality, hooks on rank 0, a failing node and
// a killed rank (non-zero exit, the node and rank named, the resume command printed,
// persisted outputs kept, no process left behind).
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "kiln_process.hpp"
#include "project_builder.hpp"
#include "test_support.hpp"

using namespace kiln::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using nlohmann::json;

namespace mpi_test_cases {

namespace {

// mpirun's own arguments: as root here, more ranks than cores.
std::vector<std::string> mpirun_args(int ranks, const std::vector<std::string>& env) {
    std::vector<std::string> a = {KILN_MPIEXEC, "--allow-run-as-root", "--oversubscribe", "-np", std::to_string(ranks)};
    for (const auto& e : env) a.insert(a.end(), {"-x", e});
    // An ASan build of kiln: Open MPI's allocations outlive its finalize, on purpose.
    a.insert(a.end(), {"-x", "ASAN_OPTIONS=detect_leaks=0:handle_segv=0"});
    return a;
}

std::vector<std::string> kiln_args(const Project& p, const std::vector<std::string>& args) {
    std::vector<std::string> a = {KILN_BINARY, "run", "--project", p.dir(), "--plugin-path", test_plugins("good"),
                                  "--plugin-path", test_plugins("ext"), "--report", p.report_path(),
                                  "--runner", "MpiRunner"};
    a.insert(a.end(), args.begin(), args.end());
    return a;
}

// Processes whose command line mentions the project: what a run may leave behind.
std::vector<pid_t> processes_of(const Project& p) {
    std::vector<pid_t> found;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        pid_t pid = std::atoi(entry.path().filename().c_str());
        if (pid <= 0 || pid == ::getpid()) continue;
        std::string cmdline = read_text(entry.path() / "cmdline");
        if (cmdline.find(p.dir()) != std::string::npos) found.push_back(pid);
    }
    return found;
}

// The value of `key` in a process's environment ("" when unset).
std::string environment_of(pid_t pid, const std::string& key) {
    std::string env = read_text("/proc/" + std::to_string(pid) + "/environ");
    std::size_t at = 0;
    while (at < env.size()) {
        std::size_t end = env.find('\0', at);
        std::string item = env.substr(at, end - at);
        if (item.rfind(key + "=", 0) == 0) return item.substr(key.size() + 1);
        if (end == std::string::npos) break;
        at = end + 1;
    }
    return "";
}

// Runs mpirun with output to a file; `during` is called while it runs (e.g. to kill a
// rank). The wait is bounded: the test fails rather than hangs.
struct MpiRun {
    int exit_code = -1;
    std::string output;
    bool contains(const std::string& s) const { return output.find(s) != std::string::npos; }
};

MpiRun run_mpi(const Project& p, int ranks, const std::vector<std::string>& args,
               const std::vector<std::string>& env = {}, const std::function<void()>& during = {}) {
    std::error_code ec;
    fs::remove(p.report_path(), ec);
    std::vector<std::string> all = mpirun_args(ranks, env);
    for (auto& a : kiln_args(p, args)) all.push_back(a);
    const fs::path log = p / "mpirun.log";
    pid_t pid = ::fork();
    if (pid == 0) {
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::setpgid(0, 0);
        ::unsetenv("KILN_PLUGIN_PATH");
        std::vector<char*> argv;
        for (auto& a : all) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    if (during) during();
    MpiRun r;
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + 180s;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            FAIL("mpirun did not finish within 180 s:\n" << read_text(log));
        }
        std::this_thread::sleep_for(20ms);
    }
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.output = read_text(log);
    // Nothing of the run may outlive mpirun.
    std::vector<pid_t> left;
    for (int tries = 0; tries < 50 && !(left = processes_of(p)).empty(); ++tries) std::this_thread::sleep_for(100ms);
    CHECK_MESSAGE(left.empty(), "processes of the run left after mpirun exited: " << left.size() << "\n" << r.output);
    return r;
}

void diamond_project(Project& p) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "n1", "func": "testnodes.seed", "outputs": "a"},
        {"name": "n2", "func": "testnodes.neg", "inputs": "a", "outputs": "b"},
        {"name": "n3", "func": "testnodes.add", "inputs": ["a", "params:x"], "outputs": "c"},
        {"name": "n4", "func": "testnodes.add", "inputs": ["b", "c"], "outputs": "d"},
        {"name": "n5", "func": "testnodes.neg", "inputs": "d", "outputs": "e"},
        {"name": "w1", "func": "testnodes.range", "inputs": "params:n", "outputs": "v"},
        {"name": "w2", "func": "testnodes.sum", "inputs": "v", "outputs": "total"},
        {"name": "w3", "func": "testnodes.min_max", "inputs": "v", "outputs": ["lo", "hi"]}
    ]}}})");
    p.parameters(R"({"x": 10, "n": 1000})");
    p.catalog(R"({"d": {"type": "kiln.JsonDataset", "filepath": "data/d.json"}})");
}

std::map<std::string, unsigned> workers_of(const Project& p) {
    std::map<std::string, unsigned> w;
    const json report = p.report();
    for (const auto& n : report["nodes"]) w[n["name"]] = n["worker"].get<unsigned>();
    return w;
}

}  // namespace

TEST_CASE("mpi.same_results_as_the_sequential_runner") {
    Project seq, mpi;
    diamond_project(seq);
    diamond_project(mpi);
    auto s = seq.run({});
    REQUIRE(s.exit_code == 0);
    auto r = run_mpi(mpi, 3, {});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(mpi.report()["runner"] == "mpi.MpiRunner");
    CHECK(mpi.report()["outputs"] == seq.report()["outputs"]);
    CHECK(read_text(mpi / "data/d.json") == read_text(seq / "data/d.json"));
    CHECK(mpi.ran_nodes().size() == 8);
    // Other ranks ran nodes too (three independent branches on three ranks).
    std::set<unsigned> ranks;
    for (const auto& [name, worker] : workers_of(mpi)) ranks.insert(worker);
    CHECK(ranks.size() >= 2);
}

TEST_CASE("mpi.versioned_datasets_are_refused_before_any_rank_writes") {
    Project p;
    diamond_project(p);
    p.catalog(R"({"d": {"type": "kiln.JsonDataset", "filepath": "data/d.json", "versioned": true}})");
    auto r = run_mpi(p, 2, {});
    INFO(r.output);
    CHECK(r.exit_code != 0);
    CHECK(r.contains("versioned dataset 'd' cannot be used with runner 'MpiRunner' yet"));
    CHECK_FALSE(p.exists("data/d.json"));  // no version folder either
}

TEST_CASE("mpi.incremental_runs_only_the_stale_nodes") {
    Project p;
    diamond_project(p);
    p.catalog(R"({"d": {"type": "kiln.JsonDataset", "filepath": "data/d.json"},
                  "c": {"type": "kiln.JsonDataset", "filepath": "data/c.json"},
                  "total": {"type": "kiln.JsonDataset", "filepath": "data/total.json"}})");
    auto first = run_mpi(p, 3, {"--incremental"});
    INFO(first.output);
    REQUIRE(first.exit_code == 0);
    CHECK(p.ran_nodes().size() == 8);
    auto same = run_mpi(p, 3, {"--incremental"});
    INFO(same.output);
    REQUIRE(same.exit_code == 0);
    // Nodes whose outputs only live in memory (n5's e, w3's lo and hi) are skipped too when current.
    auto ran_same = p.ran_nodes();
    std::sort(ran_same.begin(), ran_same.end());
    CHECK(ran_same == Names{});
    auto changed = run_mpi(p, 3, {"--incremental", "--params", "x=20"});
    INFO(changed.output);
    REQUIRE(changed.exit_code == 0);
    auto ran = p.ran_nodes();
    std::sort(ran.begin(), ran.end());
    // n3 reads x; n4 reads its file c; n5 reads d from n4; n2 is needed for n4's in-memory b, n1 for a.
    CHECK(ran == Names{"n1", "n2", "n3", "n4", "n5"});
    CHECK(p.json_file("data/d.json") == 20.0);  // b + c = -1 + (1 + 20)
}

TEST_CASE("mpi.a_256_MiB_value_moves_between_ranks") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "make", "func": "testnodes.ones", "inputs": ["params:rows", "params:cols"], "outputs": "t"},
        {"name": "use", "func": "testnodes.tensor_sum", "inputs": "t", "outputs": "total"}]}}})");
    p.parameters(R"({"rows": 4096, "cols": 8192})");  // 32 Mi doubles: 256 MiB
    auto r = run_mpi(p, 3, {}, {"KILN_MPI_LOCALITY=0"});  // round robin: "use" runs on the other rank
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(p.report()["outputs"]["total"] == 4096.0 * 8192.0);
    auto w = workers_of(p);
    CHECK(w["make"] != w["use"]);
    CHECK(r.contains("MpiRunner: moved 256.0"));
}

TEST_CASE("mpi.nodes_stay_where_their_inputs_are") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "a1", "func": "testnodes.range", "inputs": "params:n", "outputs": "av"},
        {"name": "a2", "func": "testnodes.sum", "inputs": "av", "outputs": "as"},
        {"name": "a3", "func": "testnodes.neg", "inputs": "as", "outputs": "an"},
        {"name": "b1", "func": "testnodes.range", "inputs": "params:n", "outputs": "bv"},
        {"name": "b2", "func": "testnodes.sum", "inputs": "bv", "outputs": "bs"},
        {"name": "b3", "func": "testnodes.neg", "inputs": "bs", "outputs": "bn"}]}}})");
    p.parameters(R"({"n": 2000000})");
    auto r = run_mpi(p, 3, {});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    auto w = workers_of(p);
    CHECK(w["a1"] == w["a2"]);
    CHECK(w["b1"] == w["b2"]);
    CHECK_FALSE(r.contains("MpiRunner: moved"));  // no value had to travel
}

TEST_CASE("mpi.hooks_fire_on_rank_0_for_every_node") {
    Project p;
    diamond_project(p);
    p.write("settings.json", R"({"hooks": [{"name": "testext.Recorder", "options": {"path": ")" +
                                 (p / "events.txt").string() + R"("}}]})");
    auto r = run_mpi(p, 3, {});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    std::string events = read_text(p / "events.txt");
    std::set<std::string> pids, after;
    std::istringstream lines(events);
    for (std::string line; std::getline(lines, line);) {
        if (auto at = line.find(" pid="); at != std::string::npos) pids.insert(line.substr(at + 5, line.find(' ', at + 1) - at - 5));
        if (line.rfind("after_node_run node=", 0) == 0) after.insert(line.substr(20, line.find(' ', 20) - 20));
    }
    CHECK(pids.size() == 1);  // one process: rank 0
    CHECK(after == std::set<std::string>{"n1", "n2", "n3", "n4", "n5", "w1", "w2", "w3"});
    CHECK(events.rfind("before_pipeline_run runner=mpi.MpiRunner", 0) == 0);
}

TEST_CASE("mpi.a_failing_node_fails_the_job_and_prints_the_resume_command") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a"},
        {"name": "side", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "s"},
        {"name": "boom", "func": "testnodes.fail", "inputs": "a", "outputs": "b"}]}}})");
    p.parameters(R"({"ms": 200})");
    p.catalog(R"({"a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"}})");
    auto r = run_mpi(p, 3, {});
    INFO(r.output);
    CHECK(r.exit_code != 0);
    CHECK(r.contains("Node 'boom' failed: node 'boom' (testnodes.fail) failed: deliberate failure"));
    CHECK(r.contains("mpirun -np 3 " KILN_BINARY " run --project"));
    CHECK(r.contains("--from-nodes \"boom\""));
    CHECK(p.exists("data/a.json"));
    CHECK(p.report()["failure"]["node"] == "boom");
}

TEST_CASE("mpi.a_killed_rank_fails_the_job_naming_its_node") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a"},
        {"name": "slow1", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "s1"},
        {"name": "slow2", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "s2"},
        {"name": "slow3", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "s3"}]}}})");
    p.parameters(R"({"ms": 4000})");
    p.catalog(R"({"a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"}})");
    pid_t killed = 0;
    auto r = run_mpi(p, 3, {}, {}, [&] {
        // Rank 1, once it runs a node (after "first" saved data/a.json).
        for (int tries = 0; tries < 200 && !killed; ++tries) {
            std::this_thread::sleep_for(50ms);
            if (!p.exists("data/a.json")) continue;
            std::this_thread::sleep_for(300ms);
            for (pid_t pid : processes_of(p))
                if (environment_of(pid, "OMPI_COMM_WORLD_RANK") == "1" && ::kill(pid, SIGKILL) == 0) killed = pid;
        }
    });
    INFO(r.output);
    REQUIRE(killed != 0);
    CHECK(r.exit_code != 0);
    CHECK(r.contains("ran on MPI rank 1"));
    CHECK(r.contains("--from-nodes"));
    CHECK(p.exists("data/a.json"));
}

}  // namespace mpi_test_cases
