#include "json_dataset.hpp"

#include <algorithm>
#include <string>

namespace kiln::datasets {

namespace {

// nlohmann reports a byte offset; people fix files by line and column.
std::string position_of(const std::string& text, std::size_t byte) {
    byte = std::min(byte, text.size());
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < byte; ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return std::to_string(line) + ":" + std::to_string(column);
}

// The parser's message without its "[json.exception.parse_error.101] parse error at line
// 1, column 2: " prefix, which repeats what position_of says.
std::string parse_problem(const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    auto colon = what.find(": ");
    return colon == std::string::npos ? what : what.substr(colon + 2);
}

}  // namespace

JsonDataset::JsonDataset(const DatasetConfig& config)
    : file_(config, "JsonDataset", {"indent"}), type_(config.value_type) {
    if (type_ && !type_->has_json())
        throw ConfigError(config.where() + "values of type '" + std::string(type_->name) +
                          "' have no JSON form (their codec has no to_json/from_json); add them to the codec, "
                          "or use kiln.BinaryDataset for this dataset");
    if (auto it = config.args.find("indent"); config.args.is_object() && it != config.args.end()) {
        if (!it->is_number_integer() || it->get<long long>() < -1 || it->get<long long>() > 16)
            throw ConfigError(config.where() + "\"indent\" must be an integer from -1 (one line) to 16, got " +
                              it->dump());
        indent_ = it->get<int>();
    }
}

Value JsonDataset::load() {
    std::string text = file_.read_text();
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
        throw file_.load_error(
            "the file is empty; write a JSON value into it, or delete it and run the node that "
            "produces this dataset");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        throw file_.error_at(position_of(text, e.byte == 0 ? 0 : e.byte - 1),
                             "invalid JSON (" + parse_problem(e) +
                                 "); fix the file, or delete it and run the node that produces this dataset");
    }
    if (!type_) return Value::make<nlohmann::json>(std::move(j));
    try {
        return Value::from_json(*type_, j);
    } catch (const TypeError& e) {
        throw file_.load_error("the JSON does not hold a '" + std::string(type_->name) + "' value: " + e.what());
    }
}

void JsonDataset::save(const Value& value) {
    nlohmann::json j;
    try {
        j = value.to_json();
    } catch (const TypeError& e) {
        throw file_.save_error(e.what());
    }
    std::string text;
    try {
        text = j.dump(indent_) + "\n";
    } catch (const nlohmann::json::type_error& e) {
        // Strings that are not valid UTF-8 cannot be written as JSON.
        throw file_.save_error(std::string("the value cannot be written as JSON: ") + e.what());
    }
    file_.write(text);
}

}  // namespace kiln::datasets
