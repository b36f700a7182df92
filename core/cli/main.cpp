// kiln: the host executable. `kiln run` runs a project's pipeline; `kiln plugins` lists
// what the plugins provide; `kiln catalog` says where each dataset lives; `kiln registry`
// lists and describes the pipelines; `kiln status` and `kiln explain` say what an
// incremental run would run, and why.
#include <CLI/CLI.hpp>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "builtin_runners.hpp"
#include "commands/catalog_command.hpp"
#include "commands/new_command.hpp"
#include "commands/plugins_command.hpp"
#include "commands/registry_command.hpp"
#include "commands/status_command.hpp"
#include "commands/viz_command.hpp"
#include "config/project_layout.hpp"
#include "config/redaction.hpp"
#include "kiln/error.hpp"
#include "kiln/file_io.hpp"
#include "kiln/version.hpp"
#include "run/run_guard.hpp"
#include "session/session.hpp"
#include "terminal/logging.hpp"
#include "terminal/progress_line.hpp"
#include "text/join.hpp"
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
                             {"error", core::redact(message)},
                             {"nodes", nlohmann::json::array()},
                             {"failure", {{"node", ""}, {"error", core::redact(message)}, {"resume_command", ""}}}};
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

// The seven filters `run` and `viz` both take, as Kedro's `kedro run` does; each value
// may be repeated and comma-separated.
struct FilterArguments {
    std::vector<std::string> nodes, from_nodes, to_nodes, tags, from_inputs, to_outputs, namespaces;

    core::PipelineFilter parsed() const {
        core::PipelineFilter filter;
        filter.node_names = split_commas(nodes);
        filter.from_nodes = split_commas(from_nodes);
        filter.to_nodes = split_commas(to_nodes);
        filter.tags = split_commas(tags);
        filter.from_inputs = split_commas(from_inputs);
        filter.to_outputs = split_commas(to_outputs);
        filter.namespaces = split_commas(namespaces);
        return filter;
    }
};

// `verb` opens each help text: "Run only these nodes", "Draw only these nodes".
void add_filter_options(CLI::App* cmd, FilterArguments& f, const std::string& verb) {
    cmd->add_option("-n,--nodes", f.nodes, verb + " only these nodes (comma-separated)");
    cmd->add_option("--from-nodes", f.from_nodes, verb + " from these nodes on (they and everything downstream)");
    cmd->add_option("--to-nodes", f.to_nodes, verb + " up to these nodes (they and everything upstream)");
    cmd->add_option("-t,--tags", f.tags, verb + " only nodes with any of these tags");
    cmd->add_option("--from-inputs", f.from_inputs, verb + " the nodes that read these datasets, and downstream");
    cmd->add_option("--to-outputs", f.to_outputs, verb + " the nodes that produce these datasets, and upstream");
    cmd->add_option("--namespaces", f.namespaces, verb + " only nodes in these namespaces");
}

// Everything the command line fills in, before it is checked and turned into options.
struct Arguments {
    core::SessionOptions session;
    std::vector<std::string> plugin_paths, hooks, params, load_versions;
    FilterArguments filters;
    bool parallel = false, quiet = false, verbose = false;
    int max_workers = 0;
    std::string resources;
    VizOptions viz;
    std::string new_name, new_dir = ".";
    std::string registry_pipeline = "__default__";
    std::string explain_node;
};

struct CatalogCommands {
    CLI::App* list;
    CLI::App* resolve;
    CLI::App* patterns;
};

struct RegistryCommands {
    CLI::App* list;
    CLI::App* describe;
};

struct Commands {
    CLI::App* run;
    CLI::App* status;
    CLI::App* explain;
    CLI::App* plugins;
    CLI::App* viz;
    CLI::App* new_plugin;
    CatalogCommands catalog;
    RegistryCommands registry;
};

