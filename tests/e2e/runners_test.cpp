// The concurrent runners end to end: the same scenarios under SequentialRunner,
// ThreadRunner and ParallelRunner (forked and spawned workers, several --max-workers,
// --async, --resources), with identical outputs; worker failures of every kind
// (exception, segfault, abort, exit, killed from outside), --keep-going, resource caps,
// large values through shared memory, and every way a run can end (success, failure,
// Ctrl-C, SIGTERM, the host SIGKILLed), each followed by a check that no worker process
// and no /dev/shm segment of the run is left.
//
// Timing assertions are only relations that must hold (two intervals overlap or not, one
// node starts before another ends), with sleeps long enough that they are unambiguous;
// never absolute durations. Every kiln run has a bounded wait that fails the test.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sys/statvfs.h>

#include "common_projects.hpp"
#include "kiln_child.hpp"
#include "kiln_process.hpp"
#include "project_builder.hpp"
#include "test_skip.hpp"
#include "test_support.hpp"

using namespace kiln::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using nlohmann::json;

namespace runners_test_cases {

namespace {

// ------------------------------------------------------------------ running kiln

struct KilnRun {
    int exit_code = -1;
    std::string output;
    pid_t pid = 0;
    bool contains(const std::string& s) const { return output.find(s) != std::string::npos; }
};

std::vector<std::string> run_args(const Project& p, const std::vector<std::string>& args) {
    std::vector<std::string> all = {"run", "--project", p.dir(), "--plugin-path", test_plugins("good"),
                                    "--report", p.report_path()};
    all.insert(all.end(), args.begin(), args.end());
    return all;
}

// After kiln exited (still a zombie, so its pid and process group are not reused yet):
// nothing of its run may be left, neither a process of its group nor a child, nor a
// shared-memory segment named after it.
void check_no_leftovers(KilnChild& kiln, const std::string& what) {
    INFO(what);
    const auto members = kiln.group_members();
    CHECK_MESSAGE(members.empty(), "processes left in kiln's process group " << kiln.pid() << ": " << describe(members));
    const auto children = kiln.workers();
    CHECK_MESSAGE(children.empty(), "children of kiln " << kiln.pid() << " left: " << describe(children));
    const auto segments = shm_segments_of(kiln.pid());
    CHECK_MESSAGE(segments.empty(), "shared memory left in /dev/shm: " << join_names(segments));
}

// `kiln run` on the project as Project::run does it (test plugins, report), as a child
// process: the wait is bounded (the test fails instead of hanging), and every ending is
// followed by check_no_leftovers.
KilnRun run_kiln_on(const Project& p, const std::vector<std::string>& args,
                    std::chrono::milliseconds timeout = 60s, const std::vector<std::string>& env = {}) {
    std::error_code ec;
    fs::remove(p.report_path(), ec);
    KilnChild kiln(run_args(p, args), env);
    KilnRun r;
    r.pid = kiln.pid();
    r.exit_code = kiln.wait_or_fail(timeout);
    r.output = kiln.output();
    std::string what = "kiln";
    for (const auto& a : args) what += " " + a;
    check_no_leftovers(kiln, what + "\n" + r.output);
    kiln.reap();
    return r;
}

std::string args_text(const std::vector<std::string>& args) {
    std::string s = "kiln run";
    for (const auto& a : args) s += " " + a;
    return s;
}

// ------------------------------------------------------------------ report timelines

struct Interval {
    std::string name;
    double start = 0, end = 0;
    unsigned worker = 0;
    std::string status;
};

std::map<std::string, Interval> intervals(const json& report) {
    std::map<std::string, Interval> out;
    if (!report.is_object() || !report.contains("nodes")) return out;
    for (const auto& n : report["nodes"]) {
        Interval i;
        i.name = n.value("name", "");
        i.start = n.value("start_s", -1.0);
        i.end = n.value("end_s", -1.0);
        i.worker = n.value("worker", 0u);
        i.status = n.value("status", "");
        out[i.name] = i;
    }
    return out;
}

bool overlap(const Interval& a, const Interval& b) { return a.start < b.end && b.start < a.end; }

// The most intervals running at one instant.
std::size_t max_concurrency(const std::vector<Interval>& items) {
    std::vector<std::pair<double, int>> events;
    for (const auto& i : items) {
        events.emplace_back(i.start, +1);
        events.emplace_back(i.end, -1);
    }
    // At equal times an end comes before a start: touching intervals do not overlap.
    std::sort(events.begin(), events.end());
    std::size_t now = 0, most = 0;
    for (const auto& [t, d] : events) {
        now = static_cast<std::size_t>(static_cast<long>(now) + d);
        most = std::max(most, now);
    }
    return most;
}

std::string timeline_text(const std::map<std::string, Interval>& t) {
    std::string s;
    for (const auto& [name, i] : t)
        s += name + ": [" + std::to_string(i.start) + ", " + std::to_string(i.end) + "] worker " +
             std::to_string(i.worker) + " " + i.status + "\n";
    return s;
}

// ------------------------------------------------------------------ the shared scenario

// A pipeline using every kind of value and dataset, with branches that can run
// concurrently, resources declared on two nodes, and persisted and in-memory outputs:
// text, JSON, NPY files; vectors, tuples, a user type with a codec, tensors, strings,
// JSON values, a node without outputs.
void scenario_project(Project& p) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "words", "func": "testnodes.split_words", "inputs": "corpus", "outputs": "w"},
        {"name": "count", "func": "testnodes.count_words", "inputs": "w", "outputs": "n_words"},
        {"name": "numbers", "func": "testnodes.range", "inputs": "params:n", "outputs": "v"},
        {"name": "total", "func": "testnodes.sum", "inputs": "v", "outputs": "total"},
        {"name": "extremes", "func": "testnodes.min_max", "inputs": "v", "outputs": ["lo", "hi"]},
        {"name": "minus_lo", "func": "testnodes.neg", "inputs": "lo", "outputs": "neg_lo"},
        {"name": "span", "func": "testnodes.add", "inputs": {"a": "hi", "b": "neg_lo"}, "outputs": "span"},
        {"name": "stats", "func": "testnodes.summary", "inputs": ["total", "params:n"], "outputs": "stats"},
        {"name": "point", "func": "testnodes.make_point", "inputs": ["total", "span"], "outputs": "point"},
        {"name": "norm", "func": "testnodes.point_norm", "inputs": "point", "outputs": "norm"},
        {"name": "grid", "func": "testnodes.ones", "inputs": ["params:rows", "params:cols"], "outputs": "grid",
         "resources": {"gpu": 1}},
        {"name": "grid_sum", "func": "testnodes.tensor_sum", "inputs": "grid", "outputs": "grid_total",
         "resources": {"gpu": 1}},
        {"name": "saved_grid", "func": "testnodes.ones", "inputs": ["params:cols", "params:rows"], "outputs": "grid_file"},
        {"name": "saved_grid_sum", "func": "testnodes.tensor_sum", "inputs": "grid_file", "outputs": "grid_file_total"},
        {"name": "kept_grid", "func": "testnodes.ones", "inputs": ["params:rows", "params:rows"], "outputs": "square"},
        {"name": "hello", "func": "testnodes.greet", "inputs": "params:name", "outputs": "greeting"},
        {"name": "banner", "func": "testnodes.concat", "inputs": ["greeting", "params:name"], "outputs": "banner"},
        {"name": "nap", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "napped"},
        {"name": "wake", "func": "testnodes.mul", "inputs": {"a": "napped", "b": "total"}, "outputs": "woke"},
        {"name": "chain1", "func": "testnodes.seed", "outputs": "c1"},
        {"name": "chain2", "func": "testnodes.neg", "inputs": "c1", "outputs": "c2"},
        {"name": "chain3", "func": "testnodes.mul", "inputs": {"a": "c2", "b": "span"}, "outputs": "c3"},
        {"name": "chain4", "func": "testnodes.add", "inputs": {"a": "c3", "b": "woke"}, "outputs": "c4"},
        {"name": "drain", "func": "testnodes.sink", "inputs": "c4"}
    ]}}})");
    p.parameters(R"({"n": 10, "rows": 3, "cols": 4, "name": "kiln", "ms": 30})");
    p.catalog(R"({
        "corpus": {"type": "kiln.TextDataset", "filepath": "data/corpus.txt"},
        "span": {"type": "kiln.JsonDataset", "filepath": "data/span.json"},
        "stats": {"type": "kiln.JsonDataset", "filepath": "data/stats.json"},
        "point": {"type": "kiln.JsonDataset", "filepath": "data/point.json"},
        "grid_total": {"type": "kiln.JsonDataset", "filepath": "data/grid_total.json"},
        "grid_file": {"type": "kiln.NpyDataset", "filepath": "data/grid.npy"},
        "greeting": {"type": "kiln.TextDataset", "filepath": "data/greeting.txt"},
        "woke": {"type": "kiln.JsonDataset", "filepath": "data/woke.json"},
        "c3": {"type": "kiln.JsonDataset", "filepath": "data/c3.json"}
    })");
    p.write("data/corpus.txt", "the quick brown fox\njumps over the lazy dog\n");
}

