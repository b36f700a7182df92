// kiln.PartitionedDataset end to end: a folder of files loaded as kiln::Partitions (each
// file read when the node asks) or as a std::map, saved a file per key (lazily made
// partitions one at a time), "overwrite", every built-in runner, and the errors.
#include <doctest/doctest.h>

#include <filesystem>
#include <sys/wait.h>
#include <unistd.h>

#include "common_projects.hpp"
#include "kiln_process.hpp"
#include "project_builder.hpp"
#include "test_support.hpp"

using namespace kiln::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace partitioned_dataset_test_cases {

namespace {

// sizes: partition_sizes(in) -> sizes;  upper: upper_partitions(in) -> out.
void sizes_and_upper_project(Project& p) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "sizes", "func": "testnodes.partition_sizes", "inputs": "in", "outputs": "sizes"},
        {"name": "upper", "func": "testnodes.upper_partitions", "inputs": "in", "outputs": "out"}
    ]}}})");
    p.catalog(R"({
        "in": {"type": "kiln.PartitionedDataset", "path": "data/in", "dataset": "kiln.TextDataset",
               "filename_suffix": ".txt"},
        "out": {"type": "PartitionedDataset", "path": "data/out", "dataset": {"type": "TextDataset"},
                "filename_suffix": ".txt"},
        "sizes": {"type": "kiln.JsonDataset", "filepath": "data/sizes.json"}
    })");
    p.write("data/in/a.txt", "xx");
    p.write("data/in/b.txt", "yyy");
    p.write("data/in/sub/c.txt", "z");
    p.write("data/in/notes.md", "not a partition: another suffix");
    p.write("data/in/.hidden.txt", "not a partition: hidden");
    p.write("data/in/.cache/d.txt", "not a partition: in a hidden folder");
}

void check_sizes_and_upper(const Project& p) {
    CHECK(p.json_file("data/sizes.json") == json{{"a", 2}, {"b", 3}, {"sub/c", 1}});
    CHECK(read_text(p / "data/out/a.txt") == "XX");
    CHECK(read_text(p / "data/out/b.txt") == "YYY");
    CHECK(read_text(p / "data/out/sub/c.txt") == "Z");
    CHECK_FALSE(p.exists("data/out/notes"));
    CHECK_FALSE(p.exists("data/out/.hidden.txt"));
}

// A node function's kind of error, run to the end: the exit code and the message.
void fails_with(const Project& p, int code, const std::string& message) {
    auto r = p.run();
    INFO(r.output);
    CHECK(r.exit_code == code);
    CHECK(r.contains(message));
}

}  // namespace

TEST_CASE("partitioned.loads_each_file_and_saves_a_file_per_partition_with_every_runner") {
    for (const auto& runner : std::vector<std::vector<std::string>>{
             {},
             {"--runner", "ThreadRunner", "--max-workers", "2"},
             {"--runner", "ParallelRunner", "--max-workers", "2"},
             {"--runner", "ParallelRunner", "--start-method", "spawn", "--max-workers", "2"}}) {
        CAPTURE(runner);
        Project p;
        sizes_and_upper_project(p);
        std::vector<std::string> args = runner;
        args.push_back("--verbose");
        auto r = p.run(args);
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        check_sizes_and_upper(p);
        // The log describes the dataset by its folder and partition type.
        CHECK(r.contains("Saving data to out (PartitionedDataset(data/out, kiln.TextDataset, *.txt))"));
    }
}

TEST_CASE("partitioned.partitions_pass_between_processes_whole") {
    // upper's lazy Partitions goes through memory to sizes: the ParallelRunner encodes it
    // (every partition made) in one worker and decodes it in another.
    Project p;
    sizes_and_upper_project(p);
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "upper", "func": "testnodes.upper_partitions", "inputs": "in", "outputs": "mid"},
        {"name": "sizes", "func": "testnodes.partition_sizes", "inputs": "mid", "outputs": "sizes"},
        {"name": "again", "func": "testnodes.upper_partitions", "inputs": "mid", "outputs": "out"}
    ]}}})");
    for (const auto& runner : in_process_and_parallel()) {
        CAPTURE(runner);
        auto r = p.run(runner);
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        check_sizes_and_upper(p);
    }
}

