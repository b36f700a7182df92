#include "commands/viz_command.hpp"

#include <iostream>
#include <map>
#include <spdlog/spdlog.h>

#include "catalog/catalog.hpp"
#include "commands/project_query.hpp"
#include "config/config_loader.hpp"
#include "config/pipeline_loader.hpp"
#include "kiln/error.hpp"
#include "kiln/file_io.hpp"
#include "plugins/registry.hpp"
#include "viz/pipeline_graph.hpp"

using namespace kiln;
namespace fs = std::filesystem;

namespace {

constexpr const char* format_choices = "mermaid, dot or html";
constexpr const char* extension_choices = ".mmd/.mermaid (mermaid), .dot/.gv (dot) or .html/.htm (html)";

core::GraphFormat choose_format(const VizOptions& o) {
    if (!o.format.empty()) {
        if (auto f = core::graph_format_from_name(o.format)) return *f;
        throw ConfigError("unknown --format '" + o.format + "'; choose " + format_choices);
    }
    if (o.output.empty()) return core::GraphFormat::mermaid;
    if (auto f = core::graph_format_from_path(o.output)) return *f;
    throw ConfigError("cannot tell the format of '" + o.output.string() + "' from its extension; name the file " +
                      extension_choices + ", or pass --format " + format_choices);
}

}  // namespace

int run_viz(const VizOptions& o) {
    // A bad format is a usage error: say so before loading anything.
    const core::GraphFormat format = choose_format(o);
    const ProjectPipelines loaded = load_project_pipelines(o.project);
    const core::Registry& registry = *loaded.registry;
    const fs::path& project = loaded.layout.project;
    const fs::path pipelines_file = loaded.origin;
    const auto& pipelines = loaded.pipelines;
    const std::string name = o.pipeline.empty() ? "__default__" : o.pipeline;
    const core::Pipeline& full = core::find_pipeline(pipelines, name, pipelines_file);
    const core::Pipeline pipeline = o.filter.empty() ? full : full.filter(o.filter);

    core::GraphOptions options;
    options.show_parameters = !o.hide_parameters;
    options.title = project.filename().string() + " / " + name;
    if (pipeline.size() != full.size())
        options.title += " (" + std::to_string(pipeline.size()) + " of " + std::to_string(full.size()) + " nodes)";
    // Entry names and types only: nothing is built, so missing files or plugins of a
    // dataset type do not matter. A type is shown qualified when a plugin provides it.
    ProjectCatalog declared = read_project_catalog(loaded.layout, o.project.params);
    for (const auto& [entry_name, entry] : declared.entries) {
        std::string hint;
        const core::DatasetType* type = registry.find_dataset_type(entry.type, hint);
        options.catalog[entry_name] = type ? type->qualified_name : entry.type;
    }
    // A dataset a pattern matches is drawn as persisted, with the type the pattern gives it.
    const core::DataCatalog catalog(std::move(declared.entries), core::Parameters{}, project, registry, declared.origin);
    for (const std::string& dataset : pipeline.dataset_names()) {
        const core::CatalogEntry* pattern = catalog.matching_pattern(dataset);
        if (!pattern) continue;
        std::string type_name = pattern->type;
        try {
            type_name = catalog.find_entry(dataset)->type;
        } catch (const ConfigError&) {
            // A placeholder the pattern lacks: `kiln run` reports it; the drawing shows the type as written.
        }
        std::string hint;
        const core::DatasetType* type = registry.find_dataset_type(type_name, hint);
        options.catalog[dataset] = type ? type->qualified_name : type_name;
    }

    const std::string text = core::render_graph(pipeline, options, format);
    if (o.output.empty()) {
        std::cout << text << std::flush;
        if (!std::cout) throw ConfigError("could not write the drawing to standard output");
        return 0;
    }
    try {
        write_file_atomic(o.output, text);
    } catch (const Error& e) {
        throw ConfigError("cannot write the drawing to '" + o.output.string() + "': " + e.what() +
                          "; pass -o with a writable path");
    }
    spdlog::info("Pipeline '{}' ({} nodes) drawn as {} in {}", name, pipeline.size(),
                 core::graph_format_name(format), o.output.string());
    return 0;
}