// A run reduced to what must not depend on the runner.
struct Snapshot {
    int exit_code = -1;
    std::string runner;
    json outputs;                               // the report's, project path replaced
    json failure;                               // node and error; null on success
    std::map<std::string, std::string> files;   // every file the run wrote, by relative path
    std::vector<std::string> completed;         // sorted
    std::vector<std::string> failed;            // sorted
};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
    return s;
}

Snapshot snapshot(const Project& p, const KilnRun& r) {
    Snapshot s;
    s.exit_code = r.exit_code;
    json rep = p.report();
    REQUIRE_MESSAGE(rep.is_object(), "no report; output:\n" << r.output);
    s.runner = rep.value("runner", "");
    s.outputs = json::parse(replace_all(rep["outputs"].dump(), p.dir(), "<project>"));
    if (rep.contains("failure")) s.failure = {{"node", rep["failure"]["node"]}, {"error", rep["failure"]["error"]}};
    for (const auto& n : rep["nodes"]) {
        if (n["status"] == "completed") s.completed.push_back(n["name"]);
        if (n["status"] == "failed") s.failed.push_back(n["name"]);
    }
    std::sort(s.completed.begin(), s.completed.end());
    std::sort(s.failed.begin(), s.failed.end());
    for (const auto& e : fs::recursive_directory_iterator(p.path())) {
        if (!e.is_regular_file()) continue;
        const std::string rel = fs::relative(e.path(), p.path()).string();
        if (rel.rfind(".kiln", 0) == 0 || rel == "report.json") continue;
        s.files[rel] = read_text(e.path());
    }
    return s;
}

void check_same(const Snapshot& got, const Snapshot& want) {
    CHECK(got.exit_code == want.exit_code);
    CHECK(got.outputs == want.outputs);
    CHECK(got.failure == want.failure);
    CHECK(got.completed == want.completed);
    CHECK(got.failed == want.failed);
    std::vector<std::string> got_names, want_names;
    for (const auto& [k, _] : got.files) got_names.push_back(k);
    for (const auto& [k, _] : want.files) want_names.push_back(k);
    REQUIRE(got_names == want_names);
    for (const auto& [name, text] : want.files) {
        INFO("file " << name);
        CHECK(got.files.at(name) == text);
    }
}

// The runner command lines (and environments) every shared scenario runs under.
struct Variant {
    std::vector<std::string> args;
    std::vector<std::string> env = {};
};

const std::vector<Variant>& runner_variants() {
    static const std::vector<Variant> variants = {
        {{"--runner=SequentialRunner"}},
        {{"--runner=ThreadRunner"}},
        {{"--runner=ThreadRunner", "--max-workers", "1"}},
        {{"--runner=ThreadRunner", "--max-workers", "2"}},
        {{"--runner=ThreadRunner", "--max-workers", "3"}},
        {{"--runner", "ThreadRunner", "--max-workers", "8", "--resources", "gpu=1"}},
        {{"--runner=ThreadRunner", "--async"}},
        {{"--runner=ParallelRunner"}},
        {{"--parallel"}},
        {{"--parallel", "--max-workers", "1"}},
        {{"--parallel", "--max-workers", "2"}},
        {{"--parallel", "--max-workers", "3"}},
        {{"--parallel", "--max-workers", "8", "--resources", "gpu=1"}},
        {{"--parallel", "--async"}},
        {{"--runner", "ParallelRunner", "--max-workers", "4", "--async", "--keep-going"}},
        // Workers as fresh kiln processes instead of forks.
        {{"--parallel", "--start-method", "spawn"}},
        {{"--parallel", "--start-method=spawn", "--max-workers", "3", "--async"}},
        {{"--runner=ParallelRunner", "--max-workers", "2"}, {"KILN_START_METHOD=spawn"}},
    };
    return variants;
}

std::string variant_text(const Variant& v) {
    std::string s;
    for (const auto& e : v.env) s += e + " ";
    return s + args_text(v.args);
}

std::string expected_runner(const std::vector<std::string>& args) {
    for (const auto& a : args) {
        if (a == "--parallel" || a.find("ParallelRunner") != std::string::npos) return "ParallelRunner";
        if (a.find("ThreadRunner") != std::string::npos) return "ThreadRunner";
    }
    return "SequentialRunner";
}

// Runs `make_project`'s project under the default runner, then under every variant,
// each in a fresh project, and checks that each gives the same result.
template <class MakeProject>
Snapshot same_result_under_every_runner(MakeProject make_project, int expected_exit) {
    Project base;
    make_project(base);
    KilnRun r0 = run_kiln_on(base, {});
    INFO("baseline output:\n" << r0.output);
    REQUIRE(r0.exit_code == expected_exit);
    Snapshot want = snapshot(base, r0);
    CHECK(want.runner == "SequentialRunner");

    for (const auto& v : runner_variants()) {
        Project p;
        make_project(p);
        KilnRun r = run_kiln_on(p, v.args, 60s, v.env);
        INFO(variant_text(v) << "\n" << r.output);
        Snapshot got = snapshot(p, r);
        CHECK(got.runner == expected_runner(v.args));
        check_same(got, want);
        if (expected_runner(v.args) == "ThreadRunner" && std::find(v.args.begin(), v.args.end(), "--async") != v.args.end())
            CHECK(r.contains("--async is ignored"));
    }
    return want;
}

// ------------------------------------------------------------------ other projects

// load -> prep (memory m) -> check(FUNC) -> final -> tail, with a persisted side branch:
//   load:  seed -> a                  (data/a.json = 1)
//   prep:  neg(a) -> m                (memory)
//   side:  add(a, params:bonus) -> s  (data/s.json = 11)
//   check: FUNC(m) -> c               (data/c.json)
//   final: add(c, s) -> out           (data/out.json)
//   tail:  neg(out) -> result         (free output)
// The resume hint for a failure of check is --from-nodes "prep".
void failing_project(Project& p, const std::string& func) {
    const std::string check = func == "fail_if"
        ? R"({"name": "check", "func": "testnodes.fail_if", "inputs": {"x": "m", "fail": "params:should_fail"}, "outputs": "c"})"
        : R"({"name": "check", "func": "testnodes.)" + func + R"(", "inputs": "m", "outputs": "c"})";
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "load", "func": "testnodes.seed", "outputs": "a"},
        {"name": "prep", "func": "testnodes.neg", "inputs": "a", "outputs": "m"},
        {"name": "side", "func": "testnodes.add", "inputs": {"a": "a", "b": "params:bonus"}, "outputs": "s"},
        )" + check + R"(,
        {"name": "final", "func": "testnodes.add", "inputs": ["c", "s"], "outputs": "out"},
        {"name": "tail", "func": "testnodes.neg", "inputs": "out", "outputs": "result"}
    ]}}})");
    p.parameters(R"({"bonus": 10, "should_fail": true})");
    p.catalog(R"({
        "a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"},
        "s": {"type": "kiln.JsonDataset", "filepath": "data/s.json"},
        "c": {"type": "kiln.JsonDataset", "filepath": "data/c.json"},
        "out": {"type": "kiln.JsonDataset", "filepath": "data/out.json"}
    })");
}

