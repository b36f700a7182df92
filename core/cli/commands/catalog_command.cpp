#include "commands/catalog_command.hpp"

#include <algorithm>
#include <iostream>
#include <memory>

#include "catalog/catalog.hpp"
#include "config/json_file.hpp"
#include "config/pipeline_loader.hpp"
#include "kiln/error.hpp"
#include "plugins/registry.hpp"

using namespace kiln;
namespace fs = std::filesystem;

namespace {

// The project as the commands read it. The registry owns the node functions the
// pipelines point to and the dataset types the catalog names, so it lives as long.
struct CatalogProject {
    fs::path dir;
    std::unique_ptr<core::Registry> registry = std::make_unique<core::Registry>();
    core::PipelineSet pipelines;
    std::unique_ptr<core::DataCatalog> catalog;
};

std::unique_ptr<core::DataCatalog> read_catalog(const fs::path& project, const core::Registry& registry) {
    const fs::path file = project / "catalog.json";
    return std::make_unique<core::DataCatalog>(core::DataCatalog::read_entries(file), core::Parameters{}, project,
                                               registry, file.string());
}

CatalogProject load_project(const CatalogCommandOptions& o) {
    CatalogProject p;
    p.dir = core::project_directory(o.project_dir);
    core::load_plugins(*p.registry, o.plugins, p.dir);
    core::FunctionResolver resolver = [&](const std::string& name, std::string& hint) {
        return p.registry->find_node(name, hint);
    };
    const fs::path pipelines_file = p.dir / "pipelines.json";
    p.pipelines = core::load_pipelines(core::read_json_file(pipelines_file), pipelines_file.string(), resolver);
    p.catalog = read_catalog(p.dir, *p.registry);
    return p;
}

// The type as written, qualified when a plugin provides it.
std::string type_label(const core::Registry& registry, const std::string& type) {
    std::string hint;
    const core::DatasetType* known = registry.find_dataset_type(type, hint);
    return known ? known->qualified_name : type;
}

std::string where_it_lives(const CatalogProject& p, const std::string& dataset) {
    if (core::is_parameter_name(dataset)) return "parameter";
    if (p.catalog->entries().count(dataset))
        return "entry (" + type_label(*p.registry, p.catalog->entries().at(dataset).type) + ")";
    if (const core::CatalogEntry* pattern = p.catalog->matching_pattern(dataset)) {
        const core::CatalogEntry* entry = p.catalog->find_entry(dataset);
        return "pattern '" + pattern->name + "' (" + type_label(*p.registry, entry->type) + ")";
    }
    return "default (the runner's default dataset; in memory with the built-in runners)";
}

void print_pipeline(const CatalogProject& p, const std::string& name) {
    std::vector<std::string> datasets = p.pipelines.at(name).dataset_names();
    std::sort(datasets.begin(), datasets.end());
    std::size_t width = 0;
    for (const auto& d : datasets) width = std::max(width, d.size());
    std::cout << "Pipeline '" << name << "':\n";
    for (const auto& d : datasets)
        std::cout << "  " << d << std::string(width - d.size() + 2, ' ') << where_it_lives(p, d) << "\n";
}

void flush_standard_output() {
    std::cout << std::flush;
    if (!std::cout) throw ConfigError("could not write to standard output");
}

}  // namespace

int list_catalog(const CatalogCommandOptions& o) {
    const CatalogProject p = load_project(o);
    if (!o.pipeline.empty()) {
        core::find_pipeline(p.pipelines, o.pipeline, p.dir / "pipelines.json");  // an unknown name throws
        print_pipeline(p, o.pipeline);
    } else {
        bool first = true;
        for (const auto& name : p.pipelines.names()) {
            if (!first) std::cout << "\n";
            first = false;
            print_pipeline(p, name);
        }
    }
    flush_standard_output();
    return 0;
}

int resolve_catalog(const CatalogCommandOptions& o) {
    const CatalogProject p = load_project(o);
    auto as_json = [](const core::CatalogEntry& entry) {
        nlohmann::json e = entry.args;
        e["type"] = entry.type;
        return e;
    };
    nlohmann::json doc = nlohmann::json::object();
    for (const auto& [name, entry] : p.catalog->entries()) doc[name] = as_json(entry);
    for (const std::string& name : p.pipelines.dataset_names())
        if (p.catalog->matching_pattern(name)) doc[name] = as_json(*p.catalog->find_entry(name));
    std::cout << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    flush_standard_output();
    return 0;
}

int print_catalog_patterns(const CatalogCommandOptions& o) {
    const fs::path project = core::project_directory(o.project_dir);
    const core::Registry registry;  // no plugins: the order needs none
    const auto catalog = read_catalog(project, registry);
    for (const core::CatalogEntry& pattern : catalog->patterns().ordered()) std::cout << pattern.name << "\n";
    flush_standard_output();
    return 0;
}
