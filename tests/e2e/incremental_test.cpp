// Incremental runs end to end (`kiln run --incremental`, `kiln status`, `kiln explain`):
// nothing changed runs nothing; a parameter, an input file's content, a deleted output, a
// rebuilt plugin each make exactly the affected nodes run, and explain says what changed;
// a touch without a content change, and a rebuild of a node with a declared version, run
// nothing; a crash or SIGKILL in the middle never makes a stale node look current; a node
// a hook gave other inputs is never current.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "common_projects.hpp"
#include "kiln_child.hpp"
#include "kiln_process.hpp"
#include "project_builder.hpp"
#include "test_support.hpp"

using namespace kiln::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace incremental_test_cases {

namespace {

// scale = in * k -> data/scaled.json; flip = -scaled (in memory); keep = flip -> data/out.json;
// side = -side_in -> data/side.json, a branch of its own.
void chain_project(Project& p) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "scale", "func": "testnodes.mul", "inputs": {"a": "in", "b": "params:k"}, "outputs": "scaled"},
        {"name": "flip", "func": "testnodes.neg", "inputs": "scaled", "outputs": "flipped"},
        {"name": "keep", "func": "testnodes.identity", "inputs": "flipped", "outputs": "out"},
        {"name": "side", "func": "testnodes.neg", "inputs": "side_in", "outputs": "side"}
    ]}}})");
    p.catalog(R"({
        "in": {"type": "kiln.JsonDataset", "filepath": "data/in.json"},
        "side_in": {"type": "kiln.JsonDataset", "filepath": "data/side_in.json"},
        "scaled": {"type": "kiln.JsonDataset", "filepath": "data/scaled.json"},
        "out": {"type": "kiln.JsonDataset", "filepath": "data/out.json"},
        "side": {"type": "kiln.JsonDataset", "filepath": "data/side.json"}
    })");
    p.parameters(R"({"k": 2})");
    p.write("data/in.json", "3");
    p.write("data/side_in.json", "5");
}

KilnResult kiln_in(const Project& p, const std::string& command, std::vector<std::string> args = {},
                   const std::vector<std::string>& env = {}) {
    std::vector<std::string> all = {command, "--project", p.dir(), "--plugin-path", test_plugins("good")};
    all.insert(all.end(), args.begin(), args.end());
    return run_kiln(all, env);
}

KilnResult incremental(const Project& p, std::vector<std::string> args = {}, const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), "--incremental");
    return p.run(args, env);
}

}  // namespace

TEST_CASE("incremental.nothing_changed_runs_nothing") {
    Project p;
    chain_project(p);
    auto first = incremental(p);
    INFO(first.output);
    REQUIRE(first.exit_code == 0);
    CHECK(first.contains("No node fingerprints recorded yet"));
    CHECK(p.ran_nodes() == Names{"scale", "side", "flip", "keep"});
    CHECK(number_in(p, "data/out.json") == -6.0);

    auto second = incremental(p);
    INFO(second.output);
    REQUIRE(second.exit_code == 0);
    CHECK(p.ran_nodes().empty());
    CHECK(second.contains("0 of 4 nodes are stale"));
    CHECK(p.skipped() == std::map<std::string, std::string>{{"scale", "up to date (--incremental)"},
                                                             {"flip", "up to date (--incremental)"},
                                                             {"keep", "up to date (--incremental)"},
                                                             {"side", "up to date (--incremental)"}});
    auto status = kiln_in(p, "status");
    INFO(status.output);
    CHECK(status.exit_code == 0);
    CHECK(status.contains("0 stale, 0 needed for their in-memory outputs, 4 up to date (of 4 nodes)"));
    CHECK(status.contains("  up to date  keep\n"));
    auto why = kiln_in(p, "explain", {"keep"});
    INFO(why.output);
    CHECK(why.exit_code == 0);
    CHECK(why.contains("Node 'keep' is up to date: `kiln run --incremental` skips it."));
    CHECK(why.contains("Output 'out': data/out.json"));
}

TEST_CASE("incremental.plain_runs_record_fingerprints_once_the_project_keeps_them") {
    Project p;
    chain_project(p);
    // A project that never ran --incremental has no store, and plain runs cost nothing more.
    REQUIRE(p.run().exit_code == 0);
    CHECK_FALSE(p.exists(".kiln/fingerprints"));
    REQUIRE(incremental(p).exit_code == 0);
    CHECK(p.ran_nodes().size() == 4);
    // From then on a plain run keeps them current: what it ran is not run again.
    REQUIRE(p.run({"--params", "k=3"}).exit_code == 0);
    auto again = incremental(p, {"--params", "k=3"});
    INFO(again.output);
    REQUIRE(again.exit_code == 0);
    CHECK(p.ran_nodes().empty());
}

