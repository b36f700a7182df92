// Scale benchmark: load, validate and run an N-node pipeline of trivial nodes.
//
// Usage: bench_pipeline_scale [N] [path-to-kiln-binary plugin-dir]
// Reports each phase in-process, the per-node overhead of the SequentialRunner against a
// plain loop calling the same function (measured in this run), and, when given the kiln
// binary, the wall time of `kiln run` on the same pipeline as a project on disk.
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <spdlog/spdlog.h>
#include <string>
#include <unistd.h>

#include "builtin_runners.hpp"
#include "config/json_file.hpp"
#include "config/pipeline_loader.hpp"
#include "kiln/sdk.hpp"
#include "plugins/registry.hpp"
#include "run/run_plan.hpp"

namespace fs = std::filesystem;
using namespace kiln::core;
using Clock = std::chrono::steady_clock;

namespace {

double inc(double x) { return x + 1; }
double seed() { return 0; }

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// A chain seed -> n1 -> n2 -> ... (the worst case for Kedro's run loop), as pipelines.json text.
std::string chain_json(std::size_t n, const std::string& seed_func, const std::string& step_func) {
    std::string s = "{\"pipelines\": {\"__default__\": {\"nodes\": [\n";
    s += "{\"name\": \"n0\", \"func\": \"" + seed_func + "\", \"outputs\": \"d0\"}";
    for (std::size_t i = 1; i < n; ++i)
        s += ",\n{\"name\": \"n" + std::to_string(i) + "\", \"func\": \"" + step_func + "\", \"inputs\": \"d" +
             std::to_string(i - 1) + "\", \"outputs\": \"d" + std::to_string(i) + "\"}";
    return s + "\n]}}}\n";
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t n = argc > 1 ? std::stoul(argv[1]) : 100000;
    spdlog::set_level(spdlog::level::warn);

    Registry registry;
    registry.add_builtin("bench", "1", [](kiln::Registrar& reg) {
        reg.node("inc", &inc);
        reg.node("seed", &seed);
    });
    const std::string text = chain_json(n, "bench.seed", "bench.inc");

    auto t0 = Clock::now();
    auto doc = parse_json_text(text, "pipelines.json");
    double t_parse = seconds_since(t0);

    t0 = Clock::now();
    FunctionResolver resolve = [&](const std::string& name, std::string& hint) { return registry.find_node(name, hint); };
    auto pipelines = load_pipelines(doc, "pipelines.json", resolve);
    const Pipeline& pipeline = pipelines.at("__default__");
    double t_build = seconds_since(t0);

    t0 = Clock::now();
    DataCatalog catalog({}, Parameters(), fs::temp_directory_path(), registry);
    RunPlan plan(pipeline, catalog, "bench");
    double t_plan = seconds_since(t0);

    auto runner = kiln::runners::make_sequential_runner({});
    t0 = Clock::now();
    auto outcome = runner->run(plan, nullptr);
    double t_run = seconds_since(t0);
    if (!outcome.ok()) {
        std::fprintf(stderr, "run failed: %s\n", outcome.failures[0].message.c_str());
        return 1;
    }
    double result = plan.free_outputs().at(0).value.get<double>();

    // Baseline: the same functions called in a plain loop, values boxed the same way
    // (a shared, typed value per node) so only the runner's own work is the difference.
    t0 = Clock::now();
    kiln::Value v = kiln::Value::make(seed());
    for (std::size_t i = 1; i < n; ++i) v = kiln::Value::make(inc(v.get<double>()));
    double t_loop = seconds_since(t0);
    t0 = Clock::now();
    volatile double raw = seed();
    for (std::size_t i = 1; i < n; ++i) raw = inc(raw);
    double t_raw = seconds_since(t0);

    std::printf("pipeline_scale: %zu-node chain (result %.0f)\n", n, result);
    std::printf("  parse JSON          %8.1f ms\n", t_parse * 1e3);
    std::printf("  build + validate    %8.1f ms\n", t_build * 1e3);
    std::printf("  run plan            %8.1f ms\n", t_plan * 1e3);
    std::printf("  run (Sequential)    %8.1f ms\n", t_run * 1e3);
    std::printf("  total in-process    %8.1f ms  (target < 1000 ms)\n", (t_parse + t_build + t_plan + t_run) * 1e3);
    std::printf("  per node: runner %.0f ns, boxed loop %.0f ns, raw loop %.1f ns -> runner overhead %.0f ns/node "
                "(target <= 200)\n",
                t_run / n * 1e9, t_loop / n * 1e9, t_raw / n * 1e9, (t_run - t_loop) / n * 1e9);

    if (argc > 3) {
        // The real binary on a project on disk, plugins loaded with Boost.DLL.
        fs::path project = fs::temp_directory_path() / ("kiln-bench-" + std::to_string(::getpid()));
        fs::create_directories(project);
        std::ofstream(project / "pipelines.json") << chain_json(n, "testnodes.seed", "testnodes.identity");
        std::string cmd = std::string(argv[2]) + " run --quiet --project " + project.string() + " --plugin-path " +
                          argv[3] + " > /dev/null 2>&1";
        t0 = Clock::now();
        int rc = std::system(cmd.c_str());
        double t_cli = seconds_since(t0);
        fs::remove_all(project);
        std::printf("  kiln run (process, load plugins + JSON + validate + run): %.1f ms, exit %d  (target < 1000 ms)\n",
                    t_cli * 1e3, rc);
    }
    return 0;
}
