// A session: everything `kiln run` does, from the project's files to the exit code.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "catalog/version_plan.hpp"
#include "incremental/incremental_state.hpp"
#include "journal/run_journal.hpp"
#include "journal/run_record.hpp"
#include "model/pipeline.hpp"
#include "model/pipeline_set.hpp"
#include "plugins/registry.hpp"
#include "run/run_plan.hpp"
#include "kiln/hooks.hpp"
#include "run/runner.hpp"

namespace kiln::core {

// Makes a runner by name, or returns nullptr when it knows none by that name.
using RunnerFactory = std::function<std::unique_ptr<Runner>(const std::string& name, const RunnerOptions& options)>;

struct PluginSearch {
    std::filesystem::path builtin_dir;             // the plugins shipped with kiln
    std::vector<std::filesystem::path> explicit_dirs;  // --plugin-path: must exist
    bool use_environment = true;                   // KILN_PLUGIN_PATH (colon-separated)
};

struct SessionOptions {
    std::filesystem::path project_dir = ".";
    PluginSearch plugins;
    std::string pipeline;  // empty: "__default__" (or the interrupted run's, with resume)
    std::string runner;    // empty: SequentialRunner
    RunnerOptions runner_options;
    std::string params;    // --params text (several --params joined with ",")
    std::string env;       // --env: the configuration environment over conf/base (empty: KILN_ENV, else "local")
    std::filesystem::path conf_source;  // --conf-source: a conf folder elsewhere (empty: PROJECT/conf)
    PipelineFilter filter;
    bool only_missing_outputs = false;
    bool incremental = false;   // --incremental: run only the stale nodes (incremental/staleness.hpp)
    bool decide_only = false;   // `kiln status` / `explain`: stop once the nodes to run are known
    std::vector<std::string> load_versions;  // --load-versions items, "dataset:VERSION"
    bool resume = false;
    bool force_resume = false;              // --force: resume although the project changed
    std::filesystem::path report;           // --report FILE, empty for none
    std::vector<std::string> hooks;         // --hooks, beside settings.json's
    std::filesystem::path trace;            // --trace FILE: Chrome trace-event JSON of the run
    std::vector<std::string> command_line;  // the command as typed, for the resume hint
    // Makes the observer that shows the run as it goes (kiln's progress line), or returns
    // nullptr. It is destroyed before the run's closing log lines. Unset: none.
    std::function<std::unique_ptr<NodeObserver>(const Pipeline& to_run)> progress;
};

// Everything a run needs, built from the project's files, before any node runs.
struct PreparedRun {
    std::filesystem::path project;
    std::string pipeline_name;
    std::string run_id;
    Registry registry;
    PipelineSet pipelines;
    std::optional<JournalState> previous;  // with --resume: the interrupted run's journal
    std::string first_run_id;              // the run this one continues (its own id when fresh)
    bool nothing_to_resume = false;     // --resume after a successful run: nothing else is set
    std::unique_ptr<DataCatalog> catalog;
    Pipeline scope;                     // what the run record remembers
    std::vector<char> done_before;      // per scope node: done by an earlier run, or outputs exist
    Pipeline to_run;                    // what the runner gets
    std::vector<std::pair<std::string, std::string>> skipped;  // node, reason
    RunVersions versions;               // of the versioned datasets the plan binds
    std::unique_ptr<RunPlan> plan;
    nlohmann::json settings;            // settings.json from conf/ environments; null: PROJECT/settings.json
    std::string settings_origin;
    std::vector<std::string> fingerprint_files;  // conf/ files --resume compares (run_invocation.hpp)
    // Fingerprints of completed nodes (.kiln/fingerprints), and with --incremental the
    // decision of what is stale. Set by run_session, or by prepare_run for --incremental.
    std::unique_ptr<IncrementalState> incremental;
};

// With --resume: the options of the run to resume (read from its journal, see
// run_invocation.hpp), with `journal` set to the journal; `options` unchanged otherwise.
// Throws kiln::ConfigError when there is no journal.
SessionOptions resumed_options(const SessionOptions& options, std::optional<JournalState>& journal);

// Loads plugins, pipelines, parameters and catalog, applies filters, --resume and
// --only-missing-outputs, and binds the plan. Deterministic: a spawned worker process
// calling it with the same options gets the same plan. With --resume, pass the options
// and journal resumed_options() gave. `before_plan`, when set, is called
// once the catalog and the nodes to run are known, before the plan binds the datasets
// (a plugin runner adds its default datasets there). Throws kiln::Error.
// `after_context`, when set, is called once the plugins, settings and parameters are
// read, before the catalog is built (the session makes the hooks there and fires
// after_context_created; the ContextInfo lives only during the call).
using AfterContext = std::function<void(PreparedRun&, const ContextInfo&)>;
std::unique_ptr<PreparedRun> prepare_run(const SessionOptions& options,
                                         const std::function<void(PreparedRun&)>& before_plan = {},
                                         std::optional<JournalState> journal = std::nullopt,
                                         const AfterContext& after_context = {});

// The project directory, absolute; throws kiln::ConfigError when it does not exist or
// holds neither pipelines.json nor conf/base/ (unless `conf_source` names the conf folder).
std::filesystem::path project_directory(const std::filesystem::path& dir, const std::filesystem::path& conf_source = {});

// The pipeline called `name`; throws kiln::ConfigError naming the file, with close matches
// and the pipelines defined.
const Pipeline& find_pipeline(const PipelineSet& pipelines, const std::string& name,
                              const std::filesystem::path& pipelines_file);

// Loads plugins from the built-in dir, KILN_PLUGIN_PATH, PROJECT/plugins and --plugin-path.
void load_plugins(Registry& registry, const PluginSearch& search, const std::filesystem::path& project_dir);

// Runs the pipeline. Returns 0 on success, 1 when a node failed (after logging the failure
// and how to resume), 128 + the signal when Ctrl-C or SIGTERM stopped it (130, 143).
// Throws kiln::Error for anything wrong before the run starts.
int run_session(const SessionOptions& options, const RunnerFactory& runners, const std::vector<std::string>& runner_names);

// Run ids are UTC timestamps like Kedro's: "2026-11-23T03.45.21.123Z".
std::string make_run_id();

}  // namespace kiln::core
