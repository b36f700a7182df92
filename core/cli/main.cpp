// kiln: the host executable. `kiln run` runs a project's pipeline; `kiln plugins` lists
// what the plugins provide.
#include <CLI/CLI.hpp>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "builtin_runners.hpp"
#include "commands/new_command.hpp"
#include "commands/plugins_command.hpp"
#include "commands/viz_command.hpp"
#include "kiln/error.hpp"
#include "kiln/file_io.hpp"
#include "kiln/version.hpp"
#include "run/run_guard.hpp"
#include "session/session.hpp"
#include "terminal/logging.hpp"
#include "terminal/progress_line.hpp"
#include "text/split.hpp"

namespace fs = std::filesystem;
using namespace kiln;
using core::split_commas;
using core::strip;

namespace {

// Plugins shipped with kiln: <prefix>/plugins in the build tree, <prefix>/lib/kiln/plugins installed.
fs::path builtin_plugin_dir() {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return {};
    fs::path prefix = exe.parent_path().parent_path();
    for (fs::path candidate : {prefix / "plugins", prefix / "lib" / "kiln" / "plugins"})
        if (fs::is_directory(candidate, ec)) return candidate;
    return {};
}

// "gpu=1,mem_gb=16" -> {gpu: 1, mem_gb: 16}
std::map<std::string, double> parse_resources(const std::string& text) {
    std::map<std::string, double> caps;
    for (const auto& item : split_commas({text})) {
        const auto eq = item.find('=');
        const std::string name = strip(item.substr(0, eq));
        const std::string amount = eq == std::string::npos ? std::string() : strip(item.substr(eq + 1));
        std::size_t used = 0;
        double value = -1;
        if (!name.empty() && !amount.empty()) {
            try {
                value = std::stod(amount, &used);
            } catch (const std::exception&) {
                used = 0;
            }
        }
        if (eq == std::string::npos || name.empty() || used == 0 || used != amount.size() || !std::isfinite(value) ||
            value < 0)
            throw ConfigError("--resources: '" + item + "' must be NAME=AMOUNT with a finite non-negative number, e.g. gpu=1");
        caps[name] = value;
    }
    return caps;
}

// `--report FILE` of a run that stopped on an error before the pipeline ran (a usage or
// configuration error, or an unexpected one): the keys of the run report that apply, so
// CI always finds a report. Written atomically; a report that cannot be written is
// only warned about, the run's own error matters more.
void write_error_report(const fs::path& path, const std::string& message, int exit_code,
                        const core::SessionOptions& o) {
    if (path.empty()) return;
    std::error_code ec;
    fs::path project = fs::weakly_canonical(fs::absolute(o.project_dir, ec), ec);
    if (ec) project = o.project_dir;
    nlohmann::json report = {{"kiln_version", KILN_VERSION_STRING},
                             {"status", "error"},
                             {"exit_code", exit_code},
                             {"run_id", nullptr},
                             {"project", project.string()},
                             {"pipeline", o.pipeline.empty() ? "__default__" : o.pipeline},
                             {"runner", o.runner.empty() ? "SequentialRunner" : o.runner},
                             {"error", message},
                             {"nodes", nlohmann::json::array()},
                             {"failure", {{"node", ""}, {"error", message}, {"resume_command", ""}}}};
    try {
        write_file_atomic(path, report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    } catch (const std::exception& e) {
        spdlog::warn("could not write the run report to {}: {}", path.string(), e.what());
    }
}

// The --report value of a `kiln run` command line the parser refused.
fs::path report_argument(int argc, char** argv) {
    if (argc < 2 || std::string(argv[1]) != "run") return {};
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--report" && i + 1 < argc) return argv[i + 1];
        if (a.rfind("--report=", 0) == 0) return a.substr(9);
    }
    return {};
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Kiln " KILN_VERSION_STRING " - run data pipelines whose nodes, datasets and runners are C++ plugins.",
                 "kiln"};
    app.require_subcommand(1);
    app.set_version_flag("--version", KILN_VERSION_STRING);

    core::SessionOptions o;
    std::vector<std::string> plugin_paths, nodes, from_nodes, to_nodes, tags, from_inputs, to_outputs, namespaces;
    bool parallel = false, quiet = false, verbose = false;
    int max_workers = 0;

    auto add_project_options = [&](CLI::App* cmd) {
        cmd->add_option("--project", o.project_dir, "Project directory holding pipelines.json, catalog.json, "
                                                     "parameters.json and plugins/")
            ->default_str(".");
        cmd->add_option("--plugin-path", plugin_paths,
                        "Extra plugin directory or .so file (repeatable; KILN_PLUGIN_PATH is read too)");
        cmd->add_flag("-q,--quiet", quiet, "Only warnings and errors");
        cmd->add_flag("-v,--verbose", verbose, "Debug logging (dataset loads/saves, plugin loading)");
    };

