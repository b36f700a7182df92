#include <algorithm>
#include <functional>
#include <optional>

#include "catalog/catalog.hpp"
#include "config/json_file.hpp"
#include "kiln/error.hpp"
#include "text/name_text.hpp"
#include "text/split.hpp"

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
// Refuses text from the command line that is not UTF-8: it could not be written to the
// run's journal or report, and a parameter is config, so it is refused rather than mangled.
void require_utf8(const std::string& text, const std::string& what) {
    if (auto at = invalid_utf8_at(text))
        throw ConfigError("--params: " + what + " is not UTF-8 text (byte " + escaped(text.substr(*at, 1)) +
                          " at offset " + std::to_string(*at) + "); give parameters as UTF-8 (e.g. convert with iconv -f latin1 -t utf-8)");
}

// A key as messages show it: a very long one keeps its start and end.
std::string shown_key(const std::string& key) {
    constexpr std::size_t most = 80;
    if (key.size() <= most) return key;
    return key.substr(0, 50) + " ... " + key.substr(key.size() - 25);
}

// Parameter names are printed in logs and messages: a control character (an ANSI escape)
// in one would act on the terminal of whoever reads them.
void require_printable_key(const std::string& key, const std::string& where) {
    if (has_control_character(key))
        throw ConfigError(where + ": the parameter name " + escaped(key) +
                          " holds a control character; use letters, digits, '_', '-' and '.'");
}
}  // namespace

Parameters::Parameters(nlohmann::json root, std::string origin) : root_(std::move(root)), origin_(std::move(origin)) {
    if (root_.is_null()) root_ = nlohmann::json::object();
    if (!root_.is_object())
        throw ConfigError(origin_ + ": parameters must be a JSON object such as {\"min_length\": 3}, got " +
                          std::string(root_.type_name()));
    // Iterative: the file's nesting is bounded, but this walk need not rely on it.
    std::vector<std::pair<const nlohmann::json*, std::string>> todo{{&root_, ""}};
    while (!todo.empty()) {
        auto [j, prefix] = std::move(todo.back());
        todo.pop_back();
        for (auto it = j->begin(); it != j->end(); ++it) {
            std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
            require_printable_key(it.key(), origin_ + (prefix.empty() ? "" : ": in \"" + prefix + "\""));
            if (it->is_object()) todo.emplace_back(&*it, std::move(key));
        }
    }
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
        require_utf8(key, "the parameter name " + escaped(key));
        require_utf8(raw, "the value of parameter '" + shown_key(key) + "'");
        require_printable_key(key, "--params");
        const std::string origin = "--params: parameter '" + shown_key(key) + "'";
        std::optional<nlohmann::json> parsed = parse_json_if_json(raw, origin);
        nlohmann::json value = parsed ? std::move(*parsed) : nlohmann::json(raw);  // not JSON: a plain string
        // Each dotted part nests the value one object deeper in the parameters.
        const std::size_t parts = static_cast<std::size_t>(std::count(key.begin(), key.end(), '.')) + 1;
        if (parts + json_nesting(value) > max_json_nesting)
            throw ConfigError(origin + ": the key's " + std::to_string(parts) + " dotted parts and the value's " +
                              std::to_string(json_nesting(value)) + " levels nest deeper than " +
                              std::to_string(max_json_nesting) +
                              " levels of objects and lists, the most Kiln reads; flatten it");
        out.emplace_back(std::move(key), std::move(value));
        if (end >= text.size()) break;
    }
    return out;
}


}  // namespace kiln::core
