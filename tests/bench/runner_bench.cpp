// Runner benchmark (not a test): what the concurrent runners buy and what they cost.
//
// Usage: bench_runners [WORKERS...]     (default: 1 and std::thread::hardware_concurrency())
//
// Reports, all measured in this one run, in-process (pipelines built from nodes bound to
// functions registered with Registry::add_builtin, run by the kiln::runners factories):
//   1. speedup of ParallelRunner and ThreadRunner over SequentialRunner on K = 4 x W
//      independent CPU-bound nodes, against the ideal min(W, K) for W workers;
//   2. the bandwidth of passing a 256 MiB kiln::Tensor<double> from a node in one worker
//      process to a node in another (ParallelRunner, shared memory), as a fraction of
//      memcpy bandwidth into fresh and into already-touched memory;
//   3. per-node overhead of each runner on 10,000 trivial nodes (independent, and a
//      chain) against a plain loop calling the same functions, spdlog at warning level.
// Timings are the best of a few repetitions: the machine may be busy with other work.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <spdlog/spdlog.h>
#include <string>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "builtin_runners.hpp"
#include "catalog/catalog.hpp"
#include "kiln/sdk.hpp"
#include "model/pipeline.hpp"
#include "plugins/registry.hpp"
#include "run/run_plan.hpp"

namespace fs = std::filesystem;
using namespace kiln::core;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int repetitions = 3;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// ------------------------------------------------------------------ node functions

// CPU-bound work the optimiser cannot remove; the iteration count is set (calibrated)
// before any runner starts, so forked workers inherit it.
std::int64_t burn_iterations = 1'000'000;
double burn() {
    volatile double acc = 0;
    for (std::int64_t i = 0; i < burn_iterations; ++i) acc = acc + 1e-9 * static_cast<double>(i % 7);
    return acc;
}

double seed() { return 0; }
double inc(double x) { return x + 1; }

// The large-value pass: timestamps in memory shared with forked workers (steady_clock
// is CLOCK_MONOTONIC, one clock for every process of the machine).
struct PassProbe {
    std::atomic<std::int64_t> produced_ns{0};
    std::atomic<int> producer_pid{0};
    struct Consumer {
        std::atomic<std::int64_t> started_ns{0};
        std::atomic<int> pid{0};
    } consumers[2];
};
PassProbe* probe = nullptr;
constexpr std::size_t pass_bytes = std::size_t(256) << 20;
constexpr std::size_t pass_elements = pass_bytes / sizeof(double);

kiln::Tensor<double> produce() {
    kiln::Tensor<double> t({pass_elements / 1024, 1024});
    std::fill(t.begin(), t.end(), 1.0);
    probe->producer_pid = static_cast<int>(::getpid());
    probe->produced_ns = now_ns();  // the value leaves the node now
    return t;
}
double consume(int which, const kiln::Tensor<double>& t) {
    probe->consumers[which].started_ns = now_ns();  // the value has arrived
    probe->consumers[which].pid = static_cast<int>(::getpid());
    return std::accumulate(t.begin(), t.end(), 0.0);
}
double consume_a(const kiln::Tensor<double>& t) { return consume(0, t); }
double consume_b(const kiln::Tensor<double>& t) { return consume(1, t); }

// ------------------------------------------------------------------ pipelines and runs

struct Bench {
    Registry registry;
    DataCatalog catalog;
    Bench() : catalog({}, Parameters(), fs::temp_directory_path(), registry) {}

    const NodeFunction* func(const std::string& name) {
        std::string hint;
        const NodeFunction* f = registry.find_node(name, hint);
        if (!f) {
            std::fprintf(stderr, "no node function %s: %s\n", name.c_str(), hint.c_str());
            std::exit(2);
        }
        return f;
    }
    Node node(std::string name, const std::string& f, std::vector<std::string> in, std::vector<std::string> out) {
        Node n;
        n.name = std::move(name);
        n.func = func(f);
        n.inputs = std::move(in);
        n.outputs = std::move(out);
        return n;
    }
};

enum class Kind { sequential, thread, parallel };
const char* kind_name(Kind k) {
    return k == Kind::sequential ? "SequentialRunner" : k == Kind::thread ? "ThreadRunner" : "ParallelRunner";
}

std::unique_ptr<Runner> make_runner(Kind kind, int workers) {
    RunnerOptions o;
    if (kind != Kind::sequential) o.max_workers = workers;
    switch (kind) {
        case Kind::sequential: return kiln::runners::make_sequential_runner(o);
        case Kind::thread: return kiln::runners::make_thread_runner(o);
        case Kind::parallel: return kiln::runners::make_parallel_runner(o);
    }
    return nullptr;
}

