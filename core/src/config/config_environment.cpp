#include "config/config_environment.hpp"

#include <algorithm>

#include "config/json_file.hpp"
#include "kiln/error.hpp"

namespace kiln::core {
namespace fs = std::filesystem;

std::vector<fs::path> json_files_in(const fs::path& env_dir) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (fs::directory_iterator it(env_dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().extension() == ".json" && it->is_regular_file(ec)) files.push_back(it->path());
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<fs::path> config_group_files(const fs::path& env_dir, const std::string& stem) {
    std::vector<fs::path> files;
    std::error_code ec;
    if (fs::is_regular_file(env_dir / (stem + ".json"), ec)) files.push_back(env_dir / (stem + ".json"));
    const std::string prefix = stem + "_";
    for (const auto& file : json_files_in(env_dir))
        if (file.filename().string().rfind(prefix, 0) == 0) files.push_back(file);
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
