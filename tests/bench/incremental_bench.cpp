// Incremental-run benchmark: how fast Kiln decides what is stale.
//
// Usage: bench_incremental [MiB of the hashed file (1024)] [nodes (100000)] [repeats (3)]
//   1. Content hash throughput (XXH3-128, streamed) on one file, against a plain read of
//      the same file and memcpy of the same bytes, all measured in this run (warm page
//      cache): the check should be I/O-bound, not hash-bound.
//   2. A no-op incremental decision on an N-node chain whose nodes all persist their
//      outputs: read .kiln/fingerprints, stat every file, compare every fingerprint; target
//      under a second for 100,000 nodes.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <string>
#include <unistd.h>
#include <vector>

#include "catalog/catalog.hpp"
#include "config/pipeline_loader.hpp"
#include "incremental/incremental_state.hpp"
#include "kiln/dataset.hpp"
#include "kiln/file_io.hpp"
#include "kiln/sdk.hpp"
#include "plugins/registry.hpp"

namespace fs = std::filesystem;
using namespace kiln::core;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double inc(double x) { return x + 1; }

// A persisted dataset that only has to exist for the decision: a file per dataset.
class TouchDataset : public kiln::Dataset {
public:
    explicit TouchDataset(const kiln::DatasetConfig& config) : path_(config.path_arg("filepath")) {}
    kiln::Value load() override { return kiln::Value::make(1.0); }
    void save(const kiln::Value&) override { std::ofstream(path_) << "1"; }
    bool exists() const override { return fs::exists(path_); }
    std::string describe() const override { return "TouchDataset(" + path_.string() + ")"; }

private:
    fs::path path_;
};

double read_file(const fs::path& file, std::vector<char>& buffer) {
    const auto t0 = Clock::now();
    const int fd = ::open(file.c_str(), O_RDONLY);
    std::size_t sum = 0;
    for (ssize_t n; (n = ::read(fd, buffer.data(), buffer.size())) > 0;) sum += buffer[static_cast<std::size_t>(n) - 1];
    ::close(fd);
    const double t = seconds_since(t0);
    if (sum == 42) std::puts("");  // keep the reads
    return t;
}

void hash_throughput(const fs::path& dir, std::size_t mib) {
    const fs::path file = dir / "big.bin";
    std::vector<char> chunk(1 << 20);
    for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>((i * 2654435761u) >> 11);
    {
        std::ofstream out(file, std::ios::binary);
        for (std::size_t i = 0; i < mib; ++i) {
            chunk[0] = static_cast<char>(i);
            out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        }
    }
    std::vector<char> buffer(1 << 20);
    read_file(file, buffer);  // warm the page cache
    double t_read = 1e9, t_hash = 1e9, t_memcpy = 1e9;
    std::vector<char> from(256u << 20, 1), to(256u << 20);
    for (int rep = 0; rep < 3; ++rep) {
        t_read = std::min(t_read, read_file(file, buffer));
        auto t0 = Clock::now();
        const std::string h = hash_file(file);
        t_hash = std::min(t_hash, seconds_since(t0));
        if (h.size() != 32) std::puts("bad hash");
        t0 = Clock::now();
        for (std::size_t done = 0; done < (mib << 20); done += from.size()) {
            from[done % 7] = static_cast<char>(done);
            std::memcpy(to.data(), from.data(), std::min(from.size(), (mib << 20) - done));
        }
        t_memcpy = std::min(t_memcpy, seconds_since(t0));
        if (to[3] == 42) std::puts("");
    }
    // From the disk: the file dropped from the page cache before each (as far as the kernel
    // lets an unprivileged process; the figures say whether it did).
    auto drop = [&] {
        ::sync();
        const int fd = ::open(file.c_str(), O_RDONLY);
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        ::close(fd);
    };
    drop();
    const double t_read_cold = read_file(file, buffer);
    drop();
    auto t0 = Clock::now();
    (void)hash_file(file);
    const double t_hash_cold = seconds_since(t0);
    const double gib = static_cast<double>(mib) / 1024;
    std::printf("content hash on a %zu MiB file:\n", mib);
    std::printf("  warm cache (best of 3): memcpy %.2f GiB/s, read(2) in 1 MiB blocks %.2f GiB/s, hash_file (XXH3-128) "
                "%.2f GiB/s -> %.2fx the time of reading it\n",
                gib / t_memcpy, gib / t_read, gib / t_hash, t_hash / t_read);
    std::printf("  from the disk:          read(2) %.2f GiB/s, hash_file %.2f GiB/s -> %.2fx the time of reading it\n",
                gib / t_read_cold, gib / t_hash_cold, t_hash_cold / t_read_cold);
    fs::remove(file);
}

