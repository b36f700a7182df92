#include "config/project_layout.hpp"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "kiln/error.hpp"
#include "text/join.hpp"

namespace kiln::core {
namespace fs = std::filesystem;

bool is_project_root(const fs::path& dir) {
    std::error_code ec;
    // exists, not is_regular_file: a pipelines.json that is not a file is reported when read.
    return fs::exists(dir / "pipelines.json", ec) || fs::is_directory(dir / "conf" / "base", ec);
}

std::optional<fs::path> find_project_root(const fs::path& start) {
    std::error_code ec;
    fs::path dir = fs::weakly_canonical(fs::absolute(start, ec), ec);
    if (ec) return std::nullopt;
    while (true) {
        if (is_project_root(dir)) return dir;
        if (!dir.has_parent_path() || dir.parent_path() == dir) return std::nullopt;
        dir = dir.parent_path();
    }
}

namespace {
std::vector<std::string> environments_in(const fs::path& conf) {
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(conf, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_directory(ec) && it->path().filename() != "base") names.push_back(it->path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}
}  // namespace

ConfigLayout config_layout(const fs::path& project, const fs::path& conf_source, const std::string& env) {
    ConfigLayout layout;
    layout.project = project;
    std::error_code ec;
    if (!conf_source.empty()) {
        layout.conf = fs::weakly_canonical(fs::absolute(conf_source, ec), ec);
        if (!fs::is_directory(layout.conf / "base", ec))
            throw ConfigError("--conf-source '" + conf_source.string() + "': no folder '" + (layout.conf / "base").string() +
                              "'; a conf folder holds base/ and environments such as local/");
    } else if (fs::is_directory(project / "conf" / "base", ec)) {
        layout.conf = project / "conf";
    }
    const char* from_environment = std::getenv("KILN_ENV");
    const std::string chosen_by = !env.empty() ? "--env" : from_environment && *from_environment ? "KILN_ENV" : "";
    layout.env = !env.empty() ? env : chosen_by.empty() ? "local" : from_environment;
    if (layout.flat()) {
        if (!chosen_by.empty())
            throw ConfigError(chosen_by + " " + layout.env + ": project '" + project.string() +
                              "' has no conf/base/ folder (its configuration is at top level), so it has no environments; "
                              "create conf/base/ and conf/" + layout.env + "/ to use them, or drop " + chosen_by);
        return layout;
    }
    if (layout.env.find('/') != std::string::npos || layout.env == "." || layout.env == "..")
        throw ConfigError(chosen_by + " '" + layout.env + "': an environment is a folder name in " + layout.conf.string());
    const fs::path dir = layout.conf / layout.env;
    if (layout.env != "base" && fs::is_directory(dir, ec)) layout.env_dir = dir;
    else if (layout.env != "base" && !chosen_by.empty()) {
        const auto known = environments_in(layout.conf);
        throw ConfigError(chosen_by + " " + layout.env + ": no environment folder '" + dir.string() + "'; " +
                          (known.empty() ? std::string("there is only base/") : "environments there: " + join(known)) +
                          ". Create the folder, or choose another environment");
    }
    return layout;
}

}  // namespace kiln::core
