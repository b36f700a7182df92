#include "session/session.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <set>
#include <unistd.h>
#include <spdlog/spdlog.h>

#include "catalog/catalog.hpp"
#include "catalog/temp_files.hpp"
#include "catalog/unused_entries.hpp"
#include "config/config_loader.hpp"
#include "config/json_file.hpp"
#include "config/pipeline_loader.hpp"
#include "config/redaction.hpp"
#include "hooks/hook_dispatcher.hpp"
#include "hooks/hook_settings.hpp"
#include "incremental/fingerprint_observer.hpp"
#include "journal/journal_observer.hpp"
#include "journal/run_record.hpp"
#include "journal/run_report.hpp"
#include "kiln/error.hpp"
#include "kiln/file_io.hpp"
#include "kiln/version.hpp"
#include "plugins/plugin_runner.hpp"
#include "run/node_event_stream.hpp"
#include "run/run_guard.hpp"
#include "run/run_plan.hpp"
#include "run/run_selection.hpp"
#include "run/run_views.hpp"
#include "session/run_invocation.hpp"
#include "text/join.hpp"

namespace kiln::core {
namespace fs = std::filesystem;

namespace {

// Kedro prints --from-nodes "a,b": keep its double quotes where they are safe.
std::string kedro_quote(const std::string& list) {
    if (list.find_first_of("\"$`\\!") == std::string::npos) return "\"" + list + "\"";
    return shell_quote(list);
}

std::vector<std::string> split_path_list(const std::string& text) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto colon = text.find(':', start);
        std::string part = text.substr(start, colon - start);
        if (!part.empty()) parts.push_back(part);
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    return parts;
}

// Options typed together with --resume must repeat the interrupted run's own (so that
// pasting the original command with --resume works), never change them.
void check_resume_options(const SessionOptions& typed, const SessionOptions& run, const std::string& journal) {
    std::vector<std::string> conflicts;
    auto differs = [&](bool given, bool same, const std::string& what) {
        if (given && !same) conflicts.push_back(what);
    };
    if (!typed.pipeline.empty() && typed.pipeline != run.pipeline)
        throw ConfigError("--resume continues the interrupted run of pipeline '" + run.pipeline + "', but --pipeline says '" +
                          typed.pipeline + "'; drop one of them");
    differs(!typed.runner.empty(), typed.runner == run.runner, "--runner");
    const auto &t = typed.runner_options, &r = run.runner_options;
    differs(t.max_workers.has_value(), t.max_workers == r.max_workers, "--max-workers");
    differs(t.is_async, r.is_async, "--async");
    differs(t.keep_going, r.keep_going, "--keep-going");
    differs(!t.resources.empty(), t.resources == r.resources, "--resources");
    differs(!t.start_method.empty(), t.start_method == r.start_method, "--start-method");
    differs(!typed.params.empty(), parse_params_option(typed.params) == parse_params_option(run.params), "--params");
    const auto &f = typed.filter, &g = run.filter;
    differs(!f.empty(), f.node_names == g.node_names && f.from_nodes == g.from_nodes && f.to_nodes == g.to_nodes &&
                            f.tags == g.tags && f.from_inputs == g.from_inputs && f.to_outputs == g.to_outputs &&
                            f.namespaces == g.namespaces,
            "node filters");
    differs(typed.only_missing_outputs, run.only_missing_outputs, "--only-missing-outputs");
    differs(typed.incremental, run.incremental, "--incremental");
    differs(!typed.load_versions.empty(), parse_load_versions(typed.load_versions) == parse_load_versions(run.load_versions),
            "--load-versions");
    std::vector<fs::path> typed_paths;
    for (const auto& p : typed.plugins.explicit_dirs) typed_paths.push_back(fs::absolute(p));
    // Plugin paths typed again may be some of the run's (the test suites and scripts that
    // always pass one); the journal adds the others.
    const auto& run_paths = run.plugins.explicit_dirs;
    differs(!typed_paths.empty(),
            std::all_of(typed_paths.begin(), typed_paths.end(),
                        [&](const fs::path& p) { return std::find(run_paths.begin(), run_paths.end(), p) != run_paths.end(); }),
            "--plugin-path");
    differs(!typed.hooks.empty(), typed.hooks == run.hooks, "--hooks");
    differs(!typed.env.empty(), typed.env == run.env, "--env");
    differs(!typed.conf_source.empty(),
            typed.conf_source.empty() || fs::absolute(typed.conf_source) == run.conf_source, "--conf-source");
    if (!conflicts.empty())
        throw ConfigError("--resume continues the interrupted run with its own options (kept in " + journal + "); " +
                          join(conflicts) + " cannot be combined with it unless repeated exactly. Drop " + join(conflicts) +
                          ", or run without --resume to start a new run");
}

// A spawned ParallelRunner worker gets the host's plan through an inherited file
// descriptor (KILN_WORKER_SNAPSHOT_FD) instead of re-reading the project's files.
nlohmann::json read_worker_snapshot() {
    const char* fd_text = std::getenv("KILN_WORKER_SNAPSHOT_FD");
    if (!fd_text) return nullptr;
    const int fd = std::atoi(fd_text);
    std::string text;
    char buf[1 << 16];
    for (off_t at = 0;;) {
        ssize_t n = ::pread(fd, buf, sizeof buf, at);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        at += n;
    }
    ::close(fd);
    ::unsetenv("KILN_WORKER_SNAPSHOT_FD");
    nlohmann::json snapshot = nlohmann::json::parse(text, nullptr, false);
    if (!snapshot.is_object()) throw ConfigError("worker process: the host's plan could not be read");
    return snapshot;
}

// The nodes of a pipeline as pipelines.json would declare them (functions qualified).
nlohmann::json pipeline_to_json(const Pipeline& p) {
    nlohmann::json nodes = nlohmann::json::array();
    for (const Node& n : p.nodes()) {
        nlohmann::json j = {{"name", n.namespace_.empty() ? n.name : n.name.substr(n.namespace_.size() + 1)},
                            {"func", n.func->qualified_name},
                            {"inputs", n.inputs},
                            {"outputs", n.outputs}};
        if (!n.namespace_.empty()) j["namespace"] = n.namespace_;
        if (!n.tags.empty()) j["tags"] = n.tags;
        if (!n.resources.is_null()) j["resources"] = n.resources;
        nodes.push_back(std::move(j));
    }
    return {{"pipelines", {{"__worker__", {{"nodes", std::move(nodes)}}}}}};
}

}  // namespace

