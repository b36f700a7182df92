// Merging configuration documents the way Kedro's OmegaConfigLoader does, remembering
// which file each part came from so that messages can name it.
//
//     MergedConfig base = ..., local = ...;
//     merge_destructive(base, local);  // catalog, credentials, globals, settings, pipelines
//     merge_deep(base, local);         // parameters
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kiln::core {

// A key path inside a document: {"model", "alpha"}.
using KeyPath = std::vector<std::string>;

// "model.alpha", as messages show a key path.
std::string dotted(const KeyPath& path);

// Which file defined each part of a merged document: the file of the longest recorded
// prefix of a key path.
class ConfigOrigins {
public:
    void set(const KeyPath& path, const std::string& file);
    // The file that defined `path`, or "" when none did.
    std::string file_of(const KeyPath& path) const;

private:
    std::map<KeyPath, std::string> files_;
};

struct MergedConfig {
    nlohmann::json value = nlohmann::json::object();
    ConfigOrigins origins;
    std::vector<std::string> files;  // the files read, in order
};

// Kedro's default ("destructive"): a top-level key of `overlay` replaces the same key of
// `into`, sub-keys and all.
void merge_destructive(MergedConfig& into, const MergedConfig& overlay);

// Kedro's "soft" strategy, recursive: objects present in both are merged key by key, any
// other value of `overlay` replaces the one in `into`.
void merge_deep(MergedConfig& into, const MergedConfig& overlay);

}  // namespace kiln::core