TEST_CASE("partitioned.kedro_listing_options") {
    // load_args.maxdepth as fsspec's: 1 is the folder's own files; save_lazily: true is accepted.
    Project p;
    sizes_and_upper_project(p);
    p.catalog(R"({
        "in": {"type": "kiln.PartitionedDataset", "path": "data/in", "dataset": "kiln.TextDataset",
               "filename_suffix": ".txt", "load_args": {"maxdepth": 1, "withdirs": false}},
        "out": {"type": "kiln.PartitionedDataset", "path": "data/out", "dataset": "kiln.TextDataset",
                "filename_suffix": ".txt", "save_lazily": true},
        "sizes": {"type": "kiln.JsonDataset", "filepath": "data/sizes.json"}
    })");
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(p.json_file("data/sizes.json") == json{{"a", 2}, {"b", 3}});
    CHECK_FALSE(p.exists("data/out/sub"));

    p.catalog(R"({"in": {"type": "kiln.PartitionedDataset", "path": "data/in", "dataset": "kiln.TextDataset",
                         "load_args": {"sep": ","}}})");
    fails_with(p, 2, "\"load_args\" takes \"maxdepth\" and \"withdirs\" (the listing's options), not \"sep\"");
    p.catalog(R"({"in": {"type": "kiln.PartitionedDataset", "path": "data/in", "dataset": "kiln.TextDataset",
                         "load_args": {"maxdepth": 0}}})");
    fails_with(p, 2, "\"maxdepth\" must be a positive integer");
    p.catalog(R"({"in": {"type": "kiln.PartitionedDataset", "path": "data/in", "dataset": "kiln.TextDataset",
                         "save_lazily": false}})");
    fails_with(p, 2, "\"save_lazily\" can only be true here");
}

TEST_CASE("partitioned.a_node_reads_only_the_partitions_it_asks_for") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "pick", "func": "testnodes.one_partition", "inputs": ["in", "params:id"], "outputs": "out"}
    ]}}})");
    p.catalog(R"({
        "in": {"type": "kiln.PartitionedDataset", "path": "data/in", "dataset": "kiln.JsonDataset",
               "filename_suffix": ".json"},
        "out": {"type": "kiln.JsonDataset", "filepath": "data/out.json"}
    })");
    p.write("data/in/broken.json", "{not json");
    p.write("data/in/good.json", "\"bee\"");
    p.parameters(R"({"id": "good"})");
    auto good = p.run();
    INFO(good.output);
    REQUIRE(good.exit_code == 0);
    CHECK(p.json_file("data/out.json") == "bee");

    // Asked for, the broken file fails the node, naming the partition and its file.
    auto broken = p.run({"--params", "id=broken"});
    INFO(broken.output);
    CHECK(broken.exit_code == 1);
    CHECK(broken.contains("node 'pick'"));
    CHECK(broken.contains("failed: cannot load partition 'broken' of dataset 'in'"));
    CHECK(broken.contains("broken.json"));

    // An id the folder does not have names those it has.
    auto absent = p.run({"--params", "id=nope"});
    INFO(absent.output);
    CHECK(absent.exit_code == 1);
    CHECK(absent.contains("no partition 'nope'; there are 'broken', 'good'"));
}

