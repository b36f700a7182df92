// The ParallelRunner's shared memory and worker messages under hostile conditions, with
// the real binary: a node with 100,000 in-memory inputs (messages far larger than one
// socket packet) under every runner; the stale-segment cleanup of one kiln meeting the
// live run of another (also one in another PID namespace, where its process id means
// nothing); and /dev/shm too small for the values of three nodes at once (a 32 MiB tmpfs
// mounted in a private mount namespace). Where the machine cannot make a namespace, the
// test says so and skips that part. Every wait is bounded.
#include <doctest/doctest.h>

#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kiln_child.hpp"
#include "kiln_process.hpp"
#include "project_builder.hpp"
#include "test_skip.hpp"
#include "test_support.hpp"

using namespace kiln::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using nlohmann::json;

namespace shm_faults_test_cases {

namespace {

constexpr const char* unshare_binary = "/usr/bin/unshare";

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

// Whether `unshare OPTIONS true` works here: user namespaces may be disabled.
bool unshare_works(const std::vector<std::string>& options, std::string* why) {
    if (::access(unshare_binary, X_OK) != 0) {
        *why = std::string(unshare_binary) + " is missing";
        return false;
    }
    std::vector<std::string> args = options;
    args.push_back("true");
    KilnChild probe(args, {}, unshare_binary);
    const int code = probe.wait_or_fail(20s);
    *why = "`unshare";
    for (const auto& o : options) *why += " " + o;
    *why += " true` failed here (exit " + std::to_string(code) + "): " + probe.output();
    return code == 0;
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

// ------------------------------------------------------------------ stale-segment cleanup

// A shared-memory object made by this test, named like a run's segment, with an OFD lock
// held on it when `locked` (what a live run's host holds on its segment 0).
class FakeSegment {
public:
    FakeSegment(std::string name, bool locked) : name_(std::move(name)) {
        fd_ = ::shm_open(name_.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
        REQUIRE_MESSAGE(fd_ >= 0, "cannot create /dev/shm/" << name_ << ": " << std::strerror(errno));
        REQUIRE(::ftruncate(fd_, 4096) == 0);
        if (locked) {
            struct flock lock {};
            lock.l_type = F_WRLCK;
            lock.l_whence = SEEK_SET;
            REQUIRE(::fcntl(fd_, F_OFD_SETLK, &lock) == 0);
        }
    }
    ~FakeSegment() {
        ::close(fd_);
        ::shm_unlink(name_.c_str());
    }
    bool exists() const { return fs::exists("/dev/shm/" + name_); }
    const std::string& name() const { return name_; }

private:
    std::string name_;
    int fd_ = -1;
};

// Whether a run is alive is told by its lock, not by its host's pid: here every fake run
// is named after pid 1, which exists (so a pid check keeps them all, as it would keep a
// dead run whose pid was reused, or a container's kiln that is pid 1 there). The live one
// holds its lock and must stay; the abandoned ones hold none and must go. (The real case,
// a kiln in another PID namespace, is the next test.)
TEST_CASE("shm.cleanup.removes_only_segments_no_live_run_holds") {
    const std::string tag = std::to_string(::getpid());
    FakeSegment live0("kiln-1-live" + tag + "-0", true);
    FakeSegment live1("kiln-1-live" + tag + "-1", false);
    FakeSegment dead0("kiln-1-dead" + tag + "-0", false);
    FakeSegment dead1("kiln-1-dead" + tag + "-1", false);
    FakeSegment orphan("kiln-1-gone" + tag + "-3", false);  // its segment 0 is gone already

    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a"},
        {"name": "second", "func": "testnodes.neg", "inputs": "a", "outputs": "b"}
    ]}}})");
    KilnChild kiln(run_args(p, {"--runner", "ParallelRunner"}));
    const Finished r = finish(kiln, 60s);
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK_MESSAGE(live0.exists(), "the cleanup removed segment 0 of a run that holds its lock");
    CHECK_MESSAGE(live1.exists(), "the cleanup removed a segment of a run that holds its lock");
    CHECK_MESSAGE(!dead0.exists(), "an abandoned run's segment 0 was kept");
    CHECK_MESSAGE(!dead1.exists(), "an abandoned run's segment was kept");
    CHECK_MESSAGE(!orphan.exists(), "a segment whose run has no segment 0 was kept");
}

// The same for real: a kiln in a new PID (and user) namespace, sharing /dev/shm, runs while
// a ParallelRunner run of ours is in the middle of a node. Our run's host pid means nothing
// there (or belongs to another process); its segments must stay, and our run succeed.
TEST_CASE("shm.cleanup.a_kiln_in_another_pid_namespace_leaves_a_live_run_alone") {
    std::string why;
    if (!unshare_works({"--user", "--map-root-user", "--pid", "--fork"}, &why)) {
        KILN_SKIP_TEST("no PID namespace here: " << why);
    }
    Project slow;
    slow.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "x"},
        {"name": "nap", "func": "testnodes.sleep_ms", "inputs": "params:ms", "outputs": "napped"},
        {"name": "after", "func": "testnodes.add", "inputs": {"a": "x", "b": "napped"}, "outputs": "y"}
    ]}}})");
    slow.parameters(R"({"ms": 4000})");
    slow.catalog(R"({"y": {"type": "kiln.JsonDataset", "filepath": "data/y.json"}})");
    KilnChild outer(run_args(slow, {"--runner", "ParallelRunner", "--max-workers", "2"}));
    // Until the nap has started, and `first`'s value lies in a worker's segment.
    REQUIRE_MESSAGE(poll_until([&] { return outer.contains("Running node: nap") && shm_segments_of(outer.pid()).size() >= 2; }, 20s),
                    outer.output());
    const auto before = shm_segments_of(outer.pid());

    Project quick;
    quick.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "one", "func": "testnodes.seed", "outputs": "a"},
        {"name": "two", "func": "testnodes.neg", "inputs": "a", "outputs": "b"}
    ]}}})");
    std::vector<std::string> inner = {"--user", "--map-root-user", "--pid", "--fork", KILN_BINARY};
    for (const auto& a : run_args(quick, {"--runner", "ParallelRunner"})) inner.push_back(a);
    KilnChild other(inner, {}, unshare_binary);
    const int other_code = other.wait_or_fail(60s);
    INFO("the kiln in the other namespace:\n" << other.output());
    CHECK(other_code == 0);
    const auto after = shm_segments_of(outer.pid());
    CHECK_MESSAGE(after == before, "the live run's segments were " << join_names(before) << ", after the other kiln: "
                                                                   << join_names(after));

    const Finished r = finish(outer, 60s);
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(slow.json_file("data/y.json") == json(4001.0));
}

