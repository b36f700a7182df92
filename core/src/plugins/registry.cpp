#include "plugins/registry.hpp"

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <cctype>
#include <cstddef>
#include <fstream>
#include <functional>
#include <set>
#include <spdlog/spdlog.h>

#include "kiln/detail/abi.hpp"
#include "kiln/error.hpp"
#include "kiln/registrar.hpp"
#include "model/pipeline.hpp"
#include "plugins/host_json_bridge.hpp"
#include "plugins/host_logger.hpp"
#include "plugins/plugin_file_checks.hpp"
#include "run/run_guard.hpp"
#include "text/join.hpp"

namespace kiln::core {
namespace fs = std::filesystem;
using kiln::detail::abi_major;
using kiln::detail::abi_minor;
using kiln::detail::plugin_entry_symbol;
using kiln::detail::PluginDescriptor;

namespace {

// Plugins stay loaded until the process ends: values and datasets made by their code may
// outlive any registry. Never freed on purpose (and still reachable, so no leak report).
std::vector<boost::dll::shared_library>& resident_libraries() {
    static auto* libs = new std::vector<boost::dll::shared_library>();
    return *libs;
}

bool is_identifier(const std::string& s) {
    if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

bool is_item_name(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
}

template <class Map>
std::vector<std::string> keys_of(const Map& m) {
    std::vector<std::string> k;
    k.reserve(m.size());
    for (const auto& [name, _] : m) k.push_back(name);
    return k;
}

bool same_contents(const fs::path& a, const fs::path& b) {
    std::error_code ec1, ec2;
    if (fs::file_size(a, ec1) != fs::file_size(b, ec2) || ec1 || ec2) return false;
    std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
    return std::equal(std::istreambuf_iterator<char>(fa), {}, std::istreambuf_iterator<char>(fb));
}

// Of two plugins disagreeing on a type, the one built earlier is probably built against an
// old version of it.
std::string stale_plugin_hint(const fs::path& a, const fs::path& b) {
    std::error_code ea, eb;
    const auto ta = fs::last_write_time(a, ea), tb = fs::last_write_time(b, eb);
    if (ea || eb || ta == tb) return "Rebuild the plugin that was built against an old version of the type";
    return "'" + (ta < tb ? a : b).string() + "' is the older file, probably stale: rebuild it against the current type";
}

}  // namespace

// Collects what one register block declares; errors are gathered, never thrown through
// plugin code.
class Registry::Collector final : public Registrar {
public:
    void add_node(NodeSpec spec) noexcept override {
        try {
            nodes.push_back(std::make_unique<NodeSpec>(std::move(spec)));
        } catch (const std::exception& e) {
            errors.push_back(e.what());
        }
    }
    void add_dataset_type(DatasetTypeSpec spec) noexcept override {
        try {
            // `persists` came in ABI 1.2: an older plugin's spec ends before it, so read it
            // only from newer plugins (and never write it: that would be past their object).
            const bool persists = plugin_abi_minor >= 2 ? spec.persists : true;
            datasets.push_back(DatasetTypeSpec{std::move(spec.name), std::move(spec.options), spec.create, persists});
        } catch (const std::exception& e) {
            errors.push_back(e.what());
        }
    }
    void add_type(const TypeOps& ops) noexcept override {
        try {
            types.push_back(&ops);
        } catch (const std::exception& e) {
            errors.push_back(e.what());
        }
    }

