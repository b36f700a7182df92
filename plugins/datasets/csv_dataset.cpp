#include "csv_dataset.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::datasets {

namespace {

struct Field {
    std::string text;
    bool quoted = false;
};

struct Record {
    std::vector<Field> fields;
    std::size_t line = 0;  // where the record starts, for messages
};

struct CsvSyntaxError {
    std::size_t line;
    std::string problem;
};

// RFC 4180 with the usual leniencies: "\r\n" or "\n" line ends, no final newline needed.
std::vector<Record> parse_csv(std::string_view text, char delimiter) {
    std::vector<Record> records;
    std::size_t pos = 0, line = 1;
    auto fail = [](std::size_t at_line, std::string problem) { return CsvSyntaxError{at_line, std::move(problem)}; };
    while (pos < text.size()) {
        Record record;
        record.line = line;
        while (true) {
            Field field;
            if (pos < text.size() && text[pos] == '"') {
                field.quoted = true;
                std::size_t opened = line;
                ++pos;
                while (true) {
                    std::size_t close = text.find('"', pos);
                    if (close == std::string_view::npos)
                        throw fail(opened, "a quoted field is never closed; add the closing '\"'");
                    std::string_view chunk = text.substr(pos, close - pos);
                    for (char c : chunk) line += c == '\n';
                    field.text += chunk;
                    pos = close + 1;
                    if (pos < text.size() && text[pos] == '"') {  // "" inside quotes is one quote
                        field.text += '"';
                        ++pos;
                        continue;
                    }
                    break;
                }
                if (pos + 1 < text.size() && text[pos] == '\r' && text[pos + 1] == '\n') ++pos;
                if (pos < text.size() && text[pos] != delimiter && text[pos] != '\n')
                    throw fail(line,
                               "unexpected text after a closing quote; quote the whole field and write a "
                               "quote inside it as \"\"");
            } else {
                std::size_t end = pos;
                while (end < text.size() && text[end] != delimiter && text[end] != '\n') ++end;
                field.text = std::string(text.substr(pos, end - pos));
                if (end < text.size() && text[end] == '\n' && !field.text.empty() && field.text.back() == '\r')
                    field.text.pop_back();
                if (field.text.find('"') != std::string::npos)
                    throw fail(line,
                               "a quote inside an unquoted field; quote the whole field and write the quote "
                               "as \"\"");
                pos = end;
            }
            record.fields.push_back(std::move(field));
            if (pos < text.size() && text[pos] == delimiter) {
                ++pos;
                continue;
            }
            if (pos < text.size()) ++pos;  // the '\n'
            ++line;
            break;
        }
        bool blank = record.fields.size() == 1 && !record.fields[0].quoted && record.fields[0].text.empty();
        if (!blank) records.push_back(std::move(record));
    }
    return records;
}

// A whole field that is a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
// Leading zeros and '+' do not count, so "007" stays a string.
bool is_number(std::string_view s, bool& integral) {
    std::size_t i = 0;
    auto digits = [&] {
        std::size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        return i - start;
    };
    if (i < s.size() && s[i] == '-') ++i;
    std::size_t int_start = i;
    std::size_t n = digits();
    if (n == 0 || (n > 1 && s[int_start] == '0')) return false;
    integral = true;
    if (i < s.size() && s[i] == '.') {
        ++i;
        if (digits() == 0) return false;
        integral = false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        if (digits() == 0) return false;
        integral = false;
    }
    return i == s.size();
}

nlohmann::json field_value(const Field& field) {
    bool integral = false;
    if (field.quoted || !is_number(field.text, integral)) return field.text;
    const char* first = field.text.data();
    const char* last = first + field.text.size();
    if (integral) {
        std::int64_t i;
        if (auto r = std::from_chars(first, last, i); r.ec == std::errc() && r.ptr == last) return i;
        std::uint64_t u;
        if (auto r = std::from_chars(first, last, u); r.ec == std::errc() && r.ptr == last) return u;
    }
    double d;
    if (auto r = std::from_chars(first, last, d); r.ec == std::errc() && r.ptr == last && std::isfinite(d)) return d;
    return field.text;  // too large for a double: keep the digits
}

// A field as its column's "load_args".dtype asks; nullopt when it does not fit the type.
std::optional<nlohmann::json> typed_value(const Field& field, CsvColumnType type) {
    if (type == CsvColumnType::inferred) return field_value(field);
    if (type == CsvColumnType::text) return nlohmann::json(field.text);
    bool integral = false;
    if (!is_number(field.text, integral) || (type == CsvColumnType::integer && !integral)) return std::nullopt;
    nlohmann::json value = field_value(Field{field.text, false});
    if (type == CsvColumnType::number && !value.is_number_float() && value.is_number())
        value = static_cast<double>(value.get<double>());
    return value.is_number() ? std::optional(value) : std::nullopt;
}

const char* type_name(CsvColumnType type) {
    switch (type) {
    case CsvColumnType::integer: return "int";
    case CsvColumnType::number: return "float";
    case CsvColumnType::text: return "str";
    case CsvColumnType::inferred: break;
    }
    return "inferred";
}

bool needs_quotes(std::string_view s, char delimiter) {
    bool integral;
    return s.find_first_of(std::string{delimiter, '"', '\n', '\r'}) != std::string_view::npos || is_number(s, integral);
}

void append_field(std::string& out, std::string_view s, char delimiter, bool force_quotes = false) {
    if (!force_quotes && !needs_quotes(s, delimiter)) {
        out += s;
        return;
    }
    out += '"';
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

std::string json_kind(const nlohmann::json& j) {
    std::string name = j.type_name();
    return (name == "array" || name == "object" ? "an " : "a ") + name;
}

}  // namespace

CsvDataset::CsvDataset(const DatasetConfig& config)
    : file_(config, "CsvDataset", {"delimiter", "load_args", "save_args"}),
      load_(csv_load_options(config)),
      save_(csv_save_options(config)) {
    if (config.value_type && config.value_type->name != codec<nlohmann::json>::name)
        throw ConfigError(config.where() + "stores 'json' values (an array of row objects) but the pipeline moves '" +
                          std::string(config.value_type->name) +
                          "' through it; make the node take or return nlohmann::json, or use kiln.JsonDataset or "
                          "kiln.BinaryDataset for that type");
}

Value CsvDataset::load() {
    std::string text = file_.read_text();
    // Spreadsheet programs often start UTF-8 files with a byte order mark; it is not data.
    std::string_view body = text;
    if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);
    std::vector<Record> records;
    try {
        records = parse_csv(body, load_.delimiter);
    } catch (const CsvSyntaxError& e) {
        throw file_.error_at(std::to_string(e.line), e.problem);
    }
    auto rows = nlohmann::json::array();
    std::size_t first = load_.skip_rows + (load_.header ? load_.header_row : 0);
    if (first >= records.size()) return Value::make(std::move(rows));
    if (load_.header) ++first;
    const Record& shape = records[first - (load_.header ? 1 : 0)];  // the header, else the first row