    CLI::App* run = app.add_subcommand("run", "Run a pipeline of the project");
    add_project_options(run);
    run->add_option("-p,--pipeline", o.pipeline, "Pipeline to run (default: __default__)");
    auto* runner_opt = run->add_option("-r,--runner", o.runner,
                                       "Runner: SequentialRunner (default), ThreadRunner, ParallelRunner, or a runner from a "
                                       "plugin (e.g. DryRunner)");
    auto* parallel_opt = run->add_flag("--parallel", parallel, "Use the ParallelRunner (same as --runner=ParallelRunner)");
    parallel_opt->excludes(runner_opt);
    run->add_option("--max-workers", max_workers, "Worker count for concurrent runners (must be positive)");
    run->add_flag("--async", o.runner_options.is_async, "Load inputs and save outputs of a node concurrently");
    run->add_flag("--keep-going", o.runner_options.keep_going,
                  "After a node fails, still run every node that does not depend on it, then fail");
    run->add_option("--start-method", o.runner_options.start_method,
                    "ParallelRunner workers: fork (default; spawns instead if plugins started threads) or spawn "
                    "(fresh processes that re-load the plugins); also KILN_START_METHOD")
        ->check(CLI::IsMember({"fork", "spawn"}));
    std::string resources;
    run->add_option("--resources", resources,
                    "Caps on node resources, e.g. gpu=1,mem_gb=16: nodes declaring \"resources\" run only while "
                    "their needs fit");
    run->add_option("--params", o.params, "Override parameters: KEY=VALUE[,KEY=VALUE...]; dotted keys reach nested "
                                          "values; VALUE is JSON when it parses as JSON");
    run->add_option("-n,--nodes", nodes, "Run only these nodes (comma-separated)");
    run->add_option("--from-nodes", from_nodes, "Run from these nodes on (they and everything downstream)");
    run->add_option("--to-nodes", to_nodes, "Run up to these nodes (they and everything upstream)");
    run->add_option("-t,--tags", tags, "Run only nodes with any of these tags");
    run->add_option("--from-inputs", from_inputs, "Run the nodes that read these datasets, and downstream");
    run->add_option("--to-outputs", to_outputs, "Run the nodes that produce these datasets, and upstream");
    run->add_option("--namespaces", namespaces, "Run only nodes in these namespaces");
    run->add_flag("--only-missing-outputs", o.only_missing_outputs,
                  "Skip nodes whose persisted outputs exist and are not needed by nodes that run");
    run->add_flag("--resume", o.resume,
                  "Finish the last run of this project that did not complete: the same pipeline, filters, runner, "
                  "parameters and plugins (kept in .kiln/journal), re-running exactly what is left");
    run->add_flag("--force", o.force_resume,
                  "With --resume: resume even though pipelines, catalog, parameters or plugin binaries changed since");
    run->add_option("--report", o.report, "Write a JSON run report to this file");
    std::vector<std::string> hooks;
    run->add_option("--hooks", hooks, "Enable hooks from plugins (comma-separated names), beside those in the "
                                      "project's settings.json");
    run->add_option("--trace", o.trace, "Write a Chrome trace-event JSON file of the run (per-node timing, worker "
                                        "and memory; open it in Perfetto or chrome://tracing)");

    CLI::App* plugins = app.add_subcommand("plugins", "List loaded plugins: node functions with their types, dataset "
                                                      "types, runners and hooks");
    add_project_options(plugins);

    VizOptions viz_options;
    CLI::App* viz = app.add_subcommand("viz", "Draw a pipeline: a Mermaid flowchart (default), a Graphviz DOT graph or "
                                              "a self-contained HTML page");
    add_project_options(viz);
    viz->add_option("-p,--pipeline", o.pipeline, "Pipeline to draw (default: __default__)");
    viz->add_option("-f,--format", viz_options.format,
                    "mermaid, dot or html (default: from the --output extension, else mermaid)");
    viz->add_option("-o,--output", viz_options.output,
                    "Write to this file (.mmd/.mermaid, .dot/.gv, .html/.htm) instead of standard output");
    viz->add_option("-n,--nodes", nodes, "Draw only these nodes (comma-separated)");
    viz->add_option("--from-nodes", from_nodes, "Draw from these nodes on (they and everything downstream)");
    viz->add_option("--to-nodes", to_nodes, "Draw up to these nodes (they and everything upstream)");
    viz->add_option("-t,--tags", tags, "Draw only nodes with any of these tags");
    viz->add_option("--from-inputs", from_inputs, "Draw the nodes that read these datasets, and downstream");
    viz->add_option("--to-outputs", to_outputs, "Draw the nodes that produce these datasets, and upstream");
    viz->add_option("--namespaces", namespaces, "Draw only nodes in these namespaces");
    viz->add_flag("--hide-parameters", viz_options.hide_parameters, "Leave out params:... and parameters inputs");