// Where the configuration comes from: `run`, `viz`, `catalog` and `registry`.
void add_config_options(CLI::App* cmd, Arguments& a) {
    cmd->add_option("--env", a.session.env,
                    "Configuration environment read over conf/base (a folder of conf/; default: KILN_ENV, else local)");
    cmd->add_option("--conf-source", a.session.conf_source,
                    "Folder holding the configuration environments (base/, local/, ...) instead of PROJECT/conf");
    cmd->add_option("--params", a.params, "Override parameters: KEY=VALUE[,KEY=VALUE...]; dotted keys reach nested "
                                          "values; VALUE is JSON when it parses as JSON; repeatable, the later wins")
        ->allow_extra_args(false);
}

void add_project_options(CLI::App* cmd, Arguments& a) {
    cmd->add_option("--project", a.session.project_dir, "Project directory holding pipelines.json, catalog.json, "
                                                         "parameters.json and plugins/")
        ->default_str(".");
    cmd->add_option("--plugin-path", a.plugin_paths,
                    "Extra plugin directory or .so file (repeatable; KILN_PLUGIN_PATH is read too)");
    cmd->add_flag("-q,--quiet", a.quiet, "Only warnings and errors");
    cmd->add_flag("-v,--verbose", a.verbose, "Debug logging (dataset loads/saves, plugin loading)");
}

CLI::App* add_run_command(CLI::App& app, Arguments& a) {
    core::SessionOptions& o = a.session;
    CLI::App* run = app.add_subcommand("run", "Run a pipeline of the project");
    add_project_options(run, a);
    run->add_option("-p,--pipeline", o.pipeline, "Pipeline to run (default: __default__)");
    auto* runner_opt = run->add_option("-r,--runner", o.runner,
                                       "Runner: SequentialRunner (default), ThreadRunner, ParallelRunner, or a runner from a "
                                       "plugin (e.g. DryRunner)");
    auto* parallel_opt = run->add_flag("--parallel", a.parallel, "Use the ParallelRunner (same as --runner=ParallelRunner)");
    parallel_opt->excludes(runner_opt);
    run->add_option("--max-workers", a.max_workers, "Worker count for concurrent runners (must be positive)");
    run->add_flag("--async", o.runner_options.is_async, "Load inputs and save outputs of a node concurrently");
    run->add_flag("--keep-going", o.runner_options.keep_going,
                  "After a node fails, still run every node that does not depend on it, then fail");
    run->add_option("--start-method", o.runner_options.start_method,
                    "ParallelRunner workers: fork (default; spawns instead if plugins started threads) or spawn "
                    "(fresh processes that re-load the plugins); also KILN_START_METHOD")
        ->check(CLI::IsMember({"fork", "spawn"}));
    run->add_option("--resources", a.resources,
                    "Caps on node resources, e.g. gpu=1,mem_gb=16: nodes declaring \"resources\" run only while "
                    "their needs fit");
    add_config_options(run, a);
    add_filter_options(run, a.filters, "Run");
    auto* only_missing = run->add_flag("--only-missing-outputs", o.only_missing_outputs,
                                       "Skip nodes whose persisted outputs exist and are not needed by nodes that run");
    run->add_flag("--incremental", o.incremental,
                  "Run only the stale nodes: those whose code, parameters or inputs changed since they last "
                  "completed, or whose outputs are gone (and what they need); see kiln status, kiln explain")
        ->excludes(only_missing);
    run->add_option("--load-versions", a.load_versions,
                    "Versioned datasets to load at a version, not the latest: DATASET:VERSION[,DATASET:VERSION...] "
                    "(repeatable), e.g. model:2026-11-23T03.45.21.123Z");
    run->add_flag("--resume", o.resume,
                  "Finish the last run of this project that did not complete: the same pipeline, filters, runner, "
                  "parameters and plugins (kept in .kiln/journal), re-running exactly what is left");
    run->add_flag("--force", o.force_resume,
                  "With --resume: resume even though pipelines, catalog, parameters or plugin binaries changed since");
    run->add_option("--report", o.report, "Write a JSON run report to this file");
    run->add_option("--hooks", a.hooks, "Enable hooks from plugins (comma-separated names), beside those in the "
                                        "project's settings.json");
    run->add_option("--trace", o.trace, "Write a Chrome trace-event JSON file of the run (per-node timing, worker "
                                        "and memory; open it in Perfetto or chrome://tracing)");
    return run;
}