// What every failure of `check` in failing_project must leave and print.
void check_failed_run(const Project& p, const KilnRun& r) {
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("Node 'check' failed"));
    CHECK_FALSE(r.contains("Pipeline execution completed successfully"));
    CHECK_FALSE(r.contains("Running node: final"));
    // Persisted outputs written before the failure are kept; nothing after it.
    CHECK(number_in(p, "data/a.json") == 1.0);
    CHECK(number_in(p, "data/s.json") == 11.0);
    CHECK_FALSE(p.exists("data/c.json"));
    CHECK_FALSE(p.exists("data/out.json"));
    CHECK(p.files_containing(".kiln-tmp-").empty());
    // The resume command is printed and in the report.
    CHECK(r.contains("--from-nodes \"prep\""));
    CHECK(r.contains("run --resume --project " + p.dir()));
    json rep = p.report();
    REQUIRE(rep.is_object());
    CHECK(rep["status"] == "failed");
    CHECK(rep["failure"]["node"] == "check");
    CHECK(rep["failure"]["resume_command"].get<std::string>().find("--from-nodes \"prep\"") != std::string::npos);
    json record = p.json_file(".kiln/last_run.json");
    CHECK(record["status"] == "failed");
    CHECK(record["failed_node"] == "check");
}

// ParallelRunner's ways of starting workers: forked (default) and spawned (fresh kiln).
const std::vector<std::vector<std::string>>& start_methods() {
    static const std::vector<std::vector<std::string>> methods = {{}, {"--start-method", "spawn"}};
    return methods;
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

// Slow nodes to interrupt: first persists data/a.json, then two nodes sleep `ms` each
// (in parallel with two workers), then a join.
void slow_project(Project& p, int ms) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a"},
        {"name": "duration", "func": "testnodes.mul", "inputs": {"a": "a", "b": "params:ms"}, "outputs": "ms"},
        {"name": "slow1", "func": "testnodes.sleep_ms", "inputs": "ms", "outputs": "x"},
        {"name": "slow2", "func": "testnodes.sleep_ms", "inputs": "ms", "outputs": "y"},
        {"name": "join", "func": "testnodes.add", "inputs": ["x", "y"], "outputs": "z"}
    ]}}})");
    p.parameters(R"({"ms": )" + std::to_string(ms) + "}");
    p.catalog(R"({"a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"}})");
}

// Starts slow_project under --parallel and waits until both slow nodes run in workers:
// two workers exist and the host has reported `duration`, after which it hands slow1 and
// slow2 to the workers at once. (Not "Running node: slow2": a worker logs that line only
// once the node's inputs are loaded, so it shows later than the hand-over.)
void start_slow_run(KilnChild& kiln) {
    const bool running = poll_until(
        [&] { return kiln.exited() || (kiln.contains("Completed 2 out of 5 tasks") && kiln.workers().size() >= 2); },
        30s);
    INFO(kiln.output());
    REQUIRE_MESSAGE(running, "the slow nodes did not start within 30 s");
    REQUIRE_MESSAGE(!kiln.exited(), "kiln ended before it could be interrupted");
    // Not a timing assertion: only makes it near certain that the workers are inside the
    // 30 s nodes (rather than between messages) when the test acts.
    std::this_thread::sleep_for(300ms);
    REQUIRE_MESSAGE(!kiln.exited(), "kiln ended before it could be interrupted:\n" << kiln.output());
}

// An interrupted run: kiln must exit non-zero long before the 30 s nodes could finish,
// leave no worker and no segment, and keep what it persisted.
void check_interrupt(int sig, bool whole_group, const std::vector<std::string>& method) {
    INFO("signal " << sig << (whole_group ? " to the process group " : " to kiln ") << args_text(method));
    Project p;
    slow_project(p, 30000);
    KilnChild kiln(run_args(p, with({"--parallel", "--max-workers", "2"}, method)));
    start_slow_run(kiln);
    const auto workers = kiln.workers();
    CHECK(workers.size() == 2);
    CHECK_FALSE(shm_segments_of(kiln.pid()).empty());  // the run's arena exists while it runs
    // The run's values are this user's alone.
    for (const auto& name : shm_segments_of(kiln.pid())) {
        using std::filesystem::perms;
        const perms mode = std::filesystem::status("/dev/shm/" + name).permissions();
        CHECK_MESSAGE((mode & (perms::group_all | perms::others_all)) == perms::none,
                      "segment " << name << " can be opened by other users");
    }

    if (whole_group) kiln.signal_group(sig);
    else kiln.signal(sig);
    const int code = kiln.wait_or_fail(10s);  // the slow nodes would take 30 s
    const std::string out = kiln.output();
    INFO(out);
    CHECK(code != 0);
    for (const auto& w : workers) CHECK_MESSAGE(has_ended(w), "worker " << w.pid << " still runs");
    check_no_leftovers(kiln, "after signal " + std::to_string(sig));
    kiln.reap();
    CHECK(number_in(p, "data/a.json") == 1.0);
    CHECK_FALSE(out.find("Pipeline execution completed successfully") != std::string::npos);
    CHECK(out.find("run --resume --project " + p.dir()) != std::string::npos);
}

// src -> bad(FUNC) -> bad_child -> bad_grandchild, and branches that do not depend on
// bad: good -> good_child, free, plus mixed(good, bad_child) which does; bad2 fails too.
void keep_going_project(Project& p, const std::string& bad_func) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "src", "func": "testnodes.seed", "outputs": "a"},
        {"name": "bad", "func": "testnodes.)" + bad_func + R"(", "inputs": "a", "outputs": "b"},
        {"name": "bad_child", "func": "testnodes.neg", "inputs": "b", "outputs": "c"},
        {"name": "bad_grandchild", "func": "testnodes.neg", "inputs": "c", "outputs": "d"},
        {"name": "good", "func": "testnodes.neg", "inputs": "a", "outputs": "e"},
        {"name": "good_child", "func": "testnodes.identity", "inputs": "e", "outputs": "f"},
        {"name": "free", "func": "testnodes.identity", "inputs": "params:x", "outputs": "g"},
        {"name": "mixed", "func": "testnodes.add", "inputs": ["e", "c"], "outputs": "h"},
        {"name": "bad2", "func": "testnodes.fail", "inputs": "params:x", "outputs": "k"},
        {"name": "late", "func": "testnodes.sleep_ms", "inputs": "f", "outputs": "l"}
    ]}}})");
    p.parameters(R"({"x": 5})");
    p.catalog(R"({
        "a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"},
        "d": {"type": "kiln.JsonDataset", "filepath": "data/d.json"},
        "e": {"type": "kiln.JsonDataset", "filepath": "data/e.json"},
        "f": {"type": "kiln.JsonDataset", "filepath": "data/f.json"},
        "g": {"type": "kiln.JsonDataset", "filepath": "data/g.json"},
        "h": {"type": "kiln.JsonDataset", "filepath": "data/h.json"},
        "l": {"type": "kiln.JsonDataset", "filepath": "data/l.json"}
    })");
}

void check_keep_going(const std::string& bad_func, const std::vector<std::string>& args) {
    Project p;
    keep_going_project(p, bad_func);
    KilnRun r = run_kiln_on(p, args);
    INFO(args_text(args) << "\n" << r.output);
    CHECK(r.exit_code == 1);
    // Every branch not depending on a failed node ran to the end.
    CHECK(number_in(p, "data/a.json") == 1.0);
    CHECK(number_in(p, "data/e.json") == -1.0);
    CHECK(number_in(p, "data/f.json") == -1.0);
    CHECK(number_in(p, "data/g.json") == 5.0);
    CHECK(number_in(p, "data/l.json") == -1.0);
    // Nothing downstream of a failure.
    CHECK_FALSE(p.exists("data/d.json"));
    CHECK_FALSE(p.exists("data/h.json"));
    CHECK_FALSE(r.contains("Running node: bad_child"));
    CHECK_FALSE(r.contains("Running node: mixed"));
    // A summary naming both failures.
    CHECK(r.contains("Node 'bad'"));
    CHECK(r.contains("Node 'bad2'"));
    CHECK_FALSE(r.contains("Pipeline execution completed successfully"));
    json rep = p.report();
    REQUIRE(rep.is_object());
    INFO(rep.dump(2));
    CHECK(rep["status"] == "failed");
    const std::string first = rep["failure"]["node"];
    CHECK((first == "bad" || first == "bad2"));
    auto t = intervals(rep);
    for (const char* n : {"src", "good", "good_child", "free", "late"}) {
        INFO(n);
        REQUIRE(t.count(n));
        CHECK(t[n].status == "completed");
    }
    for (const char* n : {"bad", "bad2"}) {
        INFO(n);
        REQUIRE(t.count(n));
        CHECK(t[n].status == "failed");
    }
    auto skipped = p.skipped();
    for (const char* n : {"bad_child", "bad_grandchild", "mixed"}) {
        INFO(n);
        CHECK(skipped.count(n) == 1);
        CHECK_FALSE(t.count(n));
    }
}