// Best wall time of the runner over `repetitions` fresh plans; exits on a failed run.
double time_run(Bench& b, const Pipeline& pipeline, Kind kind, int workers, int reps = repetitions,
                RunPlan** keep = nullptr) {
    double best = 1e300;
    for (int r = 0; r < reps; ++r) {
        auto plan = std::make_unique<RunPlan>(pipeline, b.catalog, "bench");
        auto runner = make_runner(kind, workers);
        auto t0 = Clock::now();
        RunOutcome outcome = runner->run(*plan, nullptr);
        double t = seconds_since(t0);
        if (!outcome.ok()) {
            std::fprintf(stderr, "%s run failed: %s\n", kind_name(kind), outcome.failures.front().message.c_str());
            std::exit(1);
        }
        best = std::min(best, t);
        if (keep && r == reps - 1) *keep = plan.release();
    }
    return best;
}

// ------------------------------------------------------------------ 1. speedup

struct SpeedupRow {
    int workers;
    std::size_t nodes;
    double node_ms, seq_s, thread_s, parallel_s, ideal;
    double raw_speedup;  // plain std::threads on the same work, no runner: what the machine gives
};

// The same K calls of burn() in a plain loop, and spread over W plain std::threads.
double raw_speedup(std::size_t k, int workers) {
    double loop = 1e300, threads = 1e300;
    for (int r = 0; r < repetitions; ++r) {
        auto t0 = Clock::now();
        for (std::size_t i = 0; i < k; ++i) burn();
        loop = std::min(loop, seconds_since(t0));
        t0 = Clock::now();
        std::vector<std::thread> pool;
        for (int w = 0; w < workers; ++w)
            pool.emplace_back([k, w, workers] {
                for (std::size_t i = static_cast<std::size_t>(w); i < k; i += static_cast<std::size_t>(workers)) burn();
            });
        for (auto& t : pool) t.join();
        threads = std::min(threads, seconds_since(t0));
    }
    return loop / threads;
}

SpeedupRow speedup(Bench& b, int workers) {
    const std::size_t k = 4 * static_cast<std::size_t>(workers);
    std::vector<Node> nodes;
    for (std::size_t i = 0; i < k; ++i)
        nodes.push_back(b.node("w" + std::to_string(i), "bench.burn", {}, {"o" + std::to_string(i)}));
    Pipeline pipeline(std::move(nodes));
    SpeedupRow row{};
    row.workers = workers;
    row.nodes = k;
    row.seq_s = time_run(b, pipeline, Kind::sequential, 1);
    row.thread_s = time_run(b, pipeline, Kind::thread, workers);
    row.parallel_s = time_run(b, pipeline, Kind::parallel, workers);
    row.node_ms = row.seq_s / static_cast<double>(k) * 1e3;
    row.ideal = static_cast<double>(std::min<std::size_t>(static_cast<std::size_t>(workers), k));
    row.raw_speedup = raw_speedup(k, workers);
    return row;
}

// ------------------------------------------------------------------ 2. shared-memory bandwidth

struct PassResult {
    bool ran = false;
    std::string why_not;
    double pass_s = 0, memcpy_fresh_s = 0, memcpy_touched_s = 0, memcpy_shm_s = 0, run_s = 0;
    bool crossed = false;  // a consumer ran in another process than the producer
};

