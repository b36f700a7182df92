#include "config/config_loader.hpp"

#include "catalog/catalog.hpp"
#include "config/config_environment.hpp"
#include "config/interpolation.hpp"
#include "config/json_file.hpp"
#include "config/redaction.hpp"
#include "kiln/error.hpp"
#include "text/join.hpp"

namespace kiln::core {
namespace fs = std::filesystem;

namespace {

nlohmann::json read_optional_json(const fs::path& file) {
    std::error_code ec;
    return fs::exists(file, ec) ? read_json_file(file) : nlohmann::json::object();
}

// One kind of file from base and the environment, merged by `merge`.
MergedConfig read_merged(const ConfigLayout& layout, const std::string& stem,
                         void (*merge)(MergedConfig&, const MergedConfig&)) {
    MergedConfig merged = read_config_group(layout.base_dir(), stem);
    if (!layout.env_dir.empty()) merge(merged, read_config_group(layout.env_dir, stem));
    return merged;
}

// What messages call a document read from several files.
std::string origin_of(const MergedConfig& doc, const ConfigLayout& layout, const std::string& stem) {
    if (doc.files.size() == 1) return doc.files.front();
    if (doc.files.empty()) return (layout.base_dir() / (stem + ".json")).string();
    return join(doc.files);
}

// pipelines.json: the environment's pipelines replace base's of the same name. Without
// one in conf/, the project's own pipelines.json.
PipelinesConfig load_pipelines_document(const ConfigLayout& layout) {
    PipelinesConfig config;
    std::vector<std::pair<fs::path, nlohmann::json>> read;
    for (const fs::path& dir : {layout.base_dir(), layout.env_dir}) {
        std::error_code ec;
        if (!dir.empty() && fs::is_regular_file(dir / "pipelines.json", ec))
            read.emplace_back(dir / "pipelines.json", read_json_file(dir / "pipelines.json"));
    }
    if (read.empty()) {
        const fs::path file = layout.project / "pipelines.json";
        std::error_code ec;
        if (!fs::is_regular_file(file, ec))
            throw ConfigError("no pipelines.json in " + layout.base_dir().string() +
                              (layout.env_dir.empty() ? "" : " or " + layout.env_dir.string()) + " nor in project '" +
                              layout.project.string() + "'; put the project's pipelines in conf/base/pipelines.json");
        config.origin = file.string();
        config.document = read_json_file(file);
        return config;
    }
    config.origin = read.back().first.string();
    config.document = read.front().second;
    if (read.size() == 2) {
        const nlohmann::json& overlay = read.back().second;
        nlohmann::json& base = config.document;
        if (base.is_object() && overlay.is_object() && base.contains("pipelines") && overlay.contains("pipelines") &&
            base["pipelines"].is_object() && overlay["pipelines"].is_object()) {
            for (auto it = overlay["pipelines"].begin(); it != overlay["pipelines"].end(); ++it)
                base["pipelines"][it.key()] = *it;
        } else {
            base = overlay;  // malformed: the loader names the file
        }
    }
    return config;
}

// Top-level catalog.json and parameters.json would be silently ignored beside conf/base.
void refuse_flat_files(const ConfigLayout& layout) {
    for (const char* name : {"catalog.json", "parameters.json"}) {
        std::error_code ec;
        if (layout.conf == layout.project / "conf" && fs::exists(layout.project / name, ec))
            throw ConfigError((layout.project / name).string() + " is not read: this project keeps its configuration in " +
                              layout.conf.string() + "; move it to " + (layout.base_dir() / name).string());
    }
}

void register_credential_values(const nlohmann::json& value) {
    if (value.is_string()) {
        if (value.get_ref<const std::string&>().find("${") == std::string::npos) register_secret(value.get<std::string>());
    } else if (value.is_structured()) {
        for (const auto& v : value) register_credential_values(v);
    }
}

// Kedro's rule: an entry's "credentials": "NAME" is replaced by the object NAME.
void put_credentials_in_place(MergedConfig& catalog, const MergedConfig& credentials) {
    for (auto it = catalog.value.begin(); it != catalog.value.end(); ++it) {
        if (!it->is_object()) continue;
        auto name = it->find("credentials");
        if (name == it->end() || !name->is_string()) continue;
        const std::string wanted = name->get<std::string>();
        auto found = credentials.value.find(wanted);
        if (found == credentials.value.end())
            throw ConfigError(catalog.origins.file_of({it.key()}) + ": catalog entry '" + it.key() + "': credentials '" +
                              wanted + "' are not defined in " +
                              (credentials.files.empty() ? std::string("any credentials.json (there is none)")
                                                         : join(credentials.files)) +
                              "; add \"" + wanted + "\" to credentials.json of the environment (conf/local/ keeps "
                              "secrets out of version control)");
        *name = *found;
    }
}

}  // namespace

nlohmann::json runtime_params_object(const std::string& params_text) {
    Parameters params(nlohmann::json::object(), "--params");
    for (auto& [key, value] : parse_params_option(params_text)) params.set(key, std::move(value));
    return params.root();
}

PipelinesConfig load_pipelines_config(const ConfigLayout& layout) {
    if (!layout.flat()) return load_pipelines_document(layout);
    const fs::path file = layout.project / "pipelines.json";
    return {read_json_file(file), file.string()};
}

DataConfig load_data_config(const ConfigLayout& layout, const nlohmann::json& runtime_params) {
    DataConfig config;
    if (layout.flat()) {
        config.parameters_origin = (layout.project / "parameters.json").string();
        config.parameters = read_optional_json(layout.project / "parameters.json");
        config.catalog_origin = (layout.project / "catalog.json").string();
        config.catalog = read_optional_json(layout.project / "catalog.json");
        return config;
    }
    refuse_flat_files(layout);
    const MergedConfig globals = read_merged(layout, "globals", merge_destructive);
    MergedConfig credentials = read_merged(layout, "credentials", merge_destructive);
    MergedConfig catalog = read_merged(layout, "catalog", merge_destructive);
    MergedConfig parameters = read_merged(layout, "parameters", merge_deep);
    MergedConfig settings = read_merged(layout, "settings", merge_destructive);

    // Secrets first, so that no message about them (a bad reference) can show one.
    register_credential_values(credentials.value);
    resolve_interpolations(credentials, {&globals, &runtime_params, true});
    register_credential_values(credentials.value);
    resolve_interpolations(catalog, {&globals, &runtime_params, false});
    resolve_interpolations(parameters, {&globals, &runtime_params, false});
    put_credentials_in_place(catalog, credentials);

    config.catalog = std::move(catalog.value);
    config.catalog_origin = origin_of(catalog, layout, "catalog");
    config.parameters = std::move(parameters.value);
    config.parameters_origin = origin_of(parameters, layout, "parameters");
    if (!settings.files.empty()) {
        config.settings = std::move(settings.value);
        config.settings_origin = origin_of(settings, layout, "settings");
    }
    return config;
}

std::vector<std::string> config_fingerprint_files(const ConfigLayout& layout) {
    std::vector<std::string> files;
    if (layout.flat()) return files;
    for (const fs::path& dir : {layout.base_dir(), layout.env_dir}) {
        if (dir.empty()) continue;
        for (const auto& file : json_files_in(dir)) {
            const fs::path relative = file.lexically_relative(layout.project);
            const bool inside = !relative.empty() && *relative.begin() != "..";
            files.push_back(inside ? relative.string() : file.string());
        }
    }
    return files;
}

}  // namespace kiln::core
