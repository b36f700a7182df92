#include "catalog/dataset_patterns.hpp"

#include <algorithm>
#include <tuple>

#include "kiln/error.hpp"
#include "text/join.hpp"

namespace kiln::core {

namespace {

using Segment = PatternSegment;

// As `parse` reads a pattern.
std::vector<Segment> segments_of(std::string_view pattern) {
    std::vector<Segment> out;
    auto literal = [&](std::string_view s) {
        if (out.empty() || out.back().placeholder) out.push_back({false, {}});
        out.back().text += s;
    };
    for (std::size_t i = 0; i < pattern.size();) {
        const char c = pattern[i];
        if ((c == '{' || c == '}') && i + 1 < pattern.size() && pattern[i + 1] == c) {
            literal(pattern.substr(i, 1));
            i += 2;
            continue;
        }
        const std::size_t close = c == '{' ? pattern.find('}', i + 1) : std::string_view::npos;
        if (close == std::string_view::npos) {
            literal(pattern.substr(i, 1));
            ++i;
            continue;
        }
        std::string_view field = pattern.substr(i + 1, close - i - 1);
        field = field.substr(0, field.find(':'));  // a format spec ("{n:d}") does not name it
        out.push_back({true, std::string(field)});
        i = close + 1;
    }
    return out;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool same_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return lower(x) == lower(y);
           });
}

// Backtracking in the order a regular expression of lazy groups tries: each placeholder
// first takes one character, then more, so the first match found is the one `parse` finds.
bool match_from(const std::vector<Segment>& segs, std::size_t s, std::string_view name, std::size_t pos,
                PlaceholderValues& values) {
    if (s == segs.size()) return pos == name.size();
    const Segment& seg = segs[s];
    const std::string_view rest = name.substr(pos);
    if (!seg.placeholder) {
        if (rest.size() < seg.text.size() || !same_ignoring_case(rest.substr(0, seg.text.size()), seg.text))
            return false;
        return match_from(segs, s + 1, name, pos + seg.text.size(), values);
    }
    if (!seg.text.empty()) {
        if (auto it = values.find(seg.text); it != values.end()) {  // named before: the same text again
            const std::string& taken = it->second;
            if (rest.size() < taken.size() || !same_ignoring_case(rest.substr(0, taken.size()), taken)) return false;
            return match_from(segs, s + 1, name, pos + taken.size(), values);
        }
    }
    for (std::size_t len = 1; len <= rest.size(); ++len) {
        if (!seg.text.empty()) values[seg.text] = std::string(rest.substr(0, len));
        if (match_from(segs, s + 1, name, pos + len, values)) return true;
    }
    if (!seg.text.empty()) values.erase(seg.text);
    return false;
}

std::string placeholder_list(const PlaceholderValues& values) {
    if (values.empty()) return "none";
    return join(values, ", ", [](const auto& kv) { return "{" + kv.first + "}"; });
}

// Python's str.format_map on one string, for the placeholders a match found.
std::string format_string(const std::string& text, const PlaceholderValues& values, const std::string& where) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        const char c = text[i];
        if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
            out += c;
            i += 2;
        } else if (c == '}') {
            throw ConfigError(where + " holds a single '}' in \"" + text + "\"; write '}}' for a brace");
        } else if (c == '{') {
            const std::size_t close = text.find('}', i + 1);
            if (close == std::string::npos)
                throw ConfigError(where + " holds an unclosed '{' in \"" + text + "\"; write '{{' for a brace");
            const std::string key = text.substr(i + 1, close - i - 1);
            auto it = values.find(key);
            if (it == values.end())
                throw ConfigError(where + " uses the placeholder {" + key +
                                  "}, which the pattern does not have (it has " + placeholder_list(values) +
                                  "); use only the pattern's placeholders");
            out += it->second;
            i = close + 1;
        } else {
            out += c;
            ++i;
        }
    }
    return out;
}

