#include "catalog/partitioned_dataset.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <set>
#include <utility>
#include <vector>

#include "catalog/catalog.hpp"
#include "catalog/temp_files.hpp"
#include "kiln/detail/guard.hpp"
#include "kiln/error.hpp"
#include "plugins/registry.hpp"
#include "text/join.hpp"

namespace kiln::core {
namespace fs = std::filesystem;
using kiln::detail::DatasetHandle;
using kiln::detail::KeyedEntry;
using kiln::detail::KeyedValues;

namespace {

constexpr const char* type_name = "kiln.PartitionedDataset";

// What every partition of one PartitionedDataset shares; loaders keep it alive.
struct PartitionSetup {
    std::string name;        // the catalog entry's
    std::string where;       // "dataset 'daily' (kiln.PartitionedDataset): "
    std::string given_path;  // "path" as written
    fs::path folder;
    std::string suffix;
    bool overwrite = false;
    std::size_t max_depth = 0;  // load_args.maxdepth: folders deep a partition may be; 0 for any
    std::string filepath_arg = "filepath";
    const DatasetType* partition_type = nullptr;
    nlohmann::json partition_args;  // without the file
    fs::path project_dir;
    std::string run_id;
    const TypeOps* value_type = nullptr;  // null when no node uses the dataset
    const TypeOps* element = nullptr;     // what one partition holds

    fs::path file_of(const std::string& id) const { return folder / (id + suffix); }

    // The partition dataset for `file`; throws kiln::ConfigError with its own message.
    std::unique_ptr<DatasetHandle> partition(const fs::path& file) const {
        nlohmann::json args = partition_args;
        args[filepath_arg] = file.string();
        DatasetConfig config{name, partition_type->qualified_name, std::move(args), project_dir, element, run_id};
        std::string error;
        auto handle = partition_type->spec.create(config, &error);
        if (!handle) throw ConfigError(where + "its partition dataset (" + partition_type->qualified_name + "): " + error);
        return handle;
    }

    // Every partition file below the folder, by id. Throws kiln::DatasetError when the
    // folder cannot be read.
    std::vector<std::pair<std::string, fs::path>> list() const {
        std::vector<std::pair<std::string, fs::path>> found;
        std::error_code ec;
        if (!fs::is_directory(folder, ec)) return found;
        fs::recursive_directory_iterator it(folder, ec), end;
        for (; !ec && it != end; it.increment(ec)) {
            const fs::path& path = it->path();
            const std::string file_name = path.filename().string();
            // maxdepth 1: files in the folder itself; 2: and one folder down; ...
            if (max_depth && static_cast<std::size_t>(it.depth()) + 1 >= max_depth) it.disable_recursion_pending();
            if (file_name.starts_with('.')) {  // hidden files and folders, and our temporaries' folders
                if (it->is_directory(ec)) it.disable_recursion_pending();
                continue;
            }
            if (temp_file_writer(file_name) || !it->is_regular_file(ec)) continue;
            if (file_name.size() <= suffix.size() || !file_name.ends_with(suffix)) continue;
            std::string id = path.lexically_relative(folder).generic_string();
            id.resize(id.size() - suffix.size());
            found.emplace_back(std::move(id), path);
        }
        if (ec) throw DatasetError("cannot list the partitions in '" + folder.string() + "': " + ec.message());
        std::sort(found.begin(), found.end());
        return found;
    }

    // Refuses an id that would not name a file below the folder, or would not load back.
    void check_id(const std::string& id) const {
        auto refuse = [&](const std::string& why) {
            throw DatasetError("cannot save partition '" + id + "' of dataset '" + name + "': " + why);
        };
        if (id.empty()) refuse("its id is empty");
        if (id.find('\0') != std::string::npos) refuse("its id holds a NUL character");
        if (id.front() == '/') refuse("its id is an absolute path; ids are paths below \"path\"");
        std::size_t start = 0;
        while (start <= id.size()) {
            std::size_t slash = std::min(id.find('/', start), id.size());
            const std::string part = id.substr(start, slash - start);
            if (part.empty()) refuse("its id has an empty folder name ('//' or a '/' at the end)");
            if (part == "." || part == "..") refuse("its id holds '" + part + "', which would leave the folder");
            if (part.front() == '.') refuse("a name in its id starts with '.', so it would be hidden and not load back");
            start = slash + 1;
        }
    }
};

// Reads one partition when a node asks for it.
class PartitionLoader final : public kiln::detail::EntryLoader {
public:
    PartitionLoader(std::shared_ptr<const PartitionSetup> setup, std::string id, fs::path file)
        : setup_(std::move(setup)), id_(std::move(id)), file_(std::move(file)) {}

