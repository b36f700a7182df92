// Embedding Kiln: run a project from your own program, exactly as `kiln run` would.
//
//     find_package(Kiln REQUIRED)
//     target_link_libraries(myapp PRIVATE Kiln::runners)
//     target_compile_definitions(myapp PRIVATE KILN_SHIPPED="${KILN_PLUGIN_DIR}")
//
//     kiln::EmbeddedRun run;
//     run.project_dir = "my_project";
//     run.plugin_dirs = {KILN_SHIPPED};   // the datasets Kiln ships
//     int code = kiln::run_project(run);  // 0 done, 1 a node failed, 2 bad input
//
// This is the whole public API of libkiln; everything else is the SDK (kiln/sdk.hpp).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

struct EmbeddedRun {
    std::filesystem::path project_dir = ".";     // holds pipelines.json, catalog.json, ...
    std::vector<std::filesystem::path> plugin_dirs;  // as --plugin-path; KILN_PLUGIN_PATH is read too
    std::string pipeline;                        // empty: "__default__"
    std::string runner;                          // empty: "SequentialRunner"
    std::optional<int> max_workers;              // unset: the runner's default
    std::string params;                          // as --params: "key=value,..."
    std::vector<std::string> tags;               // as --tags
    std::vector<std::string> nodes;              // as --nodes
    bool only_missing_outputs = false;
    bool resume = false;                         // finish the project's interrupted run
};

// Runs the pipeline and returns kiln's exit code: 0 when every node ran, 1 when a node
// failed, 2 when the project, a plugin or an option is wrong (the reason is logged), 130
// or 143 when SIGINT or SIGTERM stopped it. Logs through spdlog's default logger.
int run_project(const EmbeddedRun& run);

// The runners built in: "SequentialRunner", "ThreadRunner", "ParallelRunner".
std::vector<std::string> builtin_runner_names();

}  // namespace kiln
