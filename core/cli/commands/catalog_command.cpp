#include "commands/catalog_command.hpp"

#include <algorithm>
#include <iostream>
#include <memory>

#include "catalog/catalog.hpp"
#include "commands/standard_output.hpp"
#include "config/config_loader.hpp"
#include "config/redaction.hpp"
#include "config/pipeline_loader.hpp"
#include "kiln/error.hpp"
#include "plugins/registry.hpp"

using namespace kiln;

namespace {

// The project's pipelines and the catalog `kiln run` would build for them.
struct CatalogProject {
    ProjectPipelines project;
    std::unique_ptr<core::DataCatalog> catalog;
};

std::unique_ptr<core::DataCatalog> read_catalog(const core::ConfigLayout& layout, const std::string& params,
                                               const core::Registry& registry) {
    ProjectCatalog declared = read_project_catalog(layout, params);
    return std::make_unique<core::DataCatalog>(std::move(declared.entries), core::Parameters{}, layout.project,
                                               registry, declared.origin);
}

CatalogProject load_project(const CatalogCommandOptions& o) {
    CatalogProject p{load_project_pipelines(o.project), nullptr};
    p.catalog = read_catalog(p.project.layout, o.project.params, *p.project.registry);
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
        return "entry (" + type_label(*p.project.registry, p.catalog->entries().at(dataset).type) + ")";
    if (const core::CatalogEntry* pattern = p.catalog->matching_pattern(dataset)) {
        const core::CatalogEntry* entry = p.catalog->find_entry(dataset);
        return "pattern '" + pattern->name + "' (" + type_label(*p.project.registry, entry->type) + ")";
    }
    return "default (the runner's default dataset; in memory with the built-in runners)";
}

void print_pipeline(const CatalogProject& p, const std::string& name) {
    std::vector<std::string> datasets = p.project.pipelines.at(name).dataset_names();
    std::sort(datasets.begin(), datasets.end());
    std::size_t width = 0;
    for (const auto& d : datasets) width = std::max(width, d.size());
    std::cout << "Pipeline '" << name << "':\n";
    for (const auto& d : datasets)
        std::cout << "  " << d << std::string(width - d.size() + 2, ' ') << where_it_lives(p, d) << "\n";
}

}  // namespace

int list_catalog(const CatalogCommandOptions& o) {
    const CatalogProject p = load_project(o);
    if (!o.pipeline.empty()) {
        core::find_pipeline(p.project.pipelines, o.pipeline, p.project.origin);  // an unknown name throws
        print_pipeline(p, o.pipeline);
    } else {
        bool first = true;
        for (const auto& name : p.project.pipelines.names()) {
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
    for (const std::string& name : p.project.pipelines.dataset_names())
        if (p.catalog->matching_pattern(name)) doc[name] = as_json(*p.catalog->find_entry(name));
    // Credentials are in the entries, as a dataset receives them: print them redacted.
    std::cout << core::redact(doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)) << "\n";
    flush_standard_output();
    return 0;
}

int print_catalog_patterns(const CatalogCommandOptions& o) {
    const core::Registry registry;  // no plugins: the order needs none
    const auto catalog = read_catalog(project_layout(o.project), o.project.params, registry);
    for (const core::CatalogEntry& pattern : catalog->patterns().ordered()) std::cout << pattern.name << "\n";
    flush_standard_output();
    return 0;
}