TEST_CASE("incremental.a_parameter_change_runs_the_nodes_that_read_it_and_downstream") {
    Project p;
    chain_project(p);
    REQUIRE(incremental(p).exit_code == 0);
    auto status = kiln_in(p, "status", {"--params", "k=4"});
    INFO(status.output);
    CHECK(status.contains("  stale       scale: parameter 'params:k' changed: 2 -> 4\n"));
    CHECK(status.contains("  stale       flip: input 'scaled' (data/scaled.json) is written again by stale node 'scale'"));
    CHECK(status.contains("  up to date  side\n"));
    auto why = kiln_in(p, "explain", {"scale", "--params", "k=4"});
    INFO(why.output);
    CHECK(why.contains("Node 'scale' is stale, so `kiln run --incremental` runs it:\n  - parameter 'params:k' changed: 2 -> 4\n"));

    auto changed = incremental(p, {"--params", "k=4"});
    INFO(changed.output);
    REQUIRE(changed.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"scale", "flip", "keep"});
    CHECK(number_in(p, "data/out.json") == -12.0);
    // Recorded with k=4 now: the same command runs nothing; going back to 2 runs them again.
    REQUIRE(incremental(p, {"--params", "k=4"}).exit_code == 0);
    CHECK(p.ran_nodes().empty());
    REQUIRE(incremental(p).exit_code == 0);
    CHECK(p.ran_nodes() == Names{"scale", "flip", "keep"});
}

TEST_CASE("incremental.an_input_edit_runs_its_readers_and_a_touch_runs_nothing") {
    Project p;
    chain_project(p);
    REQUIRE(incremental(p).exit_code == 0);

    // The same content, a new mtime: hashed again, found unchanged.
    fs::last_write_time(p / "data/in.json", fs::last_write_time(p / "data/in.json") + 5s);
    auto touched = incremental(p);
    INFO(touched.output);
    REQUIRE(touched.exit_code == 0);
    CHECK(p.ran_nodes().empty());
    CHECK(touched.contains("1 files hashed"));
    auto after_touch = incremental(p);  // its record now has the new mtime: nothing to hash
    INFO(after_touch.output);
    CHECK(after_touch.contains("0 files hashed"));

    p.write("data/side_in.json", "7");
    auto why = kiln_in(p, "explain", {"side"});
    INFO(why.output);
    CHECK(why.contains("  - input 'side_in' (data/side_in.json) changed: content "));
    CHECK(why.contains(", 1 -> 1 bytes"));
    auto edited = incremental(p);
    INFO(edited.output);
    REQUIRE(edited.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"side"});
    CHECK(number_in(p, "data/side.json") == -7.0);
}

TEST_CASE("incremental.a_deleted_output_runs_its_node_and_the_producers_of_its_in_memory_inputs") {
    Project p;
    chain_project(p);
    REQUIRE(incremental(p).exit_code == 0);
    fs::remove(p / "data/out.json");
    auto status = kiln_in(p, "status");
    INFO(status.output);
    CHECK(status.contains("  stale       keep: its output 'out' (data/out.json) is missing\n"));
    CHECK(status.contains("  needed      flip: its in-memory output 'flipped' is read by node 'keep', which runs\n"));
    CHECK(status.contains("  up to date  scale\n"));
    auto run = incremental(p);
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"flip", "keep"});
    CHECK(number_in(p, "data/out.json") == -6.0);

    // An output edited by hand is not what the node wrote.
    p.write("data/scaled.json", "100");
    auto edited = kiln_in(p, "explain", {"scale"});
    INFO(edited.output);
    CHECK(edited.contains("  - its output 'scaled' (data/scaled.json) changed since it wrote it: content "));
    REQUIRE(incremental(p).exit_code == 0);
    CHECK(p.ran_nodes() == Names{"scale", "flip", "keep"});
    CHECK(number_in(p, "data/scaled.json") == 6.0);
}