    void set_node_traits(std::string_view node_name, const detail::NodeTraits* traits) noexcept override {
        try {
            if (!traits || nodes.empty() || nodes.back()->name != node_name) {
                errors.push_back("set_node_traits for '" + std::string(node_name) + "' does not follow its add_node");
                return;
            }
            // Fields a newer SDK added at the end are read only when struct_size covers them.
            constexpr std::size_t v16_size = offsetof(detail::NodeTraits, version_size) + sizeof(std::size_t);
            if (traits->struct_size < v16_size) {
                errors.push_back("node '" + std::string(node_name) + "' has NodeTraits of " +
                                 std::to_string(traits->struct_size) + " bytes, fewer than ABI 1.6's " +
                                 std::to_string(v16_size));
                return;
            }
            NodeTraitsSeen& seen = traits_by_node[std::string(node_name)];
            seen.always_run = traits->always_run;
            if (traits->version) seen.version.assign(traits->version, traits->version_size);
            constexpr std::size_t v17_size = offsetof(detail::NodeTraits, output_count) + sizeof(std::size_t);
            if (traits->struct_size >= v17_size && traits->output_names && traits->output_count) {
                const std::size_t returned = nodes.back()->outputs.size();
                if (traits->output_count != returned) {
                    errors.push_back("node '" + std::string(node_name) + "' names " +
                                     std::to_string(traits->output_count) + " outputs in its NodeOptions but returns " +
                                     std::to_string(returned) + (returned == 1 ? " value" : " values") +
                                     "; name each value it returns, in order");
                    return;
                }
                for (std::size_t k = 0; k < traits->output_count; ++k)
                    seen.outputs.emplace_back(traits->output_names[k] ? traits->output_names[k] : "");
            }
        } catch (const std::exception& e) {
            errors.push_back(e.what());
        }
    }

    void add_runner(RunnerTypeSpec spec) noexcept override {
        try {
            runners.push_back(std::move(spec));
        } catch (const std::exception& e) {
            errors.push_back(e.what());
        }
    }
    void add_hooks(HookTypeSpec spec) noexcept override {
        try {
            hooks.push_back(std::move(spec));
        } catch (const std::exception& e) {
            errors.push_back(e.what());
        }
    }

    std::vector<std::unique_ptr<NodeSpec>> nodes;
    struct NodeTraitsSeen {
        std::string version;
        bool always_run = false;
        std::vector<std::string> outputs;
    };
    std::map<std::string, NodeTraitsSeen> traits_by_node;  // by unqualified node name
    std::uint32_t plugin_abi_minor = abi_minor;  // of the plugin registering now
    std::vector<DatasetTypeSpec> datasets;
    std::vector<RunnerTypeSpec> runners;
    std::vector<HookTypeSpec> hooks;
    std::vector<const TypeOps*> types;
    std::vector<std::string> errors;

protected:
    Logger& logger_impl() noexcept override { return host_logger(); }
    const detail::JsonBridge& json_bridge_impl() noexcept override { return host_json_bridge(); }
};

Registry::Registry() = default;
Registry::~Registry() = default;

bool Registry::has_plugin_file(const fs::path& file) const {
    std::error_code ec;
    auto canon = fs::weakly_canonical(file, ec);
    return std::any_of(plugins_.begin(), plugins_.end(), [&](const PluginInfo& p) { return p.file == canon; });
}

void Registry::load_directory(const fs::path& dir, bool required) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        if (required)
            throw PluginError("plugin directory '" + dir.string() +
                              "' does not exist or is not a directory; check --plugin-path / KILN_PLUGIN_PATH");
        return;
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.path().extension() == ".so" && entry.is_regular_file()) files.push_back(entry.path());
    if (ec) throw PluginError("cannot list plugin directory '" + dir.string() + "': " + ec.message());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) load_file(f);
}