    std::shared_ptr<const void> load(std::string* error) const noexcept override {
        std::shared_ptr<const void> object;
        kiln::detail::guard(error, [&] {
            Value value;
            std::string why;
            if (!setup_->partition(file_)->load(&value, &why))
                throw DatasetError("cannot load partition '" + id_ + "' of dataset '" + setup_->name + "': " + why);
            if (value.empty())
                throw DatasetError("partition '" + id_ + "' of dataset '" + setup_->name + "': its dataset (" +
                                   setup_->partition_type->qualified_name + ") loaded no value");
            if (value.type_name() != setup_->element->name)
                throw DatasetError("partition '" + id_ + "' of dataset '" + setup_->name + "' loaded as '" +
                                   std::string(value.type_name()) + "', not '" + std::string(setup_->element->name) + "'");
            object = value.shared();
        });
        return object;
    }

private:
    std::shared_ptr<const PartitionSetup> setup_;
    std::string id_;
    fs::path file_;
};

class PartitionedDataset final : public DatasetHandle {
public:
    explicit PartitionedDataset(std::shared_ptr<const PartitionSetup> setup) : setup_(std::move(setup)) {}

    bool load(Value* out, std::string* error) noexcept override {
        return kiln::detail::guard(error, [&] {
            const PartitionSetup& s = *setup_;
            const TypeOps& type = value_type();
            const auto found = s.list();
            if (found.empty()) throw DatasetError(no_partitions());
            KeyedValues entries;
            entries.reserve(found.size());
            for (const auto& [id, file] : found)
                entries.push_back(KeyedEntry{id, nullptr, nullptr, std::make_shared<PartitionLoader>(setup_, id, file)});
            std::string why;
            auto object = type.from_keyed(entries, &why);
            if (!object) throw DatasetError(why);
            *out = kiln::detail::value_from_raw(std::move(object), &type);
        });
    }

    bool save(const Value& value, std::string* error) noexcept override {
        return kiln::detail::guard(error, [&] {
            const PartitionSetup& s = *setup_;
            // By name: the value may come from another plugin's copy of the same type.
            const TypeOps& type = value_type();
            if (value.empty() || value.type_name() != type.name)
                throw DatasetError("kiln.PartitionedDataset saves the '" + std::string(type.name) +
                                   "' the pipeline declared, not '" + std::string(value.type_name()) + "'");
            KeyedValues entries;
            std::string why;
            if (!type.to_keyed(value.shared(), &entries, &why)) throw DatasetError(why);
            for (const KeyedEntry& e : entries) s.check_id(e.key);  // before any file is written
            std::set<std::string> written;
            for (const KeyedEntry& e : entries) {
                save_one(e);
                written.insert(e.key);
            }
            if (s.overwrite) remove_others(written);
        });
    }

    int exists(std::string* error) noexcept override {
        int result = -1;
        kiln::detail::guard(error, [&] { result = setup_->list().empty() ? 0 : 1; });
        return result;
    }

    bool release(std::string*) noexcept override { return true; }

    std::string describe() const noexcept override {
        std::string text;
        kiln::detail::guard(nullptr, [&] {
            text = "PartitionedDataset(" + setup_->given_path + ", " + setup_->partition_type->qualified_name +
                   (setup_->suffix.empty() ? "" : ", *" + setup_->suffix) + ")";
        });
        return text;
    }

private:
    const TypeOps& value_type() const {
        if (!setup_->value_type)
            throw DatasetError(setup_->where + "is used by no node, so the type of its partitions is unknown");
        return *setup_->value_type;
    }

    std::string no_partitions() const {
        const PartitionSetup& s = *setup_;
        std::error_code ec;
        const std::string start = "no partitions found in '" + s.folder.string() + "' (dataset '" + s.name + "'): ";
        if (!fs::exists(s.folder, ec))
            return start + "the folder does not exist; run the node that writes it first, or fix \"path\"";
        if (!fs::is_directory(s.folder, ec)) return start + "it is not a folder; point \"path\" at a folder";
        return start + (s.suffix.empty() ? std::string("the folder holds no files")
                                         : "the folder holds no files ending in '" + s.suffix + "'");
    }

