#include "commands/plugins_command.hpp"

#include <iostream>

#include "plugins/registry.hpp"

using namespace kiln;

namespace {
std::string type_list(const std::vector<const TypeOps*>& types, const std::vector<std::string>& names) {
    std::string s;
    for (std::size_t i = 0; i < types.size(); ++i) {
        if (i) s += ", ";
        if (i < names.size()) s += names[i] + ": ";
        s += std::string(types[i]->name);
    }
    return s;
}
}  // namespace

int print_plugins(const core::SessionOptions& o, const std::vector<std::string>& runner_names) {
    core::Registry registry;
    core::load_plugins(registry, o.plugins, std::filesystem::absolute(o.project_dir));
    for (const auto& p : registry.plugins()) {
        std::cout << p.name << " " << p.version << "  (" << p.file.string() << ")\n";
        for (const auto& name : p.nodes) {
            const auto& spec = *registry.node_functions().at(name)->spec;
            std::string outputs;
            if (spec.outputs.empty()) outputs = "None";
            else if (spec.outputs.size() == 1) outputs = std::string(spec.outputs[0]->name);
            else outputs = "(" + type_list(spec.outputs, {}) + ")";
            std::cout << "  node     " << name << "(" << type_list(spec.inputs, spec.options.args) << ") -> "
                      << outputs;
            if (!spec.options.doc.empty()) std::cout << "  # " << spec.options.doc;
            std::cout << "\n";
        }
        for (const auto& name : p.dataset_types) {
            const auto& type = registry.dataset_types().at(name);
            std::cout << "  dataset  " << name;
            if (type.spec.options.single_process) std::cout << " [single-process]";
            if (!type.spec.options.doc.empty()) std::cout << "  # " << type.spec.options.doc;
            std::cout << "\n";
        }
        for (const auto& name : p.runners) {
            const auto& doc = registry.runners().at(name).spec.options.doc;
            std::cout << "  runner   " << name << (doc.empty() ? "" : "  # " + doc) << "\n";
        }
        for (const auto& name : p.hooks) {
            const auto& doc = registry.hooks().at(name).spec.options.doc;
            std::cout << "  hooks    " << name << (doc.empty() ? "" : "  # " + doc) << "\n";
        }
    }
    // The dataset types the host itself provides, whatever plugins are loaded.
    std::cout << "built-in datasets: kiln.MemoryDataset (in memory for the run), kiln.PartitionedDataset (a folder "
                 "of files, one per partition, each read and written by another dataset type)\n";
    std::cout << "runners:";
    for (const auto& r : runner_names) std::cout << " " << r;
    for (const auto& [name, _] : registry.runners()) std::cout << " " << name;
    std::cout << "\n";
    return 0;
}