void Registry::load_file(const fs::path& path) {
    std::error_code ec;
    const fs::path file = fs::weakly_canonical(path, ec);
    if (has_plugin_file(file)) return;  // the same file found through two search paths
    if (!fs::exists(file)) throw PluginError("plugin '" + path.string() + "' does not exist");
    check_before_loading(file);

    // From here on the plugin's own code runs (constructors, entry point, register block).
    PluginLoadGuard loading(file);
    boost::dll::shared_library lib;
    try {
        // RTLD_LOCAL (Boost's default) keeps each plugin's symbols to itself.
        lib.load(file, boost::dll::load_mode::rtld_now);
    } catch (const std::exception& e) {
        throw PluginError("cannot load plugin '" + file.string() + "': " + e.what() +
                          "\n  (is it a shared library built for this machine, with all its dependencies installed?)");
    }
    if (!lib.has(plugin_entry_symbol))
        throw PluginError("'" + file.string() + "' is not a Kiln plugin: it has no '" + plugin_entry_symbol +
                          "' entry point.\n  Define the plugin with KILN_PLUGIN(name) { ... } from <kiln/sdk.hpp>, or "
                          "move the file out of the plugin directory.");
    auto& entry = lib.get<kiln_plugin_entry_fn>(plugin_entry_symbol);
    const PluginDescriptor* d = entry();
    if (d == nullptr) throw PluginError("plugin '" + file.string() + "' returned no descriptor");
    // Check the version fields before trusting anything else in the descriptor.
    if (d->abi_major != abi_major)
        throw PluginError("plugin '" + file.string() + "' was built for Kiln plugin ABI " + std::to_string(d->abi_major) +
                          "." + std::to_string(d->abi_minor) + ", but this kiln uses ABI " + std::to_string(abi_major) +
                          "." + std::to_string(abi_minor) + ".\n  Rebuild the plugin against this Kiln's SDK.");
    if (d->abi_minor > abi_minor)
        throw PluginError("plugin '" + file.string() + "' needs Kiln plugin ABI " + std::to_string(d->abi_major) + "." +
                          std::to_string(d->abi_minor) + ", newer than this kiln's " + std::to_string(abi_major) + "." +
                          std::to_string(abi_minor) + ".\n  Upgrade kiln or rebuild the plugin against this SDK.");
    // Every descriptor of this major version has the fields before `reserved` (docs/abi.md);
    // fields added by a minor version are read only when struct_size covers them.
    constexpr std::size_t descriptor_needs = offsetof(PluginDescriptor, reserved);
    if (d->struct_size < descriptor_needs)
        throw PluginError("plugin '" + file.string() + "' has a descriptor of " + std::to_string(d->struct_size) +
                          " bytes, smaller than the " + std::to_string(descriptor_needs) + " bytes of Kiln plugin ABI " +
                          std::to_string(abi_major) + ".0: it was not made by KILN_PLUGIN, or the file is damaged.\n  "
                          "Rebuild the plugin against this Kiln's SDK.");
    const std::string build_key = d->build_key ? d->build_key : "";
    if (build_key != KILN_BUILD_KEY)
        throw PluginError("plugin '" + file.string() + "' was built with incompatible settings ('" + build_key +
                          "'; this kiln: '" + KILN_BUILD_KEY +
                          "').\n  Rebuild it with the same compiler and options as kiln (e.g. both with or both "
                          "without KILN_SANITIZE).");
    const std::string name = d->name ? d->name : "";
    if (!is_identifier(name))
        throw PluginError("plugin '" + file.string() + "' has an invalid name '" + name +
                          "': use a C identifier in KILN_PLUGIN(name)");
    if (d->register_fn == nullptr) throw PluginError("plugin '" + file.string() + "' has no register function");
    for (const auto& p : plugins_)
        if (p.name == name && same_contents(p.file, file)) {
            // A copy of a plugin already loaded (e.g. a shipped runner copied into a
            // project's plugins/): the same code, so nothing to choose between.
            spdlog::debug("Skipping {}: the same plugin as {}", file.string(), p.file.string());
            return;
        } else if (p.name == name)
            throw PluginError("two plugins are named '" + name + "': '" + p.file.string() + "' and '" + file.string() +
                              "'.\n  Remove one of them from the plugin path or rename one plugin.");

    Collector collector;
    collector.plugin_abi_minor = d->abi_minor;
    if (const char* message = d->register_fn(collector))
        throw PluginError("plugin '" + name + "' (" + file.string() + ") failed to register: " + message);
    absorb(collector, file, name, d->version ? d->version : "");
    resident_libraries().push_back(std::move(lib));
    spdlog::debug("Loaded plugin {} {} from {}", name, d->version ? d->version : "", file.string());
}

void Registry::check_before_loading(const fs::path& file) {
    for (const fs::path& p : {file.parent_path(), file})
        if (auto problem = writable_by_others(p); !problem.empty())
            throw PluginError(std::string(p == file ? "plugin '" : "plugin folder '") + p.string() + "' " + problem);
    ElfFacts facts;
    if (auto problem = elf_problem(file, facts); !problem.empty())
        throw PluginError("cannot load plugin '" + file.string() + "': it " + problem);
    if (auto problem = sanitizer_problem(facts); !problem.empty())
        throw PluginError("plugin '" + file.string() + "' " + problem);
}

void Registry::add_builtin(const std::string& plugin_name, const std::string& version,
                           const std::function<void(Registrar&)>& register_body) {
    Collector collector;
    register_body(collector);
    absorb(collector, fs::path("<built-in " + plugin_name + ">"), plugin_name, version);
}