TEST_CASE("incremental.a_rebuilt_plugin_runs_its_changed_nodes_but_not_those_with_a_declared_version") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "changed", "func": "codever.changed", "inputs": "in", "outputs": "c"},
        {"name": "pinned", "func": "codever.pinned", "inputs": "in", "outputs": "v"},
        {"name": "notify", "func": "codever.notify", "inputs": "in", "outputs": "n"}
    ]}}})");
    p.catalog(R"({
        "in": {"type": "kiln.JsonDataset", "filepath": "data/in.json"},
        "c": {"type": "kiln.JsonDataset", "filepath": "data/c.json"},
        "v": {"type": "kiln.JsonDataset", "filepath": "data/v.json"},
        "n": {"type": "kiln.JsonDataset", "filepath": "data/n.json"}
    })");
    p.write("data/in.json", "10");
    fs::create_directories(p / "plugins");
    auto build = [&](int variant) {  // as if the plugin were rebuilt from edited code
        fs::copy_file(test_plugins("codever_" + std::to_string(variant)) + "/codever_" + std::to_string(variant) + ".so",
                      p / "plugins/codever.so", fs::copy_options::overwrite_existing);
    };
    build(1);
    REQUIRE(incremental(p).exit_code == 0);
    CHECK(number_in(p, "data/c.json") == 11.0);
    auto again = incremental(p);
    INFO(again.output);
    CHECK(p.ran_nodes() == Names{"notify"});  // always_run
    CHECK(again.contains("Node 'notify' runs: it is declared always_run"));

    build(2);
    auto why = kiln_in(p, "explain", {"changed"});
    INFO(why.output);
    CHECK(why.contains("  - its code changed: plugin codever.so was rebuilt (content "));
    auto rebuilt = incremental(p);
    INFO(rebuilt.output);
    REQUIRE(rebuilt.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"changed", "notify"});
    CHECK(number_in(p, "data/c.json") == 12.0);

    build(3);  // pinned's version bumped to 2
    auto bumped = kiln_in(p, "explain", {"pinned"});
    INFO(bumped.output);
    CHECK(bumped.contains("  - its declared version changed: 1 -> 2\n"));
    REQUIRE(incremental(p).exit_code == 0);
    CHECK(p.ran_nodes() == Names{"changed", "notify", "pinned"});
}

TEST_CASE("incremental.a_node_a_hook_gave_other_inputs_is_never_current") {
    Project p;
    chain_project(p);
    const std::vector<std::string> ext = {"--plugin-path", test_plugins("ext")};
    // Kedro's before_node_run returning inputs: `keep` reads 100 instead of `flipped`.
    p.write("settings.json", R"({"hooks": [{"name": "testext.InputSwap", "options":
        {"node": "keep", "dataset": "flipped", "value": 100}}]})");
    REQUIRE(incremental(p, ext).exit_code == 0);
    CHECK(number_in(p, "data/out.json") == 100.0);
    // Kiln cannot tell what the hook gives next time: keep runs again (and flip, whose
    // in-memory output it reads); scale and side stay current.
    auto status = kiln_in(p, "status", ext);
    INFO(status.output);
    CHECK(status.contains("  stale       keep: input 'flipped' was replaced by a before_node_run hook when it last ran"));
    CHECK(status.contains("  up to date  scale\n"));
    auto again = incremental(p, ext);
    INFO(again.output);
    REQUIRE(again.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"flip", "keep"});
    // Without the hook, the catalog's value: keep runs once more, then it is current.
    p.write("settings.json", "{}");
    REQUIRE(incremental(p, ext).exit_code == 0);
    CHECK(p.ran_nodes() == Names{"flip", "keep"});
    CHECK(number_in(p, "data/out.json") == -6.0);
    REQUIRE(incremental(p, ext).exit_code == 0);
    CHECK(p.ran_nodes().empty());
}

TEST_CASE("incremental.a_store_that_cannot_grow_warns_and_the_run_still_succeeds") {
    Project p;
    chain_project(p);
    REQUIRE(incremental(p).exit_code == 0);
    // The store made exactly 1 MiB (an unreadable line pads it: it fails its checksum and is
    // skipped), and the run's files limited to 1 MiB with SIGXFSZ ignored: appending a record
    // fails as on a full disk, while the data files and the run's other small files are written.
    const fs::path store = p / ".kiln/fingerprints";
    const auto size = fs::file_size(store);
    REQUIRE(size < (1u << 20));
    {
        std::ofstream pad(store, std::ios::app | std::ios::binary);
        pad << std::string((1u << 20) - size - 1, '#') << '\n';
    }
    REQUIRE(fs::file_size(store) == (1u << 20));
    std::vector<std::string> args = {"run", "--project", p.dir(), "--plugin-path", test_plugins("good"), "--incremental",
                                     "--params", "k=5"};
    auto full = run_shell("trap '' XFSZ; ulimit -f 2048; exec " + kiln_command(args));
    INFO(full.output);
    CHECK(full.exit_code == 0);
    CHECK(full.contains("Could not record the fingerprint of a completed node (cannot write " + store.string() +
                        ": File too large); the next incremental run runs it again"));
    CHECK(number_in(p, "data/out.json") == -15.0);
    CHECK(fs::file_size(store) == (1u << 20));
    // Nothing was recorded for k=5: the next run (with room) runs those nodes again, once.
    auto status = kiln_in(p, "status", {"--params", "k=5"});
    INFO(status.output);
    CHECK(status.contains("  stale       scale: parameter 'params:k' changed: 2 -> 5"));
    REQUIRE(incremental(p, {"--params", "k=5"}).exit_code == 0);
    CHECK(p.ran_nodes() == Names{"scale", "flip", "keep"});
    REQUIRE(incremental(p, {"--params", "k=5"}).exit_code == 0);
    CHECK(p.ran_nodes().empty());
}

