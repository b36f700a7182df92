// Plugins that misbehave while kiln loads them, run with the real binary: each must end
// kiln with a clear message naming the plugin file and exit code 2, never a signal, an
// abort from the loader, or success for a run that did not happen.
#include <doctest/doctest.h>

#include <fstream>

#include "common_projects.hpp"
#include "kiln_child.hpp"
#include "project_builder.hpp"

using namespace kiln::test;
namespace fs = std::filesystem;

namespace hostile_plugins_test_cases {

namespace {

constexpr std::chrono::milliseconds time_limit{30000};

struct Outcome {
    int exit_code;
    std::string output;
    bool contains(const std::string& s) const { return output.find(s) != std::string::npos; }
};

// `kiln run` on the project with the good test plugins and `extra` plugin folders.
Outcome run(const Project& p, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"run", "--project", p.dir(), "--plugin-path", test_plugins("good")};
    for (const auto& e : extra) args.insert(args.end(), {"--plugin-path", e});
    KilnChild kiln(args);
    int code = kiln.wait_or_fail(time_limit);
    return {code, kiln.output()};
}

fs::path testnodes_so() { return fs::path(test_plugins("good")) / "testnodes.so"; }

void copy_bytes(const fs::path& from, const fs::path& to, std::size_t count) {
    std::ifstream in(from, std::ios::binary);
    std::string bytes(count, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(count));
    REQUIRE(static_cast<std::size_t>(in.gcount()) == count);
    fs::create_directories(to.parent_path());
    std::ofstream(to, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(count));
}

void check_nothing_ran(const Outcome& r) {
    CHECK_FALSE(r.contains("Running node"));
    CHECK_FALSE(r.contains("completed successfully"));
}

}  // namespace

TEST_CASE("hostile_plugins.truncated_library") {
    Project p;
    two_node_project(p);
    copy_bytes(testnodes_so(), p / "broken" / "cut.so", 4096);
    auto r = run(p, {(p / "broken").string()});
    INFO(r.output);
    CHECK(r.exit_code == 2);  // it was SIGBUS (135) inside dlopen
    CHECK(r.contains("cannot load plugin '" + (p / "broken" / "cut.so").string() +
                     "': it is truncated (4096 bytes, its headers say at least "));
    CHECK(r.contains("rebuild or recopy it"));
    check_nothing_ran(r);
}

TEST_CASE("hostile_plugins.segfault_in_register_block") {
    Project p;
    two_node_project(p);
    auto r = run(p, {test_plugins("segv_register")});
    INFO(r.output);
    CHECK(r.exit_code == 2);  // it was 139 with no message
    CHECK(r.contains("kiln: plugin '" + test_plugins("segv_register") +
                     "/segv_register.so' crashed while being loaded: signal 11 (SIGSEGV)"));
    CHECK(r.contains("Fix the plugin or move it out of the plugin path."));
    check_nothing_ran(r);
}

TEST_CASE("hostile_plugins.exit_in_register_block") {
    Project p;
    two_node_project(p);
    auto r = run(p, {test_plugins("exit_register")});
    INFO(r.output);
    CHECK(r.exit_code == 2);  // it was 0, having run nothing
    CHECK(r.contains("kiln: plugin '" + test_plugins("exit_register") +
                     "/exit_register.so' called exit(0) while being loaded; kiln stops."));
    check_nothing_ran(r);
}

TEST_CASE("hostile_plugins.sanitizer_runtime") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a"},
        {"name": "double", "func": "sanitized.twice", "inputs": "a", "outputs": "b"}
    ]}}})");
    auto r = run(p, {test_plugins("sanitized")});
    INFO(r.output);
    CHECK_FALSE(r.contains("runtime does not come first"));
#if defined(__SANITIZE_ADDRESS__)
    // kiln runs with AddressSanitizer too: the plugin is welcome.
    CHECK(r.exit_code == 0);
    CHECK(r.contains("Completed node: double"));
#else
    CHECK(r.exit_code == 2);  // it was ASan's abort (exit 1) with no kiln message
    CHECK(r.contains("plugin '" + test_plugins("sanitized") +
                     "/sanitized.so' was built with AddressSanitizer (it needs libasan.so"));
    CHECK(r.contains("Rebuild the plugin without -fsanitize=address"));
    check_nothing_ran(r);
#endif
}

TEST_CASE("hostile_plugins.type_layouts_disagree_inside_a_vector") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "make", "func": "nested_type_a.make_points", "outputs": "points"},
        {"name": "sum", "func": "nested_type_b.sum_points", "inputs": "points", "outputs": "total"}
    ]}}})");
    auto r = run(p, {test_plugins("nested_type")});
    INFO(r.output);
    CHECK(r.exit_code == 2);  // it was SIGSEGV in node 'sum' (bad_alloc under the ParallelRunner)
    CHECK(r.contains("value type 'vector<nested.Pt>' means different things in " + test_plugins("nested_type") +
                     "/nested_type_a.so and " + test_plugins("nested_type") + "/nested_type_b.so"));
    CHECK(r.contains("the types it is built from differ"));
    CHECK((r.contains("is the older file, probably stale: rebuild it") ||
           r.contains("Rebuild the plugin that was built against an old version of the type")));
    check_nothing_ran(r);
}

TEST_CASE("hostile_plugins.folder_or_file_writable_by_others") {
    Project p;
    two_node_project(p);
    const fs::path folder = p / "shared";
    fs::create_directories(folder);
    const fs::path plugin = folder / "testnodes.so";
    fs::copy_file(testnodes_so(), plugin);
    using fs::perms;
    const auto run_shared = [&] {
        KilnChild kiln({"run", "--project", p.dir(), "--plugin-path", folder.string()});
        int code = kiln.wait_or_fail(time_limit);
        return Outcome{code, kiln.output()};
    };

    fs::permissions(plugin, perms::owner_read | perms::owner_write | perms::group_read | perms::others_read);
    SUBCASE("world-writable folder") {
        fs::permissions(folder, perms::all);
        auto r = run_shared();
        INFO(r.output);
        CHECK(r.exit_code == 2);
        CHECK(r.contains("plugin folder '" + folder.string() + "' can be written by other users (mode 0777)"));
        CHECK(r.contains("Run 'chmod go-w " + folder.string() + "'"));
        check_nothing_ran(r);
    }
    SUBCASE("sticky world-writable folder, like /tmp") {
        fs::permissions(folder, perms::all | perms::sticky_bit);
        auto r = run_shared();
        INFO(r.output);
        CHECK(r.exit_code == 2);
        CHECK(r.contains("plugin folder '" + folder.string() + "' can be written by other users (mode 1777)"));
    }
    SUBCASE("group-writable plugin file") {
        fs::permissions(plugin, perms::group_write, fs::perm_options::add);
        auto r = run_shared();
        INFO(r.output);
        CHECK(r.exit_code == 2);
        CHECK(r.contains("plugin '" + plugin.string() + "' can be written by other users (mode 0664)"));
        CHECK(r.contains("Run 'chmod go-w " + plugin.string() + "'"));
    }
    SUBCASE("only the owner can write: loads") {
        fs::permissions(folder, perms::owner_all | perms::group_read | perms::group_exec | perms::others_read |
                                    perms::others_exec);
        auto r = run_shared();
        INFO(r.output);
        CHECK(r.exit_code == 0);
        CHECK(r.contains("Completed node: second"));
    }
}

}  // namespace hostile_plugins_test_cases
