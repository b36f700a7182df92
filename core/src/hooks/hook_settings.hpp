// Which hooks a run enables: the project's settings.json, then `--hooks` and `--trace`.
//
//     settings.json: {"hooks": ["timing.NodeTimer",
//                               {"name": "trace.ChromeTrace", "options": {"path": "run.json"}}]}
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hooks/hook_dispatcher.hpp"
#include "plugins/registry.hpp"

namespace kiln::core {

// The hook the --trace option enables.
inline constexpr const char* trace_hook_name = "trace.ChromeTrace";

struct HookRequest {
    std::string name;        // as written; qualified or unqualified when unique
    nlohmann::json options;  // an object
    std::string origin;      // "settings.json" or "--hooks", for messages
};

// Reads PROJECT/settings.json (optional), or `settings` when given (merged from conf/
// environments; `settings_file` names it in messages), and adds the command line's hooks;
// a hook named twice is enabled once, the later options merged over the earlier. Throws
// kiln::ConfigError naming the file and entry for anything malformed.
std::vector<HookRequest> hook_requests(const std::filesystem::path& project_dir,
                                       const std::vector<std::string>& cli_hooks,
                                       const std::filesystem::path& trace_file,
                                       const nlohmann::json* settings = nullptr, const std::string& settings_file = "");

// Makes one hook object per request. Throws kiln::ConfigError for an unknown hook (with
// what is available) and kiln::PluginError when the plugin cannot make it.
std::vector<EnabledHook> enable_hooks(const Registry& registry, const std::vector<HookRequest>& requests,
                                      const std::filesystem::path& project_dir);

}  // namespace kiln::core
