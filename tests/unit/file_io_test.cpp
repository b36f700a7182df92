// kiln::write_file_atomic's durability (the directory is synced after the rename) and the
// removal of temporary files that killed writers left (core/src/catalog/temp_files.hpp).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <mutex>
#include <set>
#include <string>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include <kiln/file_io.hpp>

#include "catalog/catalog.hpp"
#include "catalog/temp_files.hpp"
#include "plugins/registry.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using kiln::test::TempDir;

namespace file_io_test_cases {

// Every fsync of this program, by the path of what was synced: this definition replaces
// the C library's for the calls compiled into the test binary (kiln::write_file_atomic is
// inline), and forwards to the kernel.
namespace {
std::mutex synced_mutex;
std::vector<std::string> synced_paths;
}  // namespace

extern "C" int fsync(int fd) {
    char link[64];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    char target[4096];
    const ssize_t n = ::readlink(link, target, sizeof target - 1);
    if (n > 0) {
        std::lock_guard lock(synced_mutex);
        synced_paths.emplace_back(target, static_cast<std::size_t>(n));
    }
    return static_cast<int>(::syscall(SYS_fsync, fd));
}

namespace {
std::vector<std::string> take_synced() {
    std::lock_guard lock(synced_mutex);
    return std::exchange(synced_paths, {});
}

std::set<std::string> names_in(const fs::path& dir) {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
    return out;
}

// A pid no process has: a child that has exited and been reaped.
pid_t dead_pid() {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return pid;
}

void set_mtime(const fs::path& file, std::time_t seconds) {
    timespec times[2] = {{seconds, 0}, {seconds, 0}};
    REQUIRE(::utimensat(AT_FDCWD, file.c_str(), times, 0) == 0);
}

std::string temp_name(const std::string& target, pid_t pid, int n = 0) {
    return target + ".kiln-tmp-" + std::to_string(pid) + "-" + std::to_string(n);
}
}  // namespace

TEST_CASE("file_io.atomic_write_syncs_the_file_then_its_directory") {
    TempDir dir;
    const fs::path target = dir / "sub" / "out.json";
    take_synced();
    kiln::write_file_atomic(target, std::string_view("{}\n"));
    const auto synced = take_synced();
    REQUIRE(synced.size() == 2);
    // The temporary file (before its rename), then the folder.
    CHECK(synced[0].find(".kiln-tmp-") != std::string::npos);
    CHECK(fs::path(synced[1]) == fs::canonical(dir / "sub"));
    CHECK(kiln::read_file_text(target) == "{}\n");
    CHECK(names_in(dir / "sub") == std::set<std::string>{"out.json"});
}

TEST_CASE("file_io.atomic_write_of_a_relative_path_syncs_the_working_directory") {
    TempDir dir;
    const fs::path before = fs::current_path();
    fs::current_path(dir.path());
    take_synced();
    kiln::write_file_atomic("plain.txt", std::string_view("x"));
    const auto synced = take_synced();
    fs::current_path(before);
    REQUIRE(synced.size() == 2);
    CHECK(fs::path(synced[1]) == fs::canonical(dir.path()));
}

TEST_CASE("temp_files.recognises_the_names_of_atomic_write_temporaries") {
    using kiln::core::temp_file_writer;
    CHECK(temp_file_writer("a.json.kiln-tmp-123-0") == pid_t{123});
    CHECK(temp_file_writer("a.kiln-tmp-1-2.json.kiln-tmp-77-15") == pid_t{77});
    CHECK_FALSE(temp_file_writer("a.json"));
    CHECK_FALSE(temp_file_writer("a.json.kiln-tmp-"));
    CHECK_FALSE(temp_file_writer("a.json.kiln-tmp-12"));
    CHECK_FALSE(temp_file_writer("a.json.kiln-tmp-12-"));
    CHECK_FALSE(temp_file_writer("a.json.kiln-tmp-x1-0"));
    CHECK_FALSE(temp_file_writer("a.json.kiln-tmp-12-0.bak"));
    CHECK_FALSE(temp_file_writer("a.json.kiln-tmp-0-0"));
    CHECK_FALSE(temp_file_writer(".kiln-tmp-12-0"));
}

TEST_CASE("temp_files.removes_only_what_dead_or_earlier_processes_left") {
    TempDir dir;
    const pid_t dead = dead_pid();
    const pid_t me = ::getpid();
    dir.write("a.json", "1");
    dir.write(temp_name("a.json", dead), "half");             // its writer is gone
    dir.write(temp_name("b.json", me, 3), "being written");   // this process writes it now
    dir.write(temp_name("c.json", me, 4), "long ago");        // a process that had this pid once
    set_mtime(dir / temp_name("c.json", me, 4), 1000000000);  // 2001: before this process started
    dir.write(temp_name("d.json", 1, 0), "long ago");         // pid 1 runs, but started after 2001
    set_mtime(dir / temp_name("d.json", 1, 0), 1000000000);
    dir.write("e.json.kiln-tmp-notapid-0", "not ours");
    fs::create_directories(dir / "nested");
    dir.write("nested/" + temp_name("f.json", dead), "not in a listed folder");

    auto removed = kiln::core::remove_stale_temp_files({dir.path(), dir / "missing"});
    std::set<std::string> removed_names;
    for (const auto& f : removed) removed_names.insert(f.filename().string());
    CHECK(removed_names == std::set<std::string>{temp_name("a.json", dead), temp_name("c.json", me, 4),
                                                 temp_name("d.json", 1, 0)});
    CHECK(names_in(dir.path()) ==
          std::set<std::string>{"a.json", temp_name("b.json", me, 3), "e.json.kiln-tmp-notapid-0", "nested"});
    CHECK(fs::exists(dir / "nested" / temp_name("f.json", dead)));
}

TEST_CASE("temp_files.a_zombie_writes_nothing_more") {
    TempDir dir;
    pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    // Not reaped yet: once it has exited, the pid is a zombie's.
    for (int i = 0; i < 200; ++i) {
        std::string stat = kiln::test::read_text("/proc/" + std::to_string(child) + "/stat");
        if (stat.find(") Z") != std::string::npos) break;
        ::usleep(5000);
    }
    dir.write(temp_name("z.json", child), "half");
    auto removed = kiln::core::remove_stale_temp_files({dir.path()});
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK(removed.size() == 1);
    CHECK(names_in(dir.path()).empty());
}

TEST_CASE("temp_files.removes_the_temporaries_of_given_writers") {
    TempDir dir;
    const pid_t me = ::getpid();
    dir.write(temp_name("a.json", 4242), "x");
    dir.write(temp_name("b.json", 4243), "x");
    dir.write(temp_name("c.json", me), "x");
    auto removed = kiln::core::remove_temp_files_of({dir.path()}, {4242, me});
    CHECK(removed.size() == 2);
    CHECK(names_in(dir.path()) == std::set<std::string>{temp_name("b.json", 4243)});
    CHECK(kiln::core::remove_temp_files_of({dir.path()}, {}).empty());
}

TEST_CASE("temp_files.dataset_folders_are_the_catalogs_filepath_parents") {
    TempDir dir;
    std::map<std::string, kiln::core::CatalogEntry> entries;
    entries["a"] = {"a", "kiln.JsonDataset", {{"filepath", "data/01/a.json"}}};
    entries["b"] = {"b", "kiln.JsonDataset", {{"filepath", "data/01/../01/b.json"}}};
    entries["c"] = {"c", "kiln.JsonDataset", {{"filepath", "/abs/where/c.json"}}};
    entries["d"] = {"d", "some.MemoryDataset", nlohmann::json::object()};
    entries["e"] = {"e", "kiln.JsonDataset", {{"filepath", 3}}};
    kiln::core::Registry registry;
    kiln::core::DataCatalog catalog(entries, kiln::core::Parameters{}, dir.path(), registry);
    auto folders = kiln::core::dataset_folders(catalog);
    CHECK(folders == std::vector<fs::path>{dir / "data/01", "/abs/where"});
}

// ------------------------------------------------------------------ output paths

TEST_CASE("file_io.a_symlink_is_written_through_and_stays_a_link") {
    TempDir dir;
    dir.write("real/out.json", "old");
    fs::create_directories(dir / "links");
    fs::create_symlink("../real/out.json", dir / "links/out.json");  // relative, to another folder
    fs::create_symlink("out.json", dir / "links/again.json");        // a chain of two links
    kiln::write_file_atomic(dir / "links/again.json", std::string_view("new"));
    CHECK(fs::is_symlink(dir / "links/out.json"));
    CHECK(fs::is_symlink(dir / "links/again.json"));
    CHECK(kiln::test::read_text(dir / "real/out.json") == "new");
    // The temporary was made and renamed in the target's folder: nothing left anywhere.
    CHECK(names_in(dir / "real") == std::set<std::string>{"out.json"});
    CHECK(names_in(dir / "links") == std::set<std::string>{"out.json", "again.json"});
}

TEST_CASE("file_io.a_dangling_symlink_creates_its_target") {
    TempDir dir;
    fs::create_symlink(dir / "elsewhere/made.txt", dir / "link.txt");
    kiln::write_file_atomic(dir / "link.txt", std::string_view("hello"));
    CHECK(fs::is_symlink(dir / "link.txt"));
    CHECK(kiln::test::read_text(dir / "elsewhere/made.txt") == "hello");
}

TEST_CASE("file_io.a_symlink_loop_is_refused") {
    TempDir dir;
    fs::create_symlink("b", dir / "a");
    fs::create_symlink("a", dir / "b");
    CHECK_THROWS_WITH_AS(kiln::write_file_atomic(dir / "a", std::string_view("x")),
                         doctest::Contains("too many levels of symbolic links"), kiln::DatasetError);
    CHECK(fs::is_symlink(dir / "a"));
}

TEST_CASE("file_io.fifos_devices_and_directories_are_refused_not_replaced") {
    TempDir dir;
    REQUIRE(::mkfifo((dir / "pipe").c_str(), 0600) == 0);
    fs::create_directories(dir / "folder");
    fs::create_symlink(dir / "pipe", dir / "to_pipe");
    CHECK_THROWS_WITH_AS(kiln::write_file_atomic(dir / "pipe", std::string_view("x")),
                         doctest::Contains("it is a FIFO"), kiln::DatasetError);
    CHECK_THROWS_WITH_AS(kiln::write_file_atomic(dir / "to_pipe", std::string_view("x")),
                         doctest::Contains("the target of the link"), kiln::DatasetError);
    CHECK_THROWS_WITH_AS(kiln::write_file_atomic(dir / "folder", std::string_view("x")),
                         doctest::Contains("it is a directory"), kiln::DatasetError);
    CHECK_THROWS_WITH_AS(kiln::write_file_atomic("/dev/null", std::string_view("x")),
                         doctest::Contains("character device"), kiln::DatasetError);
    // Reading one would block forever (a FIFO) or never end (/dev/zero).
    CHECK_THROWS_WITH_AS(kiln::read_file_bytes(dir / "pipe"), doctest::Contains("FIFO"), kiln::DatasetError);
    CHECK_THROWS_WITH_AS(kiln::read_file_bytes("/dev/zero"), doctest::Contains("character device"),
                         kiln::DatasetError);
    struct stat st {};
    REQUIRE(::lstat((dir / "pipe").c_str(), &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));
    CHECK(names_in(dir.path()) == std::set<std::string>{"pipe", "folder", "to_pipe"});
}

TEST_CASE("file_io.a_path_with_a_nul_is_refused_before_anything_is_written") {
    TempDir dir;
    std::string text = (dir / "out.json").string();
    text.insert(text.size() - 5, 1, '\0');  // ".../out\0.json"
    CHECK_THROWS_WITH_AS(kiln::write_file_atomic(fs::path(text), std::string_view("x")),
                         doctest::Contains("NUL character"), kiln::DatasetError);
    CHECK(names_in(dir.path()).empty());
}

TEST_CASE("file_io.a_replaced_file_keeps_its_mode") {
    TempDir dir;
    dir.write("secret.json", "1");
    fs::permissions(dir / "secret.json", fs::perms::owner_read | fs::perms::owner_write);
    kiln::write_file_atomic(dir / "secret.json", std::string_view("2"));
    CHECK(fs::status(dir / "secret.json").permissions() == (fs::perms::owner_read | fs::perms::owner_write));
    CHECK(kiln::test::read_text(dir / "secret.json") == "2");
}

}  // namespace file_io_test_cases