TEST_CASE("incremental.a_crash_mid_run_keeps_what_completed_and_reruns_the_rest") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.neg", "inputs": "in", "outputs": "a"},
        {"name": "second", "func": "testnodes.unreliable", "inputs": "a", "outputs": "b"},
        {"name": "third", "func": "testnodes.neg", "inputs": "b", "outputs": "c"}
    ]}}})");
    p.catalog(R"({
        "in": {"type": "kiln.JsonDataset", "filepath": "data/in.json"},
        "a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"},
        "b": {"type": "kiln.JsonDataset", "filepath": "data/b.json"},
        "c": {"type": "kiln.JsonDataset", "filepath": "data/c.json"}
    })");
    p.write("data/in.json", "1");
    REQUIRE(incremental(p).exit_code == 0);
    p.write("data/in.json", "2");
    auto crashed = incremental(p, {}, {"TESTNODES_FAIL=segv"});
    INFO(crashed.output);
    CHECK(crashed.exit_code != 0);
    CHECK(number_in(p, "data/a.json") == -2.0);
    auto status = kiln_in(p, "status");
    INFO(status.output);
    CHECK(status.contains("  up to date  first\n"));
    CHECK(status.contains("  stale       second: input 'a' (data/a.json) changed: content "));
    auto after = incremental(p);
    INFO(after.output);
    REQUIRE(after.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"second", "third"});
    CHECK(number_in(p, "data/b.json") == -1.0);  // unreliable adds 1
    CHECK(number_in(p, "data/c.json") == 1.0);
}

TEST_CASE("incremental.sigkill_at_any_moment_never_makes_a_stale_node_look_current") {
    // step_i = v_{i-1} + wait_i (wait_i sleeps params:delay ms and returns it), persisted.
    auto make = [](Project& p, const std::string& input) {
        std::string nodes, catalog;
        for (int i = 0; i < 5; ++i) {
            const std::string n = std::to_string(i), prev = i ? "v" + std::to_string(i - 1) : "in";
            nodes += std::string(i ? "," : "") + R"({"name": "wait)" + n +
                     R"(", "func": "testnodes.sleep_ms", "inputs": "params:delay", "outputs": "w)" + n + R"("},)" +
                     R"({"name": "step)" + n + R"(", "func": "testnodes.add", "inputs": {"a": ")" + prev +
                     R"(", "b": "w)" + n + R"("}, "outputs": "v)" + n + R"("})";
            catalog += R"(, "v)" + n + R"(": {"type": "kiln.JsonDataset", "filepath": "data/v)" + n + R"(.json"})";
        }
        p.pipelines(R"({"pipelines": {"__default__": {"nodes": [)" + nodes + "]}}}");
        p.catalog(R"({"in": {"type": "kiln.JsonDataset", "filepath": "data/in.json"})" + catalog + "}");
        p.parameters(R"({"delay": 20})");
        p.write("data/in.json", input);
    };
    auto outputs = [](const Project& p) {
        std::map<std::string, std::string> files;
        for (int i = 0; i < 5; ++i) files["v" + std::to_string(i)] = read_text(p / ("data/v" + std::to_string(i) + ".json"));
        return files;
    };
    Project reference;
    make(reference, "1000");
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(reference.run().exit_code == 0);
    const int run_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
    const auto want = outputs(reference);

    std::mt19937 rng(20261129);
    const std::vector<std::vector<std::string>> runners = {
        {}, {"--runner", "ThreadRunner", "--max-workers", "2"}, {"--parallel", "--max-workers", "2"}};
    int killed_mid_run = 0;
    for (int round = 0; round < 24; ++round) {
        const auto& runner = runners[round % runners.size()];
        CAPTURE(round);
        Project p;
        make(p, "1");
        REQUIRE(incremental(p, runner).exit_code == 0);  // every node recorded, for input 1
        p.write("data/in.json", "1000");        // now every step is stale
        {
            std::vector<std::string> args = {"run", "--incremental", "--project", p.dir(), "--plugin-path",
                                             test_plugins("good")};
            args.insert(args.end(), runner.begin(), runner.end());
            KilnChild kiln(args);
            std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, run_ms)(rng)));
            if (!kiln.exited()) ++killed_mid_run;
            kiln.kill_everything();
        }
        auto finish = incremental(p, runner);
        INFO(finish.output);
        REQUIRE(finish.exit_code == 0);
        CHECK(outputs(p) == want);
        auto none = incremental(p, runner);
        INFO(none.output);
        REQUIRE(none.exit_code == 0);
        // wait_i only feed memory values to step_i, which are current: nothing runs.
        CHECK(p.ran_nodes().empty());
    }
    MESSAGE("killed mid-run in " << killed_mid_run << " of 24 rounds (a full run took " << run_ms << " ms)");
    CHECK(killed_mid_run > 8);
}

