#include "session/run_invocation.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sys/stat.h>

#include "kiln/error.hpp"
#include "text/join.hpp"

extern "C" char** environ;

namespace kiln::core {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The configuration files that define a project's runs.
constexpr const char* config_files[] = {"pipelines.json", "catalog.json", "parameters.json", "settings.json"};

// A 64-bit hash of a file's bytes (FNV-style, a word at a time: a 10 MB pipelines.json
// takes a few milliseconds), as hex; "absent" when there is no such file.
std::string file_hash(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return "absent";
    std::uint64_t h = 1469598103934665603ull;
    char buf[1 << 16];
    std::uint64_t total = 0;
    for (;;) {
        in.read(buf, sizeof buf);
        const std::size_t n = static_cast<std::size_t>(in.gcount());
        if (n == 0) break;
        total += n;
        std::size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            std::uint64_t w;
            std::memcpy(&w, buf + i, 8);
            h = (h ^ w) * 1099511628211ull;
            h ^= h >> 29;
        }
        for (; i < n; ++i) h = (h ^ static_cast<unsigned char>(buf[i])) * 1099511628211ull;
        if (!in) break;
    }
    h ^= total;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    return hex;
}

bool is_kiln_variable(const std::string& entry) {
    return entry.rfind("KILN_", 0) == 0 && entry.rfind("KILN_WORKER_", 0) != 0;
}

}  // namespace

