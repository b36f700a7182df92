#include "catalog/version_plan.hpp"

#include <algorithm>

#include "kiln/error.hpp"
#include "text/join.hpp"

namespace kiln::core {
namespace fs = std::filesystem;
using nlohmann::json;

json RunVersions::to_json() const {
    json sets = json::object();
    for (const auto& [name, v] : datasets) {
        json one = json::object();
        if (!v.load.empty()) one["load"] = v.load;
        if (!v.save.empty()) one["save"] = v.save;
        sets[name] = std::move(one);
    }
    return {{"save_version", save_version}, {"datasets", std::move(sets)}};
}

RunVersions RunVersions::from_json(const json& j, const std::string& where) {
    RunVersions versions;
    try {
        versions.save_version = j.at("save_version").get<std::string>();
        for (const auto& [name, v] : j.at("datasets").items())
            versions.datasets[name] = {v.value("load", std::string()), v.value("save", std::string())};
    } catch (const std::exception& e) {
        throw ConfigError(where + ": the dataset versions cannot be read (" + e.what() + ")");
    }
    return versions;
}

json RunVersions::report_json() const {
    json out = json::object();
    auto or_null = [](const std::string& v) { return v.empty() ? json(nullptr) : json(v); };
    for (const auto& [name, v] : datasets) out[name] = {{"load", or_null(v.load)}, {"save", or_null(v.save)}};
    return out;
}

std::map<std::string, std::string> parse_load_versions(const std::vector<std::string>& items) {
    std::map<std::string, std::string> pins;
    for (const std::string& item : items) {
        // Kedro splits at the first ':'; versions hold none.
        const auto colon = item.find(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == item.size())
            throw ConfigError("--load-versions: '" + item +
                              "' is not DATASET:VERSION, e.g. model:2026-11-23T03.45.21.123Z");
        pins[item.substr(0, colon)] = item.substr(colon + 1);
    }
    return pins;
}

namespace {

// The explicit entries that are versioned, for messages (a broken entry is left out: its
// own error comes when it is used).
std::vector<std::string> versioned_entries(const DataCatalog& catalog) {
    std::vector<std::string> names;
    for (const auto& [name, _] : catalog.entries()) try {
            if (catalog.is_versioned(name)) names.push_back(name);
        } catch (const Error&) {
        }
    return names;
}

std::string versions_list(const std::vector<std::string>& versions) {
    return versions.empty() ? std::string("it has no versions yet") : "versions that exist: " + join(versions);
}

}  // namespace

void check_load_versions(const DataCatalog& catalog, const std::map<std::string, std::string>& pins) {
    for (const auto& [name, version] : pins) {
        if (!catalog.find_entry(name)) {
            const std::vector<std::string> versioned = versioned_entries(catalog);
            throw ConfigError("--load-versions: dataset '" + name + "' is not in the catalog; versioned datasets: " +
                              (versioned.empty() ? std::string("none") : join(versioned)));
        }
        if (!catalog.is_versioned(name))
            throw ConfigError("--load-versions: dataset '" + name +
                              "' is not versioned; only a catalog entry with \"versioned\": true has versions to pick from");
        const auto file = catalog.versioned_file(name);
        const std::vector<std::string> versions = existing_versions(file.versions_dir, file.file_name);
        if (std::find(versions.begin(), versions.end(), version) == versions.end())
            throw ConfigError("--load-versions: dataset '" + name + "' has no version '" + version + "' (no " +
                              (file.versions_dir / version / file.file_name).string() + "); " + versions_list(versions));
    }
}

RunVersions choose_versions(const DataCatalog& catalog, const Pipeline& to_run,
                            const std::map<std::string, std::string>& pins, RunVersions earlier,
                            std::chrono::system_clock::time_point now) {
    if (!catalog.has_versioned_entries()) return earlier;
    RunVersions run;
    run.save_version = earlier.save_version;
    std::vector<std::uint32_t> saved;  // versioned, written by a node of the run, not decided earlier
    const auto& names = to_run.dataset_names();
    for (std::uint32_t d = 0; d < names.size(); ++d) {
        const std::string& name = names[d];
        if (is_parameter_name(name) || !catalog.is_versioned(name)) continue;
        if (auto it = earlier.datasets.find(name); it != earlier.datasets.end()) {
            run.datasets[name] = it->second;
            continue;
        }
        if (to_run.producer_of(d) != Pipeline::npos) {
            if (pins.count(name))
                throw ConfigError("--load-versions: dataset '" + name +
                                  "' is saved by a node of this run, and the nodes after it read what it saves; pin "
                                  "only datasets the run reads without saving");
            saved.push_back(d);
            continue;
        }
        const auto file = catalog.versioned_file(name);
        std::string version;
        if (auto pin = pins.find(name); pin != pins.end()) {
            version = pin->second;
        } else if (auto latest = latest_version(file.versions_dir, file.file_name)) {
            version = *latest;
        } else {
            throw ConfigError("versioned dataset '" + name + "' has no version to load: no folder under '" +
                              file.versions_dir.string() + "' holds '" + file.file_name +
                              "'; run the pipeline that saves it first");
        }
        run.datasets[name] = {version, ""};
    }
    if (!saved.empty()) {
        std::vector<fs::path> dirs;
        for (std::uint32_t d : saved) dirs.push_back(catalog.versioned_file(names[d]).versions_dir);
        if (run.save_version.empty()) {
            run.save_version = reserve_save_version(dirs, now);
        } else {
            // A resumed run owns its save version already; a dataset it had not saved yet
            // only needs the folder.
            for (const auto& dir : dirs) {
                std::error_code ec;
                fs::create_directories(dir / run.save_version, ec);
            }
        }
        for (std::uint32_t d : saved) {
            const bool read_later = !to_run.consumers_of(d).empty();
            run.datasets[names[d]] = {read_later ? run.save_version : "", run.save_version};
        }
    }
    return run;
}

}  // namespace kiln::core
