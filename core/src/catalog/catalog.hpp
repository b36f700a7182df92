// The data catalog: named datasets from catalog.json, parameters from parameters.json,
// and the datasets a run materialises from them.
//
// catalog.json maps a dataset name to its type and arguments:
//     {"word_counts": {"type": "kiln.JsonDataset", "filepath": "data/08_reporting/counts.json"}}
// Entries are lazy: one is only built when a pipeline uses it, so a broken entry that
// nothing uses never stops a run. A key with {placeholders} is a dataset factory pattern
// (catalog/dataset_patterns.hpp): a dataset no entry names takes its entry from the first
// pattern it matches.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalog/catalog_entry.hpp"
#include "catalog/dataset_patterns.hpp"
#include "catalog/dataset_versions.hpp"
#include "kiln/dataset.hpp"
#include "kiln/detail/handles.hpp"
#include "model/parameter_names.hpp"

namespace kiln::core {

using kiln::detail::DatasetHandle;  // the SDK's plumbing: the host's side of a dataset

class Registry;

// Parameters: a JSON object; "params:a.b" reads key b of object a; "parameters" the whole.
class Parameters {
public:
    Parameters() = default;
    explicit Parameters(nlohmann::json root, std::string origin = "parameters.json");

    // Sets a dotted key, creating objects on the way ("--params model.alpha=0.1").
    void set(const std::string& dotted_key, nlohmann::json value);
    // The value at a dotted key, or nullptr.
    const nlohmann::json* find(const std::string& dotted_key) const;
    const nlohmann::json& root() const { return root_; }
    // Every dotted key, for "did you mean" hints.
    std::vector<std::string> keys() const;

private:
    nlohmann::json root_ = nlohmann::json::object();
    std::string origin_;
};

// Parses "--params a.b=1,c=x" (values are JSON when they parse as JSON, else strings);
// throws kiln::ConfigError for an item without '='.
std::vector<std::pair<std::string, nlohmann::json>> parse_params_option(const std::string& text);

// One materialised dataset: the plugin's handle with errors turned into kiln::DatasetError
// naming the dataset. Serialises calls unless the type is thread safe.
class DatasetRef {
public:
    DatasetRef(std::string name, std::string type, DatasetTypeOptions options, std::unique_ptr<DatasetHandle> handle);
    const std::string& name() const { return name_; }
    const std::string& type() const { return type_; }
    const std::string& description() const { return description_; }
    const DatasetTypeOptions& options() const { return options_; }

    Value load();
    void save(const Value& value);
    bool exists();
    void release();

private:
    std::string name_;
    std::string type_;
    std::string description_;
    DatasetTypeOptions options_;
    std::unique_ptr<DatasetHandle> handle_;
    std::mutex mutex_;
};

class DataCatalog {
public:
    // `origin` names the catalog file in messages. Keys with a '{' are patterns; throws
    // kiln::ConfigError for more than one catch-all pattern.
    DataCatalog(std::map<std::string, CatalogEntry> entries, Parameters parameters,
                std::filesystem::path project_dir, const Registry& registry, std::string origin = "catalog.json");

    // Reads catalog.json; a missing file is an empty catalog. Throws kiln::ConfigError
    // naming the file and entry for a non-object entry or a missing "type".
    static std::map<std::string, CatalogEntry> read_entries(const std::filesystem::path& file);
    // The same from a catalog document already read; `where` names it in messages.
    static std::map<std::string, CatalogEntry> entries_from_json(const nlohmann::json& doc, const std::string& where);
    // The explicit entries and the patterns as a catalog document (what read_entries reads).
    nlohmann::json entries_to_json() const;

    // An explicit entry, a name a pattern matches, or a parameter (Kedro's `name in catalog`).
    bool contains(const std::string& name) const;
    // The entry of `name`: its explicit entry, else the one made from the first pattern it
    // matches (made once; the pointer stays valid as long as the catalog), else nullptr.
    // Throws kiln::ConfigError naming the pattern when its placeholders do not fit.
    // Thread safe.
    const CatalogEntry* find_entry(const std::string& name) const;
    // The pattern `name` takes its entry from, or nullptr (also for explicit entries).
    const CatalogEntry* matching_pattern(const std::string& name) const;
    // An entry of type kiln.MemoryDataset: declared, but its value lives in memory for the
    // run only (Kedro's MemoryDataset), optionally preset with "data".
    bool is_memory(const std::string& name) const;
    // An entry whose data outlives the run (any type but kiln.MemoryDataset and types
    // declaring `persists = false`), or a parameter: what --only-missing-outputs and
    // resume may rely on.
    bool persists(const std::string& name) const;
    // The same for a dataset whose entry (from find_entry) is at hand.
    bool persists(const CatalogEntry& entry) const;
    // A kiln.MemoryDataset's preset "data" as a value of `type`; an empty Value when it has
    // none. Throws kiln::ConfigError naming the entry when the data does not fit the type.
    Value memory_preset(const std::string& name, const TypeOps& type) const;
    // The explicit entries, without patterns.
    const std::map<std::string, CatalogEntry>& entries() const { return entries_; }
    const DatasetPatterns& patterns() const { return patterns_; }
    // The entries made from patterns so far (by find_entry), by dataset name.
    std::map<std::string, CatalogEntry> entries_from_patterns() const;
    // Room for the entries patterns will make for `count` datasets, made at once rather
    // than grown (incremental runs look up every dataset of 100,000-node pipelines).
    void expect_datasets(std::size_t count) const;
    const Parameters& parameters() const { return parameters_; }
    const std::filesystem::path& project_dir() const { return project_dir_; }