std::string shell_quote(const std::string& arg) {
    if (!arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,/:=+@%") ==
                            std::string::npos)
        return arg;
    std::string q = "'";
    for (char c : arg) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

json invocation_to_json(const SessionOptions& o, const std::string& pipeline_name) {
    json plugin_paths = json::array();
    for (const auto& p : o.plugins.explicit_dirs) {
        std::error_code ec;
        fs::path abs = fs::absolute(p, ec);
        plugin_paths.push_back((ec ? p : abs).string());
    }
    json env = json::object();
    for (char** e = environ; *e; ++e) {
        std::string entry = *e;
        auto eq = entry.find('=');
        if (eq != std::string::npos && is_kiln_variable(entry)) env[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    const auto& r = o.runner_options;
    json invocation = {{"pipeline", pipeline_name},
            {"runner", o.runner},
            {"max_workers", r.max_workers ? json(*r.max_workers) : json(nullptr)},
            {"async", r.is_async},
            {"keep_going", r.keep_going},
            {"resources", r.resources},
            {"start_method", r.start_method},
            {"params", o.params},
            {"filter",
             {{"node_names", o.filter.node_names},
              {"from_nodes", o.filter.from_nodes},
              {"to_nodes", o.filter.to_nodes},
              {"tags", o.filter.tags},
              {"from_inputs", o.filter.from_inputs},
              {"to_outputs", o.filter.to_outputs},
              {"namespaces", o.filter.namespaces}}},
            {"only_missing_outputs", o.only_missing_outputs},
            {"plugin_paths", plugin_paths},
            {"use_plugin_environment", o.plugins.use_environment},
            {"hooks", o.hooks},
            {"env", env}};
    // Only when chosen, so that the journal of a run without them is what it was.
    if (!o.env.empty()) invocation["conf_env"] = o.env;
    if (!o.conf_source.empty()) invocation["conf_source"] = fs::absolute(o.conf_source).string();
    if (!o.load_versions.empty()) invocation["load_versions"] = o.load_versions;
    if (o.incremental) invocation["incremental"] = true;
    return invocation;
}

SessionOptions replay_invocation(const json& inv, SessionOptions o, const std::string& file) {
    try {
        o.pipeline = inv.at("pipeline").get<std::string>();
        o.runner = inv.at("runner").get<std::string>();
        auto& r = o.runner_options;
        r.max_workers = inv.at("max_workers").is_null() ? std::nullopt : std::optional<int>(inv["max_workers"].get<int>());
        r.is_async = inv.at("async").get<bool>();
        r.keep_going = inv.at("keep_going").get<bool>();
        r.resources = inv.at("resources").get<std::map<std::string, double>>();
        r.start_method = inv.at("start_method").get<std::string>();
        o.params = inv.at("params").get<std::string>();
        const json& f = inv.at("filter");
        o.filter.node_names = f.at("node_names").get<std::vector<std::string>>();
        o.filter.from_nodes = f.at("from_nodes").get<std::vector<std::string>>();
        o.filter.to_nodes = f.at("to_nodes").get<std::vector<std::string>>();
        o.filter.tags = f.at("tags").get<std::vector<std::string>>();
        o.filter.from_inputs = f.at("from_inputs").get<std::vector<std::string>>();
        o.filter.to_outputs = f.at("to_outputs").get<std::vector<std::string>>();
        o.filter.namespaces = f.at("namespaces").get<std::vector<std::string>>();
        o.only_missing_outputs = inv.at("only_missing_outputs").get<bool>();
        o.plugins.explicit_dirs.clear();
        for (const auto& p : inv.at("plugin_paths")) o.plugins.explicit_dirs.emplace_back(p.get<std::string>());
        o.plugins.use_environment = inv.at("use_plugin_environment").get<bool>();
        o.hooks = inv.at("hooks").get<std::vector<std::string>>();
        o.env = inv.value("conf_env", std::string());
        o.conf_source = inv.value("conf_source", std::string());
        o.load_versions = inv.value("load_versions", std::vector<std::string>());
        o.incremental = inv.value("incremental", false);
        const json& env = inv.at("env");
        // The KILN_* environment of the run, exactly: set what it had, clear what it lacked.
        std::vector<std::string> now;
        for (char** e = environ; *e; ++e)
            if (is_kiln_variable(*e)) now.emplace_back(std::string(*e).substr(0, std::string(*e).find('=')));
        for (const auto& name : now)
            if (!env.contains(name)) ::unsetenv(name.c_str());
        for (const auto& [name, value] : env.items()) ::setenv(name.c_str(), value.get<std::string>().c_str(), 1);
    } catch (const std::exception& e) {
        throw ConfigError(file + ": the interrupted run's invocation cannot be read (" + e.what() +
                          "); run the pipeline again without --resume");
    }
    return o;
}

std::string invocation_command(const json& inv, const std::string& kiln_exe, const fs::path& project,
                               const std::vector<std::string>& extra) {
    std::vector<std::string> args = {kiln_exe.empty() ? "kiln" : kiln_exe, "run", "--project", project.string()};
    auto add = [&](const std::string& flag, const std::string& value) {
        args.push_back(flag);
        args.push_back(value);
    };
    auto list = [](const json& items) { return join(items, ",", [](const json& i) { return i.get<std::string>(); }); };
    if (inv.value("pipeline", "__default__") != "__default__") add("--pipeline", inv["pipeline"]);
    if (!inv.value("runner", "").empty()) add("--runner", inv["runner"]);
    if (inv.contains("max_workers") && !inv["max_workers"].is_null()) add("--max-workers", inv["max_workers"].dump());
    if (inv.value("async", false)) args.push_back("--async");
    if (inv.value("keep_going", false)) args.push_back("--keep-going");
    if (!inv.value("start_method", "").empty()) add("--start-method", inv["start_method"]);
    if (inv.contains("resources") && !inv["resources"].empty()) {
        add("--resources", join(inv["resources"].items(), ",",
                                [](const auto& kv) { return kv.key() + "=" + kv.value().dump(); }));
    }
    if (!inv.value("params", "").empty()) add("--params", inv["params"]);
    for (const auto& p : inv.value("plugin_paths", json::array())) add("--plugin-path", p);
    if (inv.contains("hooks") && !inv["hooks"].empty()) add("--hooks", list(inv["hooks"]));
    if (!inv.value("conf_env", "").empty()) add("--env", inv["conf_env"]);
    if (!inv.value("conf_source", "").empty()) add("--conf-source", inv["conf_source"]);
    if (inv.contains("load_versions") && !inv["load_versions"].empty()) add("--load-versions", list(inv["load_versions"]));
    static const std::pair<const char*, const char*> filters[] = {
        {"node_names", "--nodes"},           {"from_nodes", "--from-nodes"}, {"to_nodes", "--to-nodes"},
        {"tags", "--tags"},                  {"from_inputs", "--from-inputs"}, {"to_outputs", "--to-outputs"},
        {"namespaces", "--namespaces"}};
    for (const auto& [key, flag] : filters)
        if (inv.contains("filter") && !inv["filter"].value(key, json::array()).empty())
            add(flag, list(inv["filter"][key]));
    std::string command = join(args, " ", shell_quote);
    for (const auto& a : extra) command += " " + a;
    return command;
}

json project_fingerprint(const fs::path& project, const Registry& registry, const std::vector<std::string>& conf_files) {
    json files = json::object();
    for (const char* name : config_files) files[name] = file_hash(project / name);
    for (const auto& name : conf_files) files[name] = file_hash(project / name);
    json plugins = json::object();
    for (const auto& info : registry.plugins()) {
        if (info.file.empty()) continue;
        struct stat st {};
        json entry = {{"file", info.file.string()}};
        if (::stat(info.file.c_str(), &st) == 0) {
            entry["size"] = static_cast<std::uint64_t>(st.st_size);
            entry["mtime_ns"] = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000ull +
                                static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
        }
        plugins[info.name] = entry;
    }
    return {{"files", files}, {"plugins", plugins}};
}

std::vector<std::string> fingerprint_changes(const json& then, const json& now) {
    std::vector<std::string> changes;
    const json no = json::object();
    const json& f0 = then.contains("files") ? then["files"] : no;
    const json& f1 = now.contains("files") ? now["files"] : no;
    // The project's own files first, in their usual order, then those of conf/ by name.
    std::vector<std::string> names(std::begin(config_files), std::end(config_files));
    for (const json* f : {&f0, &f1})
        for (const auto& [name, _] : f->items())
            if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    std::sort(names.begin() + static_cast<std::ptrdiff_t>(std::size(config_files)), names.end());
    for (const auto& name : names) {
        const std::string a = f0.value(name, "absent"), b = f1.value(name, "absent");
        if (a == b) continue;
        changes.push_back(a == "absent" ? name + " was added" : b == "absent" ? name + " was removed" : name + " changed");
    }
    const json& p0 = then.contains("plugins") ? then["plugins"] : no;
    const json& p1 = now.contains("plugins") ? now["plugins"] : no;
    for (const auto& [name, was] : p0.items()) {
        if (!p1.contains(name)) {
            changes.push_back("plugin '" + name + "' (" + was.value("file", "?") + ") is no longer loaded");
            continue;
        }
        const json& is = p1[name];
        if (was.value("file", "") != is.value("file", ""))
            changes.push_back("plugin '" + name + "' now comes from " + is.value("file", "?") + " (was " +
                              was.value("file", "?") + ")");
        else if (was.value("size", 0ull) != is.value("size", 0ull) || was.value("mtime_ns", 0ull) != is.value("mtime_ns", 0ull))
            changes.push_back("plugin '" + name + "' (" + is.value("file", "?") + ") was rebuilt or replaced");
    }
    for (const auto& [name, is] : p1.items())
        if (!p0.contains(name)) changes.push_back("plugin '" + name + "' (" + is.value("file", "?") + ") is new");
    return changes;
}

}  // namespace kiln::core
