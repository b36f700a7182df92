// A session: everything `kiln run` does, from the project's files to the exit code.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kiln/core/pipeline.hpp"
#include "kiln/core/registry.hpp"
#include "kiln/core/runner.hpp"

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
    std::string params;    // --params text
    PipelineFilter filter;
    bool only_missing_outputs = false;
    bool resume = false;
    std::filesystem::path report;           // --report FILE, empty for none
    std::vector<std::string> command_line;  // the command as typed, for the resume hint
};

// Loads plugins from the built-in dir, KILN_PLUGIN_PATH, PROJECT/plugins and --plugin-path.
void load_plugins(Registry& registry, const PluginSearch& search, const std::filesystem::path& project_dir);

// Runs the pipeline. Returns 0 on success and 1 when a node failed (after logging the
// failure and how to resume). Throws kiln::Error for anything wrong before the run starts.
int run_session(const SessionOptions& options, const RunnerFactory& runners, const std::vector<std::string>& runner_names);

// Run ids are UTC timestamps like Kedro's: "2026-11-23T03.45.21.123Z".
std::string make_run_id();

}  // namespace kiln::core
