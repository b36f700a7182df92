#include "hooks/hook_settings.hpp"

#include <algorithm>

#include "config/json_file.hpp"
#include "kiln/error.hpp"

namespace kiln::core {
namespace fs = std::filesystem;

namespace {

void add_request(std::vector<HookRequest>& requests, HookRequest request) {
    for (auto& r : requests)
        if (r.name == request.name) {
            r.options.merge_patch(request.options);
            r.origin = request.origin;
            return;
        }
    requests.push_back(std::move(request));
}

}  // namespace

std::vector<HookRequest> hook_requests(const fs::path& project_dir, const std::vector<std::string>& cli_hooks,
                                       const fs::path& trace_file, const nlohmann::json* merged_settings,
                                       const std::string& merged_file) {
    std::vector<HookRequest> requests;
    const fs::path settings_file = merged_settings ? fs::path(merged_file) : project_dir / "settings.json";
    std::error_code ec;
    if (merged_settings || fs::exists(settings_file, ec)) {
        const std::string where = settings_file.string();
        nlohmann::json settings = merged_settings ? *merged_settings : read_json_file(settings_file);
        if (!settings.is_object()) throw ConfigError(where + ": must be a JSON object like {\"hooks\": [...]}");
        for (const auto& [key, _] : settings.items())
            if (key != "hooks") throw ConfigError(where + ": unknown setting '" + key + "'; known settings: hooks");
        if (settings.contains("hooks")) {
            const auto& hooks = settings["hooks"];
            if (!hooks.is_array())
                throw ConfigError(where + ": \"hooks\" must be a list of hook names or {\"name\": ..., \"options\": {...}}");
            for (std::size_t i = 0; i < hooks.size(); ++i) {
                const auto& h = hooks[i];
                const std::string item = where + ": hooks[" + std::to_string(i) + "]";
                if (h.is_string()) {
                    add_request(requests, {h.get<std::string>(), nlohmann::json::object(), "settings.json"});
                    continue;
                }
                if (!h.is_object() || !h.contains("name") || !h["name"].is_string())
                    throw ConfigError(item + " must be a hook name or an object with a \"name\" string, got " + h.dump());
                for (const auto& [key, _] : h.items())
                    if (key != "name" && key != "options")
                        throw ConfigError(item + ": unknown key '" + key + "'; an entry has \"name\" and \"options\"");
                nlohmann::json options = h.value("options", nlohmann::json::object());
                if (!options.is_object()) throw ConfigError(item + ": \"options\" must be an object, got " + options.dump());
                add_request(requests, {h["name"].get<std::string>(), std::move(options), "settings.json"});
            }
        }
    }
    for (const auto& name : cli_hooks) add_request(requests, {name, nlohmann::json::object(), "--hooks"});
    if (!trace_file.empty()) {
        fs::path path = trace_file.is_absolute() ? trace_file : fs::absolute(trace_file);
        add_request(requests, {trace_hook_name, {{"path", path.string()}}, "--trace"});
    }
    return requests;
}

std::vector<EnabledHook> enable_hooks(const Registry& registry, const std::vector<HookRequest>& requests,
                                      const fs::path& project_dir) {
    // Resolve first: "ChromeTrace" and "trace.ChromeTrace" are one hook, enabled once.
    std::vector<std::pair<const HookType*, nlohmann::json>> resolved;
    for (const auto& r : requests) {
        std::string hint;
        const HookType* type = registry.find_hooks(r.name, hint);
        if (!type) {
            std::string message = r.origin + ": unknown hook '" + r.name + "'; " + hint;
            if (r.origin == "--trace")
                message = "--trace needs the trace plugin (hook " + std::string(trace_hook_name) +
                          "), which is not loaded; it ships with kiln as kiln_trace.so: check --plugin-path";
            throw ConfigError(message);
        }
        auto same = std::find_if(resolved.begin(), resolved.end(), [&](const auto& e) { return e.first == type; });
        if (same != resolved.end()) same->second.merge_patch(r.options);
        else resolved.emplace_back(type, r.options);
    }
    std::vector<EnabledHook> enabled;
    for (const auto& [type, options] : resolved) {
        HookConfig config{type->qualified_name, options, project_dir};
        std::string error;
        auto handle = type->spec.create(config, &error);
        if (!handle)
            throw PluginError("hook " + type->qualified_name + " (" + type->plugin_file + ") could not be created: " +
                              (error.empty() ? std::string("the plugin returned nothing") : error));
        enabled.push_back({type->qualified_name, type->plugin_file, std::move(handle), type->plugin_abi_minor});
    }
    return enabled;
}

}  // namespace kiln::core