void Registry::absorb(Collector& c, const fs::path& file, const std::string& plugin, const std::string& version) {
    const std::string where = "plugin '" + plugin + "' (" + file.string() + ")";
    if (!c.errors.empty()) throw PluginError(where + " failed to register: " + c.errors.front());

    PluginInfo info{plugin, version, file, {}, {}, {}, {}, {}};
    // Validate everything before changing the registry, so a bad plugin leaves no trace.
    std::vector<const TypeOps*> types = c.types;
    std::set<std::string> seen;
    for (const auto& n : c.nodes) {
        if (!is_item_name(n->name))
            throw PluginError(where + " declares a node named '" + n->name +
                              "': use letters, digits, '_' and '-' (the plugin name is added as 'plugin.')");
        if (!n->options.args.empty() && n->options.args.size() != n->inputs.size())
            throw PluginError(where + ": node '" + n->name + "' names " + std::to_string(n->options.args.size()) +
                              " args but its function takes " + std::to_string(n->inputs.size()) + " inputs");
        types.insert(types.end(), n->inputs.begin(), n->inputs.end());
        types.insert(types.end(), n->outputs.begin(), n->outputs.end());
        if (!seen.insert(n->name).second) throw PluginError(where + " declares node '" + n->name + "' twice");
    }
    for (const auto& d : c.datasets) {
        if (!is_item_name(d.name))
            throw PluginError(where + " declares a dataset type named '" + d.name +
                              "': use letters, digits, '_' and '-'");
        if (!seen.insert("dataset:" + d.name).second)
            throw PluginError(where + " declares dataset type '" + d.name + "' twice");
    }
    for (const auto& r : c.runners) {
        if (!is_item_name(r.name) || !r.create)
            throw PluginError(where + " declares a runner named '" + r.name + "': use letters, digits, '_' and '-'");
        if (builtin_runner_names_.count(r.name))
            throw PluginError(where + " declares runner '" + r.name + "', the name of a built-in runner; rename it");
        if (!seen.insert("runner:" + r.name).second) throw PluginError(where + " declares runner '" + r.name + "' twice");
    }
    for (const auto& h : c.hooks) {
        if (!is_item_name(h.name) || !h.create)
            throw PluginError(where + " declares hooks named '" + h.name + "': use letters, digits, '_' and '-'");
        if (!seen.insert("hooks:" + h.name).second) throw PluginError(where + " declares hooks '" + h.name + "' twice");
    }
    // A keyed type's entries are values of its element type, which the host must know too
    // (PartitionedDataset builds each partition's dataset for it). Plugins built before ABI
    // 1.8 have no such fields.
    for (std::size_t i = 0; c.plugin_abi_minor >= 8 && i < types.size(); ++i)
        if (const TypeOps* t = types[i]; t->element && t->to_keyed && t->from_keyed) {
            keyed_.insert(t);
            types.push_back(t->element);
        }
    // Plugins built before ABI 1.3 have no layout fingerprint (0: only the size is compared).
    const auto layout_of = [&](const TypeOps* t) -> std::uint64_t { return c.plugin_abi_minor >= 3 ? t->layout : 0; };
    for (const TypeOps* t : types) {
        auto it = types_.find(t->name);
        if (it == types_.end()) continue;
        const std::string name(t->name);
        const fs::path& first = type_origin_[name];
        const std::uint64_t known = type_layout_[name], layout = layout_of(t);
        if (it->second->size != t->size)
            throw PluginError("value type '" + name + "' means different things in " + first.string() + " (" +
                              std::to_string(it->second->size) + " bytes) and " + file.string() + " (" +
                              std::to_string(t->size) + " bytes).\n  " + stale_plugin_hint(first, file) +
                              "; or, if they are different types, give one of the codecs another name.");
        if (known != 0 && layout != 0 && known != layout)
            throw PluginError("value type '" + name + "' means different things in " + first.string() + " and " +
                              file.string() + ": the types it is built from differ in name or size (e.g. an " +
                              "element type that changed).\n  " + stale_plugin_hint(first, file) + ".");
    }

    for (auto& n : c.nodes) {
        std::string qualified = plugin + "." + n->name;
        auto fn = std::make_unique<NodeFunction>(NodeFunction{.qualified_name = qualified, .plugin_file = file.string(), .spec = n.get()});
        if (auto t = c.traits_by_node.find(n->name); t != c.traits_by_node.end()) {
            fn->version = t->second.version;
            fn->always_run = t->second.always_run;
            fn->output_names = t->second.outputs;
        }
        if (n->outputs.size() == 1 && keyed_.count(n->outputs.front())) fn->keyed_result = n->outputs.front();
        nodes_by_short_name_[n->name].push_back(qualified);
        nodes_.emplace(qualified, std::move(fn));
        info.nodes.push_back(qualified);
        node_specs_.push_back(std::move(n));
    }
    for (auto& d : c.datasets) {
        std::string qualified = plugin + "." + d.name;
        dataset_types_by_short_name_[d.name].push_back(qualified);
        info.dataset_types.push_back(qualified);
        dataset_types_.emplace(qualified, DatasetType{qualified, file.string(), std::move(d)});
    }
    for (auto& r : c.runners) {
        std::string qualified = plugin + "." + r.name;
        runners_by_short_name_[r.name].push_back(qualified);
        info.runners.push_back(qualified);
        runners_.emplace(qualified, RunnerType{qualified, plugin, file.string(), std::move(r)});
    }
    for (auto& h : c.hooks) {
        std::string qualified = plugin + "." + h.name;
        hooks_by_short_name_[h.name].push_back(qualified);
        info.hooks.push_back(qualified);
        hooks_.emplace(qualified, HookType{qualified, plugin, file.string(), std::move(h), c.plugin_abi_minor});
    }
    for (const TypeOps* t : types) {
        std::string name(t->name);
        if (types_.emplace(name, t).second) type_origin_[name] = file;
        if (auto& known = type_layout_[name]; known == 0) known = layout_of(t);
        if (std::find(info.types.begin(), info.types.end(), name) == info.types.end()) info.types.push_back(name);
    }
    std::sort(info.types.begin(), info.types.end());
    plugins_.push_back(std::move(info));
}