TEST_CASE("partitioned.maps_load_whole_and_save_a_file_per_key") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "group", "func": "testnodes.by_first_letter", "inputs": "words", "outputs": "groups"},
        {"name": "total", "func": "testnodes.map_total", "inputs": "counts", "outputs": "total"}
    ]}}})");
    p.catalog(R"({
        "words": {"type": "kiln.TextDataset", "filepath": "data/words.txt"},
        "groups": {"type": "kiln.PartitionedDataset", "path": "data/groups", "dataset": "kiln.TextDataset",
                   "filename_suffix": ".txt"},
        "counts": {"type": "kiln.PartitionedDataset", "path": "data/counts", "dataset": "kiln.JsonDataset"},
        "total": {"type": "kiln.JsonDataset", "filepath": "data/total.json"}
    })");
    p.write("data/words.txt", "apple\nant\nbee\n");
    p.write("data/counts/x", "1");
    p.write("data/counts/y/z", "41");
    p.write("data/groups/stale/old.txt", "from an earlier run");
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(read_text(p / "data/groups/a.txt") == "apple\nant\n");
    CHECK(read_text(p / "data/groups/b.txt") == "bee\n");
    CHECK(p.json_file("data/total.json") == 42);
    // Without "overwrite", partitions the run did not write stay.
    CHECK(p.exists("data/groups/stale/old.txt"));

    // With it, they go once the new ones are written, their emptied folders too.
    p.catalog(R"({
        "words": {"type": "kiln.TextDataset", "filepath": "data/words.txt"},
        "groups": {"type": "kiln.PartitionedDataset", "path": "data/groups", "dataset": "kiln.TextDataset",
                   "filename_suffix": ".txt", "overwrite": true},
        "counts": {"type": "kiln.PartitionedDataset", "path": "data/counts", "dataset": "kiln.JsonDataset"},
        "total": {"type": "kiln.JsonDataset", "filepath": "data/total.json"}
    })");
    p.write("data/groups/keep.md", "not a partition: another suffix");
    auto again = p.run();
    INFO(again.output);
    REQUIRE(again.exit_code == 0);
    CHECK_FALSE(p.exists("data/groups/stale"));
    CHECK(p.exists("data/groups/keep.md"));
    CHECK(read_text(p / "data/groups/a.txt") == "apple\nant\n");
}

TEST_CASE("partitioned.incremental_runs_hash_the_folder") {
    Project p;
    sizes_and_upper_project(p);
    REQUIRE(p.run({"--incremental"}).exit_code == 0);
    auto again = p.run({"--incremental"});
    INFO(again.output);
    REQUIRE(again.exit_code == 0);
    CHECK(again.contains("0 of 2 nodes are stale"));

    // A new partition makes both readers of the folder stale, and only them.
    p.write("data/in/d.txt", "dddd");
    auto status = run_kiln({"status", "--project", p.dir(), "--plugin-path", test_plugins("good")});
    INFO(status.output);
    CHECK(status.contains("stale       sizes: input 'in' (data/in) changed"));
    CHECK(status.contains("stale       upper: input 'in' (data/in) changed"));
    auto changed = p.run({"--incremental"});
    INFO(changed.output);
    REQUIRE(changed.exit_code == 0);
    CHECK(p.json_file("data/sizes.json")["d"] == 4);
    CHECK(read_text(p / "data/out/d.txt") == "DDDD");

    // An output partition edited by hand makes its writer stale.
    p.write("data/out/a.txt", "edited");
    status = run_kiln({"status", "--project", p.dir(), "--plugin-path", test_plugins("good")});
    INFO(status.output);
    CHECK(status.contains("stale       upper: its output 'out' (data/out) changed since it wrote it"));
}

