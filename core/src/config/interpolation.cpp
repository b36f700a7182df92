#include "config/interpolation.hpp"

#include <algorithm>
#include <cstdlib>

#include "config/json_file.hpp"
#include "kiln/error.hpp"
#include "text/join.hpp"
#include "text/split.hpp"

namespace kiln::core {

namespace {

struct Segment {
    bool is_reference;
    std::string text;  // the text, or what is between ${ and }
};

// Splits "a_${globals:x}_b" into text and references; "\${" is the text "${".
std::vector<Segment> split_references(const std::string& s, const std::string& where) {
    std::vector<Segment> segments;
    std::string text;
    for (std::size_t i = 0; i < s.size();) {
        if (s.compare(i, 3, "\\${") == 0) {
            text += "${";
            i += 3;
        } else if (s.compare(i, 2, "${") == 0) {
            std::size_t j = i + 2;
            int depth = 1;
            while (j < s.size()) {
                if (s.compare(j, 2, "${") == 0) {
                    ++depth;
                    j += 2;
                    continue;
                }
                if (s[j] == '}' && --depth == 0) break;
                ++j;
            }
            if (j >= s.size())
                throw ConfigError(where + ": \"" + s + "\" opens ${ without a closing }; close it, or write \\${ for the text ${");
            if (!text.empty()) segments.push_back({false, std::move(text)});
            text.clear();
            segments.push_back({true, s.substr(i + 2, j - i - 2)});
            i = j + 1;
        } else {
            text += s[i++];
        }
    }
    if (!text.empty() || segments.empty()) segments.push_back({false, std::move(text)});
    return segments;
}

bool may_interpolate(const nlohmann::json& value) {
    if (value.is_string()) return value.get_ref<const std::string&>().find("${") != std::string::npos;
    if (value.is_structured())
        return std::any_of(value.begin(), value.end(), [](const nlohmann::json& v) { return may_interpolate(v); });
    return false;
}

// A dotted key in an object; a literal key holding dots wins, as for --params.
const nlohmann::json* find_dotted(const nlohmann::json& root, const std::string& key) {
    if (!root.is_object()) return nullptr;
    if (auto it = root.find(key); it != root.end()) return &*it;
    const nlohmann::json* node = &root;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = key.find('.', start);
        const std::string part = key.substr(start, dot - start);
        if (!node->is_object()) return nullptr;
        auto it = node->find(part);
        if (it == node->end()) return nullptr;
        node = &*it;
        if (dot == std::string::npos) return node;
        start = dot + 1;
    }
}

class Interpolator {
public:
    explicit Interpolator(const InterpolationSources& sources) : sources_(sources) {}

    nlohmann::json string(const std::string& s, const std::string& where) {
        if (s.find("${") == std::string::npos) return s;
        const std::vector<Segment> segments = split_references(s, where);
        if (segments.size() == 1 && segments[0].is_reference) return evaluate(segments[0].text, where);
        std::string out;
        for (const auto& segment : segments) {
            if (!segment.is_reference) {
                out += segment.text;
                continue;
            }
            const nlohmann::json value = evaluate(segment.text, where);
            out += value.is_string() ? value.get<std::string>() : value.dump();
        }
        return out;
    }