// `kiln status` and `kiln explain NODE` select nodes as `kiln run` does.
void add_status_commands(CLI::App& app, Arguments& a, Commands& commands) {
    commands.status = app.add_subcommand("status", "Say which nodes `kiln run --incremental` would run and why: each "
                                                   "node up to date, stale (with the first reason) or needed");
    commands.explain = app.add_subcommand("explain", "Say why a node is stale or up to date: which code, parameter, "
                                                     "input or output changed, from what to what");
    commands.explain->add_option("node", a.explain_node, "The node to explain (its full name)")->required();
    for (CLI::App* cmd : {commands.status, commands.explain}) {
        add_project_options(cmd, a);
        cmd->add_option("-p,--pipeline", a.session.pipeline, "Pipeline (default: __default__)");
        add_config_options(cmd, a);
        add_filter_options(cmd, a.filters, "Consider");
        cmd->add_option("--load-versions", a.load_versions, "Versioned datasets read at a version, as kiln run takes it");
        // One value an option, so `explain --plugin-path DIR NODE` leaves NODE to the positional.
        for (CLI::Option* option : cmd->get_options())
            if (option->get_expected_max() > 1) option->allow_extra_args(false);
    }
}

CLI::App* add_viz_command(CLI::App& app, Arguments& a) {
    CLI::App* viz = app.add_subcommand("viz", "Draw a pipeline: a Mermaid flowchart (default), a Graphviz DOT graph or "
                                              "a self-contained HTML page");
    add_project_options(viz, a);
    add_config_options(viz, a);
    viz->add_option("-p,--pipeline", a.session.pipeline, "Pipeline to draw (default: __default__)");
    viz->add_option("-f,--format", a.viz.format,
                    "mermaid, dot or html (default: from the --output extension, else mermaid)");
    viz->add_option("-o,--output", a.viz.output,
                    "Write to this file (.mmd/.mermaid, .dot/.gv, .html/.htm) instead of standard output");
    add_filter_options(viz, a.filters, "Draw");
    viz->add_flag("--hide-parameters", a.viz.hide_parameters, "Leave out params:... and parameters inputs");
    return viz;
}

// `kiln new plugin NAME`; returns the `plugin` subcommand.
CLI::App* add_new_command(CLI::App& app, Arguments& a) {
    CLI::App* new_cmd = app.add_subcommand("new", "Create a project from a template: kiln new plugin NAME");
    new_cmd->require_subcommand(1);
    CLI::App* new_plugin = new_cmd->add_subcommand(
        "plugin", "Create a plugin project NAME/: a plugin with two nodes, its CMakeLists.txt (find_package(Kiln)), "
                  "pipelines.json, catalog.json, parameters.json and input data");
    new_plugin->add_option("name", a.new_name, "Plugin name, a C identifier (names the plugin, its nodes and its folder)")
        ->required();
    new_plugin->add_option("--dir", a.new_dir, "Folder to create NAME/ in (created if missing)")->default_str(".");
    return new_plugin;
}

// `kiln catalog list|resolve|patterns`, which take the project options as `kiln run` does.
CatalogCommands add_catalog_command(CLI::App& app, Arguments& a) {
    CLI::App* catalog = app.add_subcommand("catalog", "Show where the datasets of the project's pipelines live: kiln "
                                                      "catalog list|resolve|patterns");
    catalog->require_subcommand(1);
    CatalogCommands c{};
    c.list = catalog->add_subcommand("list", "Per pipeline, each dataset and where it lives: its catalog entry, the "
                                             "pattern it matches, the runner's default dataset, or a parameter");
    add_project_options(c.list, a);
    add_config_options(c.list, a);
    c.list->add_option("-p,--pipeline", a.session.pipeline, "Only this pipeline (default: every pipeline)");
    c.resolve = catalog->add_subcommand("resolve", "Print the catalog as JSON with its patterns expanded for every "
                                                   "dataset the pipelines use");
    add_project_options(c.resolve, a);
    add_config_options(c.resolve, a);
    c.patterns = catalog->add_subcommand("patterns", "List the dataset factory patterns of catalog.json in the order "
                                                     "a dataset name is tried against them");
    add_project_options(c.patterns, a);
    add_config_options(c.patterns, a);
    return c;
}

