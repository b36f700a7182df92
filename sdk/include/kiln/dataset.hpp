// Dataset types: how a catalog entry loads and saves values.
//
// Write a class derived from kiln::Dataset with a constructor taking the entry's
// configuration, and register it in your plugin block:
//
//     class LinesDataset : public kiln::Dataset {
//     public:
//         explicit LinesDataset(const kiln::DatasetConfig& config)
//             : path_(config.path_arg("filepath")) {
//             config.require_type<std::vector<std::string>>();
//         }
//         kiln::Value load() override { ... }
//         void save(const kiln::Value& v) override { ... v.get<std::vector<std::string>>() ... }
//         bool exists() const override { return std::filesystem::exists(path_); }
//         std::string describe() const override { return "LinesDataset(" + path_.string() + ")"; }
//     private:
//         std::filesystem::path path_;
//     };
//     KILN_PLUGIN(mydata) { reg.dataset<LinesDataset>("LinesDataset"); }
//
// kiln::DatasetFile (kiln/dataset_file.hpp) does the file part as the shipped datasets do:
// "filepath", unknown arguments refused, reads and atomic writes with clear errors.
//
// Contract: throw (any std::exception; kiln::DatasetError reads best) to report a
// failure; the host adds the dataset's name. A dataset object is used by one thread at a
// time unless its type declares `thread_safe`. Writes should be atomic
// (kiln::write_file_atomic) so a failed run never leaves a half-written file.
//
// A type whose data does not outlive the run (a cache, memory shared with other
// processes) says so, as Kedro's _EPHEMERAL does, with a member of the class:
//
//     static constexpr bool persists = false;
//
// Its entries then count as in-memory for --only-missing-outputs and --resume: their
// producers run again when a node that reads them must run.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "kiln/error.hpp"
#include "kiln/type_options.hpp"
#include "kiln/value.hpp"

namespace kiln {

// What a dataset is constructed from: one catalog entry, resolved.
struct DatasetConfig {
    std::string name;                    // the catalog entry's name, e.g. "word_counts"
    std::string type;                    // qualified type, e.g. "kiln.JsonDataset"
    nlohmann::json args;                 // the entry's other keys, e.g. {"filepath": "..."}
    std::filesystem::path project_dir;   // relative paths are relative to this
    const TypeOps* value_type = nullptr; // the type the pipeline moves through this dataset
    std::string run_id;

    // A required string argument, e.g. args["filepath"].
    std::string string_arg(const std::string& key) const {
        auto it = args.find(key);
        if (it == args.end()) throw ConfigError(where() + "needs \"" + key + "\"");
        if (!it->is_string()) throw ConfigError(where() + "\"" + key + "\" must be a string, got " + it->dump());
        return it->get<std::string>();
    }
    std::string string_arg(const std::string& key, const std::string& fallback) const {
        return args.contains(key) ? string_arg(key) : fallback;
    }
    // A path argument, made absolute against the project directory. A NUL in it is refused:
    // the C library would silently cut the path short there.
    std::filesystem::path path_arg(const std::string& key) const {
        std::string text = string_arg(key);
        if (auto nul = text.find('\0'); nul != std::string::npos)
            throw ConfigError(where() + "\"" + key + "\" contains a NUL character (\\u0000) after '" +
                              text.substr(0, nul) + "'; no file name can hold one, so fix the path");
        std::filesystem::path p = std::move(text);
        return p.is_absolute() ? p : project_dir / p;
    }
    // Refuses, at pipeline build time, a value type this dataset cannot store.
    template <Codec T>
    void require_type() const {
        if (value_type && value_type->name != codec<T>::name)
            throw ConfigError(where() + "stores '" + std::string(codec<T>::name) + "' values but the pipeline moves '" +
                              std::string(value_type->name) + "' through it");
    }
    const TypeOps& value_type_or_throw() const {
        if (!value_type) throw ConfigError(where() + "is used by no node, so its value type is unknown");
        return *value_type;
    }
    std::string where() const { return "dataset '" + name + "' (" + type + "): "; }
};

class Dataset {
public:
    virtual ~Dataset() = default;
    virtual Value load() = 0;
    virtual void save(const Value& value) = 0;
    virtual bool exists() const = 0;
    // Drop cached data; called after the dataset's last consumer in a run.
    virtual void release() {}
    // One line for logs, e.g. "JsonDataset(data/counts.json)".
    virtual std::string describe() const = 0;
};

}  // namespace kiln

#include "kiln/detail/dataset_adaptor.hpp"