    // One partition, made now if it is lazy and dropped once written.
    void save_one(const KeyedEntry& e) const {
        const PartitionSetup& s = *setup_;
        std::string why;
        auto object = kiln::detail::entry_object(e, &why);
        if (!object) throw DatasetError("cannot make partition '" + e.key + "' of dataset '" + s.name + "': " + why);
        const Value value = kiln::detail::value_from_raw(std::move(object), e.type ? e.type : s.element);
        const fs::path file = s.file_of(e.key);
        std::error_code ec;
        fs::create_directories(file.parent_path(), ec);
        if (ec)
            throw DatasetError("cannot save partition '" + e.key + "' of dataset '" + s.name + "': cannot create '" +
                               file.parent_path().string() + "': " + ec.message());
        if (!s.partition(file)->save(value, &why))
            throw DatasetError("cannot save partition '" + e.key + "' of dataset '" + s.name + "': " + why);
    }

    // "overwrite": the partitions this save did not write go, once every new one is written,
    // so a failed save never leaves fewer partitions than before. Folders left empty go too.
    void remove_others(const std::set<std::string>& written) const {
        const PartitionSetup& s = *setup_;
        std::set<fs::path> folders;
        for (const auto& [id, file] : s.list()) {
            if (written.count(id)) continue;
            std::error_code ec;
            fs::remove(file, ec);
            if (ec) throw DatasetError("cannot remove old partition '" + file.string() + "' (dataset '" + s.name +
                                       "', \"overwrite\": true): " + ec.message());
            for (fs::path dir = file.parent_path(); dir != s.folder && dir.string().size() > s.folder.string().size();
                 dir = dir.parent_path())
                folders.insert(dir);
        }
        // Deepest first; a folder that still holds something stays (remove fails quietly).
        for (auto it = folders.rbegin(); it != folders.rend(); ++it) {
            std::error_code ec;
            if (fs::is_empty(*it, ec)) fs::remove(*it, ec);
        }
    }

