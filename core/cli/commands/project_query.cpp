#include "commands/project_query.hpp"

#include "catalog/catalog.hpp"
#include "config/config_loader.hpp"
#include "config/pipeline_loader.hpp"

using namespace kiln;

core::ConfigLayout project_layout(const ProjectQuery& q) {
    const std::filesystem::path project = core::project_directory(q.project_dir, q.conf_source);
    return core::config_layout(project, q.conf_source, q.env);
}

ProjectPipelines load_project_pipelines(const ProjectQuery& q) {
    ProjectPipelines p;
    p.layout = project_layout(q);
    core::runtime_params_object(q.params);  // refuses a malformed --params, as `kiln run` does
    core::load_plugins(*p.registry, q.plugins, p.layout.project);
    const core::FunctionResolver resolver = [&](const std::string& name, std::string& hint) {
        return p.registry->find_node(name, hint);
    };
    const core::PipelinesConfig config = core::load_pipelines_config(p.layout);
    p.origin = config.origin;
    p.pipelines = core::load_pipelines(config.document, config.origin, resolver);
    return p;
}

ProjectCatalog read_project_catalog(const core::ConfigLayout& layout, const std::string& params_text) {
    if (layout.flat()) {
        const std::filesystem::path file = layout.project / "catalog.json";
        return {core::DataCatalog::read_entries(file), file.string()};
    }
    const core::DataConfig data = core::load_data_config(layout, core::runtime_params_object(params_text));
    return {core::DataCatalog::entries_from_json(data.catalog, data.catalog_origin), data.catalog_origin};
}