PassResult large_pass(Bench& b) {
    PassResult res;
    struct statvfs fs {};
    if (::statvfs("/dev/shm", &fs) == 0) {
        const std::size_t free_bytes = static_cast<std::size_t>(fs.f_bavail) * fs.f_frsize;
        if (free_bytes < 2 * pass_bytes) {
            res.why_not = "/dev/shm has " + std::to_string(free_bytes >> 20) + " MiB free, needs 512 MiB";
            return res;
        }
    }
    void* mem = ::mmap(nullptr, sizeof(PassProbe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        res.why_not = "mmap failed";
        return res;
    }
    probe = new (mem) PassProbe();

    // Two readers at once on two workers: one of them runs in another process.
    std::vector<Node> nodes;
    nodes.push_back(b.node("produce", "bench.produce", {}, {"t"}));
    nodes.push_back(b.node("consume_a", "bench.consume_a", {"t"}, {"a"}));
    nodes.push_back(b.node("consume_b", "bench.consume_b", {"t"}, {"b"}));
    Pipeline pipeline(std::move(nodes));

    res.pass_s = 1e300;
    res.run_s = 1e300;
    for (int r = 0; r < repetitions; ++r) {
        RunPlan plan(pipeline, b.catalog, "bench");
        auto runner = make_runner(Kind::parallel, 2);
        auto t0 = Clock::now();
        RunOutcome outcome = runner->run(plan, nullptr);
        res.run_s = std::min(res.run_s, seconds_since(t0));
        if (!outcome.ok()) {
            res.why_not = "run failed: " + outcome.failures.front().message;
            return res;
        }
        for (const auto& out : plan.free_outputs())
            if (out.value.get<double>() != static_cast<double>(pass_elements)) {
                res.why_not = "wrong sum in '" + out.name + "'";
                return res;
            }
        for (const auto& c : probe->consumers) {
            if (c.pid.load() == probe->producer_pid.load()) continue;
            res.crossed = true;
            res.pass_s = std::min(res.pass_s, (c.started_ns.load() - probe->produced_ns.load()) * 1e-9);
        }
    }
    ::munmap(mem, sizeof(PassProbe));
    probe = nullptr;
    if (!res.crossed) {
        res.why_not = "no consumer ran in another process than the producer";
        return res;
    }

    // memcpy of the same size, into fresh memory (page faults included) and into memory
    // already written once.
    std::vector<char> src(pass_bytes, 1);
    res.memcpy_fresh_s = res.memcpy_touched_s = 1e300;
    for (int r = 0; r < repetitions; ++r) {
        char* dst = static_cast<char*>(std::malloc(pass_bytes));  // large: fresh pages from mmap
        auto t0 = Clock::now();
        std::memcpy(dst, src.data(), pass_bytes);
        res.memcpy_fresh_s = std::min(res.memcpy_fresh_s, seconds_since(t0));
        if (dst[pass_bytes / 2] != 1) std::abort();
        t0 = Clock::now();
        std::memcpy(dst, src.data(), pass_bytes);
        res.memcpy_touched_s = std::min(res.memcpy_touched_s, seconds_since(t0));
        if (dst[pass_bytes - 1] != 1) std::abort();
        std::free(dst);
    }
    // And into a fresh /dev/shm mapping: the floor for any one-copy design on tmpfs.
    res.memcpy_shm_s = 1e300;
    const std::string name = "/kilnbench-" + std::to_string(::getpid());
    for (int r = 0; r < repetitions; ++r) {
        int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
        if (fd < 0) break;
        ::shm_unlink(name.c_str());
        if (::ftruncate(fd, static_cast<off_t>(pass_bytes)) != 0) {
            ::close(fd);
            break;
        }
        void* p = ::mmap(nullptr, pass_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        ::close(fd);
        if (p == MAP_FAILED) break;
        auto t0 = Clock::now();
        std::memcpy(p, src.data(), pass_bytes);
        res.memcpy_shm_s = std::min(res.memcpy_shm_s, seconds_since(t0));
        ::munmap(p, pass_bytes);
    }
    res.ran = true;
    return res;
}

// ------------------------------------------------------------------ 3. per-node overhead

struct OverheadRow {
    std::string runner;
    int workers;
    double independent_ns, chain_ns;  // per node, minus the plain loop's
};

}  // namespace

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    std::vector<int> worker_counts;
    for (int i = 1; i < argc; ++i) {
        int w = std::atoi(argv[i]);
        if (w < 1) {
            std::fprintf(stderr, "usage: %s [WORKERS...]   (positive worker counts)\n", argv[0]);
            return 2;
        }
        worker_counts.push_back(w);
    }
    if (worker_counts.empty()) worker_counts = {1, static_cast<int>(hw)};
    std::sort(worker_counts.begin(), worker_counts.end());
    worker_counts.erase(std::unique(worker_counts.begin(), worker_counts.end()), worker_counts.end());

    Bench b;
    b.registry.add_builtin("bench", "1", [](kiln::Registrar& reg) {
        reg.node("burn", &burn);
        reg.node("seed", &seed);
        reg.node("inc", &inc);
        reg.node("produce", &produce);
        reg.node("consume_a", &consume_a);
        reg.node("consume_b", &consume_b);
    });

    double load[3] = {0, 0, 0};
    ::getloadavg(load, 3);
    std::printf("bench_runners: %u hardware threads, load average %.2f (other work on the machine skews every "
                "number below); best of %d runs each\n\n",
                hw, load[0], repetitions);

    // Calibrate burn() to about 50 ms a node.
    {
        burn_iterations = 2'000'000;
        auto t0 = Clock::now();
        burn();
        double t = seconds_since(t0);
        burn_iterations = std::max<std::int64_t>(100'000, static_cast<std::int64_t>(2'000'000 * 0.050 / t));
    }

    // ---------------------------------------------------------------- 1
    std::printf("1. Speedup over SequentialRunner, K = 4 x W independent CPU-bound nodes\n");
    std::printf("   %7s %4s %8s %9s %9s %10s %8s %8s %8s %8s %8s %9s\n", "workers", "K", "node ms", "seq s", "thread s",
                "parallel s", "thread", "parallel", "ideal", "thr/id", "par/id", "raw thr");
    std::vector<SpeedupRow> rows;
    for (int w : worker_counts) {
        SpeedupRow r = speedup(b, w);
        rows.push_back(r);
        const double st = r.seq_s / r.thread_s, sp = r.seq_s / r.parallel_s;
        std::printf("   %7d %4zu %8.1f %9.3f %9.3f %10.3f %7.2fx %7.2fx %7.2fx %8.2f %8.2f %8.2fx\n", r.workers, r.nodes,
                    r.node_ms, r.seq_s, r.thread_s, r.parallel_s, st, sp, r.ideal, st / r.ideal, sp / r.ideal,
                    r.raw_speedup);
    }
    std::printf("   (ideal = min(W, K); beyond %u workers the cores, not the runner, cap the speedup. raw thr: the\n"
                "    same calls on W plain std::threads, no runner: the most this machine gave right now)\n\n",
                hw);

    // ---------------------------------------------------------------- 2
    std::printf("2. Passing a 256 MiB Tensor<double> between worker processes (ParallelRunner, shared memory)\n");
    PassResult pass = large_pass(b);
    const double mib = static_cast<double>(pass_bytes) / (1 << 20);
    double frac_fresh = 0, frac_touched = 0;
    if (!pass.ran) {
        std::printf("   skipped: %s\n\n", pass.why_not.c_str());
    } else {
        const double bw_pass = mib / pass.pass_s / 1024, bw_fresh = mib / pass.memcpy_fresh_s / 1024,
                     bw_touched = mib / pass.memcpy_touched_s / 1024;
        frac_fresh = bw_pass / bw_fresh;
        frac_touched = bw_pass / bw_touched;
        std::printf("   %-44s %8.1f ms  %6.2f GiB/s\n", "producer returns -> consumer starts (other process)",
                    pass.pass_s * 1e3, bw_pass);
        std::printf("   %-44s %8.1f ms  %6.2f GiB/s   pass/memcpy = %.2fx\n", "memcpy into fresh memory",
                    pass.memcpy_fresh_s * 1e3, bw_fresh, frac_fresh);
        std::printf("   %-44s %8.1f ms  %6.2f GiB/s   pass/memcpy = %.2fx\n", "memcpy into touched memory",
                    pass.memcpy_touched_s * 1e3, bw_touched, frac_touched);
        if (pass.memcpy_shm_s < 1e300) {
            const double bw_shm = mib / pass.memcpy_shm_s / 1024;
            std::printf("   %-44s %8.1f ms  %6.2f GiB/s   pass/memcpy = %.2fx\n", "memcpy into a fresh /dev/shm mapping",
                        pass.memcpy_shm_s * 1e3, bw_shm, bw_pass / bw_shm);
        }
        std::printf("   (whole 3-node run, fill and two sums included: %.1f ms)\n\n", pass.run_s * 1e3);
    }

    // ---------------------------------------------------------------- 3
    constexpr std::size_t n = 10'000;
    std::vector<Node> ind_nodes, chain_nodes;
    for (std::size_t i = 0; i < n; ++i)
        ind_nodes.push_back(b.node("n" + std::to_string(i), "bench.seed", {}, {"d" + std::to_string(i)}));
    chain_nodes.push_back(b.node("n0", "bench.seed", {}, {"d0"}));
    for (std::size_t i = 1; i < n; ++i)
        chain_nodes.push_back(
            b.node("n" + std::to_string(i), "bench.inc", {"d" + std::to_string(i - 1)}, {"d" + std::to_string(i)}));
    Pipeline independent(std::move(ind_nodes)), chain(std::move(chain_nodes));

    // Baselines: the same functions in a plain loop, each value boxed as a runner boxes it.
    double loop_ind = 1e300, loop_chain = 1e300;
    for (int r = 0; r < repetitions; ++r) {
        std::vector<kiln::Value> values(n);
        auto t0 = Clock::now();
        for (std::size_t i = 0; i < n; ++i) values[i] = kiln::Value::make(seed());
        loop_ind = std::min(loop_ind, seconds_since(t0));
        t0 = Clock::now();
        kiln::Value v = kiln::Value::make(seed());
        for (std::size_t i = 1; i < n; ++i) v = kiln::Value::make(inc(v.get<double>()));
        loop_chain = std::min(loop_chain, seconds_since(t0));
        if (v.get<double>() != static_cast<double>(n - 1)) std::abort();
    }

    std::printf("3. Per-node overhead on %zu trivial nodes (runner time minus a plain loop of the same calls)\n", n);
    std::printf("   plain loop: independent %.1f ns/node, chain %.1f ns/node\n", loop_ind / n * 1e9,
                loop_chain / n * 1e9);
    std::printf("   %-18s %7s %16s %16s %10s\n", "runner", "workers", "independent", "chain", "target");
    std::vector<OverheadRow> overhead;
    std::vector<std::pair<Kind, int>> configs = {{Kind::sequential, 1}};
    for (Kind k : {Kind::thread, Kind::parallel})
        for (int w : {1, static_cast<int>(hw)})
            if (configs.back() != std::pair<Kind, int>{k, w}) configs.emplace_back(k, w);
    for (auto [kind, workers] : configs) {
        RunPlan* last = nullptr;
        double t_ind = time_run(b, independent, kind, workers);
        double t_chain = time_run(b, chain, kind, workers, repetitions, &last);
        std::unique_ptr<RunPlan> owned(last);
        if (owned->free_outputs().at(0).value.get<double>() != static_cast<double>(n - 1)) {
            std::fprintf(stderr, "%s: wrong chain result\n", kind_name(kind));
            return 1;
        }
        OverheadRow row{kind_name(kind), workers, (t_ind - loop_ind) / n * 1e9, (t_chain - loop_chain) / n * 1e9};
        overhead.push_back(row);
        auto fmt = [](double ns) {
            char buf[32];
            if (ns >= 10'000) std::snprintf(buf, sizeof buf, "%.1f us", ns / 1e3);
            else std::snprintf(buf, sizeof buf, "%.0f ns", ns);
            return std::string(buf);
        };
        std::printf("   %-18s %7d %16s %16s %10s\n", row.runner.c_str(), workers, fmt(row.independent_ns).c_str(),
                    fmt(row.chain_ns).c_str(), kind == Kind::parallel ? "<= 20 us" : "<= 200 ns");
    }

    // ---------------------------------------------------------------- summary
    std::printf("\nSummary against the targets\n");
    auto verdict = [](bool ok) { return ok ? "met" : "MISSED"; };
    for (const auto& r : rows) {
        if (r.workers != 2) continue;
        const double st = r.seq_s / r.thread_s, sp = r.seq_s / r.parallel_s;
        std::printf("   speedup on 2 workers >= 1.9x:       ThreadRunner %.2fx (%s), ParallelRunner %.2fx (%s); plain "
                    "threads got %.2fx%s\n",
                    st, verdict(st >= 1.9), sp, verdict(sp >= 1.9), r.raw_speedup,
                    hw < 2 ? "  [fewer than 2 cores here]" : "");
    }
    if (std::none_of(rows.begin(), rows.end(), [](const SpeedupRow& r) { return r.workers == 2; }))
        std::printf("   speedup on 2 workers >= 1.9x:       not measured (pass 2 among the worker counts)\n");
    if (pass.ran)
        std::printf("   shm passing >= 0.5x memcpy:         %.2fx of fresh-memory memcpy (%s), %.2fx of touched-memory "
                    "memcpy (%s)\n",
                    frac_fresh, verdict(frac_fresh >= 0.5), frac_touched, verdict(frac_touched >= 0.5));
    else
        std::printf("   shm passing >= 0.5x memcpy:         not measured (%s)\n", pass.why_not.c_str());
    for (const auto& o : overhead) {
        const double limit = o.runner == "ParallelRunner" ? 20'000 : 200;
        const double worst = std::max(o.independent_ns, o.chain_ns);
        std::printf("   per-node overhead %-16s W=%d: worst %.0f ns <= %.0f ns (%s)\n", o.runner.c_str(), o.workers, worst,
                    limit, verdict(worst <= limit));
    }
    return 0;
}
