#include "config/config_environment.hpp"

#include <algorithm>

#include "config/json_file.hpp"
#include "kiln/error.hpp"

namespace kiln::core {
namespace fs = std::filesystem;

namespace {

// Kedro skips hidden files and folders (".ipynb_checkpoints", an editor's ".#catalog.json").
bool hidden(const fs::path& relative) {
    for (const auto& part : relative)
        if (part.string().starts_with(".")) return true;
    return false;
}

// Kedro's patterns for these kinds: "stem*", "stem*/**" and "**/stem*"; the others are
// read from the environment's top level only.
bool read_from_subfolders(const std::string& stem) {
    return stem == "catalog" || stem == "parameters" || stem == "credentials";
}

bool in_group(const fs::path& relative, const std::string& stem) {
    if (!read_from_subfolders(stem)) {
        const std::string name = relative.string();
        return name == stem + ".json" || name.starts_with(stem + "_");
    }
    for (const auto& part : relative)
        if (part.string().starts_with(stem)) return true;  // the file, or a folder above it
    return false;
}

}  // namespace

std::vector<fs::path> json_files_in(const fs::path& env_dir) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(env_dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().filename().string().starts_with(".")) {
            if (it->is_directory(ec)) it.disable_recursion_pending();
            continue;
        }
        if (it->path().extension() == ".json" && it->is_regular_file(ec)) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<fs::path> config_group_files(const fs::path& env_dir, const std::string& stem) {
    std::vector<fs::path> files;
    for (const auto& file : json_files_in(env_dir)) {
        const fs::path relative = file.lexically_relative(env_dir);
        if (!hidden(relative) && in_group(relative, stem)) files.push_back(file);
    }
    // stem.json first, then the rest by path.
    std::stable_partition(files.begin(), files.end(), [&](const fs::path& f) { return f == env_dir / (stem + ".json"); });
    return files;
}

MergedConfig read_config_group(const fs::path& env_dir, const std::string& stem) {
    MergedConfig group;
    for (const auto& file : config_group_files(env_dir, stem)) {
        const std::string name = file.string();
        nlohmann::json doc = read_json_file(file);
        if (!doc.is_object())
            throw ConfigError(name + ": must be a JSON object (keys and their values), got " + doc.type_name());
        for (auto it = doc.begin(); it != doc.end(); ++it) {
            if (group.value.contains(it.key()))
                throw ConfigError(group.origins.file_of({it.key()}) + " and " + name + " both define '" + it.key() +
                                  "'; within one environment a key may be defined once: remove it from one file (to "
                                  "change it for an environment, define it in that environment's folder)");
            group.value[it.key()] = std::move(*it);
            group.origins.set({it.key()}, name);
        }
        group.files.push_back(name);
    }
    return group;
}

}  // namespace kiln::core