// Whether /dev/shm has at least `bytes` free.
bool shm_has_room(std::size_t bytes, std::size_t* free_bytes) {
    struct statvfs fs {};
    if (::statvfs("/dev/shm", &fs) != 0) return false;
    *free_bytes = static_cast<std::size_t>(fs.f_bavail) * fs.f_frsize;
    return *free_bytes >= bytes;
}

// Position of a whole log line ending in `text` ("... Releasing v"), or npos.
std::size_t line_end_pos(const std::string& out, const std::string& text) {
    const std::string needle = text + "\n";
    return out.find(needle);
}

}  // namespace

// ================================================================== identical results

TEST_CASE("runners.same_outputs_under_every_runner") {
    Snapshot want = same_result_under_every_runner(scenario_project, 0);
    // And they are the right ones (not merely the same).
    INFO(want.outputs.dump(2));
    CHECK(want.outputs["n_words"] == 9);
    CHECK(want.outputs["norm"].get<double>() == doctest::Approx(std::sqrt(45.0 * 45.0 + 9.0 * 9.0)));
    CHECK(want.outputs["grid_file_total"] == 12.0);
    CHECK(want.outputs["banner"] == "hello kilnkiln");
    CHECK(want.outputs["square"]["shape"] == json{3, 3});
    CHECK(json::parse(want.files.at("data/stats.json")) == json{{"total", 45.0}, {"n", 10}});
    CHECK(json::parse(want.files.at("data/woke.json")) == 1350.0);
    CHECK(json::parse(want.files.at("data/c3.json")) == -9.0);
    CHECK(json::parse(want.files.at("data/point.json")) == json{{"x", 45.0}, {"y", 9.0}});
    CHECK(json::parse(want.files.at("data/grid_total.json")) == 12.0);
    CHECK(want.completed.size() == 24);
}

TEST_CASE("runners.same_failure_under_every_runner") {
    Snapshot want = same_result_under_every_runner([](Project& p) { failing_project(p, "fail"); }, 1);
    CHECK(want.failure["node"] == "check");
    CHECK(want.failure["error"].get<std::string>().find("deliberate failure") != std::string::npos);
    CHECK(want.completed == Names{"load", "prep", "side"});
    CHECK(want.failed == Names{"check"});
}

TEST_CASE("runners.failure_keeps_outputs_and_prints_resume_under_every_runner") {
    for (const auto& v : runner_variants()) {
        Project p;
        failing_project(p, "fail");
        KilnRun r = run_kiln_on(p, v.args, 60s, v.env);
        INFO(variant_text(v));
        check_failed_run(p, r);
        CHECK(r.contains("deliberate failure"));
    }
}

TEST_CASE("runners.null_output_fails_the_node_under_every_runner") {
    // Kedro's "Saving 'None' to a 'Dataset' is not allowed", for an in-memory output and a
    // persisted one, under every runner and a plugin runner: the node fails, nothing is saved.
    std::vector<Variant> variants = runner_variants();
    variants.push_back({{"--plugin-path", test_plugins("ext"), "--runner", "testext.PoolRunner"}});
    for (const auto& v : variants) {
        for (bool persisted : {false, true}) {
            Project p;
            p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
                {"name": "maybe", "func": "testnodes.value_or_null", "inputs": "params:give_null", "outputs": "j"},
                {"name": "other", "func": "testnodes.seed", "outputs": "z"}
            ]}}})");
            p.parameters(R"({"give_null": true})");
            if (persisted) p.catalog(R"({"j": {"type": "kiln.JsonDataset", "filepath": "data/j.json"}})");
            KilnRun r = run_kiln_on(p, v.args, 60s, v.env);
            INFO(variant_text(v) << (persisted ? " (persisted)" : " (in memory)") << "\n" << r.output);
            CHECK(r.exit_code == 1);
            CHECK(r.contains("Node 'maybe' failed"));
            CHECK(r.contains("returned null for output 'j': Saving 'None' to a 'Dataset' is not allowed"));
            CHECK_FALSE(r.contains("Pipeline execution completed successfully"));
            CHECK_FALSE(p.exists("data/j.json"));
            CHECK(p.report()["failure"]["node"] == "maybe");
        }
    }
}

// ================================================================== options

TEST_CASE("runners.cli.parallel_and_runner_are_exclusive") {
    Project p;
    failing_project(p, "fail");
    KilnRun r = run_kiln_on(p, {"--parallel", "--runner", "ThreadRunner"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("--parallel and --runner cannot be used together"));
    CHECK_FALSE(r.contains("Running node"));
    CHECK_FALSE(p.exists("data/a.json"));
}

TEST_CASE("runners.cli.max_workers_must_be_positive") {
    for (const char* runner : {"ThreadRunner", "ParallelRunner"}) {
        for (const char* n : {"0", "-1"}) {
            Project p;
            failing_project(p, "fail");
            KilnRun r = run_kiln_on(p, {"--runner", runner, "--max-workers", n});
            INFO(runner << " --max-workers " << n << "\n" << r.output);
            CHECK(r.exit_code == 2);
            CHECK(r.contains("--max-workers"));
            CHECK(r.contains("positive"));
            CHECK_FALSE(r.contains("Running node"));
        }
    }
}

TEST_CASE("runners.thread.async_is_ignored_as_announced") {
    // ThreadRunner announces that it ignores --async (as Kedro's does); the run must then
    // not load and save asynchronously, nor say that it does.
    Project p;
    failing_project(p, "fail_if");
    p.parameters(R"({"bonus": 10, "should_fail": false})");
    KilnRun r = run_kiln_on(p, {"--runner", "ThreadRunner", "--async"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.contains("--async is ignored"));
    CHECK_FALSE(r.contains("Asynchronous mode is enabled"));
}

TEST_CASE("runners.max_workers_caps_concurrency") {
    // Six independent 80 ms nodes: never more running at once than workers.
    std::string nodes;
    for (int i = 0; i < 6; ++i)
        nodes += std::string(i ? "," : "") + R"({"name": "s)" + std::to_string(i) +
                 R"(", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "o)" + std::to_string(i) + "\"}";
    for (const char* runner : {"ThreadRunner", "ParallelRunner"}) {
        for (int workers : {1, 2, 3}) {
            Project p;
            p.pipelines(R"({"pipelines": {"__default__": {"nodes": [)" + nodes + "]}}}");
            p.parameters(R"({"ms": 80})");
            KilnRun r = run_kiln_on(p, {"--runner", runner, "--max-workers", std::to_string(workers)});
            INFO(runner << " --max-workers " << workers << "\n" << r.output);
            REQUIRE(r.exit_code == 0);
            auto t = intervals(p.report());
            INFO(timeline_text(t));
            REQUIRE(t.size() == 6);
            std::vector<Interval> all;
            std::set<unsigned> ids;
            for (const auto& [_, i] : t) {
                all.push_back(i);
                ids.insert(i.worker);
                CHECK(i.worker < static_cast<unsigned>(workers));
            }
            CHECK(max_concurrency(all) <= static_cast<std::size_t>(workers));
            // One worker never runs two nodes at once.
            for (const auto& a : all)
                for (const auto& b : all)
                    if (a.name < b.name && a.worker == b.worker) CHECK_FALSE(overlap(a, b));
        }
    }
}

TEST_CASE("runners.ready_nodes_start_without_a_layer_barrier") {
    // next depends only on short; with a layer barrier it would wait for long (1.5 s).
    for (const char* runner : {"ThreadRunner", "ParallelRunner"}) {
        Project p;
        p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
            {"name": "long", "func": "testnodes.sleep_ms", "inputs": "params:long_ms", "outputs": "l"},
            {"name": "short", "func": "testnodes.sleep_ms", "inputs": "params:short_ms", "outputs": "s"},
            {"name": "next", "func": "testnodes.sleep_ms", "inputs": "s", "outputs": "n"},
            {"name": "join", "func": "testnodes.add", "inputs": ["l", "n"], "outputs": "j"}
        ]}}})");
        p.parameters(R"({"long_ms": 1500, "short_ms": 20})");
        KilnRun r = run_kiln_on(p, {"--runner", runner, "--max-workers", "2"});
        INFO(runner << "\n" << r.output);
        REQUIRE(r.exit_code == 0);
        auto t = intervals(p.report());
        INFO(timeline_text(t));
        REQUIRE(t.size() == 4);
        CHECK(t["next"].start < t["long"].end);
        CHECK(t["next"].start >= t["short"].end);
        CHECK(t["join"].start >= t["long"].end);
        CHECK(t["join"].start >= t["next"].end);
        CHECK(p.report()["outputs"]["j"] == 1520.0);
    }
}