void fill_json(nlohmann::json& value, const PlaceholderValues& values, const std::string& entry_where,
               const std::string& path) {
    if (value.is_object()) {
        for (auto it = value.begin(); it != value.end(); ++it)
            fill_json(*it, values, entry_where, path.empty() ? it.key() : path + "." + it.key());
    } else if (value.is_array()) {
        for (std::size_t k = 0; k < value.size(); ++k) fill_json(value[k], values, entry_where, path + "[" + std::to_string(k) + "]");
    } else if (value.is_string()) {
        const std::string& text = value.get_ref<const std::string&>();
        if (text.find('}') != std::string::npos)
            value = format_string(text, values, entry_where + ": \"" + path + "\"");
    }
}

}  // namespace

bool is_pattern(std::string_view name) { return name.find('{') != std::string_view::npos; }

std::size_t pattern_specificity(std::string_view pattern) {
    // Kedro removes each '{' through the next '}' and counts what is left.
    std::size_t count = 0;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '{') {
            const std::size_t close = pattern.find('}', i + 1);
            if (close != std::string_view::npos) {
                i = close;
                continue;
            }
        }
        ++count;
    }
    return count;
}

std::size_t placeholder_count(std::string_view pattern) {
    return static_cast<std::size_t>(std::count(pattern.begin(), pattern.end(), '{'));
}

std::optional<PlaceholderValues> match_pattern(std::string_view pattern, std::string_view name) {
    PlaceholderValues values;
    if (!match_from(segments_of(pattern), 0, name, 0, values)) return std::nullopt;
    return values;
}

CatalogEntry fill_placeholders(const CatalogEntry& entry, const PlaceholderValues& values, const std::string& origin) {
    const std::string where = origin + ": catalog entry '" + entry.name + "'";
    CatalogEntry filled = entry;
    if (filled.type.find('}') != std::string::npos) filled.type = format_string(entry.type, values, where + ": \"type\"");
    fill_json(filled.args, values, where, "");
    return filled;
}

DatasetPatterns::DatasetPatterns(std::vector<CatalogEntry> patterns, std::string origin)
    : ordered_(std::move(patterns)), origin_(std::move(origin)) {
    auto rank = [](const CatalogEntry& e) {
        return std::make_tuple(-static_cast<long long>(pattern_specificity(e.name)),
                               -static_cast<long long>(placeholder_count(e.name)), std::string_view(e.name));
    };
    std::sort(ordered_.begin(), ordered_.end(), [&](const CatalogEntry& a, const CatalogEntry& b) { return rank(a) < rank(b); });
    for (const auto& e : ordered_) segments_.push_back(segments_of(e.name));
    std::vector<std::string> catch_all;
    for (const auto& e : ordered_)
        if (is_catch_all(e.name)) catch_all.push_back(e.name);
    if (catch_all.size() > 1)
        throw ConfigError(origin_ + ": more than one catch-all pattern (" + quoted_join(catch_all) +
                          "); only one may take the datasets no other entry matches, remove the others");
}

const CatalogEntry* DatasetPatterns::match(std::string_view name) const {
    PlaceholderValues values;
    for (std::size_t i = 0; i < ordered_.size(); ++i) {
        if (match_from(segments_[i], 0, name, 0, values)) return &ordered_[i];
        values.clear();
    }
    return nullptr;
}

std::optional<CatalogEntry> DatasetPatterns::resolve(const std::string& name, const CatalogEntry** pattern) const {
    PlaceholderValues values;
    for (std::size_t i = 0; i < ordered_.size(); ++i) {
        if (!match_from(segments_[i], 0, name, 0, values)) {
            values.clear();
            continue;
        }
        CatalogEntry filled = fill_placeholders(ordered_[i], values, origin_);
        filled.name = name;
        if (pattern) *pattern = &ordered_[i];
        return filled;
    }
    return std::nullopt;
}

}  // namespace kiln::core