TEST_CASE("partitioned.resume_redoes_a_node_whose_partition_folder_changed") {
    // a_upper writes the folder; b_bump then fails (TESTNODES_FAIL), so the run can be resumed.
    Project p;
    sizes_and_upper_project(p);
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "a_upper", "func": "testnodes.upper_partitions", "inputs": "in", "outputs": "out"},
        {"name": "b_bump", "func": "testnodes.unreliable", "inputs": "params:x", "outputs": "y"}
    ]}}})");
    p.parameters(R"({"x": 1})");
    auto failed = p.run({"--runner", "SequentialRunner"}, {"TESTNODES_FAIL=throw"});
    INFO(failed.output);
    REQUIRE(failed.exit_code == 1);
    REQUIRE(read_text(p / "data/out/a.txt") == "XX");

    // Untouched, the folder is trusted: only the failed node runs again.
    auto kept = p.run({"--resume"});
    INFO(kept.output);
    REQUIRE(kept.exit_code == 0);
    CHECK(p.ran_nodes() == Names{"b_bump"});

    // A partition edited in place (below a sub-folder) makes its writer run again on resume.
    REQUIRE(p.run({"--runner", "SequentialRunner"}, {"TESTNODES_FAIL=throw"}).exit_code == 1);
    p.write("data/out/sub/c.txt", "edited by hand");
    auto redone = p.run({"--resume"});
    INFO(redone.output);
    REQUIRE(redone.exit_code == 0);
    CHECK(redone.contains("its output 'out'"));
    CHECK(redone.contains("changed after it was written"));
    CHECK(p.ran_nodes() == Names{"a_upper", "b_bump"});
    CHECK(read_text(p / "data/out/sub/c.txt") == "Z");
}

TEST_CASE("partitioned.temporaries_of_killed_runs_are_swept_from_every_partition_folder") {
    Project p;
    sizes_and_upper_project(p);
    // A pid no process has: a child that has exited and been reaped.
    const pid_t dead = ::fork();
    if (dead == 0) ::_exit(0);
    int status = 0;
    ::waitpid(dead, &status, 0);
    const std::string temp = ".kiln-tmp-" + std::to_string(dead) + "-0";
    p.write("data/out/sub/c.txt" + temp, "half a partition");
    p.write("data/in/sub/c.txt" + temp, "half a partition");
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(p.files_containing(".kiln-tmp-").empty());
    check_sizes_and_upper(p);  // never read as a partition either
}

TEST_CASE("partitioned.hostile_ids_are_refused_before_any_file_is_written") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "name", "func": "testnodes.partitions_named", "inputs": "names", "outputs": "parts"}
    ]}}})");
    p.catalog(R"({
        "names": {"type": "kiln.TextDataset", "filepath": "data/names.txt"},
        "parts": {"type": "kiln.PartitionedDataset", "path": "data/parts", "dataset": "kiln.TextDataset"}
    })");
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"../escape", "which would leave the folder"},
        {"/etc/kiln-escape", "absolute path"},
        {"a//b", "empty folder name"},
        {"x/.hidden", "starts with '.'"},
    };
    for (const auto& [id, why] : cases) {
        CAPTURE(id);
        p.write("data/names.txt", "fine\n" + id + "\n");
        auto r = p.run();
        INFO(r.output);
        CHECK(r.exit_code == 1);
        CHECK(r.contains("cannot save partition '" + id + "' of dataset 'parts'"));
        CHECK(r.contains(why));
        CHECK_FALSE(p.exists("data/parts/fine"));
        CHECK_FALSE(p.exists("data/escape"));
    }
}