    void tree(nlohmann::json& value, KeyPath& path, const ConfigOrigins& origins) {
        if (value.is_string()) {
            if (value.get_ref<const std::string&>().find("${") != std::string::npos)
                value = string(value.get<std::string>(), origins.file_of(path) + ": " + dotted(path));
        } else if (value.is_object()) {
            for (auto it = value.begin(); it != value.end(); ++it) {
                path.push_back(it.key());
                tree(*it, path, origins);
                path.pop_back();
            }
        } else if (value.is_array()) {
            for (std::size_t i = 0; i < value.size(); ++i) {
                path.push_back(std::to_string(i));
                tree(value[i], path, origins);
                path.pop_back();
            }
        }
    }

private:
    nlohmann::json evaluate(const std::string& expression, const std::string& where) {
        const std::string shown = "${" + expression + "}";
        const std::size_t colon = expression.find(':');
        if (colon == std::string::npos)
            throw ConfigError(where + ": " + shown + " names no resolver; write ${globals:" + strip(expression) +
                              "} and define it in globals.json, or ${runtime_params:" + strip(expression) + "}");
        const std::string resolver = strip(expression.substr(0, colon));
        const std::string rest = expression.substr(colon + 1);
        // The default starts at the first comma outside nested ${...}.
        std::size_t comma = std::string::npos;
        for (std::size_t i = 0, depth = 0; i < rest.size(); ++i) {
            if (rest.compare(i, 2, "${") == 0) ++depth;
            else if (rest[i] == '}' && depth > 0) --depth;
            else if (rest[i] == ',' && depth == 0) {
                comma = i;
                break;
            }
        }
        const std::string key = strip(rest.substr(0, comma));
        std::optional<std::string> fallback;
        if (comma != std::string::npos) fallback = strip(rest.substr(comma + 1));
        if (key.empty()) throw ConfigError(where + ": " + shown + " names no key");
        auto otherwise = [&](const std::string& why) -> nlohmann::json {
            if (fallback) return default_value(*fallback, where);
            throw ConfigError(where + ": " + shown + " " + why);
        };
        if (resolver == "globals") {
            const nlohmann::json* value = sources_.globals ? find_dotted(sources_.globals->value, key) : nullptr;
            if (!value) {
                const std::string files = sources_.globals && !sources_.globals->files.empty()
                                              ? join(sources_.globals->files)
                                              : std::string("globals.json (there is none)");
                return otherwise("is not defined in " + files + "; define \"" + key + "\" there, or give a default: ${globals:" +
                                 key + ", VALUE}");
            }
            return global(key, *value);
        }
        if (resolver == "runtime_params") {
            const nlohmann::json* value = sources_.runtime_params ? find_dotted(*sources_.runtime_params, key) : nullptr;
            if (value) return *value;
            return otherwise("has no value: pass --params " + key + "=VALUE, or give a default: ${runtime_params:" + key +
                             ", VALUE}");
        }
        if (resolver == "oc.env") {
            if (!sources_.allow_env)
                throw ConfigError(where + ": " + shown +
                                  " reads an environment variable, which only credentials.json may do (they are "
                                  "for secrets); put it in credentials.json and name the credentials in the catalog "
                                  "entry (\"credentials\": NAME), or use ${runtime_params:...}");
            if (const char* env = std::getenv(key.c_str())) return std::string(env);
            return otherwise("names the environment variable " + key + ", which is not set; set it, or give a default: ${oc.env:" +
                             key + ", VALUE}");
        }
        throw ConfigError(where + ": " + shown + " uses the unknown resolver '" + resolver +
                          "'; Kiln knows globals, runtime_params and (in credentials.json) oc.env");
    }

    // A global, its own references resolved; a chain that comes back to itself is a cycle.
    nlohmann::json global(const std::string& key, const nlohmann::json& raw) {
        if (!may_interpolate(raw)) return raw;
        const KeyPath path = {key};
        const std::string where = sources_.globals->origins.file_of(path) + ": " + key;
        if (std::find(resolving_.begin(), resolving_.end(), key) != resolving_.end()) {
            std::string chain;
            auto from = std::find(resolving_.begin(), resolving_.end(), key);
            for (auto it = from; it != resolving_.end(); ++it) chain += "${globals:" + *it + "} -> ";
            throw ConfigError(where + ": cyclic reference " + chain + "${globals:" + key +
                              "}; make one of them a plain value");
        }
        resolving_.push_back(key);
        nlohmann::json value = raw;
        KeyPath inner = {key};
        ConfigOrigins origins;
        origins.set({}, sources_.globals->origins.file_of(path));
        tree(value, inner, origins);
        resolving_.pop_back();
        return value;
    }

    nlohmann::json default_value(const std::string& text, const std::string& where) {
        if (text.find("${") != std::string::npos) return string(text, where);
        if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'') return text.substr(1, text.size() - 2);
        if (auto parsed = parse_json_if_json(text, where)) return *parsed;
        return text;
    }

    const InterpolationSources& sources_;
    std::vector<std::string> resolving_;  // globals being resolved, outermost first
};

}  // namespace

void resolve_interpolations(MergedConfig& doc, const InterpolationSources& sources) {
    Interpolator interpolator(sources);
    KeyPath path;
    interpolator.tree(doc.value, path, doc.origins);
}

nlohmann::json resolve_string(const std::string& text, const InterpolationSources& sources, const std::string& where) {
    return Interpolator(sources).string(text, where);
}

}  // namespace kiln::core