namespace {
template <class T>
const T* find_qualified(const std::map<std::string, T>& by_name, const std::map<std::string, std::vector<std::string>>& by_short,
                        const std::string& name, const std::string& what, std::string& hint) {
    if (auto it = by_name.find(name); it != by_name.end()) return &it->second;
    if (name.find('.') == std::string::npos) {
        if (auto it = by_short.find(name); it != by_short.end()) {
            if (it->second.size() == 1) return &by_name.at(it->second.front());
            hint = "'" + name + "' is ambiguous: it is a " + what + " of several plugins (" + join(it->second) +
                   "); write the qualified name";
            return nullptr;
        }
    }
    auto matches = close_matches(name, keys_of(by_name));
    if (!matches.empty()) {
        hint = "did you mean " + join(matches) + "?";
    } else if (by_name.empty()) {
        hint = "no plugin that declares a " + what + " is loaded; check --plugin-path / KILN_PLUGIN_PATH";
    } else {
        hint = "known: " + join(keys_of(by_name));
        if (hint.size() > 400) hint = hint.substr(0, 400) + "...";
    }
    return nullptr;
}
}  // namespace

const NodeFunction* Registry::find_node(const std::string& name, std::string& hint) const {
    auto* p = find_qualified(nodes_, nodes_by_short_name_, name, "node function", hint);
    return p ? p->get() : nullptr;
}

const DatasetType* Registry::find_dataset_type(const std::string& name, std::string& hint) const {
    return find_qualified(dataset_types_, dataset_types_by_short_name_, name, "dataset type", hint);
}

const RunnerType* Registry::find_runner(const std::string& name, std::string& hint) const {
    return find_qualified(runners_, runners_by_short_name_, name, "runner", hint);
}

const HookType* Registry::find_hooks(const std::string& name, std::string& hint) const {
    return find_qualified(hooks_, hooks_by_short_name_, name, "hook", hint);
}

void Registry::reserve_runner_names(const std::vector<std::string>& names) {
    builtin_runner_names_.insert(names.begin(), names.end());
}

const TypeOps* Registry::keyed_element(const TypeOps* type) const {
    return type && keyed_.count(type) ? type->element : nullptr;
}

const TypeOps* Registry::find_type(const std::string& name) const {
    auto it = types_.find(name);
    return it == types_.end() ? nullptr : it->second;
}

}  // namespace kiln::core