// ================================================================== ParallelRunner failures

TEST_CASE("runners.parallel.exception_names_node_and_message") {
    for (const auto& method : start_methods()) {
        for (const char* workers : {"1", "2", "4"}) {
            Project p;
            failing_project(p, "fail");
            KilnRun r = run_kiln_on(p, with({"--parallel", "--max-workers", workers}, method));
            INFO("--max-workers " << workers << " " << args_text(method));
            check_failed_run(p, r);
            CHECK(r.contains("deliberate failure"));
            CHECK(p.report()["failure"]["error"].get<std::string>().find("deliberate failure") != std::string::npos);
        }
    }
}

TEST_CASE("runners.parallel.non_standard_exception_names_node") {
    Project p;
    failing_project(p, "fail_unknown");
    KilnRun r = run_kiln_on(p, {"--parallel"});
    check_failed_run(p, r);
    CHECK(r.contains("unknown exception"));
}

TEST_CASE("runners.parallel.segfault_names_node_and_signal") {
    for (const auto& method : start_methods()) {
        for (const char* workers : {"1", "2"}) {
            Project p;
            failing_project(p, "crash_segv");
            KilnRun r = run_kiln_on(p, with({"--parallel", "--max-workers", workers}, method));
            INFO("--max-workers " << workers << " " << args_text(method));
            check_failed_run(p, r);
            CHECK(r.contains("SIGSEGV"));
            CHECK(r.contains("signal 11"));
            const std::string error = p.report()["failure"]["error"];
            CHECK(error.find("'check'") != std::string::npos);
            CHECK(error.find("SIGSEGV") != std::string::npos);
        }
    }
}

TEST_CASE("runners.parallel.abort_names_node_and_signal") {
    for (const auto& method : start_methods()) {
        INFO(args_text(method));
        Project p;
        failing_project(p, "crash_abort");
        KilnRun r = run_kiln_on(p, with({"--parallel"}, method));
        check_failed_run(p, r);
        CHECK(r.contains("SIGABRT"));
        CHECK(r.contains("signal 6"));
        const std::string error = p.report()["failure"]["error"];
        CHECK(error.find("'check'") != std::string::npos);
        CHECK(error.find("SIGABRT") != std::string::npos);
    }
}

TEST_CASE("runners.parallel.exit_names_node_and_exit_code") {
    for (const auto& method : start_methods()) {
        INFO(args_text(method));
        Project p;
        failing_project(p, "crash_exit");
        KilnRun r = run_kiln_on(p, with({"--parallel"}, method));
        check_failed_run(p, r);
        CHECK(r.contains("exited with code 7"));
        const std::string error = p.report()["failure"]["error"];
        CHECK(error.find("'check'") != std::string::npos);
        CHECK(error.find("code 7") != std::string::npos);
    }
}

TEST_CASE("runners.parallel.crash_waits_for_running_nodes_and_keeps_their_outputs") {
    // boom crashes at once while slowpoke (in the other worker) still sleeps: the run
    // stops scheduling but lets slowpoke finish and persist its output.
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "boom", "func": "testnodes.crash_segv", "inputs": "params:x", "outputs": "z"},
        {"name": "slowpoke", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "sp"},
        {"name": "after", "func": "testnodes.neg", "inputs": "z", "outputs": "y"},
        {"name": "after_slow", "func": "testnodes.neg", "inputs": "sp", "outputs": "w"}
    ]}}})");
    p.parameters(R"({"x": 1, "ms": 800})");
    p.catalog(R"({"sp": {"type": "kiln.JsonDataset", "filepath": "data/sp.json"},
                  "w": {"type": "kiln.JsonDataset", "filepath": "data/w.json"}})");
    KilnRun r = run_kiln_on(p, {"--parallel", "--max-workers", "2"});
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("Node 'boom' failed"));
    CHECK(r.contains("SIGSEGV"));
    CHECK(number_in(p, "data/sp.json") == 800.0);
    CHECK_FALSE(p.exists("data/w.json"));  // nothing new starts after the failure
    CHECK_FALSE(r.contains("Running node: after"));
    auto t = intervals(p.report());
    INFO(timeline_text(t));
    CHECK(t["slowpoke"].status == "completed");
    CHECK(t["boom"].status == "failed");
}

TEST_CASE("runners.parallel.resume_after_a_failure") {
    Project p;
    failing_project(p, "fail_if");
    KilnRun r = run_kiln_on(p, {"--parallel"});
    INFO(r.output);
    REQUIRE(r.exit_code == 1);
    REQUIRE(r.contains("--from-nodes \"prep\""));
    p.parameters(R"({"bonus": 10, "should_fail": false})");
    r = run_kiln_on(p, {"--parallel", "--resume", "--force"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"prep", "check", "final", "tail"});
    CHECK(p.report()["outputs"]["result"] == -10.0);
    CHECK(number_in(p, "data/out.json") == 10.0);
}

TEST_CASE("runners.parallel.single_crash_with_one_worker_does_not_hang") {
    // The only worker dies: the run must end (no worker left to wait for), not hang.
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "a", "func": "testnodes.seed", "outputs": "x"},
        {"name": "boom", "func": "testnodes.crash_abort", "inputs": "x", "outputs": "y"},
        {"name": "b", "func": "testnodes.neg", "inputs": "x", "outputs": "z"},
        {"name": "c", "func": "testnodes.neg", "inputs": "z", "outputs": "u"}
    ]}}})");
    KilnRun r = run_kiln_on(p, {"--parallel", "--max-workers", "1"}, 30s);
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("Node 'boom' failed"));
    CHECK(r.contains("SIGABRT"));
}

// ================================================================== --keep-going

TEST_CASE("runners.keep_going.runs_independent_branches_then_fails") {
    for (const char* runner : {"ThreadRunner", "ParallelRunner"})
        for (const char* workers : {"1", "2", "4"})
            check_keep_going("fail", {"--runner", runner, "--max-workers", workers, "--keep-going"});
}

TEST_CASE("runners.keep_going.parallel_worker_crashes") {
    for (const char* func : {"crash_segv", "crash_abort", "crash_exit"})
        for (const char* workers : {"1", "3"}) {
            INFO(func);
            check_keep_going(func, {"--parallel", "--max-workers", workers, "--keep-going"});
        }
    check_keep_going("crash_segv", {"--parallel", "--max-workers", "2", "--keep-going", "--start-method", "spawn"});
}

// ================================================================== resources

namespace {
// `gpu_nodes` nodes needing gpu=`need` (first in pipeline order, so they compete at once) and
// four CPU nodes.
void resource_project(Project& p, int gpu_nodes, double need) {
    std::string nodes;
    for (int i = 0; i < gpu_nodes; ++i)
        nodes += R"({"name": "a_gpu)" + std::to_string(i) + R"(", "func": "testnodes.sleep_ms", "inputs": "params:gpu_ms",
                   "outputs": "g)" + std::to_string(i) + R"(", "resources": {"gpu": )" + std::to_string(need) + "}},\n";
    for (int i = 0; i < 4; ++i)
        nodes += std::string(i ? ",\n" : "") + R"({"name": "b_cpu)" + std::to_string(i) +
                 R"(", "func": "testnodes.sleep_ms", "inputs": "params:cpu_ms", "outputs": "c)" + std::to_string(i) +
                 R"(", "resources": {"cpu": 1}})";
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [)" + nodes + "]}}}");
    p.parameters(R"({"gpu_ms": 100, "cpu_ms": 400})");
}
}  // namespace