    std::shared_ptr<const PartitionSetup> setup_;
};

// "dataset": a type name, or an object with "type" and the partition dataset's arguments.
void read_partition_dataset(const DatasetConfig& config, const Registry& registry, PartitionSetup& s) {
    auto it = config.args.find("dataset");
    if (it == config.args.end())
        throw ConfigError(s.where + "needs \"dataset\": the type that reads and writes each partition, e.g. "
                                    "\"kiln.TextDataset\" or {\"type\": \"kiln.CsvDataset\", ...}");
    std::string type;
    nlohmann::json args = nlohmann::json::object();
    if (it->is_string()) {
        type = it->get<std::string>();
    } else if (it->is_object() && it->contains("type") && (*it)["type"].is_string()) {
        type = (*it)["type"].get<std::string>();
        args = *it;
        args.erase("type");
    } else {
        throw ConfigError(s.where + "\"dataset\" must be a dataset type or an object with a \"type\", got " + it->dump());
    }
    if (is_partitioned_type(type)) throw ConfigError(s.where + "a partition cannot itself be a kiln.PartitionedDataset");
    if (type == "kiln.MemoryDataset" || type == "MemoryDataset")
        throw ConfigError(s.where + "a partition cannot be a kiln.MemoryDataset; partitions are files");
    std::string hint;
    s.partition_type = registry.find_dataset_type(type, hint);
    if (!s.partition_type) throw ConfigError(s.where + "unknown partition dataset type '" + type + "'; " + hint);
    if (args.contains(s.filepath_arg))
        throw ConfigError(s.where + "\"dataset\" gives \"" + s.filepath_arg +
                          "\", but each partition's file comes from \"path\" and the partition's id; remove it");
    if (args.contains("versioned")) throw ConfigError(s.where + "partitions cannot be versioned; remove \"versioned\"");
    // Kedro's rule: the partitions use the entry's credentials unless they name their own.
    if (auto credentials = config.args.find("credentials"); credentials != config.args.end() && !args.contains("credentials"))
        args["credentials"] = *credentials;
    s.partition_args = std::move(args);
}

// Kedro's "load_args" are fsspec's listing options: "maxdepth" (a positive integer) is
// honoured, "withdirs": false is what Kiln does anyway; folders are never partitions here.
// "save_lazily": Kedro's default (true) is what Kiln does: a lazily added partition is made
// when it is saved; there is nothing to turn off, as partitions never hold functions.
void read_listing_args(const DatasetConfig& config, PartitionSetup& s) {
    if (auto lazily = config.args.find("save_lazily"); lazily != config.args.end() && *lazily != true)
        throw ConfigError(s.where + "\"save_lazily\" can only be true here (a partition added with add_lazy is "
                                    "made when it is saved); remove it, got " + lazily->dump());
    auto it = config.args.find("load_args");
    if (it == config.args.end() || it->is_null()) return;
    if (!it->is_object()) throw ConfigError(s.where + "\"load_args\" must be an object, got " + it->dump());
    for (const auto& [key, value] : it->items()) {
        if (key == "maxdepth") {
            if (!value.is_number_unsigned() || value.get<std::uint64_t>() == 0)
                throw ConfigError(s.where + "\"load_args\": \"maxdepth\" must be a positive integer (1: only the "
                                            "files in \"path\" itself), got " + value.dump());
            s.max_depth = value.get<std::size_t>();
        } else if (key == "withdirs") {
            if (value != false)
                throw ConfigError(s.where + "\"load_args\": \"withdirs\": true is not supported; partitions are files");
        } else {
            throw ConfigError(s.where + "\"load_args\" takes \"maxdepth\" and \"withdirs\" (the listing's options), "
                                        "not \"" + key + "\"");
        }
    }
}

}  // namespace

bool is_partitioned_type(const std::string& type) {
    return type == type_name || type == "PartitionedDataset";
}

std::optional<fs::path> partition_folder(const fs::path& project_dir, const nlohmann::json& args) {
    if (!args.is_object()) return std::nullopt;
    auto path = args.find("path");
    if (path == args.end() || !path->is_string() || path->get<std::string>().empty()) return std::nullopt;
    fs::path folder = path->get<std::string>();
    return (folder.is_absolute() ? folder : project_dir / folder).lexically_normal();
}

std::vector<fs::path> partition_folders(const DataCatalog& catalog, const CatalogEntry& entry) {
    std::vector<fs::path> folders;
    auto folder = partition_folder(catalog.project_dir(), entry.args);
    std::error_code ec;
    if (!folder || !fs::is_directory(*folder, ec)) return folders;
    folders.push_back(*folder);
    fs::recursive_directory_iterator it(*folder, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        if (!it->is_directory(ec)) continue;
        if (it->path().filename().string().starts_with('.')) {
            it.disable_recursion_pending();
            continue;
        }
        folders.push_back(it->path());
    }
    return folders;
}

std::unique_ptr<DatasetHandle> make_partitioned_dataset(const DatasetConfig& config, const Registry& registry) {
    auto s = std::make_shared<PartitionSetup>();
    s->name = config.name;
    s->where = "dataset '" + config.name + "' (" + type_name + "): ";
    if (!config.args.is_object()) throw ConfigError(s->where + "arguments must be a JSON object");
    static const std::vector<std::string> known = {"path",        "dataset",  "filename_suffix", "overwrite",
                                                   "filepath_arg", "load_args", "save_lazily",    "credentials",
                                                   "metadata"};
    for (const auto& [key, _] : config.args.items())
        if (std::find(known.begin(), known.end(), key) == known.end())
            throw ConfigError(s->where + "unknown argument \"" + key + "\"; it takes " + quoted_join(known));
    s->given_path = config.string_arg("path", "");
    if (s->given_path.empty())
        throw ConfigError(s->where + "needs \"path\": the folder that holds the partitions, e.g. \"data/01_raw/daily\"");
    s->folder = config.path_arg("path").lexically_normal();
    s->suffix = config.string_arg("filename_suffix", "");
    if (s->suffix.find('/') != std::string::npos)
        throw ConfigError(s->where + "\"filename_suffix\" " + nlohmann::json(s->suffix).dump() + " holds a '/'");
    s->filepath_arg = config.string_arg("filepath_arg", "filepath");
    if (s->filepath_arg.empty()) throw ConfigError(s->where + "\"filepath_arg\" is empty");
    if (auto overwrite = config.args.find("overwrite"); overwrite != config.args.end()) {
        if (!overwrite->is_boolean())
            throw ConfigError(s->where + "\"overwrite\" must be true or false, got " + overwrite->dump());
        s->overwrite = overwrite->get<bool>();
    }
    read_listing_args(config, *s);
    read_partition_dataset(config, registry, *s);
    s->project_dir = config.project_dir;
    s->run_id = config.run_id;
    s->value_type = config.value_type;
    if (config.value_type) {
        s->element = registry.keyed_element(config.value_type);
        if (!s->element)
            throw ConfigError(s->where + "the pipeline moves '" + std::string(config.value_type->name) +
                              "' through it, but a partitioned dataset holds many values: take a "
                              "'const kiln::Partitions<" + std::string(config.value_type->name) +
                              ">&' (kiln/partitions.hpp), or a std::map<std::string, " +
                              std::string(config.value_type->name) + ">, in the node");
        s->partition(s->folder / ("partition" + s->suffix));  // its arguments and type are checked now
    }
    return std::make_unique<PartitionedDataset>(std::move(s));
}

}  // namespace kiln::core