TEST_CASE("partitioned.configuration_errors_name_the_entry_and_the_fix") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "sizes", "func": "testnodes.partition_sizes", "inputs": "in", "outputs": "sizes"}
    ]}}})");
    auto with_in = [&](const std::string& entry) {
        p.catalog(R"({"in": )" + entry + R"(, "sizes": {"type": "kiln.JsonDataset", "filepath": "data/sizes.json"}})");
    };
    with_in(R"({"type": "kiln.PartitionedDataset", "path": "data/in", "dataset": "kiln.TextDataset"})");
    fails_with(p, 1, "no partitions found in");
    fails_with(p, 1, "the folder does not exist; run the node that writes it first");
    p.write("data/in/only.md", "x");
    with_in(R"({"type": "kiln.PartitionedDataset", "path": "data/in", "dataset": "kiln.TextDataset",
                "filename_suffix": ".txt"})");
    fails_with(p, 1, "the folder holds no files ending in '.txt'");

    with_in(R"({"type": "kiln.PartitionedDataset", "path": "data/in"})");
    fails_with(p, 2, "catalog entry 'in': dataset 'in' (kiln.PartitionedDataset): needs \"dataset\"");
    with_in(R"({"type": "kiln.PartitionedDataset", "dataset": "kiln.TextDataset"})");
    fails_with(p, 2, "needs \"path\"");
    with_in(R"({"type": "kiln.PartitionedDataset", "path": "data/in", "dataset": "kiln.TextDataset", "pth": 1})");
    fails_with(p, 2, "unknown argument \"pth\"");
    with_in(R"({"type": "kiln.PartitionedDataset", "path": "data/in", "dataset": "kiln.NoSuchDataset"})");
    fails_with(p, 2, "unknown partition dataset type 'kiln.NoSuchDataset'");
    with_in(R"({"type": "kiln.PartitionedDataset", "path": "data/in",
                "dataset": {"type": "kiln.TextDataset", "filepath": "x.txt"}})");
    fails_with(p, 2, "each partition's file comes from \"path\" and the partition's id; remove it");
    with_in(R"({"type": "kiln.PartitionedDataset", "path": "data/in", "dataset": "kiln.NpyDataset"})");
    fails_with(p, 2, "its partition dataset (kiln.NpyDataset)");
    with_in(R"({"type": "kiln.PartitionedDataset", "path": "data/in", "dataset": "kiln.TextDataset",
                "overwrite": "yes"})");
    fails_with(p, 2, "\"overwrite\" must be true or false");
    with_in(R"({"type": "kiln.PartitionedDataset", "path": "data/in", "dataset": 3})");
    fails_with(p, 2, "\"dataset\" must be a dataset type or an object with a \"type\", got 3");
    with_in(R"({"type": "kiln.PartitionedDataset", "path": "data/in", "dataset": "kiln.PartitionedDataset"})");
    fails_with(p, 2, "a partition cannot itself be a kiln.PartitionedDataset");
    with_in(R"({"type": "kiln.PartitionedDataset", "path": "data/in", "dataset": "kiln.MemoryDataset"})");
    fails_with(p, 2, "a partition cannot be a kiln.MemoryDataset; partitions are files");
    with_in(R"({"type": "kiln.PartitionedDataset", "path": "data/in",
                "dataset": {"type": "kiln.TextDataset", "versioned": true}})");
    fails_with(p, 2, "partitions cannot be versioned; remove \"versioned\"");
    with_in(R"({"type": "kiln.PartitionedDataset", "path": 3, "dataset": "kiln.TextDataset"})");
    fails_with(p, 2, "\"path\" must be a string, got 3");
    with_in(R"({"type": "kiln.PartitionedDataset", "path": "data/in", "dataset": "kiln.TextDataset",
                "filename_suffix": "x/.txt"})");
    fails_with(p, 2, "\"filename_suffix\" \"x/.txt\" holds a '/'");
    with_in(R"({"type": "kiln.PartitionedDataset", "path": "data/in", "dataset": "kiln.TextDataset",
                "filepath_arg": ""})");
    fails_with(p, 2, "\"filepath_arg\" is empty");

    // A node that takes one value, not many.
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "flip", "func": "testnodes.neg", "inputs": "in", "outputs": "sizes"}
    ]}}})");
    with_in(R"({"type": "kiln.PartitionedDataset", "path": "data/in", "dataset": "kiln.JsonDataset"})");
    fails_with(p, 2, "take a 'const kiln::Partitions<f64>&' (kiln/partitions.hpp), or a std::map<std::string, f64>");
}

}  // namespace partitioned_dataset_test_cases
