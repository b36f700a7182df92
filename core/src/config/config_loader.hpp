// A project's configuration documents, ready for the session: pipelines, catalog (with
// credentials in place), parameters and settings, from the flat layout or from conf/
// environments (project_layout.hpp).
//
//     ConfigLayout layout = config_layout(project, "", "prod");
//     DataConfig data = load_data_config(layout, runtime_params_object(params_text));
//     DataCatalog::entries_from_json(data.catalog, data.catalog_origin);
//
// Environments merge as Kedro's OmegaConfigLoader: the environment's catalog,
// credentials, globals and settings replace base's per top-level key (Kedro's default
// "destructive" strategy); parameters merge deeply (Kedro's "soft" strategy, which
// Kedro projects opt into with merge_strategy={"parameters": "soft"}); pipelines replace
// base's per pipeline name. ${...} is resolved in the catalog, parameters and credentials
// (interpolation.hpp). A catalog entry's "credentials": "NAME" becomes the object NAME of
// credentials.json; every credential value is registered for redaction (redaction.hpp).
//
// The flat layout is read exactly as before: no interpolation, no credentials.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/project_layout.hpp"

namespace kiln::core {

// pipelines.json as the session reads it.
struct PipelinesConfig {
    nlohmann::json document;
    std::string origin;  // the file, for messages
};

// The catalog, parameters and settings of a run.
struct DataConfig {
    nlohmann::json catalog = nlohmann::json::object();
    std::string catalog_origin;
    nlohmann::json parameters = nlohmann::json::object();
    std::string parameters_origin;
    // settings.json merged from the environments; null when conf/ has none (then the
    // hooks read the project's own settings.json, as in the flat layout).
    nlohmann::json settings;
    std::string settings_origin;
};

// Read in two steps, as the session needs them (the data only once the pipeline is
// known). Both throw kiln::ConfigError naming the file and key path for anything wrong.
PipelinesConfig load_pipelines_config(const ConfigLayout& layout);
// `runtime_params`: --params as runtime_params_object() gives it (unused when flat).
DataConfig load_data_config(const ConfigLayout& layout, const nlohmann::json& runtime_params);

// The files of conf/ whose content defines runs (what --resume compares besides the
// project's own pipelines.json, catalog.json, parameters.json and settings.json),
// relative to the project when inside it. Empty for the flat layout.
std::vector<std::string> config_fingerprint_files(const ConfigLayout& layout);

// --params as the nested object ${runtime_params:...} reads ("a.b=1" is {"a": {"b": 1}}).
nlohmann::json runtime_params_object(const std::string& params_text);

}  // namespace kiln::core
