#include "commands/project_catalog.hpp"

#include "catalog/catalog.hpp"
#include "config/config_loader.hpp"

using namespace kiln;

ProjectCatalog read_project_catalog(const core::ConfigLayout& layout, const std::string& params_text) {
    if (layout.flat()) {
        const std::filesystem::path file = layout.project / "catalog.json";
        return {core::DataCatalog::read_entries(file), file.string()};
    }
    const core::DataConfig data = core::load_data_config(layout, core::runtime_params_object(params_text));
    return {core::DataCatalog::entries_from_json(data.catalog, data.catalog_origin), data.catalog_origin};
}
