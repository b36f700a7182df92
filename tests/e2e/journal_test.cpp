// The run journal and --resume, end to end, under every runner (Sequential, Thread,
// Parallel forked and spawned, a plugin runner): a crash inside a node (segfault, abort,
// exit) names the node and is resumed; Ctrl-C and SIGTERM end with 130 / 143, the record
// and the hint; SIGKILL of kiln at random moments is resumed to outputs identical to an
// uninterrupted run; --resume replays the run's own options and refuses a changed project.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "common_projects.hpp"
#include "kiln_child.hpp"
#include "project_builder.hpp"

using namespace kiln::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using nlohmann::json;

namespace journal_test_cases {

namespace {

struct Run {
    int exit_code = -1;
    std::string output;
    bool contains(const std::string& s) const { return output.find(s) != std::string::npos; }
};

std::vector<std::string> with_project(const Project& p, const std::vector<std::string>& args, bool plugins = true) {
    std::vector<std::string> all = {"run", "--project", p.dir(), "--report", p.report_path()};
    if (plugins) all.insert(all.end(), {"--plugin-path", test_plugins("good")});
    all.insert(all.end(), args.begin(), args.end());
    return all;
}

// kiln as a child process with a bounded wait; afterwards nothing of it may be left.
Run run(const Project& p, const std::vector<std::string>& args, const std::vector<std::string>& env = {},
        bool plugins = true) {
    std::error_code ec;
    fs::remove(p.report_path(), ec);
    KilnChild kiln(with_project(p, args, plugins), env);
    Run r;
    r.exit_code = kiln.wait_or_fail(60s);
    r.output = kiln.output();
    CHECK_MESSAGE(kiln.group_members().empty(), "processes left: " << describe(kiln.group_members()));
    CHECK_MESSAGE(shm_segments_of(kiln.pid()).empty(), "segments left: " << join_names(shm_segments_of(kiln.pid())));
    kiln.reap();
    return r;
}

// load -> a (a.json) -> bump = unreliable(a) -> b (memory) -> last = neg(b) -> c (c.json);
// side = add(a, params:bonus) -> s (s.json).
void crash_project(Project& p) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "load", "func": "testnodes.seed", "outputs": "a"},
        {"name": "bump", "func": "testnodes.unreliable", "inputs": "a", "outputs": "b"},
        {"name": "last", "func": "testnodes.neg", "inputs": "b", "outputs": "c"},
        {"name": "side", "func": "testnodes.add", "inputs": {"a": "a", "b": "params:bonus"}, "outputs": "s"}
    ]}}})");
    p.parameters(R"({"bonus": 10})");
    p.catalog(R"({
        "a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"},
        "c": {"type": "kiln.JsonDataset", "filepath": "data/c.json"},
        "s": {"type": "kiln.JsonDataset", "filepath": "data/s.json"}
    })");
}

const std::vector<std::vector<std::string>>& every_runner() {
    static const std::vector<std::vector<std::string>> runners = {
        {"--runner", "SequentialRunner"},
        {"--runner", "ThreadRunner", "--max-workers", "2"},
        {"--parallel", "--max-workers", "2"},
        {"--parallel", "--max-workers", "2", "--start-method", "spawn"},
        {"--runner", "PoolRunner", "--max-workers", "2", "--plugin-path", test_plugins("ext")},
    };
    return runners;
}

std::string label(const std::vector<std::string>& args) {
    std::string s;
    for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
    return s;
}

}  // namespace