    // Builds (once) the dataset of an explicit entry or a pattern's, telling it the value type the
    // pipeline moves through it. Throws kiln::ConfigError naming the entry for an unknown
    // type (with close matches) or arguments the dataset refuses.
    DatasetRef& dataset(const std::string& name, const TypeOps* value_type, const std::string& run_id);

    // Adds a dataset no catalog entry names (a runner's default dataset). Throws
    // kiln::ConfigError when the name is taken.
    DatasetRef& add_dataset(const std::string& name, const std::string& type, std::unique_ptr<DatasetHandle> handle);

    // Whether the entry of `name` says "versioned": true (catalog/dataset_versions.hpp).
    // Throws kiln::ConfigError naming the entry when "versioned" is not true or false, or
    // is true on an entry without a "filepath" naming a file.
    bool is_versioned(const std::string& name) const;
    // Whether any entry or pattern says "versioned" at all (spares the look-ups otherwise).
    bool has_versioned_entries() const { return has_versioned_; }
    // Where a versioned dataset keeps its versions: its "filepath" made absolute (a folder
    // of versions) and the name of the file in each version folder.
    struct VersionedFile {
        std::filesystem::path versions_dir;
        std::string file_name;
    };
    VersionedFile versioned_file(const std::string& name) const;
    // The versions the run's versioned datasets use, decided before the plan binds them
    // (catalog/version_plan.hpp). A dataset built later takes the filepath of its version.
    void set_versions(std::map<std::string, DatasetVersion> versions) { versions_ = std::move(versions); }
    const std::map<std::string, DatasetVersion>& versions() const { return versions_; }
    const DatasetVersion* version_of(const std::string& name) const;
    // "<filepath>/<version>/<file name>" for a versioned dataset with a version, as the
    // entry writes its filepath (relative to the project or absolute); else nullopt.
    std::optional<std::string> versioned_filepath(const std::string& name) const;

    // A parameter dataset's value converted to `type`; throws kiln::ConfigError naming
    // the parameter, the expected type and, for a missing key, close matches.
    Value parameter(const std::string& name, const TypeOps& type) const;

private:
    // How messages name the entry of `name`: its own, or the pattern it matches.
    std::string entry_label(const std::string& name) const;
    // The arguments the dataset of `name` is built with: the entry's, without
    // "versioned", and for a versioned one the filepath of its version.
    nlohmann::json dataset_args(const std::string& name, const CatalogEntry& entry) const;

    std::map<std::string, CatalogEntry> entries_;  // explicit ones
    DatasetPatterns patterns_;
    mutable std::mutex resolved_mutex_;
    mutable std::unordered_map<std::string, CatalogEntry> resolved_;  // made from patterns, by find_entry
    Parameters parameters_;
    std::filesystem::path project_dir_;
    const Registry& registry_;
    std::string origin_;
    std::map<std::string, std::unique_ptr<DatasetRef>> materialised_;
    std::set<std::string> added_;  // by add_dataset
    std::map<std::string, DatasetVersion> versions_;  // set before the run, read-only during it
    bool has_versioned_ = false;
};

// Where a persisted dataset keeps its data: its catalog entry's "filepath" (relative to
// the project; for a versioned dataset, the file of its version in this run), or nullopt
// when the entry names none (a dataset type of a plugin's own); for a
// kiln.PartitionedDataset, its folder. The journal stamps these files, incremental runs
// hash them (a folder: every file in it).
std::optional<std::filesystem::path> dataset_file(const DataCatalog& catalog, const std::string& dataset);
// The same with the dataset's entry at hand (saves a look-up per dataset of large pipelines).
std::optional<std::filesystem::path> dataset_file(const DataCatalog& catalog, const std::string& dataset,
                                                  const CatalogEntry& entry);

}  // namespace kiln::core
