#include "csv_dataset.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
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

CsvDataset::CsvDataset(const DatasetConfig& config) : file_(config, "CsvDataset", {"delimiter"}) {
    if (config.value_type && config.value_type->name != codec<nlohmann::json>::name)
        throw ConfigError(config.where() + "stores 'json' values (an array of row objects) but the pipeline moves '" +
                          std::string(config.value_type->name) +
                          "' through it; make the node take or return nlohmann::json, or use kiln.JsonDataset or "
                          "kiln.BinaryDataset for that type");
    if (config.args.is_object() && config.args.contains("delimiter")) {
        const auto& d = config.args.at("delimiter");
        if (!d.is_string() || d.get<std::string>().size() != 1)
            throw ConfigError(config.where() +
                              "\"delimiter\" must be a one-character string such as \",\" or \";\", "
                              "got " +
                              d.dump());
        delimiter_ = d.get<std::string>()[0];
        if (delimiter_ == '"' || delimiter_ == '\n' || delimiter_ == '\r')
            throw ConfigError(config.where() +
                              "\"delimiter\" cannot be a quote or a line break; use e.g. \",\", "
                              "\";\" or \"\\t\"");
    }
}

Value CsvDataset::load() {
    std::string text = file_.read_text();
    // Spreadsheet programs often start UTF-8 files with a byte order mark; it is not data.
    std::string_view body = text;
    if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);
    std::vector<Record> records;
    try {
        records = parse_csv(body, delimiter_);
    } catch (const CsvSyntaxError& e) {
        throw file_.error_at(std::to_string(e.line), e.problem);
    }
    auto rows = nlohmann::json::array();
    if (records.empty()) return Value::make(std::move(rows));

    std::vector<std::string> columns;
    std::set<std::string> seen;
    for (const Field& f : records[0].fields) {
        if (!seen.insert(f.text).second)
            throw file_.error_at(std::to_string(records[0].line),
                                 "column '" + f.text + "' appears twice in the header row; rename one of them");
        columns.push_back(f.text);
    }
    for (std::size_t r = 1; r < records.size(); ++r) {
        const Record& rec = records[r];
        if (rec.fields.size() != columns.size())
            throw file_.error_at(std::to_string(rec.line),
                                 "the row has " + std::to_string(rec.fields.size()) + " fields but the header has " +
                                     std::to_string(columns.size()) + "; fix the row (a field with '" +
                                     std::string(1, delimiter_) + "' in it must be quoted)");
        auto row = nlohmann::json::object();
        for (std::size_t c = 0; c < columns.size(); ++c) row[columns[c]] = field_value(rec.fields[c]);
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
    std::vector<std::string> columns;
    for (const auto& [key, v] : rows[0].items()) columns.push_back(key);
    // One column: an empty field would be a blank line, which loading skips.
    bool quote_empty = columns.size() == 1;

    for (std::size_t c = 0; c < columns.size(); ++c) {
        if (c) out += delimiter_;
        append_field(out, columns[c], delimiter_, quote_empty && columns[c].empty());
    }
    out += '\n';
    for (std::size_t r = 0; r < rows.size(); ++r) {
        const auto& row = rows[r];
        std::string where = "row " + std::to_string(r + 1);
        if (!row.is_object())
            throw file_.save_error(where + " is not a JSON object; each row must be {\"column\": value}");
        for (const auto& [key, v] : row.items())
            if (!rows[0].contains(key))
                throw file_.save_error(where + " has key '" + key +
                                       "' that row 1 lacks; the columns come from row 1, "
                                       "so give row 1 every key (null where there is no value)");
        for (std::size_t c = 0; c < columns.size(); ++c) {
            if (c) out += delimiter_;
            auto it = row.find(columns[c]);
            if (it == row.end() || it->is_null()) {
                if (quote_empty) out += "\"\"";
            } else if (it->is_string()) {
                const auto& s = it->get_ref<const std::string&>();
                append_field(out, s, delimiter_, quote_empty && s.empty());
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