// ------------------------------------------------------------------ exhaustion

// `kiln ARGS` inside a private mount namespace whose /dev/shm is a fresh tmpfs of `size`.
std::vector<std::string> with_small_dev_shm(const std::string& size, const std::vector<std::string>& kiln_args) {
    std::string script = "mount -t tmpfs -o size=" + size + " tmpfs /dev/shm && exec";
    for (const auto& a : std::vector<std::string>{KILN_BINARY}) script += " " + shell_quote(a);
    for (const auto& a : kiln_args) script += " " + shell_quote(a);
    return {"--user", "--map-root-user", "--mount", "sh", "-c", script};
}

// Three nodes writing a 12 MiB tensor each, at once, and a reader of each.
void three_big_values_project(Project& p, int producers) {
    std::string nodes;
    for (int i = 0; i < producers; ++i) {
        const std::string n = std::string(1, static_cast<char>('a' + i));
        nodes += std::string(nodes.empty() ? "" : ",\n") + R"({"name": "make_)" + n +
                 R"(", "func": "testnodes.ones", "inputs": ["params:rows", "params:cols"], "outputs": "big_)" + n +
                 R"("}, {"name": "sum_)" + n + R"(", "func": "testnodes.tensor_sum", "inputs": "big_)" + n +
                 R"(", "outputs": "sum_)" + n + R"("})";
    }
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [)" + nodes + "]}}}");
    p.parameters(R"({"rows": 1536, "cols": 1024})");  // 1536 x 1024 doubles: 12 MiB
}

TEST_CASE("shm.exhaustion.values_that_do_not_fit_dev_shm_fail_the_run_with_the_dataset_named") {
    std::string why;
    if (!unshare_works({"--user", "--map-root-user", "--mount"}, &why)) {
        KILN_SKIP_TEST("cannot mount a small /dev/shm here: " << why);
    }
    Project p;
    three_big_values_project(p, 3);
    // Where the three allocate at the same moment matters; a few tries cover more of them.
    for (int attempt = 0; attempt < 3; ++attempt) {
        KilnChild kiln(with_small_dev_shm("32m", run_args(p, {"--runner", "ParallelRunner", "--max-workers", "3"})),
                       {}, unshare_binary);
        const Finished r = finish(kiln, 60s);
        INFO("attempt " << attempt << ":\n" << r.output);
        CHECK(r.exit_code == 1);
        CHECK_FALSE(r.contains("SIGBUS"));
        CHECK_FALSE(r.contains("crashed"));
        CHECK(r.contains("not enough shared memory for dataset 'big_"));
        // The value's real size: 12 MiB of doubles and the tensor's header (not a segment size).
        const std::string needs = "its value needs 12.0 MiB (";
        const auto at = r.output.find(needs);
        REQUIRE(at != std::string::npos);
        const long long bytes = std::atoll(r.output.c_str() + at + needs.size());
        CHECK(bytes >= 1536LL * 1024 * 8);
        CHECK(bytes < 1536LL * 1024 * 8 + 4096);
        CHECK(r.contains("free (of 32.0 MiB)"));
        CHECK(r.contains("--shm-size"));
    }

    // The same /dev/shm holds one such value at a time: reserving does not cost a run that fits.
    Project one;
    three_big_values_project(one, 1);
    KilnChild kiln(with_small_dev_shm("32m", run_args(one, {"--runner", "ParallelRunner", "--max-workers", "3"})), {},
                   unshare_binary);
    const Finished r = finish(kiln, 60s);
    INFO(r.output);
    CHECK(r.exit_code == 0);
}

}  // namespace

namespace {
// Small values need little room: a 1 MiB /dev/shm (less than one segment for small values)
// still runs them, each worker's segment sized to what it holds.
TEST_CASE("shm.exhaustion.a_nearly_full_dev_shm_still_passes_small_values") {
    std::string why;
    if (!unshare_works({"--user", "--map-root-user", "--mount"}, &why)) {
        KILN_SKIP_TEST("cannot mount a small /dev/shm here: " << why);
    }
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a"},
        {"name": "second", "func": "testnodes.neg", "inputs": "a", "outputs": "b"},
        {"name": "third", "func": "testnodes.add", "inputs": ["a", "b"], "outputs": "c"}
    ]}}})");
    p.catalog(R"({"c": {"type": "kiln.JsonDataset", "filepath": "data/c.json"}})");
    KilnChild kiln(with_small_dev_shm("1m", run_args(p, {"--runner", "ParallelRunner", "--max-workers", "2"})), {},
                   unshare_binary);
    const Finished r = finish(kiln, 60s);
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(p.json_file("data/c.json") == json(0.0));
}
}  // namespace

}  // namespace shm_faults_test_cases