void noop_decision(const fs::path& dir, std::size_t n, int repeats) {
    Registry registry;
    registry.add_builtin("bench", "1", [](kiln::Registrar& reg) {
        reg.node("inc", &inc);
        reg.dataset<TouchDataset>("TouchDataset");
    });
    std::string text = R"({"pipelines": {"__default__": {"nodes": [)";
    for (std::size_t i = 1; i <= n; ++i)
        text += std::string(i > 1 ? "," : "") + R"({"name": "n)" + std::to_string(i) + R"(", "func": "bench.inc", "inputs": "d)" +
                std::to_string(i - 1) + R"(", "outputs": "d)" + std::to_string(i) + R"("})";
    text += "]}}}";
    FunctionResolver resolve = [&](const std::string& name, std::string& hint) { return registry.find_node(name, hint); };
    auto pipelines = load_pipelines(nlohmann::json::parse(text), "pipelines.json", resolve);
    const Pipeline& pipeline = pipelines.at("__default__");
    // One factory pattern gives every dataset its file, as a real project would.
    const auto entries = DataCatalog::entries_from_json(
        nlohmann::json::parse(R"({"{name}": {"type": "bench.TouchDataset", "filepath": "data/{name}"}})"), "catalog.json");
    fs::create_directories(dir / "data");
    auto t0 = Clock::now();
    for (std::size_t i = 0; i <= n; ++i) std::ofstream(dir / "data" / ("d" + std::to_string(i))) << i;
    const double t_files = seconds_since(t0);

    {  // What a full run records, node by node, after each completes.
        DataCatalog catalog(entries, Parameters(), dir, registry);
        IncrementalState state(dir, pipeline, catalog);
        state.fingerprinter.set_reuse_stat(false);
        t0 = Clock::now();
        for (std::size_t i = 0; i < pipeline.size(); ++i) {
            NodeRecord r = state.fingerprinter.record_now(i);
            r.outputs = state.fingerprinter.outputs_now(i);
            state.fingerprinter.set_fingerprint(i, r.fingerprint);
            state.store.append(r);
        }
        state.store.sync();
        std::printf("no-op incremental decision, %zu-node chain, every output a file (%zu files written in %.2f s)\n", n,
                    n + 1, t_files);
        std::printf("  recording every node (hash + append)     %8.1f ms\n", seconds_since(t0) * 1e3);
    }
    // A fresh catalog and store each time, as a new process would have. The first decision
    // in the process is what `kiln run --incremental` pays (its memory is new); the best of
    // `repeats` shows the work itself.
    double first_load = 0, first_decide = 0, t_load = 1e9, t_decide = 1e9;
    std::size_t records = 0, stale = 0, hashed = 0;
    for (int rep = 0; rep < repeats; ++rep) {
        DataCatalog catalog(entries, Parameters(), dir, registry);
        t0 = Clock::now();
        IncrementalState state(dir, pipeline, catalog);
        const double load = seconds_since(t0);
        t0 = Clock::now();
        const Staleness decision = decide_staleness(pipeline, pipeline, catalog, state.records, state.fingerprinter, "bench");
        const double decide = seconds_since(t0);
        if (rep == 0) first_load = load, first_decide = decide;
        t_load = std::min(t_load, load);
        t_decide = std::min(t_decide, decide);
        records = state.records.size();
        stale = decision.selected.size();
        hashed = state.files.hashed();
    }
    std::printf("  %zu records, %zu stale, %zu files hashed        first in the process | best of %d\n", records, stale,
                hashed, repeats);
    std::printf("  read .kiln/fingerprints                  %8.1f ms | %8.1f ms\n", first_load * 1e3, t_load * 1e3);
    std::printf("  decide (stat, fingerprint, compare)      %8.1f ms | %8.1f ms\n", first_decide * 1e3, t_decide * 1e3);
    std::printf("  total (target < 1000 ms)                 %8.1f ms | %8.1f ms\n", (first_load + first_decide) * 1e3,
                (t_load + t_decide) * 1e3);
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t mib = argc > 1 ? std::stoul(argv[1]) : 1024;
    const std::size_t n = argc > 2 ? std::stoul(argv[2]) : 100000;
    const int repeats = argc > 3 ? std::stoi(argv[3]) : 3;
    spdlog::set_level(spdlog::level::warn);
    const fs::path dir = fs::temp_directory_path() / ("kiln-bench-incremental-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    hash_throughput(dir, mib);
    noop_decision(dir, n, repeats);
    fs::remove_all(dir);
    return 0;
}