    CLI::App* new_cmd = app.add_subcommand("new", "Create a project from a template: kiln new plugin NAME");
    new_cmd->require_subcommand(1);
    CLI::App* new_plugin = new_cmd->add_subcommand(
        "plugin", "Create a plugin project NAME/: a plugin with two nodes, its CMakeLists.txt (find_package(Kiln)), "
                  "pipelines.json, catalog.json, parameters.json and input data");
    std::string new_name, new_dir = ".";
    new_plugin->add_option("name", new_name, "Plugin name, a C identifier (names the plugin, its nodes and its folder)")
        ->required();
    new_plugin->add_option("--dir", new_dir, "Folder to create NAME/ in (created if missing)")->default_str(".");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
        if (e.get_name() == "ExcludesError") {
            std::cerr << "kiln: error: --parallel and --runner cannot be used together; use one of them\n";
        } else if (argc > 1 && argv[1][0] != '-' && std::string(argv[1]) != "run" && std::string(argv[1]) != "plugins" &&
                   std::string(argv[1]) != "new" && std::string(argv[1]) != "viz") {
            std::cerr << "kiln: error: unknown command '" << argv[1] << "'; commands: run, plugins, new, viz (see kiln --help)\n";
        } else {
            std::cerr << "kiln: error: " << e.what() << "\n(see kiln --help, or kiln run --help)\n";
        }
        write_error_report(report_argument(argc, argv), e.what(), 2, o);
        return 2;
    }

    if (new_plugin->parsed()) return create_plugin_project(new_name, new_dir);

    // A spawned ParallelRunner worker sets up quietly (the host has reported all that),
    // then logs at the run's level, as a forked worker does (below).
    const bool worker = runners::is_spawned_worker();
    const core::Verbosity verbosity = quiet     ? core::Verbosity::quiet
                                      : verbose ? core::Verbosity::verbose
                                                : core::Verbosity::normal;
    core::configure_logging(worker ? core::Verbosity::quiet : verbosity);
    // Ctrl-C (or SIGTERM to the process group) reaches a spawned worker too, even while it
    // sets up: the host decides what stops, and when.
    if (worker) core::leave_interrupts_to_host();
    // Spawned workers erase the host's status line before printing their log lines.
    if (worker && ::isatty(STDERR_FILENO)) core::StatusLine::standard_error().set_erase_before_print(true);
    o.plugins.builtin_dir = builtin_plugin_dir();
    for (const auto& p : split_commas(plugin_paths)) o.plugins.explicit_dirs.emplace_back(p);
    o.command_line.assign(argv, argv + argc);

    try {
        if (plugins->parsed()) return print_plugins(o, runners::builtin_runner_names());

        if (run->count("--max-workers")) {
            if (max_workers <= 0)
                throw ConfigError("--max-workers must be a positive number of workers, got " + std::to_string(max_workers));
            o.runner_options.max_workers = max_workers;
        }
        if (parallel) o.runner = "ParallelRunner";
        o.runner_options.resources = parse_resources(resources);
        o.runner_options.worker_command = o.command_line;
        o.hooks = split_commas(hooks);
        o.filter.node_names = split_commas(nodes);
        o.filter.from_nodes = split_commas(from_nodes);
        o.filter.to_nodes = split_commas(to_nodes);
        o.filter.tags = split_commas(tags);
        o.filter.from_inputs = split_commas(from_inputs);
        o.filter.to_outputs = split_commas(to_outputs);
        o.filter.namespaces = split_commas(namespaces);
        if (viz->parsed()) {
            viz_options.project_dir = o.project_dir;
            viz_options.plugins = o.plugins;
            viz_options.pipeline = o.pipeline;
            viz_options.filter = o.filter;
            return run_viz(viz_options);
        }
        if (o.force_resume && !o.resume)
            throw ConfigError("--force only applies to --resume (resume although the project changed)");
        if (worker) {
            auto prepared = core::prepare_run(o);
            if (!prepared->plan) return 2;
            // The nodes it runs are logged here, "Running node: ..." (and with -v its loads
            // and saves), the same lines a forked worker writes.
            core::configure_logging(verbosity);
            return runners::serve_spawned_worker(*prepared->plan);
        }
        o.progress = [](const core::Pipeline& to_run) -> std::unique_ptr<core::RunObserver> {
            if (!core::ProgressLine::wanted()) return nullptr;
            return std::make_unique<core::ProgressLine>(to_run);
        };
        return core::run_session(o, &runners::make_builtin_runner, runners::builtin_runner_names());
    } catch (const Error& e) {
        spdlog::error("{}", e.what());
        if (!worker) write_error_report(o.report, e.what(), 2, o);
        return 2;
    } catch (const std::exception& e) {
        spdlog::error("unexpected error: {}", e.what());
        if (!worker) write_error_report(o.report, std::string("unexpected error: ") + e.what(), 3, o);
        return 3;
    }
}
