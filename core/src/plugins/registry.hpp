// The registry: loads plugins with Boost.DLL, checks their descriptor, and owns
// everything they declared under qualified names ("plugin.item").
//
// Loaded plugins stay resident for the life of the process: values, datasets and node
// functions made by a plugin's code must never outlive that code.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "kiln/dataset.hpp"
#include "kiln/registrar.hpp"
#include "model/pipeline.hpp"

namespace kiln::core {

// The SDK's plumbing (kiln/detail/): what a plugin declared, as the host stores it.
using kiln::detail::DatasetTypeSpec;
using kiln::detail::HookTypeSpec;
using kiln::detail::RunnerTypeSpec;

struct DatasetType {
    std::string qualified_name;  // "kiln.JsonDataset"
    std::string plugin_file;
    DatasetTypeSpec spec;
};

struct RunnerType {
    std::string qualified_name;  // "dry.DryRunner"
    std::string plugin;
    std::string plugin_file;
    RunnerTypeSpec spec;
};

struct HookType {
    std::string qualified_name;  // "trace.ChromeTrace"
    std::string plugin;
    std::string plugin_file;
    HookTypeSpec spec;
    std::uint32_t plugin_abi_minor = 0;  // the hook points it may have: the host fires no newer ones
};

struct PluginInfo {
    std::string name;
    std::string version;
    std::filesystem::path file;
    std::vector<std::string> nodes;          // qualified names
    std::vector<std::string> dataset_types;  // qualified names
    std::vector<std::string> types;          // value type names it declared or used
    std::vector<std::string> runners;        // qualified names
    std::vector<std::string> hooks;          // qualified names
};

class Registry {
public:
    Registry();
    ~Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    // Loads every *.so in dir (sorted by name). Throws kiln::PluginError for a bad plugin;
    // `required` makes a missing directory an error too.
    void load_directory(const std::filesystem::path& dir, bool required);
    // Loads one plugin file. Throws kiln::PluginError naming the file for: a file that
    // cannot be loaded (with the loader's message), a truncated or foreign ELF file, one
    // needing a sanitizer runtime kiln lacks, a file or folder other users can write to,
    // one with no kiln entry point, another ABI or build key, a failing register block,
    // and names already taken (both files named). A plugin that crashes or calls exit()
    // while loading ends kiln with exit code 2 and its file named (PluginLoadGuard).
    void load_file(const std::filesystem::path& file);

    // Lookup by qualified name, or by unqualified name when exactly one plugin has it.
    // Returns nullptr when unknown or ambiguous; `hint` then says which.
    const NodeFunction* find_node(const std::string& name, std::string& hint) const;
    const DatasetType* find_dataset_type(const std::string& name, std::string& hint) const;
    const TypeOps* find_type(const std::string& name) const;
    // The entry type of a keyed value type (std::map<std::string, T>, kiln::Partitions<T>)
    // whose to_keyed and from_keyed the host may call: one from a plugin built for ABI 1.8 or
    // later. nullptr for any other type.
    const TypeOps* keyed_element(const TypeOps* type) const;
    const RunnerType* find_runner(const std::string& name, std::string& hint) const;
    const HookType* find_hooks(const std::string& name, std::string& hint) const;
    // Names plugins may not use for runners (the built-in ones).
    void reserve_runner_names(const std::vector<std::string>& names);

    const std::vector<PluginInfo>& plugins() const { return plugins_; }
    const std::map<std::string, std::unique_ptr<NodeFunction>>& node_functions() const { return nodes_; }
    const std::map<std::string, DatasetType>& dataset_types() const { return dataset_types_; }
    const std::map<std::string, RunnerType>& runners() const { return runners_; }
    const std::map<std::string, HookType>& hooks() const { return hooks_; }
    bool has_plugin_file(const std::filesystem::path& file) const;

    // Registers declarations made in-process (tests, and the host's own built-ins),
    // as if from a plugin named `plugin_name`.
    class Collector;
    void add_builtin(const std::string& plugin_name, const std::string& version,
                     const std::function<void(Registrar&)>& register_body);

private:
    // What can be refused before any of the plugin's code runs: write access for other
    // users, a file the loader would crash on, a sanitizer runtime kiln lacks.
    static void check_before_loading(const std::filesystem::path& file);
    void absorb(Collector& collector, const std::filesystem::path& file, const std::string& plugin_name,
                const std::string& version);

    std::vector<PluginInfo> plugins_;
    std::vector<std::unique_ptr<NodeSpec>> node_specs_;
    std::map<std::string, std::unique_ptr<NodeFunction>> nodes_;
    std::map<std::string, std::vector<std::string>> nodes_by_short_name_;
    std::map<std::string, DatasetType> dataset_types_;
    std::map<std::string, std::vector<std::string>> dataset_types_by_short_name_;
    std::map<std::string, RunnerType> runners_;
    std::map<std::string, std::vector<std::string>> runners_by_short_name_;
    std::map<std::string, HookType> hooks_;
    std::map<std::string, std::vector<std::string>> hooks_by_short_name_;
    std::set<std::string> builtin_runner_names_;
    std::map<std::string, const TypeOps*, std::less<>> types_;
    std::map<std::string, std::filesystem::path> type_origin_;
    std::map<std::string, std::uint64_t> type_layout_;  // TypeOps::layout; 0 where unknown
    std::set<const TypeOps*> keyed_;  // types whose keyed operations may be called
};

}  // namespace kiln::core