// The project and configuration options `kiln catalog` and `kiln registry` were given.
ProjectQuery project_query(const Arguments& a) {
    ProjectQuery q;
    q.project_dir = a.session.project_dir;
    q.plugins = a.session.plugins;
    q.env = a.session.env;
    q.conf_source = a.session.conf_source;
    q.params = core::join(a.params, ",");  // later items win, as a later --params does
    return q;
}

int show_catalog(const Arguments& a, const CatalogCommands& c) {
    CatalogCommandOptions options{project_query(a), a.session.pipeline};
    if (c.list->parsed()) return list_catalog(options);
    if (c.resolve->parsed()) return resolve_catalog(options);
    return print_catalog_patterns(options);
}

// `kiln registry list|describe`, which take the project options as `kiln catalog` does.
RegistryCommands add_registry_command(CLI::App& app, Arguments& a) {
    CLI::App* registry = app.add_subcommand("registry", "List the project's pipelines and describe their nodes: kiln "
                                                        "registry list|describe");
    registry->require_subcommand(1);
    RegistryCommands r{};
    r.list = registry->add_subcommand("list", "List the pipelines of pipelines.json, __default__ included, one a line");
    add_project_options(r.list, a);
    add_config_options(r.list, a);
    r.describe = registry->add_subcommand("describe", "List the nodes of a pipeline in run order, each with its node "
                                                      "function");
    r.describe->add_option("pipeline", a.registry_pipeline, "Pipeline to describe (default: __default__)");
    add_project_options(r.describe, a);
    add_config_options(r.describe, a);
    return r;
}

int show_registry(const Arguments& a, const RegistryCommands& r) {
    RegistryCommandOptions options{project_query(a), a.registry_pipeline};
    if (r.list->parsed()) return list_registered_pipelines(options);
    return describe_registered_pipeline(options);
}

// Says why the command line was refused (and writes the --report it asked for); exit code 2.
int refuse_command_line(const CLI::ParseError& e, int argc, char** argv, const core::SessionOptions& o) {
    static const std::set<std::string> commands{"run",      "status",   "explain", "plugins",
                                                "new",      "viz",      "catalog", "registry"};
    if (e.get_name() == "ExcludesError" && std::string(e.what()).find("incremental") != std::string::npos) {
        std::cerr << "kiln: error: --incremental and --only-missing-outputs cannot be used together; --incremental "
                     "already skips the nodes whose outputs exist and are current\n";
    } else if (e.get_name() == "ExcludesError") {
        std::cerr << "kiln: error: --parallel and --runner cannot be used together; use one of them\n";
    } else if (argc > 1 && argv[1][0] != '-' && !commands.count(argv[1])) {
        std::cerr << "kiln: error: unknown command '" << argv[1]
                  << "'; commands: run, status, explain, plugins, new, viz, catalog, registry (see kiln --help)\n";
    } else {
        std::cerr << "kiln: error: " << e.what() << "\n(see kiln --help, or kiln run --help)\n";
    }
    write_error_report(report_argument(argc, argv), e.what(), 2, o);
    return 2;
}

// Logging and signals for this process: a spawned ParallelRunner worker sets up quietly
// (the host has reported all that), then logs at the run's level, as a forked worker does.
void set_up_process(bool worker, core::Verbosity verbosity) {
    core::configure_logging(worker ? core::Verbosity::quiet : verbosity);
    // Ctrl-C (or SIGTERM to the process group) reaches a spawned worker too, even while it
    // sets up: the host decides what stops, and when.
    if (worker) core::leave_interrupts_to_host();
    // Spawned workers erase the host's status line before printing their log lines.
    if (worker && ::isatty(STDERR_FILENO)) core::StatusLine::standard_error().set_erase_before_print(true);
}

