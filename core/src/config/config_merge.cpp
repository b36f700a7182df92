#include "config/config_merge.hpp"

namespace kiln::core {

std::string dotted(const KeyPath& path) {
    std::string text;
    for (const auto& key : path) text += (text.empty() ? "" : ".") + key;
    return text;
}

void ConfigOrigins::set(const KeyPath& path, const std::string& file) {
    // What was recorded below this path belonged to the value now replaced.
    for (auto it = files_.lower_bound(path); it != files_.end() && it->first.size() >= path.size() &&
                                             std::equal(path.begin(), path.end(), it->first.begin());)
        it = files_.erase(it);
    files_[path] = file;
}

std::string ConfigOrigins::file_of(const KeyPath& path) const {
    for (std::size_t n = path.size() + 1; n-- > 0;) {
        auto it = files_.find(KeyPath(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(n)));
        if (it != files_.end()) return it->second;
    }
    return "";
}

void merge_destructive(MergedConfig& into, const MergedConfig& overlay) {
    for (auto it = overlay.value.begin(); it != overlay.value.end(); ++it) {
        into.value[it.key()] = *it;
        into.origins.set({it.key()}, overlay.origins.file_of({it.key()}));
    }
    into.files.insert(into.files.end(), overlay.files.begin(), overlay.files.end());
}

namespace {
void merge_objects(nlohmann::json& into, const nlohmann::json& overlay, KeyPath& path, ConfigOrigins& origins,
                   const ConfigOrigins& overlay_origins) {
    for (auto it = overlay.begin(); it != overlay.end(); ++it) {
        path.push_back(it.key());
        auto existing = into.find(it.key());
        if (existing != into.end() && existing->is_object() && it->is_object()) {
            merge_objects(*existing, *it, path, origins, overlay_origins);
        } else {
            into[it.key()] = *it;
            origins.set(path, overlay_origins.file_of(path));
        }
        path.pop_back();
    }
}
}  // namespace

void merge_deep(MergedConfig& into, const MergedConfig& overlay) {
    KeyPath path;
    merge_objects(into.value, overlay.value, path, into.origins, overlay.origins);
    into.files.insert(into.files.end(), overlay.files.begin(), overlay.files.end());
}

}  // namespace kiln::core
