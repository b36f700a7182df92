// kiln.PartitionedDataset's cost per partition, against plain code doing the same file work
// in the same run: listing a folder and reading every file (the baseline for loads), and
// writing every file with kiln::write_file_atomic (the baseline for saves: the same
// temporary file, fsync and rename the dataset does).
//
// Usage: bench_partitions [N]   (N partitions of 1 KiB; default 2000)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <spdlog/spdlog.h>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "kiln/file_io.hpp"
#include "kiln/partitions.hpp"
#include "kiln/sdk.hpp"
#include "plugins/registry.hpp"
#include "text_dataset.hpp"

namespace fs = std::filesystem;
using namespace kiln::core;
using Clock = std::chrono::steady_clock;
using Parts = kiln::Partitions<std::string>;
using Texts = std::map<std::string, std::string>;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

template <class F>
double best_of(int repeats, F&& f) {
    double best = 1e9;
    for (int i = 0; i < repeats; ++i) {
        const auto t0 = Clock::now();
        f();
        best = std::min(best, seconds_since(t0));
    }
    return best;
}

// What a node would do with the text: touch every byte, so no read can be skipped.
std::size_t checksum(const std::string& text) {
    std::size_t sum = 0;
    for (char c : text) sum += static_cast<unsigned char>(c);
    return sum;
}

}  // namespace

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);
    const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 2000;
    const fs::path dir = fs::temp_directory_path() / ("kiln-bench-partitions-" + std::to_string(::getpid()));
    fs::create_directories(dir / "in");

    Registry registry;
    registry.add_builtin("kiln", "bench", [](kiln::Registrar& reg) {
        reg.dataset<kiln::datasets::TextDataset>("TextDataset", {.thread_safe = true});
        // Nodes make the value types known to the registry, keyed operations included.
        reg.node("lazy", [](const Parts& p) { return static_cast<std::int64_t>(p.size()); });
        reg.node("eager", [](const Texts& m) { return static_cast<std::int64_t>(m.size()); });
    });
    std::map<std::string, CatalogEntry> entries;
    auto partitioned = [&](const std::string& name, const std::string& path) {
        entries[name] = CatalogEntry{name, "kiln.PartitionedDataset",
                                     {{"path", path}, {"dataset", "kiln.TextDataset"}, {"filename_suffix", ".txt"}}};
    };
    partitioned("lazy", "in");
    partitioned("eager", "in");
    partitioned("out", "out");
    DataCatalog catalog(std::move(entries), Parameters{}, dir, registry);

    Texts texts;
    for (std::size_t i = 0; i < n; ++i) {
        char id[32];
        std::snprintf(id, sizeof id, "part-%06zu", i);
        texts[id] = std::string(1024, static_cast<char>('a' + i % 26));
        kiln::write_file_atomic(dir / "in" / (std::string(id) + ".txt"), texts[id]);
    }
    std::printf("kiln.PartitionedDataset, %zu partitions of 1 KiB (kiln.TextDataset), best of 5:\n", n);

    std::size_t sink = 0;
    const double plain_read = best_of(5, [&] {
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(dir / "in")) files.push_back(e.path());
        std::sort(files.begin(), files.end());
        for (const auto& f : files) sink += checksum(kiln::read_file_text(f));
    });
    DatasetRef& lazy = catalog.dataset("lazy", &kiln::type_ops<Parts>(), "bench");
    const double lazy_read = best_of(5, [&] {
        const kiln::Value v = lazy.load();
        for (const auto& part : v.get<Parts>()) sink += checksum(*part.load());
    });
    const double lazy_list = best_of(5, [&] { sink += lazy.load().get<Parts>().size(); });
    DatasetRef& eager = catalog.dataset("eager", &kiln::type_ops<Texts>(), "bench");
    const double eager_read = best_of(5, [&] {
        const kiln::Value v = eager.load();
        for (const auto& [_, text] : v.get<Texts>()) sink += checksum(text);
    });

    const std::size_t writes = std::min<std::size_t>(n, 500);  // each is fsynced: keep it short
    Texts some(texts.begin(), std::next(texts.begin(), static_cast<std::ptrdiff_t>(writes)));
    fs::create_directories(dir / "plain");
    DatasetRef& out = catalog.dataset("out", &kiln::type_ops<Parts>(), "bench");
    const kiln::Value to_save = kiln::Value::make(Parts(some));
    // Alternated, so that both meet the disk in the same moods (fsync times wander).
    double plain_write = 1e9, kiln_write = 1e9;
    for (int rep = 0; rep < 4; ++rep) {
        plain_write = std::min(plain_write, best_of(1, [&] {
            for (const auto& [id, text] : some) kiln::write_file_atomic(dir / "plain" / (id + ".txt"), text);
        }));
        kiln_write = std::min(kiln_write, best_of(1, [&] { out.save(to_save); }));
    }

    auto per = [](double seconds, std::size_t count) { return seconds / static_cast<double>(count) * 1e6; };
    std::printf("  read every file, plain loop (list, sort, read)      %8.2f us/partition\n", per(plain_read, n));
    std::printf("  Partitions<string>: load, then every part.load()    %8.2f us/partition  (%.2fx the plain loop)\n",
                per(lazy_read, n), lazy_read / plain_read);
    std::printf("  Partitions<string>: load only (list the ids)        %8.2f us/partition  (%.2fx the plain loop)\n",
                per(lazy_list, n), lazy_list / plain_read);
    std::printf("  map<string,string>: load (every file read)          %8.2f us/partition  (%.2fx the plain loop)\n",
                per(eager_read, n), eager_read / plain_read);
    std::printf("  %zu atomic writes (write_file_atomic: fsync, rename)  %8.2f us/partition\n", writes,
                per(plain_write, writes));
    std::printf("  save a Partitions of %zu                             %8.2f us/partition  (%.2fx the plain writes)\n",
                writes, per(kiln_write, writes), kiln_write / plain_write);
    if (sink == 42) std::puts("");  // keep the reads
    fs::remove_all(dir);
    return 0;
}