TEST_CASE("runners.resources.gpu_nodes_never_overlap_while_cpu_nodes_do") {
    for (const char* runner : {"ThreadRunner", "ParallelRunner"}) {
        Project p;
        resource_project(p, 3, 1);
        KilnRun r = run_kiln_on(p, {"--runner", runner, "--max-workers", "4", "--resources", "gpu=1"});
        INFO(runner << "\n" << r.output);
        REQUIRE(r.exit_code == 0);
        auto t = intervals(p.report());
        INFO(timeline_text(t));
        REQUIRE(t.size() == 7);
        std::vector<Interval> gpu, cpu;
        for (const auto& [name, i] : t) (name.rfind("a_gpu", 0) == 0 ? gpu : cpu).push_back(i);
        REQUIRE(gpu.size() == 3);
        // Never two gpu nodes at once...
        for (std::size_t i = 0; i < gpu.size(); ++i)
            for (std::size_t j = i + 1; j < gpu.size(); ++j) {
                INFO(gpu[i].name << " and " << gpu[j].name);
                CHECK_FALSE(overlap(gpu[i], gpu[j]));
            }
        // ...while CPU nodes run side by side, and beside a gpu node.
        CHECK(max_concurrency(cpu) >= 2);
        bool gpu_beside_cpu = false;
        for (const auto& g : gpu)
            for (const auto& c : cpu) gpu_beside_cpu = gpu_beside_cpu || overlap(g, c);
        CHECK(gpu_beside_cpu);
    }
}

TEST_CASE("runners.resources.cap_of_two_allows_two_at_once") {
    for (const char* runner : {"ThreadRunner", "ParallelRunner"}) {
        Project p;
        resource_project(p, 4, 1);
        KilnRun r = run_kiln_on(p, {"--runner", runner, "--max-workers", "6", "--resources", "gpu=2,cpu=8"});
        INFO(runner << "\n" << r.output);
        REQUIRE(r.exit_code == 0);
        auto t = intervals(p.report());
        INFO(timeline_text(t));
        std::vector<Interval> gpu;
        for (const auto& [name, i] : t)
            if (name.rfind("a_gpu", 0) == 0) gpu.push_back(i);
        REQUIRE(gpu.size() == 4);
        CHECK(max_concurrency(gpu) <= 2);
    }
}

TEST_CASE("runners.resources.fractional_needs") {
    // Needs of 0.5 under a cap of 1: two at once at most.
    for (const char* runner : {"ThreadRunner", "ParallelRunner"}) {
        Project p;
        resource_project(p, 4, 0.5);
        KilnRun r = run_kiln_on(p, {"--runner", runner, "--max-workers", "8", "--resources", "gpu=1"});
        INFO(runner << "\n" << r.output);
        REQUIRE(r.exit_code == 0);
        auto t = intervals(p.report());
        INFO(timeline_text(t));
        std::vector<Interval> gpu;
        for (const auto& [name, i] : t)
            if (name.rfind("a_gpu", 0) == 0) gpu.push_back(i);
        REQUIRE(gpu.size() == 4);
        CHECK(max_concurrency(gpu) <= 2);
    }
}

TEST_CASE("runners.resources.need_above_the_cap_is_refused_before_running") {
    // Every runner, plugin runners included: the same pipeline is refused the same way.
    for (const char* runner : {"SequentialRunner", "ThreadRunner", "ParallelRunner", "PoolRunner"}) {
        Project p;
        resource_project(p, 1, 2);
        KilnRun r = run_kiln_on(p, {"--runner", runner, "--resources", "gpu=1", "--plugin-path", test_plugins("ext")});
        INFO(runner << "\n" << r.output);
        CHECK(r.exit_code == 2);
        CHECK(r.contains("a_gpu0"));
        CHECK(r.contains("could never run"));
        CHECK_FALSE(r.contains("Running node"));
    }
}

TEST_CASE("runners.resources.malformed_option") {
    for (const char* bad : {"gpu", "gpu=", "=1", "gpu=-1", "gpu=x", "gpu=1x"}) {
        Project p;
        resource_project(p, 1, 1);
        KilnRun r = run_kiln_on(p, {"--parallel", "--resources", bad});
        INFO("--resources " << bad << "\n" << r.output);
        CHECK(r.exit_code == 2);
        CHECK(r.contains("--resources"));
        CHECK_FALSE(r.contains("Running node"));
    }
}

// ================================================================== memory

TEST_CASE("runners.intermediate_values_are_released_after_their_last_consumer") {
    // v is read by use1 and use2, s and hi by step2, t by step3; lo and u are free outputs.
    for (const char* runner : {"SequentialRunner", "ThreadRunner", "ParallelRunner"}) {
        Project p;
        p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
            {"name": "src", "func": "testnodes.range", "inputs": "params:n", "outputs": "v"},
            {"name": "use1", "func": "testnodes.sum", "inputs": "v", "outputs": "s"},
            {"name": "use2", "func": "testnodes.min_max", "inputs": "v", "outputs": ["lo", "hi"]},
            {"name": "step2", "func": "testnodes.add", "inputs": ["s", "hi"], "outputs": "t"},
            {"name": "step3", "func": "testnodes.neg", "inputs": "t", "outputs": "u"}
        ]}}})");
        p.parameters(R"({"n": 5})");
        KilnRun r = run_kiln_on(p, {"--runner", runner, "--max-workers", "2", "-v"});
        INFO(runner << "\n" << r.output);
        REQUIRE(r.exit_code == 0);
        CHECK(p.report()["outputs"]["u"] == -14.0);
        CHECK(p.report()["outputs"]["lo"] == 0.0);
        const std::string& out = r.output;
        const auto rel_v = line_end_pos(out, "Releasing v");
        const auto rel_s = line_end_pos(out, "Releasing s");
        const auto rel_hi = line_end_pos(out, "Releasing hi");
        const auto rel_t = line_end_pos(out, "Releasing t");
        REQUIRE(rel_v != std::string::npos);
        REQUIRE(rel_s != std::string::npos);
        REQUIRE(rel_hi != std::string::npos);
        REQUIRE(rel_t != std::string::npos);
        // Released once, after both readers ran and before what comes after them.
        CHECK(out.find("Releasing v\n", rel_v + 1) == std::string::npos);
        CHECK(rel_v > out.find("Running node: use1"));
        CHECK(rel_v > out.find("Running node: use2"));
        CHECK(rel_v < out.find("Running node: step2"));
        CHECK(rel_s < out.find("Running node: step3"));
        CHECK(rel_hi < out.find("Running node: step3"));
        CHECK(rel_t > out.find("Running node: step3"));
        // Free outputs stay.
        CHECK(line_end_pos(out, "Releasing lo") == std::string::npos);
        CHECK(line_end_pos(out, "Releasing u") == std::string::npos);
    }
}

TEST_CASE("runners.parallel.large_tensor_between_worker_processes") {
    std::size_t free_bytes = 0;
    if (!shm_has_room(std::size_t(1) << 30, &free_bytes)) {
        KILN_SKIP_TEST("/dev/shm has " << (free_bytes >> 20) << " MiB free, this test needs 1 GiB");
    }
    // 4096 x 9600 doubles = 300 MiB, read by two nodes at once (two workers): at least
    // one of them in another process than the producer.
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "big", "func": "testnodes.ones", "inputs": ["params:rows", "params:cols"], "outputs": "t"},
        {"name": "sum_a", "func": "testnodes.tensor_sum", "inputs": "t", "outputs": "a"},
        {"name": "sum_b", "func": "testnodes.tensor_sum", "inputs": "t", "outputs": "b"}
    ]}}})");
    p.parameters(R"({"rows": 4096, "cols": 9600})");
    for (const auto& method : start_methods()) {
        KilnRun r = run_kiln_on(p, with({"--parallel", "--max-workers", "2"}, method), 180s);
        INFO(args_text(method) << "\n" << r.output);
        REQUIRE(r.exit_code == 0);
        json rep = p.report();
        CHECK(rep["outputs"]["a"] == 4096.0 * 9600.0);
        CHECK(rep["outputs"]["b"] == 4096.0 * 9600.0);
        auto t = intervals(rep);
        INFO(timeline_text(t));
        CHECK((t["sum_a"].worker != t["big"].worker || t["sum_b"].worker != t["big"].worker));
    }
}

// ================================================================== endings

TEST_CASE("runners.parallel.sigint_to_kiln_stops_promptly_without_leftovers") {
    for (const auto& method : start_methods()) check_interrupt(SIGINT, false, method);
}

