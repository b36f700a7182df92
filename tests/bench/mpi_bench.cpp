// MpiRunner benchmark (not a test): what running across MPI ranks buys and what moving a
// large value between ranks costs, each figure against a baseline measured in this run.
//
// Usage: bench_mpi KILN_BINARY TEST_PLUGIN_DIR MPIEXEC [WORKERS]
//   WORKERS: comma-separated worker-rank counts W to try (default "2,4"); each MPI run has
//   W + 1 ranks, since rank 0 only schedules.
//
// Reports, driving the real binaries (`kiln run`, `mpirun ... kiln run --runner MpiRunner`)
// on projects generated in a temporary directory:
//   1. speedup of the MpiRunner over the SequentialRunner on 8 independent CPU-bound
//      testnodes.spin nodes, from the run reports' duration_s (process and MPI start-up
//      excluded), against the ideal min(W, cores); wall times with start-up beside them;
//   2. the bandwidth of passing a 256 MiB Tensor<double> from one rank to another
//      (KILN_MPI_LOCALITY=0 so the consumer runs elsewhere), as the MpiRunner reports it,
//      as a fraction of memcpy bandwidth into fresh and into already-touched memory.
// Every run has a bounded wait; a failed or hung run ends the benchmark with exit code 1.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int spin_nodes = 8;
constexpr double target_node_s = 0.4;
constexpr int pass_repetitions = 3;
constexpr int memcpy_repetitions = 3;
constexpr std::int64_t pass_rows = 4096, pass_cols = 8192;  // 32 Mi doubles: 256 MiB
constexpr std::size_t pass_bytes = static_cast<std::size_t>(pass_rows * pass_cols) * sizeof(double);
constexpr auto run_limit = std::chrono::seconds(300);

struct BenchError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string load_average() {
    std::string s = read_text("/proc/loadavg");
    // "0.94 2.35 2.60 5/93 17134": the three averages are enough.
    std::istringstream in(s);
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
}

// A project directory under the system temp dir, removed with everything in it at the
// end of its scope (also when the benchmark fails: errors are exceptions caught in main).
class TempProject {
public:
    explicit TempProject(const std::string& tag) {
        std::string pattern = (fs::temp_directory_path() / ("kiln-mpi-bench-" + tag + "-XXXXXX")).string();
        if (!::mkdtemp(pattern.data())) throw BenchError("cannot create a temporary directory: " + std::string(std::strerror(errno)));
        dir_ = pattern;
    }
    ~TempProject() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    TempProject(const TempProject&) = delete;
    TempProject& operator=(const TempProject&) = delete;

    const fs::path& dir() const { return dir_; }
    fs::path report() const { return dir_ / "report.json"; }
    fs::path log() const { return dir_ / "run.log"; }
    void write(const std::string& name, const std::string& text) const { std::ofstream(dir_ / name) << text; }

private:
    fs::path dir_;
};

struct Tools {
    std::string kiln, plugins, mpiexec;
};

struct RunResult {
    json report;
    std::string output;  // stdout and stderr together
    double wall_s = 0;   // fork to exit: process (and MPI) start-up included
};

