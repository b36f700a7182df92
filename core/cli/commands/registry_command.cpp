#include "commands/registry_command.hpp"

#include <iostream>
#include <memory>

#include "config/config_loader.hpp"
#include "config/pipeline_loader.hpp"
#include "kiln/error.hpp"
#include "plugins/registry.hpp"

using namespace kiln;
namespace fs = std::filesystem;

namespace {

// The registry owns the node functions the pipelines point to, so it lives as long.
struct RegisteredPipelines {
    std::string origin;
    std::unique_ptr<core::Registry> registry = std::make_unique<core::Registry>();
    core::PipelineSet pipelines;
};

RegisteredPipelines load_registered(const RegistryCommandOptions& o) {
    const fs::path project = core::project_directory(o.project_dir, o.conf_source);
    const core::ConfigLayout layout = core::config_layout(project, o.conf_source, o.env);
    core::runtime_params_object(o.params);  // refuses a malformed --params, as `kiln run` does
    RegisteredPipelines r;
    core::load_plugins(*r.registry, o.plugins, layout.project);
    const core::FunctionResolver resolver = [&](const std::string& name, std::string& hint) {
        return r.registry->find_node(name, hint);
    };
    const core::PipelinesConfig config = core::load_pipelines_config(layout);
    r.origin = config.origin;
    r.pipelines = core::load_pipelines(config.document, config.origin, resolver);
    return r;
}

int flushed() {
    std::cout << std::flush;
    if (!std::cout) throw ConfigError("could not write to standard output");
    return 0;
}

}  // namespace

int list_registered_pipelines(const RegistryCommandOptions& o) {
    const RegisteredPipelines r = load_registered(o);
    for (const std::string& name : r.pipelines.names()) std::cout << name << "\n";
    return flushed();
}

int describe_registered_pipeline(const RegistryCommandOptions& o) {
    const RegisteredPipelines r = load_registered(o);
    const core::Pipeline& pipeline = core::find_pipeline(r.pipelines, o.pipeline, r.origin);
    std::cout << "Nodes:\n";
    for (const core::Node& node : pipeline.nodes())
        std::cout << "- " << node.name << " (" << node.func->qualified_name << ")\n";
    return flushed();
}