TEST_CASE("runners.parallel.ctrl_c_to_the_process_group_stops_promptly_without_leftovers") {
    for (const auto& method : start_methods()) check_interrupt(SIGINT, true, method);
}

TEST_CASE("runners.parallel.sigterm_stops_promptly_without_leftovers") {
    for (const auto& method : start_methods()) check_interrupt(SIGTERM, false, method);
}

TEST_CASE("runners.parallel.worker_killed_from_outside_names_node_and_signal") {
    // What the OOM killer does: one worker dies by SIGKILL in the middle of its node.
    for (const auto& method : start_methods()) {
        INFO(args_text(method));
        Project p;
        slow_project(p, 3000);
        KilnChild kiln(run_args(p, with({"--parallel", "--max-workers", "2"}, method)));
        start_slow_run(kiln);
        const auto workers = kiln.workers();
        REQUIRE(workers.size() == 2);
        ::kill(workers.front().pid, SIGKILL);
        const int code = kiln.wait_or_fail(30s);
        const std::string out = kiln.output();
        INFO(out);
        CHECK(code == 1);
        CHECK((out.find("Node 'slow1' failed") != std::string::npos || out.find("Node 'slow2' failed") != std::string::npos));
        CHECK(out.find("SIGKILL") != std::string::npos);
        CHECK(out.find("signal 9") != std::string::npos);
        CHECK(out.find("Running node: join") == std::string::npos);
        check_no_leftovers(kiln, "after a worker was killed");
        kiln.reap();
        CHECK(number_in(p, "data/a.json") == 1.0);
    }
}

TEST_CASE("runners.parallel.interrupt_at_any_moment_never_hangs") {
    // Ctrl-C at 100 moments of a run of 3000 small nodes (some 50 ms of running), so that sooner or later it lands while a worker is inside the
    // shared-memory allocator. Each run must end promptly and leave nothing behind. (A
    // stress test: a hang may take more than one run of it to show, but a correct runner
    // never fails it.)
    Project p;
    std::string nodes;
    for (int i = 0; i < 3000; ++i)
        nodes += std::string(i ? ",\n" : "") + R"({"name": "r)" + std::to_string(i) +
                 R"(", "func": "testnodes.range", "inputs": "params:n", "outputs": "v)" + std::to_string(i) + "\"}";
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [)" + nodes + "]}}}");
    p.parameters(R"({"n": 100})");
    // Under ASan, LeakSanitizer's tracer (a clone of the host, made at its exit) can still
    // be in the process group for a moment after the host is gone, and would read as a
    // leftover worker. Leaks are checked by every other test; here the leftover check
    // must see only kiln's own processes.
    const char* old_asan = std::getenv("ASAN_OPTIONS");
    const std::string restore = old_asan ? old_asan : "";
    ::setenv("ASAN_OPTIONS", (restore.empty() ? std::string() : restore + ":").append("detect_leaks=0").c_str(), 1);
    struct RestoreAsanOptions {
        const char* old;
        std::string value;
        ~RestoreAsanOptions() { old ? ::setenv("ASAN_OPTIONS", value.c_str(), 1) : ::unsetenv("ASAN_OPTIONS"); }
    } restore_asan{old_asan, restore};
    int interrupted_runs = 0;
    constexpr int trials = 100;
    for (int trial = 0; trial < trials; ++trial) {
        const auto delay = std::chrono::microseconds((trial % 50) * 1000);
        INFO("trial " << trial << ": SIGINT " << delay.count() << " us after the workers started");
        KilnChild kiln(run_args(p, {"--parallel", "--max-workers", "4", "-q"}));
        // The run starts when the workers exist.
        REQUIRE(poll_until([&] { return kiln.exited() || !kiln.workers().empty(); }, 30s));
        std::this_thread::sleep_for(delay);
        kiln.signal_group(SIGINT);
        const int code = kiln.wait_or_fail(15s);
        const std::string out = kiln.output();
        INFO(out);
        // 1: the runner stopped the run; 0 or 130: the signal came after the runner was done.
        CHECK((code == 0 || code == 1 || code == 130));
        if (out.find("Interrupted") != std::string::npos) ++interrupted_runs;
        check_no_leftovers(kiln, "after SIGINT");
    }
    MESSAGE(interrupted_runs << " of " << trials << " runs were interrupted by the runner");
    CHECK(interrupted_runs >= trials / 4);  // else the test proves little
}

namespace {
void check_host_sigkill(const std::vector<std::string>& method) {
    INFO(args_text(method));
    Project p;
    slow_project(p, 30000);  // a worker outliving its host would sleep on for 30 s
    KilnChild kiln(run_args(p, with({"--parallel", "--max-workers", "2"}, method)));
    start_slow_run(kiln);
    const pid_t dead = kiln.pid();
    const auto workers = kiln.workers();
    REQUIRE(workers.size() == 2);
    // Read while the run is alive: its lock keeps other kilns' clean-up off its segments.
    // Once it is killed, a parallel run of another test (ctest -j) may rightly remove them
    // at any moment, so their presence after the kill is not something to check.
    REQUIRE_MESSAGE(!shm_segments_of(dead).empty(), "expected the live run's segments in /dev/shm");

    kiln.signal(SIGKILL);  // the host alone: its workers get no signal from us
    REQUIRE(kiln.wait_for(10s).has_value());
    // The workers follow their host (PR_SET_PDEATHSIG) at once, not after their nodes.
    const bool gone = poll_until(
        [&] { return std::all_of(workers.begin(), workers.end(), [](const ProcInfo& w) { return has_ended(w); }); },
        5s);
    CHECK_MESSAGE(gone, "workers still running 5 s after their host was killed: " << describe(kiln.group_members()));
    CHECK(kiln.group_members().empty());
    // A SIGKILLed host cannot clean up its segments...
    kiln.reap();  // now its pid is free, so the next run knows the run is dead

    // ...until the next parallel run, of any project, removes them.
    Project other;
    other.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a"},
        {"name": "second", "func": "testnodes.neg", "inputs": "a", "outputs": "b"}
    ]}}})");
    KilnRun r = run_kiln_on(other, {"--parallel"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    const auto still = shm_segments_of(dead);
    CHECK_MESSAGE(still.empty(), "segments of the killed run left after the next run: " << join_names(still));
    // (Another kiln running at the same moment may have removed them first.)
    WARN(r.contains("left by an earlier run"));
}
}  // namespace

TEST_CASE("runners.parallel.host_sigkill_workers_exit_and_next_run_removes_segments") {
    for (const auto& method : start_methods()) check_host_sigkill(method);
}

// ================================================================== logs of spawned workers

TEST_CASE("runners.parallel.spawned_workers_log_running_node_like_forked_ones") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a"},
        {"name": "second", "func": "testnodes.neg", "inputs": "a", "outputs": "b"}
    ]}}})");
    p.catalog(R"({"b": {"type": "kiln.JsonDataset", "filepath": "data/b.json"}})");
    auto count = [](const std::string& text, const std::string& what) {
        std::size_t n = 0;
        for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
        return n;
    };
    for (const auto& method : start_methods()) {
        KilnRun r = run_kiln_on(p, with({"--parallel", "--max-workers", "2"}, method));
        INFO(args_text(method) << "\n" << r.output);
        REQUIRE(r.exit_code == 0);
        CHECK(count(r.output, "Running node: first: testnodes.seed(None) -> [a]") == 1);
        CHECK(count(r.output, "Running node: second: testnodes.neg([a]) -> [b]") == 1);
        CHECK(r.output.find("Running node: first") < r.output.find("Completed node: first"));
        // -v: the worker's dataset saves too, as a forked worker logs them.
        KilnRun v = run_kiln_on(p, with({"--parallel", "--max-workers", "2", "-v"}, method));
        INFO(v.output);
        CHECK(count(v.output, "Running node: second") == 1);
        CHECK(count(v.output, "Saving data to b (JsonDataset(") == 1);
        // -q: neither.
        KilnRun q = run_kiln_on(p, with({"--parallel", "--max-workers", "2", "-q"}, method));
        INFO(q.output);
        CHECK(q.exit_code == 0);
        CHECK(count(q.output, "Running node") == 0);
    }
}

// ================================================================== temporary files