TEST_CASE("journal.crash_in_a_node_is_named_and_resumed_under_every_runner") {
    for (const auto& runner : every_runner()) {
        for (std::string how : {"segv", "abort", "exit", "exit0", "throw"}) {
            CAPTURE(label(runner));
            CAPTURE(how);
            Project p;
            crash_project(p);
            Run first = run(p, runner, {"TESTNODES_FAIL=" + how});
            INFO(first.output);
            CHECK(first.exit_code != 0);
            CHECK(first.contains("'bump'"));
            if (how == "segv") CHECK(first.contains("SIGSEGV"));
            if (how == "abort") CHECK(first.contains("SIGABRT"));
            if (how == "exit") CHECK(first.contains("exit"));
            CHECK(first.contains("run --resume --project " + p.dir()));
            CHECK(number_in(p, "data/a.json") == 1.0);
            CHECK_FALSE(p.exists("data/c.json"));

            Run second = run(p, {"--resume"});
            INFO(second.output);
            CHECK(second.exit_code == 0);
            CHECK(second.contains((runner[0] == "--parallel" ? std::string("ParallelRunner") : runner[1])));
            // bump's input a is persisted: load does not run again; side may already have.
            std::vector<std::string> ran = p.ran_nodes();
            CHECK(std::find(ran.begin(), ran.end(), "load") == ran.end());
            CHECK(std::find(ran.begin(), ran.end(), "bump") != ran.end());
            CHECK(std::find(ran.begin(), ran.end(), "last") != ran.end());
            CHECK(number_in(p, "data/c.json") == -2.0);
            CHECK(number_in(p, "data/s.json") == 11.0);
            CHECK(p.files_containing(".kiln-tmp-").empty());

            Run third = run(p, {"--resume"});
            CHECK(third.exit_code == 0);
            CHECK(third.contains("nothing to resume"));
        }
    }
}

TEST_CASE("journal.exit_inside_a_node_never_exits_0") {
    Project p;
    crash_project(p);
    Run r = run(p, {}, {"TESTNODES_FAIL=exit0"});
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.contains("node 'bump' called exit(0) while running"));
}

TEST_CASE("journal.interrupt_ends_with_130_or_143_under_every_runner") {
    for (const auto& runner : every_runner()) {
        for (int sig : {SIGINT, SIGTERM}) {
            CAPTURE(label(runner));
            CAPTURE(sig);
            Project p;
            p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
                {"name": "slow", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "t"},
                {"name": "after", "func": "testnodes.neg", "inputs": "t", "outputs": "u"}
            ]}}})");
            p.parameters(R"({"ms": 1500})");
            p.catalog(R"({"t": {"type": "kiln.JsonDataset", "filepath": "data/t.json"},
                          "u": {"type": "kiln.JsonDataset", "filepath": "data/u.json"}})");
            std::error_code ec;
            fs::remove(p.report_path(), ec);
            KilnChild kiln(with_project(p, runner));
            // Under the ParallelRunner the host does not log "Running node"; wait for the
            // run to have started either way.
            REQUIRE(poll_until([&] { return kiln.contains("Running node: slow") || kiln.contains("worker processes"); },
                               20s));
            std::this_thread::sleep_for(200ms);
            if (sig == SIGINT) kiln.signal_group(sig);  // Ctrl-C reaches the whole group
            else kiln.signal(sig);
            const int code = kiln.wait_or_fail(30s);
            const std::string out = kiln.output();
            INFO(out);
            CHECK(code == 128 + sig);
            CHECK(out.find("interrupted") != std::string::npos);
            CHECK(out.find("run --resume --project " + p.dir()) != std::string::npos);
            CHECK(kiln.group_members().empty());
            kiln.reap();
            json rep = p.report();
            REQUIRE(rep.is_object());
            CHECK(rep["status"] == "interrupted");
            CHECK_FALSE(p.exists("data/u.json"));
            CHECK(p.files_containing(".kiln-tmp-").empty());

            p.parameters(R"({"ms": 1500})");  // rewritten identically: still the same project
            Run resumed = run(p, {"--resume"});
            INFO(resumed.output);
            CHECK(resumed.exit_code == 0);
            CHECK(number_in(p, "data/u.json") == -1500.0);
        }
    }
}