// Runs argv with output to the project's log, in a process group of its own so a hung run
// is killed whole (mpirun and every rank). Throws on a timeout, a non-zero exit, or a
// report that does not say success.
RunResult run(const TempProject& p, std::vector<std::string> argv, const std::string& what) {
    std::error_code ec;
    fs::remove(p.report(), ec);
    const auto t0 = Clock::now();
    pid_t pid = ::fork();
    if (pid < 0) throw BenchError(what + ": fork failed: " + std::strerror(errno));
    if (pid == 0) {
        ::setpgid(0, 0);
        int fd = ::open(p.log().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        ::unsetenv("KILN_PLUGIN_PATH");  // exactly the plugins named on the command line
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::setpgid(pid, pid);  // also here: no race with the child's own call
    int status = 0;
    const auto deadline = t0 + run_limit;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
        if (Clock::now() > deadline) {
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            throw BenchError(what + ": did not finish within " + std::to_string(run_limit.count()) +
                             " s, killed. Output:\n" + read_text(p.log()));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    RunResult r;
    r.wall_s = seconds_since(t0);
    r.output = read_text(p.log());
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code != 0) throw BenchError(what + ": exit code " + std::to_string(code) + ". Output:\n" + r.output);
    r.report = json::parse(read_text(p.report()), nullptr, false);
    if (!r.report.is_object() || r.report.value("status", "") != "success")
        throw BenchError(what + ": no successful run report in " + p.report().string() + ". Output:\n" + r.output);
    return r;
}

std::vector<std::string> kiln_args(const Tools& t, const TempProject& p, bool mpi) {
    std::vector<std::string> a = {t.kiln, "run", "--project", p.dir().string(), "--plugin-path", t.plugins,
                                  "--report", p.report().string()};
    if (mpi) a.insert(a.end(), {"--runner", "MpiRunner"});
    return a;
}

RunResult run_sequential(const Tools& t, const TempProject& p, const std::string& what) {
    return run(p, kiln_args(t, p, false), what);
}

RunResult run_mpi(const Tools& t, const TempProject& p, int ranks, const std::vector<std::string>& env,
                  const std::string& what) {
    std::vector<std::string> a = {t.mpiexec, "--allow-run-as-root", "--oversubscribe", "-np", std::to_string(ranks)};
    for (const auto& e : env) a.insert(a.end(), {"-x", e});
    for (auto& k : kiln_args(t, p, true)) a.push_back(std::move(k));
    RunResult r = run(p, std::move(a), what);
    if (r.report.value("runner", "") != "mpi.MpiRunner")
        throw BenchError(what + ": the report names runner '" + r.report.value("runner", "") + "', not mpi.MpiRunner");
    return r;
}

double node_seconds(const json& report, const std::string& name) {
    for (const auto& n : report["nodes"])
        if (n.value("name", "") == name) return n["end_s"].get<double>() - n["start_s"].get<double>();
    throw BenchError("node '" + name + "' is missing from the run report");
}

std::set<unsigned> workers_used(const json& report) {
    std::set<unsigned> w;
    for (const auto& n : report["nodes"]) w.insert(n.value("worker", 0u));
    return w;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// "2,4" -> {2, 4}, sorted, without repeats; throws on anything else.
std::vector<int> parse_workers(const std::string& text) {
    std::vector<int> out;
    std::istringstream in(text);
    for (std::string item; std::getline(in, item, ',');) {
        char* end = nullptr;
        long w = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || w < 1 || w > 256)
            throw BenchError("worker counts must be positive integers separated by commas, got '" + text + "'");
        out.push_back(static_cast<int>(w));
    }
    if (out.empty()) throw BenchError("no worker counts in '" + text + "'");
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

// ------------------------------------------------------------------ 1. speedup

std::string spin_pipeline(int nodes) {
    std::string s = "{\"pipelines\": {\"__default__\": {\"nodes\": [\n";
    for (int i = 0; i < nodes; ++i)
        s += std::string(i ? ",\n" : "") + "  {\"name\": \"spin" + std::to_string(i) +
             "\", \"func\": \"testnodes.spin\", \"inputs\": \"params:iterations\", \"outputs\": \"s" +
             std::to_string(i) + "\"}";
    return s + "\n]}}}\n";
}

void set_iterations(const TempProject& p, double iterations) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "{\"iterations\": %.0f}\n", iterations);
    p.write("parameters.json", buf);
}

// Iterations of testnodes.spin that take about target_node_s here, timed inside kiln
// (the same plugin build, each node's own start and end in the report): a rough probe,
// then the fastest of three ~0.1 s nodes, since other work on the machine only slows
// a node down.
double calibrate_spin(const Tools& t) {
    TempProject p("calibrate");
    auto fastest_node = [&](int nodes, double iterations) {
        p.write("pipelines.json", spin_pipeline(nodes));
        set_iterations(p, iterations);
        const json report = run_sequential(t, p, "calibration run").report;
        double best = 1e300;
        for (int i = 0; i < nodes; ++i) best = std::min(best, node_seconds(report, "spin" + std::to_string(i)));
        return std::max(best, 1e-4);
    };
    double iterations = 2e7;
    iterations *= 0.1 / fastest_node(1, iterations);
    iterations *= target_node_s / fastest_node(3, iterations);
    return std::max(1e5, iterations);
}

struct SpeedupRow {
    int workers = 0;
    double duration_s = 0, wall_s = 0, ideal = 0;
    std::size_t ranks_used = 0;
};

// ------------------------------------------------------------------ 2. bandwidth

// The MiB/s of "MpiRunner: moved X MiB between ranks, Y s of waiting for inputs (Z MiB/s)".
double reported_bandwidth(const std::string& output, double* mib_moved) {
    const std::string key = "MpiRunner: moved ";
    const std::size_t at = output.find(key);
    if (at == std::string::npos) throw BenchError("no 'MpiRunner: moved ...' line in the output:\n" + output);
    const std::string line = output.substr(at, output.find('\n', at) - at);
    double mib = 0, waiting = 0, rate = 0;
    if (std::sscanf(line.c_str(), "MpiRunner: moved %lf MiB between ranks, %lf s of waiting for inputs (%lf MiB/s)", &mib,
                    &waiting, &rate) != 3)
        throw BenchError("cannot read the figures in: " + line);
    *mib_moved = mib;
    return rate;
}

struct MemcpyResult {
    double fresh_mib_s = 0, touched_mib_s = 0;
};

// memcpy of pass_bytes, best of a few: into freshly allocated memory (page faults
// included, as a receiver that allocates for each value pays them) and into memory
// already written once.
MemcpyResult measure_memcpy() {
    std::vector<char> src(pass_bytes, 1);
    double fresh = 1e300, touched = 1e300;
    for (int r = 0; r < memcpy_repetitions; ++r) {
        char* dst = static_cast<char*>(std::malloc(pass_bytes));  // this large: fresh pages from mmap
        if (!dst) throw BenchError("cannot allocate 256 MiB for the memcpy baseline");
        auto t0 = Clock::now();
        std::memcpy(dst, src.data(), pass_bytes);
        fresh = std::min(fresh, seconds_since(t0));
        if (dst[pass_bytes / 2] != 1) std::abort();
        t0 = Clock::now();
        std::memcpy(dst, src.data(), pass_bytes);
        touched = std::min(touched, seconds_since(t0));
        if (dst[pass_bytes - 1] != 1) std::abort();
        std::free(dst);
    }
    const double mib = static_cast<double>(pass_bytes) / (1 << 20);
    return {mib / fresh, mib / touched};
}

int bench(int argc, char** argv) {
    if (argc < 4 || argc > 5) {
        std::fprintf(stderr, "usage: %s KILN_BINARY TEST_PLUGIN_DIR MPIEXEC [WORKERS]   (WORKERS e.g. 2,4)\n", argv[0]);
        return 2;
    }
    const Tools tools{argv[1], argv[2], argv[3]};
    const std::vector<int> worker_counts = parse_workers(argc > 4 ? argv[4] : "2,4");
    for (const auto& f : {tools.kiln, tools.mpiexec})
        if (::access(f.c_str(), X_OK) != 0) throw BenchError("not an executable: " + f);
    if (!fs::is_directory(tools.plugins)) throw BenchError("not a directory: " + tools.plugins);

    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    std::printf("bench_mpi: %u hardware threads, load average %s at the start (other work on the machine skews every "
                "number below)\n\n",
                hw, load_average().c_str());

    // ---------------------------------------------------------------- 1
    const double iterations = calibrate_spin(tools);
    TempProject spin("spin");
    spin.write("pipelines.json", spin_pipeline(spin_nodes));
    set_iterations(spin, iterations);
    const RunResult seq = run_sequential(tools, spin, "SequentialRunner run of the spin project");
    const double seq_s = seq.report["duration_s"].get<double>();
    std::vector<SpeedupRow> rows;
    for (int w : worker_counts) {
        const std::string what = "mpirun -np " + std::to_string(w + 1) + " of the spin project";
        const RunResult r = run_mpi(tools, spin, w + 1, {}, what);
        if (r.report["nodes"].size() != static_cast<std::size_t>(spin_nodes))
            throw BenchError(what + ": the report lists " + std::to_string(r.report["nodes"].size()) + " nodes, not " +
                             std::to_string(spin_nodes));
        SpeedupRow row;
        row.workers = w;
        row.duration_s = r.report["duration_s"].get<double>();
        row.wall_s = r.wall_s;
        row.ideal = static_cast<double>(std::min({w, static_cast<int>(hw), spin_nodes}));
        row.ranks_used = workers_used(r.report).size();
        rows.push_back(row);
    }

    std::printf("1. Speedup of MpiRunner over SequentialRunner, %d independent testnodes.spin nodes\n", spin_nodes);
    std::printf("   (%.3g iterations each: %.3f s a node sequentially; times are the reports' duration_s, start-up "
                "excluded; wall = with process and mpirun start-up)\n",
                iterations, seq_s / spin_nodes);
    std::printf("   %-17s %5s %8s %10s %8s %8s %8s %9s %10s\n", "runner", "ranks", "workers", "duration s", "wall s",
                "speedup", "ideal", "sp/ideal", "wall spdup");
    std::printf("   %-17s %5s %8d %10.3f %8.3f %8s %8s %9s %10s\n", "SequentialRunner", "-", 1, seq_s, seq.wall_s, "1.00x",
                "", "", "1.00x");
    for (const auto& r : rows) {
        const double sp = seq_s / r.duration_s;
        std::printf("   %-17s %5d %8d %10.3f %8.3f %7.2fx %7.2fx %9.2f %9.2fx%s\n", "MpiRunner", r.workers + 1, r.workers,
                    r.duration_s, r.wall_s, sp, r.ideal, sp / r.ideal, seq.wall_s / r.wall_s,
                    r.ranks_used < static_cast<std::size_t>(std::min(r.workers, spin_nodes)) ? "  (fewer ranks ran nodes)"
                                                                                             : "");
    }
    std::printf("   (ideal = min(W, %u cores, %d nodes): rank 0 only schedules, so W = ranks - 1 run nodes.", hw, spin_nodes);
    if (std::any_of(rows.begin(), rows.end(), [hw](const SpeedupRow& r) { return r.workers > static_cast<int>(hw); }))
        std::printf("\n    W > %u is oversubscribed: the worker ranks share %u cores, so the cores, not the runner, cap "
                    "the speedup.",
                    hw, hw);
    std::printf(")\n\n");

    // ---------------------------------------------------------------- 2
    TempProject pass("pass");
    pass.write("pipelines.json", R"({"pipelines": {"__default__": {"nodes": [
  {"name": "make", "func": "testnodes.ones", "inputs": ["params:rows", "params:cols"], "outputs": "t"},
  {"name": "use", "func": "testnodes.tensor_sum", "inputs": "t", "outputs": "total"}]}}}
)");
    pass.write("parameters.json",
               "{\"rows\": " + std::to_string(pass_rows) + ", \"cols\": " + std::to_string(pass_cols) + "}\n");
    std::vector<double> rates, waits;
    double mib_moved = 0;
    for (int i = 0; i < pass_repetitions; ++i) {
        const std::string what = "mpirun -np 3 of the 256 MiB pass (repetition " + std::to_string(i + 1) + ")";
        const RunResult r = run_mpi(tools, pass, 3, {"KILN_MPI_LOCALITY=0"}, what);
        const json& total = r.report["outputs"]["total"];
        if (!total.is_number() || total.get<double>() != static_cast<double>(pass_rows * pass_cols))
            throw BenchError(what + ": wrong output 'total': " + total.dump());
        if (workers_used(r.report).size() != 2)
            throw BenchError(what + ": 'make' and 'use' ran on the same rank; KILN_MPI_LOCALITY=0 did not take effect");
        rates.push_back(reported_bandwidth(r.output, &mib_moved));
    }
    const MemcpyResult mem = measure_memcpy();
    const double best = *std::max_element(rates.begin(), rates.end()), med = median(rates);

    std::printf("2. Passing a 256 MiB Tensor<double> between ranks (mpirun -np 3, KILN_MPI_LOCALITY=0: 'use' runs on "
                "another rank than 'make')\n");
    std::printf("   MiB/s as the MpiRunner logs it (%.1f MiB moved / time the consumer waited for its input), %d runs\n",
                mib_moved, pass_repetitions);
    std::printf("   %-34s %10s %14s %16s\n", "", "MiB/s", "/ memcpy fresh", "/ memcpy touched");
    std::printf("   %-34s %10.1f %13.3fx %15.3fx\n", "MpiRunner pass, best", best, best / mem.fresh_mib_s,
                best / mem.touched_mib_s);
    std::printf("   %-34s %10.1f %13.3fx %15.3fx\n", "MpiRunner pass, median", med, med / mem.fresh_mib_s,
                med / mem.touched_mib_s);
    std::printf("   %-34s %10.1f\n", "memcpy into fresh memory", mem.fresh_mib_s);
    std::printf("   %-34s %10.1f\n", "memcpy into touched memory", mem.touched_mib_s);
    std::string all;
    for (double r : rates) all += (all.empty() ? "" : ", ") + std::to_string(static_cast<long>(r + 0.5));
    std::printf("   (every run: %s MiB/s; memcpy best of %d in this process)\n\n", all.c_str(), memcpy_repetitions);

    std::printf("load average %s at the end\n", load_average().c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return bench(argc, argv);
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "bench_mpi: FAILED: %s\n", e.what());
        return 1;
    }
}