    std::vector<std::string> columns = load_.names;
    if (columns.empty()) {
        for (std::size_t c = 0; c < shape.fields.size(); ++c)
            columns.push_back(load_.header ? shape.fields[c].text : std::to_string(c));
    } else if (columns.size() != shape.fields.size()) {
        throw file_.error_at(std::to_string(shape.line),
                             "\"load_args\".names gives " + std::to_string(columns.size()) + " names but the " +
                                 (load_.header ? "header" : "first row") + " has " +
                                 std::to_string(shape.fields.size()) + " fields; give one name per column");
    }
    std::set<std::string> seen;
    for (const std::string& column : columns)
        if (!seen.insert(column).second)
            throw file_.error_at(std::to_string(shape.line),
                                 "column '" + column + "' appears twice in the header row; rename one of them");
    auto known_column = [&](const std::string& column, const std::string& what) {
        if (seen.count(column)) return;
        std::string all;
        for (const auto& c : columns) all += (all.empty() ? "'" : ", '") + c + "'";
        throw file_.load_error(what + " names column '" + column + "', which the file does not have; its columns: " +
                               all);
    };
    for (const std::string& column : load_.usecols) known_column(column, "\"load_args\".usecols");
    for (const auto& [column, type] : load_.column_types) known_column(column, "\"load_args\".dtype");
    std::vector<bool> kept(columns.size(), load_.usecols.empty());
    std::vector<CsvColumnType> types(columns.size());
    for (std::size_t c = 0; c < columns.size(); ++c) {
        if (!kept[c]) kept[c] = std::find(load_.usecols.begin(), load_.usecols.end(), columns[c]) != load_.usecols.end();
        types[c] = load_.type_of(columns[c]);
    }