TEST_CASE("journal.sigkill_at_random_moments_then_resume_gives_identical_outputs") {
    // A chain of persisted nodes with short sleeps, killed at a random moment, resumed
    // until it completes; the outputs must equal those of a run never interrupted.
    auto make = [](Project& p) {
        std::string nodes;
        for (int i = 0; i < 6; ++i) {
            const std::string in = i == 0 ? "params:start" : "v" + std::to_string(i - 1);
            nodes += std::string(i ? "," : "") + R"({"name": "n)" + std::to_string(i) +
                     R"(", "func": "testnodes.add", "inputs": {"a": ")" + in + R"(", "b": "params:step"}, "outputs": "v)" +
                     std::to_string(i) + R"("})";
            nodes += R"(,{"name": "w)" + std::to_string(i) + R"(", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "z)" +
                     std::to_string(i) + R"("})";
        }
        p.pipelines(R"({"pipelines": {"__default__": {"nodes": [)" + nodes + "]}}}");
        p.parameters(R"({"start": 1, "step": 2, "ms": 15})");
        std::string catalog;
        for (int i = 0; i < 6; ++i)
            catalog += std::string(i ? "," : "") + R"("v)" + std::to_string(i) + R"(": {"type": "kiln.JsonDataset", "filepath": "data/v)" +
                       std::to_string(i) + R"(.json"}, "z)" + std::to_string(i) +
                       R"(": {"type": "kiln.JsonDataset", "filepath": "data/z)" + std::to_string(i) + R"(.json"})";
        p.catalog("{" + catalog + "}");
    };
    auto outputs = [](const Project& p) {
        std::map<std::string, std::string> files;
        for (const auto& e : fs::directory_iterator(p / "data")) files[e.path().filename().string()] = read_text(e.path());
        return files;
    };
    Project reference;
    make(reference);
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(run(reference, {}).exit_code == 0);
    // Kill moments spread over the whole run, start-up included (slower under sanitizers).
    const int run_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
    const auto want = outputs(reference);
    REQUIRE(want.size() == 12);

    std::mt19937 rng(20261128);
    const std::vector<std::vector<std::string>> runners = {
        {}, {"--runner", "ThreadRunner", "--max-workers", "3"}, {"--parallel", "--max-workers", "2"}};
    int killed_mid_run = 0;
    for (int round = 0; round < 105; ++round) {
        const auto& runner = runners[round % runners.size()];
        CAPTURE(round);
        CAPTURE(label(runner));
        Project p;
        make(p);
        {
            std::error_code ec;
            fs::remove(p.report_path(), ec);
            KilnChild kiln(with_project(p, runner));
            std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, run_ms)(rng)));
            if (!kiln.exited()) ++killed_mid_run;
            kiln.kill_everything();
        }
        const fs::path journal = p / ".kiln/journal";
        Run resumed;
        if (fs::exists(journal)) {
            resumed = run(p, {"--resume"});
        } else {
            resumed = run(p, runner);  // killed before any node started: nothing to resume
        }
        INFO(resumed.output);
        REQUIRE(resumed.exit_code == 0);
        CHECK(outputs(p) == want);
        CHECK(p.files_containing(".kiln-tmp-").empty());
    }
    MESSAGE("killed mid-run in " << killed_mid_run << " of 105 rounds (an uninterrupted run took " << run_ms << " ms)");
    CHECK(killed_mid_run > 40);
}

TEST_CASE("journal.resume_replays_params_runner_and_plugin_path") {
    Project p;
    crash_project(p);
    // No --plugin-path given to --resume: the journal keeps it.
    // --keep-going, so that side surely runs despite bump's failure (and is replayed too).
    Run first = run(p, {"--plugin-path", test_plugins("good"), "--params", "bonus=100", "--runner", "ThreadRunner",
                        "--max-workers", "2", "--keep-going"},
                    {"TESTNODES_FAIL=throw"}, false);
    INFO(first.output);
    REQUIRE(first.exit_code == 1);
    CHECK(number_in(p, "data/s.json") == 101.0);
    fs::remove(p / "data/s.json");  // side must run again, with the same bonus

    Run second = run(p, {"--resume"}, {}, false);
    INFO(second.output);
    CHECK(second.exit_code == 0);
    CHECK(second.contains("with ThreadRunner"));
    CHECK(second.contains("Node 'side' runs again: its output 's'"));
    CHECK(number_in(p, "data/s.json") == 101.0);  // bonus=100 again, not parameters.json's 10
    CHECK(number_in(p, "data/c.json") == -2.0);
    CHECK(p.report()["runner"] == "ThreadRunner");
}

TEST_CASE("journal.resume_with_the_same_options_typed_again_works_and_other_options_are_refused") {
    Project p;
    crash_project(p);
    REQUIRE(run(p, {"--params", "bonus=5"}, {"TESTNODES_FAIL=throw"}).exit_code == 1);
    Run other = run(p, {"--resume", "--params", "bonus=6"});
    INFO(other.output);
    CHECK(other.exit_code == 2);
    CHECK(other.contains("--params cannot be combined with it"));
    CHECK_FALSE(other.contains("Running node"));
    Run same = run(p, {"--resume", "--params", "bonus=5"});
    INFO(same.output);
    CHECK(same.exit_code == 0);
}