TEST_CASE("incremental.runs_the_same_nodes_under_every_runner") {
    for (const std::vector<std::string>& runner :
         {std::vector<std::string>{"--runner", "ThreadRunner", "--max-workers", "3"},
          std::vector<std::string>{"--parallel", "--max-workers", "2"},
          std::vector<std::string>{"--parallel", "--max-workers", "2", "--start-method", "spawn"}}) {
        CAPTURE(runner.back());
        Project p;
        chain_project(p);
        REQUIRE(incremental(p, runner).exit_code == 0);
        REQUIRE(incremental(p, runner).exit_code == 0);
        CHECK(p.ran_nodes().empty());
        auto changed = incremental(p, [&] {
            auto args = runner;
            args.insert(args.end(), {"--params", "k=5"});
            return args;
        }());
        INFO(changed.output);
        REQUIRE(changed.exit_code == 0);
        auto ran = p.ran_nodes();
        std::sort(ran.begin(), ran.end());
        CHECK(ran == Names{"flip", "keep", "scale"});
        CHECK(number_in(p, "data/out.json") == -15.0);
    }
}

TEST_CASE("incremental.errors_and_a_damaged_store") {
    Project p;
    chain_project(p);
    auto both = p.run({"--incremental", "--only-missing-outputs"});
    CHECK(both.exit_code == 2);
    CHECK(both.contains("--incremental and --only-missing-outputs cannot be used together"));
    REQUIRE(incremental(p).exit_code == 0);
    auto unknown = kiln_in(p, "explain", {"kep"});
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.contains("no node named 'kep' among the 4 selected nodes of pipeline '__default__'; did you mean keep?"));
    // Garbage, a torn line, an edited line: those records are ignored, those nodes run again.
    std::string store = read_text(p / ".kiln/fingerprints");
    const auto second_line = store.find('\n') + 1;
    std::string edited = store;
    edited[second_line + 25] = edited[second_line + 25] == 'x' ? 'y' : 'x';
    p.write(".kiln/fingerprints", "\x01garbage\n" + edited.substr(0, edited.size() - 10));
    auto damaged = incremental(p);
    INFO(damaged.output);
    REQUIRE(damaged.exit_code == 0);
    CHECK_FALSE(p.ran_nodes().empty());
    CHECK(p.ran_nodes().size() < 4);
    REQUIRE(incremental(p).exit_code == 0);
    CHECK(p.ran_nodes().empty());
    // A store that cannot be read stops an incremental run with the fix; a plain run warns.
    fs::remove(p / ".kiln/fingerprints");
    fs::create_directories(p / ".kiln/fingerprints");
    auto unreadable = incremental(p);
    CHECK(unreadable.exit_code == 2);
    CHECK(unreadable.contains("cannot read " + (p / ".kiln/fingerprints").string() + ": Is a directory. Remove it"));
    auto plain = p.run();
    CHECK(plain.exit_code == 0);
    CHECK(plain.contains("Node fingerprints are not recorded in this run: cannot read"));
    // Deleting .kiln/ just runs everything again.
    fs::remove_all(p / ".kiln");
    REQUIRE(incremental(p).exit_code == 0);
    CHECK(p.ran_nodes().size() == 4);
    // --resume continues a run with its own options: --incremental cannot be added to one.
    REQUIRE(p.run({}, {}).exit_code == 0);
    p.write("data/in.json", "\"not a number\"");
    REQUIRE(p.run().exit_code != 0);
    auto resumed = p.run({"--resume", "--incremental"});
    CHECK(resumed.exit_code == 2);
    CHECK(resumed.contains("--incremental cannot be combined with it unless repeated exactly"));
}

}  // namespace incremental_test_cases
