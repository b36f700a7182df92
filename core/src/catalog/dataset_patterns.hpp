// Dataset factories, as Kedro has them: a catalog key holding {placeholders} is a
// pattern, and a dataset the pipelines use that no entry names takes its entry from the
// first pattern that matches, with the placeholders filled in.
//
//     "{name}_products": {"type": "kiln.CsvDataset", "filepath": "data/{name}.csv"}
//     dataset "tea_products" -> {"type": "kiln.CsvDataset", "filepath": "data/tea.csv"}
//
// Matching follows Python's `parse` as Kedro calls it: the whole name must match, each
// placeholder takes one or more characters (as few as let the rest match), a placeholder
// named twice takes the same text both times, and letters compare case-insensitively.
// Patterns are tried in Kedro's order: more characters outside the braces first, then more
// placeholders, then alphabetically; a pattern with nothing outside its braces (a
// catch-all such as "{default}") comes last, and there may be only one.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog_entry.hpp"

namespace kiln::core {

using PlaceholderValues = std::map<std::string, std::string>;

// Kedro's test for a pattern: the name holds a '{'.
bool is_pattern(std::string_view name);

// The characters of `pattern` outside its {placeholders}: "{a}_x" has 2.
std::size_t pattern_specificity(std::string_view pattern);

// The number of placeholders, counted as Kedro counts them (the '{' characters).
std::size_t placeholder_count(std::string_view pattern);

// The placeholders' values when `name` matches `pattern`, else nullopt.
//     match_pattern("{ns}.{name}_csv", "raw.tea_csv") -> {ns: "raw", name: "tea"}
std::optional<PlaceholderValues> match_pattern(std::string_view pattern, std::string_view name);

// `entry` with every {placeholder} in its type and in every string of its arguments
// (nested objects and arrays too) replaced by its value; "{{" and "}}" stand for braces,
// as in Python's str.format. A string without '}' is left as it is (Kedro formats only
// those). Throws kiln::ConfigError naming `origin`, the entry and the argument for a
// placeholder the pattern does not have, or a stray brace.
CatalogEntry fill_placeholders(const CatalogEntry& entry, const PlaceholderValues& values, const std::string& origin);

// A pattern split into literal text and placeholders ("{{" and "}}" are literal braces).
struct PatternSegment {
    bool placeholder = false;
    std::string text;  // the literal text, or the placeholder's name
};

// The patterns of one catalog, in the order they are tried.
class DatasetPatterns {
public:
    DatasetPatterns() = default;
    // Throws kiln::ConfigError naming `origin` when more than one pattern is a catch-all.
    DatasetPatterns(std::vector<CatalogEntry> patterns, std::string origin);

    bool empty() const { return ordered_.empty(); }
    // In the order they are tried, the catch-all last.
    const std::vector<CatalogEntry>& ordered() const { return ordered_; }

    // The first pattern `name` matches, or nullptr.
    const CatalogEntry* match(std::string_view name) const;
    // The entry of `name` made from the first pattern it matches (named `name`), or
    // nullopt; `pattern`, when given, is set to that pattern. Throws kiln::ConfigError as
    // fill_placeholders does.
    std::optional<CatalogEntry> resolve(const std::string& name, const CatalogEntry** pattern = nullptr) const;

    static bool is_catch_all(std::string_view pattern) { return pattern_specificity(pattern) == 0; }

private:
    std::vector<CatalogEntry> ordered_;
    std::vector<std::vector<PatternSegment>> segments_;  // of ordered_[i]'s name, parsed once
    std::string origin_;
};

}  // namespace kiln::core