TEST_CASE("journal.resume_is_refused_after_the_project_changed") {
    Project p;
    crash_project(p);
    REQUIRE(run(p, {}, {"TESTNODES_FAIL=throw"}).exit_code == 1);
    p.parameters(R"({"bonus": 20})");
    Run refused = run(p, {"--resume"});
    INFO(refused.output);
    CHECK(refused.exit_code == 2);
    CHECK(refused.contains("the project changed since it was interrupted"));
    CHECK(refused.contains("parameters.json changed"));
    CHECK(refused.contains("--force"));
    CHECK_FALSE(refused.contains("Running node"));

    Run forced = run(p, {"--resume", "--force"});
    INFO(forced.output);
    CHECK(forced.exit_code == 0);
    CHECK(forced.contains("although the project changed"));
}

TEST_CASE("journal.resume_is_refused_after_a_plugin_was_rebuilt") {
    Project p;
    crash_project(p);
    fs::create_directories(p / "myplugins");
    fs::copy_file(test_plugins("good") + "/testnodes.so", p / "myplugins/testnodes.so");
    REQUIRE(run(p, {"--plugin-path", (p / "myplugins").string()}, {"TESTNODES_FAIL=throw"}, false).exit_code == 1);
    // A rebuild: same path, new bytes and time.
    fs::remove(p / "myplugins/testnodes.so");
    std::this_thread::sleep_for(20ms);
    fs::copy_file(test_plugins("good") + "/testnodes.so", p / "myplugins/testnodes.so");
    Run refused = run(p, {"--resume"}, {}, false);
    INFO(refused.output);
    CHECK(refused.exit_code == 2);
    CHECK(refused.contains("plugin 'testnodes'"));
    CHECK(refused.contains("was rebuilt or replaced"));
}

TEST_CASE("journal.an_output_changed_after_it_was_written_is_not_trusted") {
    Project p;
    crash_project(p);
    REQUIRE(run(p, {}, {"TESTNODES_FAIL=throw"}).exit_code == 1);
    REQUIRE(number_in(p, "data/a.json") == 1.0);
    p.write("data/a.json", "41\n");  // not what load wrote
    Run r = run(p, {"--resume"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.contains("Node 'load' runs again"));
    CHECK(number_in(p, "data/a.json") == 1.0);
    CHECK(number_in(p, "data/c.json") == -2.0);
}

TEST_CASE("journal.printed_resume_commands_paste_into_a_shell") {
    // A project folder whose name needs quoting.
    Project outer;
    const fs::path dir = outer / "my project's $dir";
    fs::create_directories(dir);
    Project p;
    crash_project(p);
    for (const char* f : {"pipelines.json", "catalog.json", "parameters.json"}) fs::copy_file(p / f, dir / f);
    std::error_code ec;
    KilnChild kiln({"run", "--project", dir.string(), "--plugin-path", test_plugins("good"), "--params", "bonus=3"},
                   {"TESTNODES_FAIL=throw"});
    REQUIRE(kiln.wait_or_fail(60s) == 1);
    const std::string out = kiln.output();
    INFO(out);
    kiln.reap();
    // Both printed commands: from the nearest persisted nodes, and --resume.
    for (const std::string marker : {"persisted inputs:\n  ", "journal is in "}) {
        auto at = out.find(marker);
        REQUIRE(at != std::string::npos);
        at += marker.size();
        if (marker == "journal is in ") at = out.find("\n  ", at) + 3;
        const std::string command = out.substr(at, out.find('\n', at) - at);
        INFO(command);
        const int status = std::system(("env -u KILN_PLUGIN_PATH " + command + " > /dev/null 2>&1").c_str());
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
    CHECK(fs::exists(dir / "data/c.json"));
}

TEST_CASE("journal.spawned_workers_run_the_hosts_plan_not_an_edited_file") {
    // One worker: slow runs, then boom kills the worker, and late runs on a worker spawned
    // after parameters.json was edited. It must still see the run's bonus.
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "slow", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "t"},
        {"name": "boom", "func": "testnodes.crash_abort", "inputs": "t", "outputs": "x"},
        {"name": "late", "func": "testnodes.add", "inputs": {"a": "t", "b": "params:bonus"}, "outputs": "l"}
    ]}}})");
    p.parameters(R"({"ms": 800, "bonus": 10})");
    p.catalog(R"({"l": {"type": "kiln.JsonDataset", "filepath": "data/l.json"}})");
    std::error_code ec;
    fs::remove(p.report_path(), ec);
    KilnChild kiln(with_project(p, {"--parallel", "--start-method", "spawn", "--max-workers", "1", "--keep-going"}));
    REQUIRE(poll_until([&] { return kiln.contains("worker processes"); }, 20s));
    p.parameters(R"({"ms": 800, "bonus": 1000})");
    const int code = kiln.wait_or_fail(60s);
    const std::string out = kiln.output();
    INFO(out);
    kiln.reap();
    CHECK(code == 1);
    CHECK(out.find("node 'boom' crashed") != std::string::npos);
    CHECK(number_in(p, "data/l.json") == 810.0);
}