    for (std::size_t r = first; r < records.size(); ++r) {
        const Record& rec = records[r];
        if (rec.fields.size() != columns.size())
            throw file_.error_at(std::to_string(rec.line),
                                 "the row has " + std::to_string(rec.fields.size()) + " fields but the " +
                                     (load_.header ? "header has " : "first row has ") + std::to_string(columns.size()) +
                                     "; fix the row (a field with '" + std::string(1, load_.delimiter) +
                                     "' in it must be quoted)");
        auto row = nlohmann::json::object();
        for (std::size_t c = 0; c < columns.size(); ++c) {
            if (!kept[c]) continue;
            std::optional<nlohmann::json> value = typed_value(rec.fields[c], types[c]);
            if (!value)
                throw file_.error_at(std::to_string(rec.line),
                                     "column '" + columns[c] + "' is \"" + type_name(types[c]) +
                                         "\" in \"load_args\".dtype but holds '" + rec.fields[c].text +
                                         "'; fix the field or the dtype");
            row[columns[c]] = std::move(*value);
        }
        rows.push_back(std::move(row));
    }
    return Value::make(std::move(rows));
}

void CsvDataset::save(const Value& value) {
    if (!value.holds<nlohmann::json>())
        throw file_.save_error("CsvDataset writes 'json' values, not '" + std::string(value.type_name()) + "'");
    const auto& rows = value.get<nlohmann::json>();
    if (!rows.is_array())
        throw file_.save_error("CsvDataset writes a JSON array of objects (one per row), got " + json_kind(rows));
    std::string out;
    if (rows.empty()) {
        file_.write(out);
        return;
    }
    if (!rows[0].is_object())
        throw file_.save_error("row 1 is not a JSON object; each row must be {\"column\": value}");
    // "save_args".columns chooses the columns and their order; else row 1's keys (sorted).
    const bool chosen = !save_.columns.empty();
    std::vector<std::string> columns = save_.columns;
    if (!chosen)
        for (const auto& [key, v] : rows[0].items()) columns.push_back(key);
    // One column: an empty field would be a blank line, which loading skips.
    bool quote_empty = columns.size() == 1;
    const char delimiter = save_.delimiter;

    if (save_.header) {
        const std::vector<std::string>& header = save_.header_names.empty() ? columns : save_.header_names;
        for (std::size_t c = 0; c < header.size(); ++c) {
            if (c) out += delimiter;
            append_field(out, header[c], delimiter, quote_empty && header[c].empty());
        }
        out += '\n';
    }
    for (std::size_t r = 0; r < rows.size(); ++r) {
        const auto& row = rows[r];
        std::string where = "row " + std::to_string(r + 1);
        if (!row.is_object())
            throw file_.save_error(where + " is not a JSON object; each row must be {\"column\": value}");
        for (const auto& [key, v] : row.items())
            if (!chosen && !rows[0].contains(key))
                throw file_.save_error(where + " has key '" + key +
                                       "' that row 1 lacks; the columns come from row 1, "
                                       "so give row 1 every key (null where there is no value)");
        for (std::size_t c = 0; c < columns.size(); ++c) {
            if (c) out += delimiter;
            auto it = row.find(columns[c]);
            if (it == row.end() || it->is_null()) {
                if (quote_empty) out += "\"\"";
            } else if (it->is_string()) {
                const auto& s = it->get_ref<const std::string&>();
                append_field(out, s, delimiter, quote_empty && s.empty());
            } else if (it->is_number() || it->is_boolean()) {
                out += it->dump();
            } else {
                throw file_.save_error(where + ", column '" + columns[c] + "' holds " + json_kind(*it) +
                                       "; CSV fields hold strings, numbers, booleans or null, so flatten it or use "
                                       "kiln.JsonDataset");
            }
        }
        out += '\n';
    }
    file_.write(out);
}

}  // namespace kiln::datasets
