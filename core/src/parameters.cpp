#include <functional>

#include "kiln/core/catalog.hpp"
#include "kiln/core/json_file.hpp"
#include "kiln/error.hpp"

namespace kiln::core {

namespace {
std::vector<std::string> split_dotted(const std::string& key) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        auto dot = key.find('.', start);
        parts.push_back(key.substr(start, dot - start));
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return parts;
}
std::string strip(const std::string& s) {
    constexpr const char* space = " \t\n\r\f\v";
    const auto first = s.find_first_not_of(space);
    if (first == std::string::npos) return {};
    return s.substr(first, s.find_last_not_of(space) - first + 1);
}
}  // namespace

Parameters::Parameters(nlohmann::json root, std::string origin) : root_(std::move(root)), origin_(std::move(origin)) {
    if (root_.is_null()) root_ = nlohmann::json::object();
    if (!root_.is_object())
        throw ConfigError(origin_ + ": parameters must be a JSON object such as {\"min_length\": 3}, got " +
                          std::string(root_.type_name()));
}

void Parameters::set(const std::string& dotted_key, nlohmann::json value) {
    auto parts = split_dotted(dotted_key);
    nlohmann::json* node = &root_;
    std::string path;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (parts[i].empty()) throw ConfigError("parameter key '" + dotted_key + "' has an empty part");
        path += (i ? "." : "") + parts[i];
        if (i + 1 == parts.size()) {
            (*node)[parts[i]] = std::move(value);
            return;
        }
        nlohmann::json& next = (*node)[parts[i]];
        if (next.is_null()) next = nlohmann::json::object();
        if (!next.is_object())
            throw ConfigError("cannot set parameter '" + dotted_key + "': '" + path + "' is a " + next.type_name() +
                              ", not an object");
        node = &next;
    }
}

const nlohmann::json* Parameters::find(const std::string& dotted_key) const {
    // A literal key containing dots wins over a nested path.
    if (auto it = root_.find(dotted_key); it != root_.end()) return &*it;
    const nlohmann::json* node = &root_;
    for (const auto& part : split_dotted(dotted_key)) {
        if (!node->is_object()) return nullptr;
        auto it = node->find(part);
        if (it == node->end()) return nullptr;
        node = &*it;
    }
    return node;
}

std::vector<std::string> Parameters::keys() const {
    std::vector<std::string> out;
    std::function<void(const nlohmann::json&, const std::string&)> walk = [&](const nlohmann::json& j,
                                                                             const std::string& prefix) {
        for (auto it = j.begin(); it != j.end(); ++it) {
            std::string k = prefix.empty() ? it.key() : prefix + "." + it.key();
            out.push_back(k);
            if (it->is_object()) walk(*it, k);
        }
    };
    walk(root_, "");
    return out;
}

std::vector<std::pair<std::string, nlohmann::json>> parse_params_option(const std::string& text) {
    std::vector<std::pair<std::string, nlohmann::json>> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        // Commas inside brackets or quotes belong to the value: --params "xs=[1,2],name=a"
        std::size_t end = start;
        int depth = 0;
        bool quoted = false;
        for (; end < text.size(); ++end) {
            char c = text[end];
            if (c == '"') quoted = !quoted;
            else if (!quoted && (c == '[' || c == '{')) ++depth;
            else if (!quoted && (c == ']' || c == '}')) --depth;
            else if (!quoted && depth == 0 && c == ',') break;
        }
        // As Kedro: items, keys and values are stripped of surrounding whitespace, and empty
        // items are dropped ("a=1, b=2," is a=1 and b=2).
        std::string item = strip(text.substr(start, end - start));
        start = end + 1;
        if (item.empty()) {
            if (end >= text.size()) break;
            continue;
        }
        auto eq = item.find('=');
        std::string key = eq == std::string::npos ? std::string() : strip(item.substr(0, eq));
        if (key.empty())
            throw ConfigError("--params: item '" + item + "' must be KEY=VALUE (e.g. --params model.alpha=0.1,name=x)");
        std::string raw = strip(item.substr(eq + 1));
        nlohmann::json value = nlohmann::json::parse(raw, nullptr, false);
        if (value.is_discarded()) value = raw;  // not JSON: a plain string
        out.emplace_back(std::move(key), std::move(value));
        if (end >= text.size()) break;
    }
    return out;
}

bool is_parameter_name(const std::string& dataset) {
    return dataset == "parameters" || dataset.rfind("params:", 0) == 0;
}

}  // namespace kiln::core
