#include "csv_options.hpp"

#include <algorithm>
#include <cstdint>
#include <set>

#include <kiln/error.hpp>

namespace kiln::datasets {

namespace {

using nlohmann::json;

const std::vector<std::string> load_keys = {"sep", "delimiter", "header", "names", "usecols", "skiprows", "dtype"};
const std::vector<std::string> save_keys = {"sep", "delimiter", "columns", "header", "index"};

std::string list(const std::vector<std::string>& keys) {
    std::string out;
    for (const auto& k : keys) out += (out.empty() ? "\"" : ", \"") + k + "\"";
    return out;
}

// The argument object under `key` ("load_args"), refusing keys it does not take.
const json* args_object(const DatasetConfig& config, const std::string& key, const std::vector<std::string>& known) {
    if (!config.args.is_object()) return nullptr;
    auto it = config.args.find(key);
    if (it == config.args.end() || it->is_null()) return nullptr;
    if (!it->is_object())
        throw ConfigError(config.where() + "\"" + key + "\" must be an object such as {\"sep\": \";\"}, got " +
                          it->dump());
    for (const auto& item : it->items())
        if (std::find(known.begin(), known.end(), item.key()) == known.end())
            throw ConfigError(config.where() + "\"" + key + "\" has \"" + item.key() +
                              "\", which CsvDataset does not take; it takes " + list(known));
    return &*it;
}

char delimiter_of(const DatasetConfig& config, const json* args, const std::string& where) {
    char delimiter = ',';
    auto read = [&](const json& d, const std::string& what) {
        if (!d.is_string() || d.get<std::string>().size() != 1)
            throw ConfigError(config.where() + what + " must be a one-character string such as \",\" or \";\", got " +
                              d.dump());
        delimiter = d.get<std::string>()[0];
        if (delimiter == '"' || delimiter == '\n' || delimiter == '\r')
            throw ConfigError(config.where() + what + " cannot be a quote or a line break; use e.g. \",\", \";\" or \"\\t\"");
    };
    if (config.args.is_object() && config.args.contains("delimiter")) read(config.args.at("delimiter"), "\"delimiter\"");
    if (args && args->contains("sep") && args->contains("delimiter"))
        throw ConfigError(config.where() + "\"" + where + "\" gives both \"sep\" and \"delimiter\"; keep one");
    for (const char* key : {"sep", "delimiter"})
        if (args && args->contains(key)) read(args->at(key), "\"" + where + "\"." + key);
    return delimiter;
}

std::vector<std::string> names_list(const DatasetConfig& config, const json& value, const std::string& what) {
    if (!value.is_array() || value.empty())
        throw ConfigError(config.where() + what + " must be a non-empty list of column names, got " + value.dump());
    std::vector<std::string> names;
    std::set<std::string> seen;
    for (const json& n : value) {
        if (!n.is_string()) throw ConfigError(config.where() + what + " must list column names (strings), got " + n.dump());
        if (!seen.insert(n.get<std::string>()).second)
            throw ConfigError(config.where() + what + " names column '" + n.get<std::string>() + "' twice");
        names.push_back(n.get<std::string>());
    }
    return names;
}

CsvColumnType column_type(const DatasetConfig& config, const json& value, const std::string& what) {
    static const std::map<std::string, CsvColumnType> types = {
        {"str", CsvColumnType::text},       {"string", CsvColumnType::text},    {"object", CsvColumnType::text},
        {"int", CsvColumnType::integer},    {"int64", CsvColumnType::integer},  {"float", CsvColumnType::number},
        {"float64", CsvColumnType::number},
    };
    if (value.is_string())
        if (auto it = types.find(value.get<std::string>()); it != types.end()) return it->second;
    throw ConfigError(config.where() + what + " must be \"str\", \"int\" or \"float\", got " + value.dump());
}

std::size_t row_count(const DatasetConfig& config, const json& value, const std::string& what) {
    if (!value.is_number_integer() || value.get<std::int64_t>() < 0)
        throw ConfigError(config.where() + what + " must be a number of rows (0 or more), got " + value.dump());
    return value.get<std::size_t>();
}

}  // namespace

CsvLoadOptions csv_load_options(const DatasetConfig& config) {
    const json* args = args_object(config, "load_args", load_keys);
    CsvLoadOptions o;
    o.delimiter = delimiter_of(config, args, "load_args");
    if (!args) return o;
    if (auto it = args->find("header"); it != args->end()) {
        if (it->is_null() || (it->is_boolean() && !it->get<bool>())) {
            o.header = false;
        } else if (it->is_boolean()) {
            o.header = true;
        } else if (it->is_number_integer() && it->get<std::int64_t>() >= 0) {
            o.header_row = it->get<std::size_t>();
        } else {
            throw ConfigError(config.where() +
                              "\"load_args\".header must be true or 0 (the first row names the columns), a row "
                              "number, or false/null (no header row), got " + it->dump());
        }
    }
    if (auto it = args->find("names"); it != args->end()) o.names = names_list(config, *it, "\"load_args\".names");
    if (auto it = args->find("usecols"); it != args->end())
        o.usecols = names_list(config, *it, "\"load_args\".usecols");
    if (auto it = args->find("skiprows"); it != args->end())
        o.skip_rows = row_count(config, *it, "\"load_args\".skiprows");
    if (auto it = args->find("dtype"); it != args->end()) {
        if (it->is_object()) {
            for (const auto& [column, type] : it->items())
                o.column_types[column] = column_type(config, type, "\"load_args\".dtype." + column);
        } else {
            o.all_columns = column_type(config, *it, "\"load_args\".dtype");
        }
    }
    return o;
}

CsvSaveOptions csv_save_options(const DatasetConfig& config) {
    const json* args = args_object(config, "save_args", save_keys);
    CsvSaveOptions o;
    o.delimiter = delimiter_of(config, args, "save_args");
    if (!args) return o;
    if (auto it = args->find("columns"); it != args->end())
        o.columns = names_list(config, *it, "\"save_args\".columns");
    if (auto it = args->find("header"); it != args->end()) {
        if (it->is_boolean()) {
            o.header = it->get<bool>();
        } else if (it->is_array()) {
            o.header_names = names_list(config, *it, "\"save_args\".header");
            if (o.columns.empty())
                throw ConfigError(config.where() +
                                  "\"save_args\".header lists names to write in place of the columns, so "
                                  "\"save_args\".columns must say which columns, in the same order");
            if (o.header_names.size() != o.columns.size())
                throw ConfigError(config.where() + "\"save_args\".header has " + std::to_string(o.header_names.size()) +
                                  " names for " + std::to_string(o.columns.size()) +
                                  " columns; give one name per column");
        } else {
            throw ConfigError(config.where() +
                              "\"save_args\".header must be true, false, or a list of names for the columns, got " +
                              it->dump());
        }
    }
    if (auto it = args->find("index"); it != args->end()) {
        if (!it->is_boolean())
            throw ConfigError(config.where() + "\"save_args\".index must be false, got " + it->dump());
        if (it->get<bool>())
            throw ConfigError(config.where() +
                              "\"save_args\".index is true, but CsvDataset rows have no index column to write; "
                              "remove it or set it to false");
    }
    return o;
}

}  // namespace kiln::datasets