namespace {

// "save" (seed) writes data/a.json through testnodes.SlowSaveDataset, which holds its
// temporary file for `pause_ms`; "slow" sleeps 30 s beside it so the run is still busy.
void slow_save_project(Project& p, int pause_ms) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "save", "func": "testnodes.seed", "outputs": "a"},
        {"name": "slow", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "x"},
        {"name": "after", "func": "testnodes.neg", "inputs": "a", "outputs": "b"}
    ]}}})");
    p.parameters(R"({"ms": 30000})");
    p.catalog(R"({"a": {"type": "testnodes.SlowSaveDataset", "filepath": "data/a.json", "pause_ms": )" +
              std::to_string(pause_ms) + "}}");
}

std::vector<std::string> temp_files_in(const Project& p) {
    std::vector<std::string> out;
    if (!fs::exists(p / "data")) return out;
    for (const auto& e : fs::recursive_directory_iterator(p / "data"))
        if (e.path().filename().string().find(".kiln-tmp-") != std::string::npos) out.push_back(e.path().string());
    return out;
}

// Waits until a worker is inside the slow save (its temporary file exists).
void wait_for_save_in_progress(KilnChild& kiln, const Project& p) {
    const bool saving = poll_until([&] { return kiln.exited() || !temp_files_in(p).empty(); }, 30s);
    INFO(kiln.output());
    REQUIRE_MESSAGE(saving, "the slow save did not start within 30 s");
    REQUIRE_MESSAGE(!kiln.exited(), "kiln ended before the test could act");
}

}  // namespace

TEST_CASE("runners.parallel.interrupt_lets_a_save_in_progress_finish") {
    // Ctrl-C while a worker is 0.6 s from the end of a save: the worker finishes that node
    // (the grace period is 2 s), so the file is whole, no temporary is left, and the run
    // record counts the node as done; the 30 s node is stopped.
    for (bool whole_group : {false, true})
        for (const auto& method : start_methods()) {
            INFO(args_text(method) << (whole_group ? " (SIGINT to the process group)" : " (SIGINT to kiln)"));
            Project p;
            slow_save_project(p, 600);
            KilnChild kiln(run_args(p, with({"--parallel", "--max-workers", "2"}, method)));
            wait_for_save_in_progress(kiln, p);
            if (whole_group) kiln.signal_group(SIGINT);
            else kiln.signal(SIGINT);
            const int code = kiln.wait_or_fail(15s);  // the slow node would take 30 s
            const std::string out = kiln.output();
            INFO(out);
            CHECK(code == 128 + SIGINT);
            check_no_leftovers(kiln, "after SIGINT");
            kiln.reap();
            CHECK(number_in(p, "data/a.json") == 1.0);
            CHECK_MESSAGE(temp_files_in(p).empty(), "left: " << join_names(temp_files_in(p)));
            CHECK(out.find("Completed node: save") != std::string::npos);
            CHECK(out.find("Running node: after") == std::string::npos);  // nothing new starts
            json record = p.json_file(".kiln/last_run.json");
            CHECK(record["status"] == "interrupted");
            CHECK(record["done"] == json::array({"save"}));
        }
}

TEST_CASE("runners.parallel.interrupt_stops_a_save_that_outlasts_the_grace_without_leaving_its_temporary") {
    // A save that would take 30 s more: its worker is killed after the grace period, and
    // the temporary file it was writing is removed. SIGTERM to the whole process group (a
    // service manager) reaches the workers too, which leave the decision to the host.
    for (int sig : {SIGINT, SIGTERM})
        for (const auto& method : start_methods()) {
            INFO(args_text(method) << " signal " << sig << " to the process group");
            Project p;
            slow_save_project(p, 30000);
            KilnChild kiln(run_args(p, with({"--parallel", "--max-workers", "2"}, method)));
            wait_for_save_in_progress(kiln, p);
            kiln.signal_group(sig);
            const int code = kiln.wait_or_fail(15s);
            const std::string out = kiln.output();
            INFO(out);
            CHECK(code == 128 + sig);
            CHECK(out.find("Interrupted (signal " + std::to_string(sig) + ")") != std::string::npos);
            check_no_leftovers(kiln, "after the signal");
            kiln.reap();
            CHECK_FALSE(p.exists("data/a.json"));
            CHECK_MESSAGE(temp_files_in(p).empty(), "left: " << join_names(temp_files_in(p)));
            CHECK(p.json_file(".kiln/last_run.json")["done"] == json::array());
        }
}

TEST_CASE("runners.parallel.a_second_interrupt_ends_the_grace_at_once") {
    Project p;
    slow_save_project(p, 30000);
    KilnChild kiln(run_args(p, {"--parallel", "--max-workers", "2"}));
    wait_for_save_in_progress(kiln, p);
    kiln.signal(SIGINT);
    REQUIRE(poll_until([&] { return kiln.exited() || kiln.contains("Waiting up to"); }, 10s));
    kiln.signal(SIGINT);
    const int code = kiln.wait_or_fail(15s);
    INFO(kiln.output());
    CHECK(code == 128 + SIGINT);
    check_no_leftovers(kiln, "after two SIGINTs");
    kiln.reap();
    CHECK_MESSAGE(temp_files_in(p).empty(), "left: " << join_names(temp_files_in(p)));
}

TEST_CASE("runners.parallel.worker_killed_mid_save_leaves_no_temporary") {
    // The OOM killer strikes a worker inside a save: the run fails naming the node, and the
    // host removes the temporary file the worker was writing.
    for (const auto& method : start_methods()) {
        INFO(args_text(method));
        Project p;
        slow_save_project(p, 30000);
        p.parameters(R"({"ms": 10})");
        KilnChild kiln(run_args(p, with({"--parallel", "--max-workers", "2"}, method)));
        wait_for_save_in_progress(kiln, p);
        const auto temps = temp_files_in(p);
        REQUIRE(temps.size() == 1);
        // The writer's pid is in the name: <file>.kiln-tmp-<pid>-<n>.
        const std::string name = fs::path(temps.front()).filename().string();
        const std::string rest = name.substr(name.find(".kiln-tmp-") + 10);
        const pid_t writer = static_cast<pid_t>(std::stol(rest.substr(0, rest.find('-'))));
        ::kill(writer, SIGKILL);
        const int code = kiln.wait_or_fail(30s);
        const std::string out = kiln.output();
        INFO(out);
        CHECK(code == 1);
        CHECK(out.find("Node 'save' failed") != std::string::npos);
        CHECK(out.find("SIGKILL") != std::string::npos);
        check_no_leftovers(kiln, "after a worker was killed mid-save");
        kiln.reap();
        CHECK_FALSE(p.exists("data/a.json"));
        CHECK_MESSAGE(temp_files_in(p).empty(), "left: " << join_names(temp_files_in(p)));
    }
}

TEST_CASE("runners.whole_run_sigkilled_mid_save_next_run_removes_the_temporary") {
    // SIGKILL to the whole process group (host and workers) inside a save: nobody can
    // clean up, so the next run does, before running anything.
    for (const auto& args : std::vector<std::vector<std::string>>{{}, {"--parallel", "--max-workers", "2"}}) {
        INFO(args_text(args));
        Project p;
        slow_save_project(p, 30000);
        KilnChild kiln(run_args(p, args));
        wait_for_save_in_progress(kiln, p);
        kiln.signal_group(SIGKILL);
        REQUIRE(kiln.wait_for(10s).has_value());
        REQUIRE(poll_until([&] { return kiln.group_members().empty(); }, 10s));
        kiln.reap();
        const auto left = temp_files_in(p);
        REQUIRE_MESSAGE(left.size() == 1, "a SIGKILLed save leaves its temporary: " << join_names(left));
        // One of a live process (this test) that is being written now stays.
        const fs::path live = p / ("data/live.json.kiln-tmp-" + std::to_string(::getpid()) + "-0");
        std::ofstream(live) << "in progress";

        slow_save_project(p, 0);
        KilnRun r = run_kiln_on(p, {"-v", "--nodes", "save"});
        INFO(r.output);
        CHECK(r.exit_code == 0);
        const std::string left_name = fs::path(left.front()).filename().string();
        CHECK(r.contains(left_name + ": a temporary file of an earlier run whose process no longer runs"));
        CHECK(number_in(p, "data/a.json") == 1.0);
        CHECK(temp_files_in(p) == std::vector<std::string>{live.string()});
        // Before anything ran: the removal is logged ahead of the first node.
        CHECK(r.output.find(left_name) < r.output.find("Running node: save"));
    }
}

}  // namespace runners_test_cases
