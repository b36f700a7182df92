#include "commands/registry_command.hpp"

#include <iostream>

#include "commands/standard_output.hpp"
#include "config/pipeline_loader.hpp"

using namespace kiln;

int list_registered_pipelines(const RegistryCommandOptions& o) {
    const ProjectPipelines r = load_project_pipelines(o.project);
    for (const std::string& name : r.pipelines.names()) std::cout << name << "\n";
    flush_standard_output();
    return 0;
}

int describe_registered_pipeline(const RegistryCommandOptions& o) {
    const ProjectPipelines r = load_project_pipelines(o.project);
    const core::Pipeline& pipeline = core::find_pipeline(r.pipelines, o.pipeline, r.origin);
    std::cout << "Nodes:\n";
    for (const core::Node& node : pipeline.nodes())
        std::cout << "- " << node.name << " (" << node.func->qualified_name << ")\n";
    flush_standard_output();
    return 0;
}
