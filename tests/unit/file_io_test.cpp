// kiln::write_file_atomic's durability: the directory is synced after the rename.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <mutex>
#include <set>
#include <string>
#include <sys/syscall.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include <kiln/file_io.hpp>

#include "test_support.hpp"

namespace fs = std::filesystem;
using kiln::test::TempDir;

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
