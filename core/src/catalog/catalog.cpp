#include "catalog/catalog.hpp"

#include <spdlog/spdlog.h>

#include "catalog/partitioned_dataset.hpp"
#include "config/json_file.hpp"
#include "config/redaction.hpp"
#include "kiln/error.hpp"
#include "model/pipeline.hpp"
#include "plugins/registry.hpp"
#include "text/join.hpp"
#include "text/name_text.hpp"

namespace kiln::core {
namespace fs = std::filesystem;

DatasetRef::DatasetRef(std::string name, std::string type, DatasetTypeOptions options,
                       std::unique_ptr<DatasetHandle> handle)
    : name_(std::move(name)), type_(std::move(type)), options_(std::move(options)), handle_(std::move(handle)) {
    // Hooks, the report and the log all show this text; a dataset may quote its credentials.
    description_ = redact(handle_->describe());
}

Value DatasetRef::load() {
    std::unique_lock lock(mutex_, std::defer_lock);
    if (!options_.thread_safe) lock.lock();
    spdlog::debug("Loading data from {} ({})...", name_, description_);
    Value v;
    std::string error;
    if (!handle_->load(&v, &error)) throw DatasetError("failed to load dataset '" + name_ + "' (" + description_ + "): " + error);
    return v;
}

void DatasetRef::save(const Value& value) {
    std::unique_lock lock(mutex_, std::defer_lock);
    if (!options_.thread_safe) lock.lock();
    spdlog::debug("Saving data to {} ({})...", name_, description_);
    std::string error;
    if (!handle_->save(value, &error))
        throw DatasetError("failed to save dataset '" + name_ + "' (" + description_ + "): " + error);
}

bool DatasetRef::exists() {
    std::unique_lock lock(mutex_, std::defer_lock);
    if (!options_.thread_safe) lock.lock();
    std::string error;
    int r = handle_->exists(&error);
    if (r < 0) throw DatasetError("cannot tell whether dataset '" + name_ + "' (" + description_ + ") exists: " + error);
    return r == 1;
}

void DatasetRef::release() {
    std::unique_lock lock(mutex_, std::defer_lock);
    if (!options_.thread_safe) lock.lock();
    std::string error;
    if (!handle_->release(&error)) spdlog::warn("releasing dataset '{}' failed: {}", name_, error);
}

namespace {

// The patterns among `entries`, which lose them.
std::vector<CatalogEntry> take_patterns(std::map<std::string, CatalogEntry>& entries) {
    std::vector<CatalogEntry> patterns;
    for (auto it = entries.begin(); it != entries.end();) {
        if (!is_pattern(it->first)) {
            ++it;
            continue;
        }
        patterns.push_back(std::move(it->second));
        it = entries.erase(it);
    }
    return patterns;
}

}  // namespace

DataCatalog::DataCatalog(std::map<std::string, CatalogEntry> entries, Parameters parameters, fs::path project_dir,
                         const Registry& registry, std::string origin)
    : entries_(std::move(entries)),
      parameters_(std::move(parameters)),
      project_dir_(std::move(project_dir)),
      registry_(registry),
      origin_(std::move(origin)) {
    patterns_ = DatasetPatterns(take_patterns(entries_), origin_);
    auto says_versioned = [](const CatalogEntry& e) { return e.args.is_object() && e.args.contains("versioned"); };
    for (const auto& [_, entry] : entries_) has_versioned_ = has_versioned_ || says_versioned(entry);
    for (const CatalogEntry& pattern : patterns_.ordered()) has_versioned_ = has_versioned_ || says_versioned(pattern);
}

std::map<std::string, CatalogEntry> DataCatalog::read_entries(const fs::path& file) {
    std::error_code ec;
    if (!fs::exists(file, ec)) return {};
    return entries_from_json(read_json_file(file), file.string());
}

std::map<std::string, CatalogEntry> DataCatalog::entries_from_json(const nlohmann::json& doc, const std::string& where) {
    std::map<std::string, CatalogEntry> entries;
    if (!doc.is_object())
        throw ConfigError(where + ": the catalog must be a JSON object mapping dataset names to entries, e.g. "
                                  "{\"counts\": {\"type\": \"kiln.JsonDataset\", \"filepath\": \"data/counts.json\"}}");
    for (auto it = doc.begin(); it != doc.end(); ++it) {
        const std::string& name = it.key();
        if (name.empty()) throw ConfigError(where + ": a catalog entry has an empty name");
        if (has_control_character(name))  // it would act on the terminal of whoever reads the log
            throw ConfigError(where + ": the dataset name " + escaped(name) +
                              " holds a control character (a line break, a tab or an ANSI escape); name datasets "
                              "with printable characters");
        if (is_parameter_name(name))
            throw ConfigError(where + ": catalog entry '" + name +
                              "' uses a name reserved for parameters; put parameters in parameters.json");
        if (!it->is_object())
            throw ConfigError(where + ": catalog entry '" + name + "' must be an object with a \"type\", got " +
                              it->dump());
        auto type = it->find("type");
        if (type == it->end() || !type->is_string() || type->get<std::string>().empty())
            throw ConfigError(where + ": catalog entry '" + name +
                              "' needs a \"type\" naming a dataset type, e.g. \"kiln.JsonDataset\" (see `kiln plugins`)");
        nlohmann::json args = *it;
        args.erase("type");
        entries.emplace(name, CatalogEntry{name, type->get<std::string>(), std::move(args)});
    }
    return entries;
}

nlohmann::json DataCatalog::entries_to_json() const {
    nlohmann::json doc = nlohmann::json::object();
    for (const auto& [name, entry] : entries_) {
        nlohmann::json e = entry.args;
        e["type"] = entry.type;
        doc[name] = std::move(e);
    }
    for (const CatalogEntry& pattern : patterns_.ordered()) {
        nlohmann::json e = pattern.args;
        e["type"] = pattern.type;
        doc[pattern.name] = std::move(e);
    }
    return doc;
}

bool DataCatalog::contains(const std::string& name) const {
    if (is_parameter_name(name)) return name == "parameters" || parameters_.find(name.substr(7)) != nullptr;
    return entries_.count(name) != 0 || added_.count(name) != 0 || matching_pattern(name) != nullptr;
}

const CatalogEntry* DataCatalog::matching_pattern(const std::string& name) const {
    if (patterns_.empty() || is_parameter_name(name) || entries_.count(name) || added_.count(name)) return nullptr;
    return patterns_.match(name);
}

const CatalogEntry* DataCatalog::find_entry(const std::string& name) const {
    if (auto it = entries_.find(name); it != entries_.end()) return &it->second;
    {  // Made before: no pattern matching again (a run asks for each dataset many times).
        std::lock_guard lock(resolved_mutex_);
        if (auto it = resolved_.find(name); it != resolved_.end()) return &it->second;
    }
    if (patterns_.empty() || is_parameter_name(name) || added_.count(name)) return nullptr;
    // Matched outside the lock, so that threads resolve different names at once.
    const CatalogEntry* pattern = nullptr;
    std::optional<CatalogEntry> entry = patterns_.resolve(name, &pattern);
    if (!entry) return nullptr;
    std::lock_guard lock(resolved_mutex_);
    auto [it, made] = resolved_.try_emplace(name, std::move(*entry));
    if (!made) return &it->second;  // another thread was first
    if (DatasetPatterns::is_catch_all(pattern->name))
        spdlog::info("Dataset '{}' takes its entry from the catch-all pattern '{}' of {}, instead of the runner's "
                     "default dataset",
                     name, pattern->name, origin_);
    else
        spdlog::debug("Dataset '{}' takes its entry from the pattern '{}' of {}", name, pattern->name, origin_);
    return &it->second;
}

void DataCatalog::expect_datasets(std::size_t count) const {
    std::lock_guard lock(resolved_mutex_);
    if (!patterns_.empty()) resolved_.reserve(count);
}

std::map<std::string, CatalogEntry> DataCatalog::entries_from_patterns() const {
    std::lock_guard lock(resolved_mutex_);
    return {resolved_.begin(), resolved_.end()};
}

DatasetRef& DataCatalog::add_dataset(const std::string& name, const std::string& type,
                                     std::unique_ptr<DatasetHandle> handle) {
    if (contains(name) || materialised_.count(name))
        throw ConfigError("dataset '" + name + "' is already in the catalog");
    auto ref = std::make_unique<DatasetRef>(name, type, DatasetTypeOptions{}, std::move(handle));
    DatasetRef& added = *ref;
    materialised_.emplace(name, std::move(ref));
    added_.insert(name);
    return added;
}

DatasetRef& DataCatalog::dataset(const std::string& name, const TypeOps* value_type, const std::string& run_id) {
    if (auto it = materialised_.find(name); it != materialised_.end()) return *it->second;
    const CatalogEntry* entry = find_entry(name);
    if (!entry) throw ConfigError("dataset '" + name + "' is not in the catalog");
    const std::string label = entry_label(name);
    if (is_partitioned_type(entry->type)) {
        DatasetConfig config{name, "kiln.PartitionedDataset", dataset_args(name, *entry), project_dir_, value_type, run_id};
        std::unique_ptr<DatasetHandle> handle;
        try {
            handle = make_partitioned_dataset(config, registry_);
        } catch (const ConfigError& e) {
            throw ConfigError(origin_ + ": " + label + ": " + e.what());
        }
        // Each load and save builds its own partition datasets, so threads do not share any.
        auto ref = std::make_unique<DatasetRef>(name, config.type, DatasetTypeOptions{.thread_safe = true},
                                                std::move(handle));
        return *materialised_.emplace(name, std::move(ref)).first->second;
    }
    std::string hint;
    const DatasetType* type = registry_.find_dataset_type(entry->type, hint);
    if (!type) throw ConfigError(origin_ + ": " + label + ": unknown dataset type '" + entry->type + "'; " + hint);
    DatasetConfig config{name, type->qualified_name, dataset_args(name, *entry), project_dir_, value_type, run_id};
    std::string error;
    auto handle = type->spec.create(config, &error);
    if (!handle) throw ConfigError(origin_ + ": " + label + " (" + type->qualified_name + "): " + error);
    auto ref = std::make_unique<DatasetRef>(name, type->qualified_name, type->spec.options, std::move(handle));
    return *materialised_.emplace(name, std::move(ref)).first->second;
}

std::string DataCatalog::entry_label(const std::string& name) const {
    if (const CatalogEntry* pattern = matching_pattern(name))
        return "catalog entry '" + pattern->name + "' (the pattern dataset '" + name + "' matches)";
    return "catalog entry '" + name + "'";
}

bool DataCatalog::is_versioned(const std::string& name) const {
    if (!has_versioned_) return false;
    const CatalogEntry* entry = find_entry(name);
    if (!entry || !entry->args.is_object()) return false;
    auto flag = entry->args.find("versioned");
    if (flag == entry->args.end()) return false;
    if (!flag->is_boolean())
        throw ConfigError(origin_ + ": " + entry_label(name) + ": \"versioned\" must be true or false, got " +
                          flag->dump());
    if (!flag->get<bool>()) return false;
    auto filepath = entry->args.find("filepath");
    if (filepath == entry->args.end() || !filepath->is_string() || filepath->get<std::string>().empty())
        throw ConfigError(origin_ + ": " + entry_label(name) + " (" + entry->type +
                          ") says \"versioned\": true, but only a file dataset (one with a \"filepath\") can be "
                          "versioned; remove \"versioned\" or give the entry a \"filepath\"");
    if (fs::path(filepath->get<std::string>()).filename().empty())
        throw ConfigError(origin_ + ": " + entry_label(name) + ": a versioned dataset's \"filepath\" must name a file (" +
                          filepath->dump() + " ends with '/'); versions are kept as <filepath>/<version>/<file name>");
    return true;
}

DataCatalog::VersionedFile DataCatalog::versioned_file(const std::string& name) const {
    const CatalogEntry* entry = find_entry(name);
    if (!entry) return {};
    fs::path filepath = entry->args.value("filepath", std::string());
    const std::string file_name = filepath.filename().string();
    if (filepath.is_relative()) filepath = project_dir_ / filepath;
    return {filepath.lexically_normal(), file_name};
}

const DatasetVersion* DataCatalog::version_of(const std::string& name) const {
    auto it = versions_.find(name);
    return it == versions_.end() ? nullptr : &it->second;
}

std::optional<std::string> DataCatalog::versioned_filepath(const std::string& name) const {
    const DatasetVersion* version = version_of(name);
    if (!version) return std::nullopt;
    const CatalogEntry* entry = find_entry(name);
    if (!entry) return std::nullopt;
    // A resumed run's journal may hold a version for an entry no longer versioned (--force).
    try {
        if (!is_versioned(name)) return std::nullopt;
    } catch (const Error&) {
        return std::nullopt;  // the entry's own error comes when it is built
    }
    const fs::path filepath = entry->args.value("filepath", std::string());
    return (filepath / version->used() / filepath.filename()).string();
}

nlohmann::json DataCatalog::dataset_args(const std::string& name, const CatalogEntry& entry) const {
    if (!entry.args.is_object() || !entry.args.contains("versioned")) return entry.args;
    nlohmann::json args = entry.args;
    args.erase("versioned");  // the host's, not the dataset type's
    if (!is_versioned(name)) return args;
    std::optional<std::string> filepath = versioned_filepath(name);
    if (!filepath)
        throw ConfigError(origin_ + ": " + entry_label(name) +
                          " is versioned, but this run chose no version for it (only datasets of the pipeline that "
                          "runs get one)");
    args["filepath"] = *filepath;
    return args;
}

bool DataCatalog::is_memory(const std::string& name) const {
    const CatalogEntry* entry = find_entry(name);
    return entry && (entry->type == "kiln.MemoryDataset" || entry->type == "MemoryDataset");
}

bool DataCatalog::persists(const std::string& name) const {
    // One look-up each: incremental runs ask this of every dataset of 100,000-node pipelines.
    if (is_parameter_name(name)) return contains(name);
    const CatalogEntry* entry = find_entry(name);
    if (!entry) return added_.count(name) != 0;  // added by the host; a runner's default dataset does not persist
    return persists(*entry);
}

bool DataCatalog::persists(const CatalogEntry& entry) const {
    if (entry.type == "kiln.MemoryDataset" || entry.type == "MemoryDataset") return false;
    if (is_partitioned_type(entry.type)) return true;  // the host's own type: no plugin to ask
    std::string hint;
    const DatasetType* type = registry_.find_dataset_type(entry.type, hint);
    return !type || type->spec.persists;  // an unknown type fails anyway, when the entry is used
}

Value DataCatalog::memory_preset(const std::string& name, const TypeOps& type) const {
    const CatalogEntry* entry = find_entry(name);
    if (!entry) return {};
    for (const auto& [key, _] : entry->args.items())
        if (key != "data" && key != "metadata")
            throw ConfigError(origin_ + ": " + entry_label(name) + " (kiln.MemoryDataset) has an unknown argument \"" +
                              key + "\"; it takes only \"data\" (a preset value) and \"metadata\"");
    auto data = entry->args.find("data");
    if (data == entry->args.end()) return {};
    try {
        return Value::from_json(type, *data);
    } catch (const TypeError& e) {
        throw ConfigError(origin_ + ": " + entry_label(name) + " (kiln.MemoryDataset): \"data\" " + data->dump() +
                          " cannot be read as '" + std::string(type.name) + "': " + e.what());
    }
}

Value DataCatalog::parameter(const std::string& name, const TypeOps& type) const {
    const nlohmann::json* j = nullptr;
    if (name == "parameters") {
        j = &parameters_.root();
    } else {
        j = parameters_.find(name.substr(7));
        if (!j) {
            auto matches = close_matches(name.substr(7), parameters_.keys());
            const std::string hint = join(matches, ", ", [](const std::string& m) { return "params:" + m; });
            throw ConfigError("parameter '" + name + "' is not defined in parameters.json or --params" +
                              (hint.empty() ? std::string() : "; did you mean " + hint + "?"));
        }
    }
    try {
        return Value::from_json(type, *j);
    } catch (const TypeError& e) {
        throw ConfigError("parameter '" + name + "' = " + j->dump() + " cannot be read as '" + std::string(type.name) +
                          "': " + e.what());
    }
}

std::optional<fs::path> dataset_file(const DataCatalog& catalog, const std::string& dataset) {
    const CatalogEntry* entry = catalog.find_entry(dataset);
    if (!entry) return std::nullopt;
    return dataset_file(catalog, dataset, *entry);
}

std::optional<fs::path> dataset_file(const DataCatalog& catalog, const std::string& dataset, const CatalogEntry& entry) {
    if (auto versioned = catalog.versioned_filepath(dataset)) {
        fs::path p = *versioned;
        return p.is_absolute() ? p : catalog.project_dir() / p;
    }
    if (is_partitioned_type(entry.type)) return partition_folder(catalog.project_dir(), entry.args);
    const auto& args = entry.args;
    auto filepath = args.find("filepath");
    if (filepath == args.end() || !filepath->is_string()) return std::nullopt;
    fs::path p = filepath->get<std::string>();
    return p.is_absolute() ? p : catalog.project_dir() / p;
}

}  // namespace kiln::core
