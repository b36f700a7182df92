// kiln/embed.hpp: `kiln run` for programs that embed Kiln, on the same session code.
#include "kiln/embed.hpp"

#include <spdlog/spdlog.h>

#include "builtin_runners.hpp"
#include "kiln/error.hpp"
#include "session/session.hpp"

namespace kiln {

int run_project(const EmbeddedRun& run) {
    core::SessionOptions o;
    o.project_dir = run.project_dir;
    o.plugins.explicit_dirs = run.plugin_dirs;
    o.pipeline = run.pipeline;
    o.runner = run.runner;
    o.runner_options.max_workers = run.max_workers;
    o.params = run.params;
    o.filter.tags = run.tags;
    o.filter.node_names = run.nodes;
    o.only_missing_outputs = run.only_missing_outputs;
    o.resume = run.resume;
    try {
        if (run.max_workers && *run.max_workers <= 0)
            throw ConfigError("max_workers must be a positive number of workers, got " + std::to_string(*run.max_workers));
        return core::run_session(o, &runners::make_builtin_runner, runners::builtin_runner_names());
    } catch (const Error& e) {
        spdlog::error("{}", e.what());
        return 2;
    } catch (const std::exception& e) {
        spdlog::error("unexpected error: {}", e.what());
        return 3;
    }
}

std::vector<std::string> builtin_runner_names() { return runners::builtin_runner_names(); }

}  // namespace kiln