TEST_CASE("journal.force_without_resume_is_a_usage_error") {
    Project p;
    crash_project(p);
    Run r = run(p, {"--force"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("--force only applies to --resume"));
    CHECK_FALSE(r.contains("Running node"));
}

TEST_CASE("journal.a_journal_without_a_readable_invocation_is_refused") {
    Project p;
    crash_project(p);
    std::string header = R"({"nodes": ["load"], "invocation": {"pipeline": 3}})";
    std::string first = "KILN-JOURNAL 1 4096\n";
    std::string text = first + header + "\n";
    text.resize(4096, '\n');
    p.write(".kiln/journal", text);
    Run r = run(p, {"--resume"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains(".kiln/journal: the interrupted run's invocation cannot be read"));
    CHECK(r.contains("without --resume"));
}

TEST_CASE("journal.a_run_that_cannot_write_its_journal_still_runs_and_says_so") {
    Project p;
    crash_project(p);
    p.write(".kiln", "a file where kiln keeps its folder\n");
    Run r = run(p, {});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.contains("cannot write the run journal"));
    CHECK(r.contains("this run cannot be resumed with --resume"));
    CHECK(number_in(p, "data/c.json") == -2.0);
}

// A node that overflows its stack is named, on the main thread and on one of the
// ThreadRunner's own threads (each has a signal stack), and the run resumed.
TEST_CASE("journal.stack_overflow_is_named_on_any_thread") {
    SUBCASE("main thread") {
        Project p;
        crash_project(p);
        Run first = run(p, {"--runner", "SequentialRunner"}, {"TESTNODES_FAIL=overflow"});
        INFO(first.output);
        CHECK(first.exit_code != 0);
        CHECK(first.contains("node 'bump' crashed: signal 11 (SIGSEGV)"));
        Run second = run(p, {"--resume"});
        INFO(second.output);
        CHECK(second.exit_code == 0);
        CHECK(number_in(p, "data/c.json") == -2.0);
    }
    SUBCASE("a pool thread") {
        // Six nodes that overflow on any thread but the main one (where they succeed).
        Project p;
        std::string nodes = R"({"name": "load", "func": "testnodes.seed", "outputs": "a"})";
        for (int k = 1; k <= 6; ++k)
            nodes += R"(, {"name": "deep)" + std::to_string(k) + R"(", "func": "testnodes.unreliable", "inputs": "a",
                          "outputs": "d)" + std::to_string(k) + R"("})";
        p.pipelines(R"({"pipelines": {"__default__": {"nodes": [)" + nodes + "]}}}");
        p.catalog(R"({"a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"}})");
        Run first = run(p, {"--runner", "ThreadRunner", "--max-workers", "4"}, {"TESTNODES_FAIL=overflow_off_main"});
        INFO(first.output);
        CHECK(first.exit_code != 0);
        CHECK(first.contains("crashed: signal 11 (SIGSEGV)"));
        CHECK(first.contains("node 'deep"));
        Run second = run(p, {"--resume"});
        INFO(second.output);
        CHECK(second.exit_code == 0);
    }
}

}  // namespace journal_test_cases