fs::path project_directory(const fs::path& dir, const fs::path& conf_source) {
    std::error_code ec;
    const fs::path project = fs::weakly_canonical(fs::absolute(dir), ec);
    if (!fs::is_directory(project))
        throw ConfigError("project directory '" + dir.string() + "' does not exist; pass --project DIR");
    // With --conf-source the configuration is elsewhere: the project folder holds the
    // data, plugins/ and .kiln/.
    if (conf_source.empty() && !is_project_root(project))
        throw ConfigError("no pipelines.json in project '" + project.string() +
                          "'. A Kiln project holds pipelines.json (and optionally catalog.json, parameters.json and "
                          "plugins/), or conf/base/ with them; is --project right?");
    return project;
}

const Pipeline& find_pipeline(const PipelineSet& pipelines, const std::string& name, const fs::path& pipelines_file) {
    if (pipelines.contains(name)) return pipelines.at(name);
    const std::vector<std::string> names = pipelines.names();
    auto matches = close_matches(name, names);
    throw ConfigError(pipelines_file.string() + ": no pipeline named '" + name + "'" +
                      (matches.empty() ? "" : "; did you mean " + join(matches) + "?") +
                      ". Defined: " + (names.empty() ? std::string("none") : join(names)));
}

std::string make_run_id() {
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d.%02d.%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

void load_plugins(Registry& registry, const PluginSearch& search, const fs::path& project_dir) {
    if (!search.builtin_dir.empty()) registry.load_directory(search.builtin_dir, false);
    if (search.use_environment)
        if (const char* env = std::getenv("KILN_PLUGIN_PATH"))
            for (const auto& dir : split_path_list(env)) registry.load_directory(dir, true);
    registry.load_directory(project_dir / "plugins", false);
    for (const auto& dir : search.explicit_dirs) {
        std::error_code ec;
        if (fs::is_regular_file(dir, ec)) registry.load_file(dir);
        else registry.load_directory(dir, true);
    }
}

namespace {

// prepare_run in a spawned worker, from the host's snapshot.
std::unique_ptr<PreparedRun> prepare_run_from(const SessionOptions& o, const nlohmann::json& snapshot,
                                              const std::function<void(PreparedRun&)>& before_plan) {
    auto run = std::make_unique<PreparedRun>();
    run->project = project_directory(o.project_dir, o.conf_source);
    for (const auto& secret : snapshot.value("secrets", nlohmann::json::array())) register_secret(secret.get<std::string>());
    load_plugins(run->registry, o.plugins, run->project);
    FunctionResolver resolver = [&](const std::string& name, std::string& hint) {
        return run->registry.find_node(name, hint);
    };
    run->pipelines = load_pipelines(snapshot.at("pipelines"), "the host's plan", resolver);
    run->pipeline_name = o.pipeline;
    run->catalog = std::make_unique<DataCatalog>(DataCatalog::entries_from_json(snapshot.at("catalog"), "the host's catalog"),
                                                 Parameters(snapshot.at("parameters"), "the host's parameters"),
                                                 run->project, run->registry, "the host's catalog");
    run->run_id = snapshot.at("run_id").get<std::string>();
    run->first_run_id = run->run_id;
    // The host decided the versions (and reserved the save version): the worker uses them.
    if (snapshot.contains("versions")) {
        run->versions = RunVersions::from_json(snapshot["versions"], "the host's plan");
        run->catalog->set_versions(run->versions.datasets);
    }
    run->scope = run->pipelines.at(o.pipeline);
    run->done_before.assign(run->scope.size(), 0);
    run->to_run = run->scope;
    if (before_plan) before_plan(*run);
    run->plan = std::make_unique<RunPlan>(run->to_run, *run->catalog, run->run_id);
    run->plan->set_async(o.runner_options.is_async);
    return run;
}

}  // namespace

SessionOptions resumed_options(const SessionOptions& o, std::optional<JournalState>& journal) {
    if (!o.resume) return o;
    const fs::path project = project_directory(o.project_dir, o.conf_source);
    journal = read_journal(project);
    if (!journal)
        throw ConfigError("nothing to resume: no run journal at '" + journal_path(project).string() +
                          "' (every `kiln run` that runs a node writes one)");
    const std::string file = journal_path(project).string();
    if (!journal->header.contains("invocation"))
        throw ConfigError(file + ": the journal holds no invocation; run the pipeline again without --resume");
    SessionOptions replayed = replay_invocation(journal->header["invocation"], o, file);
    check_resume_options(o, replayed, file);
    return replayed;
}

namespace {

// --incremental: the stale nodes of the scope, and those whose in-memory outputs they read;
// the others are skipped as up to date (and count as done for --resume).
std::vector<std::size_t> select_stale_nodes(PreparedRun& run, const Pipeline& full) {
    const auto started = std::chrono::steady_clock::now();
    run.incremental = std::make_unique<IncrementalState>(run.project, full, *run.catalog);
    IncrementalState& state = *run.incremental;
    state.decision = decide_staleness(full, run.scope, *run.catalog, state.records, state.fingerprinter, run.run_id);
    const Staleness& decision = *state.decision;
    std::size_t stale = 0, told = 0;
    if (state.records.empty())
        spdlog::info("No node fingerprints recorded yet ({}): every node runs", state.store.file().string());
    for (std::size_t i = 0; i < run.scope.size(); ++i) {
        const NodeStaleness& node = decision.nodes[i];
        if (node.state == NodeStaleness::State::up_to_date) {
            run.skipped.emplace_back(run.scope.nodes()[i].name, "up to date (--incremental)");
            run.done_before[i] = 1;
            continue;
        }
        stale += node.state == NodeStaleness::State::stale;
        // The first few at info (`kiln status` lists them all), the rest with -v.
        const bool tell = !state.records.empty() && told++ < 20;
        spdlog::log(tell ? spdlog::level::info : spdlog::level::debug, "Node '{}' runs: {}", run.scope.nodes()[i].name,
                    node.reasons.front());
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    spdlog::info("Incremental run: {} of {} nodes are stale, {} more run for their in-memory outputs, {} are up to date "
                 "(decided in {:.2f} s, {} files hashed)",
                 stale, run.scope.size(), decision.selected.size() - stale, run.scope.size() - decision.selected.size(),
                 seconds, state.files.hashed());
    return decision.selected;
}

}  // namespace

std::unique_ptr<PreparedRun> prepare_run(const SessionOptions& o, const std::function<void(PreparedRun&)>& before_plan,
                                         std::optional<JournalState> journal, const AfterContext& after_context) {
    auto run = std::make_unique<PreparedRun>();
    const fs::path project = project_directory(o.project_dir, o.conf_source);
    const nlohmann::json snapshot = read_worker_snapshot();
    if (!snapshot.is_null()) {
        // A spawned worker: the host's invocation, nodes, catalog and parameters, exactly.
        SessionOptions host = replay_invocation(snapshot.at("invocation"), o, "the host's plan");
        host.resume = false;
        host.only_missing_outputs = false;
        host.incremental = false;
        host.filter = {};
        host.params.clear();
        host.pipeline = "__worker__";
        return prepare_run_from(host, snapshot, before_plan);
    }
    if (o.resume && !journal) {
        SessionOptions replayed = resumed_options(o, journal);
        return prepare_run(replayed, before_plan, std::move(journal), after_context);
    }

    run->project = project;
    const ConfigLayout layout = config_layout(project, o.conf_source, o.env);
    run->fingerprint_files = config_fingerprint_files(layout);
    Registry& registry = run->registry;
    load_plugins(registry, o.plugins, project);

    FunctionResolver resolver = [&](const std::string& name, std::string& hint) { return registry.find_node(name, hint); };
    auto& pipelines = run->pipelines;
    const PipelinesConfig pipelines_config = load_pipelines_config(layout);
    const fs::path pipelines_file = pipelines_config.origin;
    pipelines = load_pipelines(pipelines_config.document, pipelines_config.origin, resolver);

    std::optional<JournalState>& previous = run->previous;
    std::string previous_run_id;
    if (journal) {
        previous = std::move(journal);
        const nlohmann::json& header = previous->header;
        previous_run_id = header.value("first_run_id", header.value("run_id", std::string("?")));
        if (previous->ending == RunEnding::success) {
            spdlog::info("The last run ({}) completed successfully; nothing to resume.", previous_run_id);
            run->nothing_to_resume = true;
            return run;
        }
        // Resuming after the project changed would mix results of two different runs.
        auto changes = fingerprint_changes(header.value("project", nlohmann::json::object()),
                                           project_fingerprint(project, registry, run->fingerprint_files));
        if (!changes.empty()) {
            std::string list;
            for (const auto& c : changes) list += "\n  - " + c;
            if (!o.force_resume)
                throw ConfigError("cannot resume run " + previous_run_id + ": the project changed since it was interrupted:" +
                                  list +
                                  "\nResuming would mix outputs computed before and after the change. Run the pipeline "
                                  "again without --resume, or add --force to resume anyway.");
            spdlog::warn("Resuming run {} although the project changed (--force):{}", previous_run_id, list);
        }
    }
    run->pipeline_name = o.pipeline.empty() ? "__default__" : o.pipeline;
    const std::string& pipeline_name = run->pipeline_name;
    const Pipeline& full = find_pipeline(pipelines, pipeline_name, pipelines_file);

    DataConfig data = load_data_config(layout, layout.flat() ? nlohmann::json::object() : runtime_params_object(o.params));
    Parameters parameters(std::move(data.parameters), data.parameters_origin);
    for (auto& [key, value] : parse_params_option(o.params)) parameters.set(key, std::move(value));
    run->settings = std::move(data.settings);
    run->settings_origin = std::move(data.settings_origin);
    if (after_context) {
        const nlohmann::json runtime_params = runtime_params_object(o.params);
        after_context(*run, ContextInfo{project, layout.flat() ? std::string_view() : std::string_view(layout.env),
                                        layout.conf, &parameters.root(), &runtime_params});
    }
    run->catalog = std::make_unique<DataCatalog>(DataCatalog::entries_from_json(data.catalog, data.catalog_origin),
                                                 std::move(parameters), project, registry, data.catalog_origin);
    DataCatalog& catalog = *run->catalog;
    for (const std::string& warning :
         unused_entry_warnings(catalog, pipelines.dataset_names(), data.catalog_origin))
        spdlog::warn("{}", warning);
    run->run_id = make_run_id();
    run->first_run_id = previous ? previous_run_id : run->run_id;
    const std::string& run_id = run->run_id;
    // A resumed run completes the version set of the run it continues: what it saved is
    // where its outputs are checked and read, what it loaded is loaded again.
    RunVersions earlier_versions;
    if (previous && previous->header.contains("versions"))
        earlier_versions = RunVersions::from_json(previous->header["versions"], journal_path(project).string());
    catalog.set_versions(earlier_versions.datasets);
    const std::map<std::string, std::string> pins = parse_load_versions(o.load_versions);
    if (!previous) check_load_versions(catalog, pins);

    // The run's scope (what the journal remembers), and within it what actually runs.
    auto& skipped = run->skipped;
    Pipeline& scope = run->scope;
    std::vector<char>& done_before = run->done_before;  // per scope node: done earlier / outputs exist
    if (previous) {
        std::vector<std::string> names, missing;
        for (const auto& n : previous->header["nodes"]) {
            names.push_back(n.get<std::string>());
            if (!full.node_index(names.back())) missing.push_back(names.back());
        }
        if (!missing.empty())
            throw ConfigError("cannot resume: node(s) " + join(missing) + " of the interrupted run are no longer in pipeline '" +
                              pipeline_name + "'; run without --resume");
        scope = full.only_nodes(names);
        std::vector<std::pair<std::string, std::string>> changed;
        done_before = verified_done(*previous, scope, catalog, changed);
        for (const auto& [node, why] : changed) spdlog::info("Node '{}' runs again: {}", node, why);
    } else {
        scope = o.filter.empty() ? full : full.filter(o.filter);
        done_before.assign(scope.size(), 0);
        if (scope.size() != full.size()) {
            for (const Node& n : full.nodes())
                if (!scope.node_index(n.name)) skipped.emplace_back(n.name, "not selected by the filters");
        }
    }
    if (scope.empty() && !previous)  // as Kedro: nothing to run is an error (filters that empty it throw first)
        throw ConfigError(pipelines_file.string() + ": pipeline '" + pipeline_name +
                          "' has no nodes. Pipeline contains no nodes after applying all provided filters. Please "
                          "ensure that provided pipeline and filters are valid.");

    std::vector<std::size_t> selected;
    if (previous) {
        selected = nodes_to_resume(scope, done_before, catalog, run_id);
        std::vector<char> chosen(scope.size(), 0);
        for (auto i : selected) chosen[i] = 1;
        for (std::size_t i = 0; i < scope.size(); ++i)
            if (!chosen[i]) skipped.emplace_back(scope.nodes()[i].name, "completed in run " + previous_run_id);
        spdlog::info("Resuming run {}: running {} of its {} nodes", previous_run_id, selected.size(), scope.size());
    } else if (o.only_missing_outputs) {
        std::vector<std::string> skip_names;
        selected = select_missing_outputs(scope, catalog, run_id, skip_names);
        for (const auto& n : skip_names) {
            skipped.emplace_back(n, "outputs already exist (--only-missing-outputs)");
            done_before[*scope.node_index(n)] = 1;
        }
        if (selected.empty()) {
            spdlog::info("Skipping all {} nodes (all persistent outputs exist)", scope.size());
        } else if (!skip_names.empty()) {
            spdlog::info("Skipping {} nodes with existing outputs: {}", skip_names.size(), join(skip_names));
            spdlog::info("Running {} out of {} nodes", selected.size(), scope.size());
        }
    } else if (o.incremental) {
        selected = select_stale_nodes(*run, full);
    } else {
        selected.resize(scope.size());
        for (std::size_t i = 0; i < scope.size(); ++i) selected[i] = i;
    }
    run->to_run = selected.size() == scope.size() ? scope : scope.subset(selected);
    if (o.decide_only) return run;
    if (before_plan) before_plan(*run);
    // Kedro's save version is the run's id: the same time, unless another run holds it.
    run->versions = choose_versions(catalog, run->to_run, pins, std::move(earlier_versions),
                                    parse_version_timestamp(run_id).value_or(std::chrono::system_clock::now()));
    catalog.set_versions(run->versions.datasets);
    run->plan = std::make_unique<RunPlan>(run->to_run, catalog, run_id);
    run->plan->set_async(o.runner_options.is_async);
    return run;
}

namespace {

// Every runner name a user can give: built-in first, then plugin runners.
std::string available_runners(const std::vector<std::string>& builtin, const Registry& registry) {
    std::vector<std::string> names = builtin;
    for (const auto& [name, _] : registry.runners()) names.push_back(name);
    return join(names);
}

// Kedro's create_default_dataset: asks a plugin runner for a dataset for each value the
// catalog does not name.
void add_default_datasets(PreparedRun& run, PluginRunner& runner) {
    const Pipeline& p = run.to_run;
    const auto& names = p.dataset_names();
    for (std::uint32_t d = 0; d < names.size(); ++d) {
        const std::string& name = names[d];
        std::size_t producer = p.producer_of(d);
        if (is_parameter_name(name) || run.catalog->contains(name) || producer >= p.size()) continue;
        const Node& n = p.nodes()[producer];
        std::size_t k = std::find(n.output_ids.begin(), n.output_ids.end(), d) - n.output_ids.begin();
        if (k == n.output_ids.size()) continue;  // a transcoded form its producer writes under another name
        DatasetConfig config{name, runner.name(), nullptr, run.project, n.func->spec->outputs[k], run.run_id};
        if (auto handle = runner.default_dataset(config)) run.catalog->add_dataset(name, runner.name(), std::move(handle));
    }
}

nlohmann::json run_params(const SessionOptions& o, const PreparedRun& run, const std::string& runner) {
    nlohmann::json runtime = nlohmann::json::object();
    for (auto& [key, value] : parse_params_option(o.params)) runtime[key] = value;
    return {{"run_id", run.run_id},
            {"project_path", run.project.string()},
            {"kiln_version", KILN_VERSION_STRING},
            {"pipeline_name", run.pipeline_name},
            {"runner", runner},
            {"node_names", o.filter.node_names},
            {"from_nodes", o.filter.from_nodes},
            {"to_nodes", o.filter.to_nodes},
            {"tags", o.filter.tags},
            {"from_inputs", o.filter.from_inputs},
            {"to_outputs", o.filter.to_outputs},
            {"namespaces", o.filter.namespaces},
            {"runtime_params", runtime},
            {"only_missing_outputs", o.only_missing_outputs},
            {"is_async", o.runner_options.is_async}};
}

// The runner a session uses: a built-in one is made at once; any other name may be a
// plugin's, known once the plugins are loaded (prepare_run calls choose_plugin_runner).
class SessionRunner {
public:
    SessionRunner(const RunnerFactory& runners, const SessionOptions& o, const std::vector<std::string>& runner_names)
        : o_(o), runner_names_(runner_names), name_(o.runner.empty() ? "SequentialRunner" : o.runner),
          runner_(runners(name_, o.runner_options)) {}

    // Known once the plugins are loaded: before the catalog, so that a process serving
    // another fires no hooks at all.
    void choose_plugin_runner(PreparedRun& run) {
        run.registry.reserve_runner_names(runner_names_);
        if (runner_) return;
        std::string hint;
        const RunnerType* type = run.registry.find_runner(name_, hint);
        if (!type) {
            std::string why = hint.rfind("did you mean", 0) == 0 || hint.find("ambiguous") != std::string::npos
                                  ? hint + " "
                                  : "";
            throw ConfigError("unknown runner '" + name_ + "'; " + why +
                              "available runners: " + available_runners(runner_names_, run.registry));
        }
        auto plugin_runner = std::make_unique<PluginRunner>(*type, o_.runner_options);
        plugin_ = plugin_runner.get();
        runner_ = std::move(plugin_runner);
    }
    // Once the catalog and the nodes to run are known.
    void add_plugin_datasets(PreparedRun& run) {
        if (!plugin_) return;
        if (!plugin_->primary() || !plugin_->launcher().empty()) refuse_versioned_datasets(run);
        add_default_datasets(run, *plugin_);
    }

    Runner& get() { return *runner_; }
    // An MPI rank other than 0: it serves the primary process.
    bool serves_another() const { return plugin_ && !plugin_->primary(); }

private:
    // A runner spanning processes started together (mpirun) plans once per process, and
    // each would take its own save version: refuse before any of them writes one.
    void refuse_versioned_datasets(const PreparedRun& run) const {
        for (const std::string& name : run.to_run.dataset_names())
            if (!is_parameter_name(name) && run.catalog->is_versioned(name))
                throw ConfigError("versioned dataset '" + name + "' cannot be used with runner '" + name_ +
                                  "' yet: its processes plan the run one by one and would each save under a version "
                                  "of their own; run it with another runner, or without \"versioned\" (an "
                                  "environment's catalog can override the entry)");
    }

    const SessionOptions& o_;
    const std::vector<std::string>& runner_names_;
    std::string name_;
    std::unique_ptr<Runner> runner_;
    PluginRunner* plugin_ = nullptr;
};

// What killed runs left mid-write: in the dataset folders, .kiln and the report's folder
// (also when there is nothing to resume: the kill may have come after the end).
void remove_temp_files_of_killed_runs(const PreparedRun& prepared, const fs::path& report) {
    try {
        std::vector<fs::path> folders = {prepared.project / ".kiln"};
        if (!report.empty()) folders.push_back(fs::absolute(report).parent_path());
        if (prepared.catalog)
            for (auto& f : dataset_folders(*prepared.catalog)) folders.push_back(std::move(f));
        for (const auto& file : remove_stale_temp_files(folders))
            spdlog::debug("Removed {}: a temporary file of an earlier run whose process no longer runs", file.string());
    } catch (const std::exception& e) {
        spdlog::debug("Looking for stale temporary files failed: {}", e.what());
    }
}

// A process that only serves another (an MPI rank other than 0) runs what it is given
// and reports nothing: the primary process fires the hooks and writes the record.
int serve_primary_process(Runner& runner, RunPlan& plan) {
    if (spdlog::get_level() == spdlog::level::info) spdlog::set_level(spdlog::level::warn);
    RunOutcome outcome = runner.run(plan, nullptr);
    if (!outcome.runner_error.empty()) spdlog::error("{}", outcome.runner_error);
    return outcome.ok() ? 0 : 1;
}

// Where each node that runs sits in the scope (the same place unless resuming or
// skipping), and the scope's nodes done before this run that it does not run again.
struct ScopePlaces {
    std::vector<std::size_t> index;  // per node of to_run
    std::vector<char> carried;       // per node of the scope
};

ScopePlaces place_in_scope(const Pipeline& scope, const Pipeline& to_run, const std::vector<char>& done_before) {
    ScopePlaces places{std::vector<std::size_t>(to_run.size()), std::vector<char>(scope.size(), 0)};
    if (to_run.size() == scope.size()) {
        for (std::size_t i = 0; i < places.index.size(); ++i) places.index[i] = i;
    } else {
        std::vector<char> running(scope.size(), 0);
        for (std::size_t i = 0; i < to_run.size(); ++i)
            running[places.index[i] = *scope.node_index(to_run.nodes()[i].name)] = 1;
        for (std::size_t i = 0; i < scope.size(); ++i) places.carried[i] = done_before[i] && !running[i];
    }
    return places;
}

// The journal header; with the run's dataset versions when it has versioned datasets
// (absent otherwise, so the journal of a run without them is what it was).
nlohmann::json journal_header(const PreparedRun& prepared, const nlohmann::json& invocation,
                              const std::vector<std::string>& command_line) {
    nlohmann::json header = {{"format", "kiln-journal/1"},
                             {"run_id", prepared.run_id},
                             {"first_run_id", prepared.first_run_id},
                             {"kiln_version", KILN_VERSION_STRING},
                             {"invocation", invocation},
                             {"project", project_fingerprint(prepared.project, prepared.registry, prepared.fingerprint_files)},
                             {"command_line", command_line}};
    if (!prepared.versions.empty()) header["versions"] = prepared.versions.to_json();
    return header;
}

// Hooks of settings.json, --hooks and --trace, for every node of the plan (run_watched
// adds them to the run's event stream); null when there are none.
std::unique_ptr<HookDispatcher> enable_run_hooks(const SessionOptions& o, PreparedRun& prepared) {
    std::unique_ptr<HookDispatcher> hooks;
    if (auto requests = hook_requests(prepared.project, o.hooks, o.trace,
                                      prepared.settings.is_null() ? nullptr : &prepared.settings, prepared.settings_origin);
        !requests.empty())
        hooks = std::make_unique<HookDispatcher>(enable_hooks(prepared.registry, requests, prepared.project));
    return hooks;
}

// The versions of the versioned datasets the run reads, as after_catalog_created gets them.
nlohmann::json load_versions_json(const RunVersions& versions) {
    nlohmann::json loads = nlohmann::json::object();
    for (const auto& [name, version] : versions.datasets)
        if (!version.load.empty()) loads[name] = version.load;
    return loads;
}

// What the pipeline hooks are told about the run; `runner` and `params` must outlive it.
PipelineRunInfo pipeline_run_info(const PreparedRun& prepared, const std::string& runner, const nlohmann::json& params,
                                  const PlanCatalogView& catalog_view, const HookDispatcher* hooks) {
    PipelineRunInfo run_info;
    run_info.run_id = prepared.run_id;
    run_info.pipeline_name = prepared.pipeline_name;
    run_info.runner = runner;
    run_info.project_dir = prepared.project;
    run_info.run_params = &params;
    run_info.catalog = &catalog_view;
    if (hooks) run_info.nodes = hooks->node_views();
    return run_info;
}

struct RunResult {
    RunOutcome outcome;
    int interrupted = 0;  // the signal that stopped the run, or 0
};

// The run itself, its node events in one stream: the hooks, the journal, the timeline and
// the progress line (gone before the closing log lines). Each event reaches them in that
// order, those that listen to it. When the runner throws, the hooks and the journal learn
// the run failed.
RunResult run_watched(Runner& runner, RunPlan& plan, const SessionOptions& o, JournalObserver& journal,
                      FingerprintObserver* fingerprints, RunTimeline& timeline, HookDispatcher* hooks,
                      const PipelineRunInfo& run_info) {
    std::unique_ptr<NodeObserver> progress;
    if (o.progress) progress = o.progress(plan.pipeline());
    const NodeEventStream events{hooks, &journal, fingerprints, &timeline, progress.get()};
    RunResult result;
    try {
        result.outcome = runner.run(plan, &events);
    } catch (const std::exception& e) {
        progress.reset();
        if (hooks) hooks->on_pipeline_error(run_info, e.what());
        if (journal.journal()) journal.finish(RunEnding::failed, 0);
        throw;
    }
    // Only an interrupt that stopped the run counts: one that came after the last node
    // changes nothing.
    const RunOutcome& outcome = result.outcome;
    result.interrupted = outcome.ok() && std::count(outcome.done.begin(), outcome.done.end(), 1) ==
                                             static_cast<std::ptrdiff_t>(plan.pipeline().size())
                             ? 0
                             : interrupt_signal();
    return result;
}

// Records every node that completes in .kiln/fingerprints (with the decision's fingerprints
// of the nodes an incremental run skipped): in an incremental run, and in any run of a
// project that has the store (so a plain run does not make the next incremental one redo
// its work). A project that never runs --incremental pays nothing. Null, after a warning,
// when the store cannot be read.
std::unique_ptr<FingerprintObserver> fingerprint_observer(PreparedRun& run, const HookDispatcher* hooks) {
    // An incremental run first rewrites the records of up-to-date nodes whose files were
    // touched (same content), so the next decision does not hash them again.
    if (run.incremental && run.incremental->decision) {
        IncrementalState& state = *run.incremental;
        try {
            for (NodeStaleness& node : state.decision->nodes)
                if (node.refreshed) {
                    state.store.append(*node.refreshed, false);
                    std::string name = node.refreshed->node;
                    state.records.insert_or_assign(std::move(name), std::move(*node.refreshed));
                }
            state.store.sync();
        } catch (const Error& e) {
            spdlog::warn("Could not update {} ({})", state.store.file().string(), e.what());
        }
    }
    if (run.to_run.empty()) return nullptr;
    std::error_code ec;
    if (!run.incremental && !fs::exists(FingerprintStore::file_in(run.project), ec)) return nullptr;
    const Pipeline& full = run.pipelines.at(run.pipeline_name);
    try {
        if (!run.incremental) run.incremental = std::make_unique<IncrementalState>(run.project, full, *run.catalog);
    } catch (const Error& e) {
        spdlog::warn("Node fingerprints are not recorded in this run: {}", e.what());
        return nullptr;
    }
    IncrementalState& state = *run.incremental;
    state.fingerprinter.set_reuse_stat(false);
    std::vector<std::size_t> full_index;
    full_index.reserve(run.to_run.size());
    for (const Node& n : run.to_run.nodes()) full_index.push_back(*full.node_index(n.name));
    const bool hooks_replace_inputs = hooks && (hooks->listens_to() & NodeObserver::node_run);
    return std::make_unique<FingerprintObserver>(state.store, std::move(state.records), state.fingerprinter,
                                                 std::move(full_index), run.run_id, hooks_replace_inputs);
}

// What the scope has done now: earlier runs, skipped-as-present, and this run.
std::vector<char> done_in_scope(const std::vector<char>& done_before, const std::vector<std::size_t>& scope_index,
                                const RunOutcome& outcome) {
    std::vector<char> done_now = done_before;
    for (std::size_t i = 0; i < scope_index.size(); ++i)
        done_now[scope_index[i]] = outcome.done.size() > i && outcome.done[i] ? 1 : 0;
    return done_now;
}

RunRecord run_record(const PreparedRun& prepared, const RunResult& result, const std::vector<char>& done_now) {
    RunRecord record;
    const bool resumed = prepared.previous.has_value();
    record.run_id = resumed ? prepared.first_run_id + "+" + prepared.run_id : prepared.run_id;
    record.status = result.interrupted ? "interrupted" : result.outcome.ok() ? "success" : "failed";
    record.pipeline = prepared.pipeline_name;
    const Pipeline& scope = prepared.scope;
    for (std::size_t i = 0; i < scope.size(); ++i) {
        record.nodes.push_back(scope.nodes()[i].name);
        if (done_now[i]) record.done.push_back(scope.nodes()[i].name);
    }
    return record;
}

// A run that completed: its free outputs in the report (and the log), then the hooks'
// after_pipeline_run. Returns the exit code, 1 when a hook failed.
int finish_success(RunPlan& plan, RunReport& report, HookDispatcher* hooks, const PipelineRunInfo& run_info,
                   double duration) {
    report.status = "success";
    for (const auto& out : plan.free_outputs()) {
        if (!out.persisted_in.empty()) {
            report.outputs[out.name] = {{"persisted_in", out.persisted_in}};
        } else if (!out.value.empty() && out.value.type()->has_json()) {
            report.outputs[out.name] = out.value.to_json();
            spdlog::info("Output '{}' = {}", out.name, report.outputs[out.name].dump(-1, ' ', false,
                                                                                      nlohmann::json::error_handler_t::replace));
        } else if (!out.value.empty()) {
            report.outputs[out.name] = {{"type", std::string(out.value.type_name())}};
        }
    }
    spdlog::info("Pipeline execution completed successfully in {:.1f} sec.", duration);
    if (!hooks) return 0;
    std::vector<RunPlan::FreeOutput> free = plan.free_outputs();
    std::vector<NamedValue> named;
    for (const auto& out : free) named.push_back({out.name, out.value.empty() ? nullptr : &out.value});
    if (std::string failure = hooks->after_pipeline_run(run_info, named); !failure.empty()) {
        spdlog::error("{}", failure);
        return 1;
    }
    return 0;
}

// A run that failed or was interrupted: why, in the log, the record and the report; the
// hooks' on_pipeline_error; the nodes it did not run among the skipped. Returns the exit
// code.
int finish_failure(const RunResult& result, const std::string& runner_name, PreparedRun& prepared, RunRecord& record,
                   RunReport& report, HookDispatcher* hooks, const PipelineRunInfo& run_info) {
    const RunOutcome& outcome = result.outcome;
    const int interrupted = result.interrupted;
    const Pipeline& to_run = prepared.to_run;
    const int exit_code = interrupted ? 128 + interrupted : 1;
    report.status = interrupted ? "interrupted" : "failed";
    std::size_t first_failed = SIZE_MAX;
    if (interrupted) {
        const char* name = sigabbrev_np(interrupted);
        record.error = report.error = std::string("interrupted by SIG") + (name ? name : "?");
        spdlog::warn("Run interrupted by SIG{}: no new node was started; running nodes were {}.", name ? name : "?",
                     runner_name == "ParallelRunner" ? "stopped" : "let finish");
    }
    if (!outcome.failures.empty()) {
        const NodeFailure& first = outcome.failures.front();
        const std::string failed = to_run.nodes()[first.node].name;
        if (!interrupted) {
            first_failed = first.node;
            record.failed_node = failed;
            record.error = first.message;
            report.failed_node = failed;
            report.error = first.message;
            spdlog::error("Node '{}' failed: {}", failed, first.message);
        }
        for (std::size_t f = interrupted ? 0 : 1; f < outcome.failures.size(); ++f)
            spdlog::error("Node '{}' {}: {}", to_run.nodes()[outcome.failures[f].node].name,
                          interrupted ? "did not finish" : "also failed", outcome.failures[f].message);
    }
    if (!outcome.runner_error.empty()) {
        if (record.error.empty()) record.error = report.error = outcome.runner_error;
        if (!interrupted) spdlog::error("{}", outcome.runner_error);
    }
    if (hooks) hooks->on_pipeline_error(run_info, record.error);
    for (std::size_t i = 0; i < to_run.size(); ++i)
        if (!outcome.done[i] && i != first_failed)
            prepared.skipped.emplace_back(to_run.nodes()[i].name, interrupted ? "not run: the run was interrupted"
                                                                              : "not run: the run failed");
    return exit_code;
}

// How to resume a run that stopped short.
struct ResumeCommands {
    const nlohmann::json& invocation;
    const std::string& kiln_exe;
    const std::string& launcher;
    const std::string& resume_all;  // `kiln run --resume`, which replays the journal
};

// After a failure: Kedro's suggestion (--from-nodes the nearest nodes with persisted
// inputs), or, when it has none, --resume.
void suggest_resume(const PreparedRun& prepared, const std::vector<char>& done_now, const ResumeCommands& commands,
                    RunReport& report) {
    const fs::path& project = prepared.project;
    std::size_t remaining = std::count(done_now.begin(), done_now.end(), 0);
    auto from = suggest_resume_nodes(prepared.scope, done_now, *prepared.catalog);
    if (from.empty()) {
        report.resume_command = commands.resume_all;
        spdlog::warn("No nodes ran. Repeat the previous command to attempt a new run.\nOr resume it (the same run, "
                     "replayed from its journal):\n  {}",
                     commands.resume_all);
        return;
    }
    report.resume_command = invocation_command(commands.invocation, commands.kiln_exe, project,
                                               {"--from-nodes", kedro_quote(join(from, ","))});
    if (!commands.launcher.empty()) report.resume_command = commands.launcher + " " + report.resume_command;
    spdlog::warn("There are {} nodes that have not run.\n"
                 "You can resume the pipeline run from the nearest nodes with persisted inputs:\n  {}\n"
                 "or run exactly what is left (the run's journal is in {}):\n  {}",
                 remaining, report.resume_command, journal_path(project).string(), commands.resume_all);
}

// A run that started no node (a dry run, even one that failed its checks) leaves the
// journal and record of the last real run in place, so --resume still finds them. The
// journal is created when the first node starts.
void close_journal_and_record(JournalObserver& journal, bool ran_nothing, int interrupted, int exit_code,
                              const fs::path& project, const RunRecord& record) {
    if (!journal.journal() && !ran_nothing) return;
    journal.finish(interrupted ? RunEnding::interrupted : exit_code == 0 ? RunEnding::success : RunEnding::failed,
                   interrupted);
    try {
        write_run_record(project, record);
    } catch (const Error& e) {
        spdlog::warn("could not write the run summary ({})", e.what());
    }
}

void write_report_file(const fs::path& file, RunReport& report, std::vector<std::pair<std::string, std::string>> skipped) {
    if (file.empty()) return;
    report.skipped = std::move(skipped);
    write_file_atomic(file, redact(report.to_json().dump(2, ' ', false, nlohmann::json::error_handler_t::replace)) + "\n");
    spdlog::info("Run report written to {}", file.string());
}

}  // namespace

int run_session(const SessionOptions& typed, const RunnerFactory& runners, const std::vector<std::string>& runner_names) {
    // With --resume, the interrupted run's own options (runner, filters, params, plugins).
    std::optional<JournalState> journal_before;
    const SessionOptions o = resumed_options(typed, journal_before);
    SessionRunner chosen(runners, o, runner_names);
    // The hooks exist from after_context_created on, in the process that fires them all.
    std::unique_ptr<HookDispatcher> hooks;
    auto prepared = prepare_run(
        o, [&](PreparedRun& run) { chosen.add_plugin_datasets(run); }, std::move(journal_before),
        [&](PreparedRun& run, const ContextInfo& context) {
            chosen.choose_plugin_runner(run);
            if (chosen.serves_another()) return;
            hooks = enable_run_hooks(o, run);
            if (hooks)
                if (std::string failure = hooks->after_context_created(context); !failure.empty())
                    throw PluginError(failure);
        });
    remove_temp_files_of_killed_runs(*prepared, o.report);
    if (prepared->nothing_to_resume) return 0;
    Runner& runner = chosen.get();
    RunPlan& plan = *prepared->plan;
    if (chosen.serves_another()) return serve_primary_process(runner, plan);

    // The journal records every node as it starts and completes; the guard names a node
    // that crashes the process and turns Ctrl-C / SIGTERM into a clean stop.
    const fs::path& project = prepared->project;
    const Pipeline& to_run = prepared->to_run;
    const std::string kiln_exe = o.command_line.empty() ? "kiln" : o.command_line.front();
    const std::string launcher = runner.launcher();
    const nlohmann::json invocation = invocation_to_json(o, prepared->pipeline_name);
    const std::string resume_all =
        (launcher.empty() ? "" : launcher + " ") + shell_quote(kiln_exe) + " run --resume --project " + shell_quote(project.string());
    ScopePlaces places = place_in_scope(prepared->scope, to_run, prepared->done_before);
    JournalObserver journal(project, journal_header(*prepared, invocation, o.command_line), prepared->scope, places.index,
                            *prepared->catalog, std::move(places.carried));
    RunGuard guard(to_run, places.index, resume_all);
    plan.set_worker_snapshot([&] {
        nlohmann::json snapshot{{"invocation", invocation},
                              {"run_id", prepared->run_id},
                              {"pipelines", pipeline_to_json(to_run)},
                              {"catalog", prepared->catalog->entries_to_json()},
                              {"parameters", prepared->catalog->parameters().root()}};
        // A spawned worker redacts what the host does; the key is absent when there is nothing to redact.
        if (has_secrets()) snapshot["secrets"] = registered_secrets();
        if (!prepared->versions.empty()) snapshot["versions"] = prepared->versions.to_json();
        return snapshot;
    });

    PlanCatalogView catalog_view(plan);
    if (hooks) {
        hooks->bind(plan, catalog_view);
        const nlohmann::json runtime_params = runtime_params_object(o.params);
        const nlohmann::json load_versions = load_versions_json(prepared->versions);
        const CatalogInfo catalog_info{&catalog_view, prepared->run_id, prepared->versions.save_version, &load_versions,
                                       &runtime_params};
        if (std::string failure = hooks->after_catalog_created(catalog_info); !failure.empty()) throw PluginError(failure);
    }
    const std::string runner_label = runner.name();
    const nlohmann::json params = run_params(o, *prepared, runner_label);
    const PipelineRunInfo run_info = pipeline_run_info(*prepared, runner_label, params, catalog_view, hooks.get());
    if (hooks)
        if (std::string failure = hooks->before_pipeline_run(run_info); !failure.empty()) throw PluginError(failure);

    spdlog::info("Kiln project {}: running pipeline '{}' ({} nodes) with {}", project.filename().string(),
                 prepared->pipeline_name, to_run.size(), runner.name());
    std::unique_ptr<FingerprintObserver> fingerprints = fingerprint_observer(*prepared, hooks.get());
    RunTimeline timeline(to_run.size());
    const RunResult result = run_watched(runner, plan, o, journal, fingerprints.get(), timeline, hooks.get(), run_info);
    if (fingerprints) fingerprints->finish();
    const double duration = timeline.elapsed_s();
    const std::vector<char> done_now = done_in_scope(prepared->done_before, places.index, result.outcome);
    RunRecord record = run_record(*prepared, result, done_now);

    RunReport report;
    report.run_id = prepared->run_id;
    report.project = project.string();
    report.pipeline = prepared->pipeline_name;
    report.runner = runner.name();
    report.started_at = prepared->run_id;
    report.duration_s = duration;
    report.ran = &to_run;
    report.timeline = &timeline;
    if (!prepared->versions.empty()) report.versions = prepared->versions.report_json();

    int exit_code = 0;
    if (result.outcome.ok() && !result.interrupted) {
        exit_code = finish_success(plan, report, hooks.get(), run_info, duration);
    } else {
        exit_code = finish_failure(result, runner.name(), *prepared, record, report, hooks.get(), run_info);
        suggest_resume(*prepared, done_now, {invocation, kiln_exe, launcher, resume_all}, report);
    }
    close_journal_and_record(journal, to_run.empty(), result.interrupted, exit_code, project, record);
    write_report_file(o.report, report, std::move(prepared->skipped));
    return exit_code;
}

}  // namespace kiln::core