// The run options the parser could not check itself: --max-workers, --parallel,
// --resources, --hooks and the filters. Throws kiln::ConfigError.
void complete_run_options(Arguments& a, const CLI::App& run) {
    core::SessionOptions& o = a.session;
    if (run.count("--max-workers")) {
        if (a.max_workers <= 0)
            throw ConfigError("--max-workers must be a positive number of workers, got " + std::to_string(a.max_workers));
        o.runner_options.max_workers = a.max_workers;
    }
    if (a.parallel) o.runner = "ParallelRunner";
    o.runner_options.resources = parse_resources(a.resources);
    o.runner_options.worker_command = o.command_line;
    o.hooks = split_commas(a.hooks);
    o.filter = a.filters.parsed();
    o.params = core::join(a.params, ",");  // later items win, as a later --params does
    o.load_versions = split_commas(a.load_versions);
}

// `kiln run`, `viz`, `catalog` and `registry` without --project, from a subfolder of a project, find it
// as Kedro does: the nearest folder up holding pipelines.json or conf/base/.
void find_project(Arguments& a, const Commands& commands) {
    for (const CLI::App* cmd : {commands.run, commands.status, commands.explain, commands.viz, commands.catalog.list,
                                commands.catalog.resolve,
                                commands.catalog.patterns, commands.registry.list, commands.registry.describe})
        if (cmd->parsed() && cmd->count("--project") == 0)
            if (auto root = core::find_project_root(fs::current_path())) a.session.project_dir = *root;
}

int draw_pipeline(Arguments& a) {
    a.viz.project = project_query(a);
    a.viz.pipeline = a.session.pipeline;
    a.viz.filter = a.session.filter;
    return run_viz(a.viz);
}

int run_pipeline(core::SessionOptions& o, bool worker, core::Verbosity verbosity) {
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
    o.progress = [](const core::Pipeline& to_run) -> std::unique_ptr<core::NodeObserver> {
        if (!core::ProgressLine::wanted()) return nullptr;
        return std::make_unique<core::ProgressLine>(to_run);
    };
    return core::run_session(o, &runners::make_builtin_runner, runners::builtin_runner_names());
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Kiln " KILN_VERSION_STRING " - run data pipelines whose nodes, datasets and runners are C++ plugins.",
                 "kiln"};
    app.require_subcommand(1);
    app.set_version_flag("--version", KILN_VERSION_STRING);

    Arguments a;
    core::SessionOptions& o = a.session;
    Commands commands{};
    commands.run = add_run_command(app, a);
    commands.plugins = app.add_subcommand("plugins", "List loaded plugins: node functions with their types, dataset "
                                                     "types, runners and hooks");
    add_project_options(commands.plugins, a);
    commands.viz = add_viz_command(app, a);
    commands.new_plugin = add_new_command(app, a);
    commands.catalog = add_catalog_command(app, a);
    commands.registry = add_registry_command(app, a);
    add_status_commands(app, a, commands);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
        return refuse_command_line(e, argc, argv, o);
    }

    if (commands.new_plugin->parsed()) return create_plugin_project(a.new_name, a.new_dir);

    const bool worker = runners::is_spawned_worker();
    const core::Verbosity verbosity = a.quiet     ? core::Verbosity::quiet
                                      : a.verbose ? core::Verbosity::verbose
                                                  : core::Verbosity::normal;
    set_up_process(worker, verbosity);
    o.plugins.builtin_dir = builtin_plugin_dir();
    for (const auto& p : split_commas(a.plugin_paths)) o.plugins.explicit_dirs.emplace_back(p);
    o.command_line.assign(argv, argv + argc);

    try {
        if (commands.plugins->parsed()) return print_plugins(o, runners::builtin_runner_names());
        find_project(a, commands);
        if (commands.catalog.list->parsed() || commands.catalog.resolve->parsed() || commands.catalog.patterns->parsed())
            return show_catalog(a, commands.catalog);
        if (commands.registry.list->parsed() || commands.registry.describe->parsed())
            return show_registry(a, commands.registry);
        complete_run_options(a, *commands.run);
        if (commands.viz->parsed()) return draw_pipeline(a);
        if (commands.status->parsed()) return show_status(o);
        if (commands.explain->parsed()) return explain_node(o, a.explain_node);
        return run_pipeline(o, worker, verbosity);
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
