#include "commands/registry_command.hpp"

#include <iostream>

#include "config/pipeline_loader.hpp"
#include "kiln/error.hpp"

using namespace kiln;

namespace {

int flushed() {
    std::cout << std::flush;
    if (!std::cout) throw ConfigError("could not write to standard output");
    return 0;
}

}  // namespace

int list_registered_pipelines(const RegistryCommandOptions& o) {
    const ProjectPipelines r = load_project_pipelines(o.project);
    for (const std::string& name : r.pipelines.names()) std::cout << name << "\n";
    return flushed();
}

int describe_registered_pipeline(const RegistryCommandOptions& o) {
    const ProjectPipelines r = load_project_pipelines(o.project);
    const core::Pipeline& pipeline = core::find_pipeline(r.pipelines, o.pipeline, r.origin);
    std::cout << "Nodes:\n";
    for (const core::Node& node : pipeline.nodes())
        std::cout << "- " << node.name << " (" << node.func->qualified_name << ")\n";
    return flushed();
}
