#include "text_dataset.hpp"

#include <string>
#include <vector>

namespace kiln::datasets {

using Lines = std::vector<std::string>;

TextDataset::TextDataset(const DatasetConfig& config) : file_(config, "TextDataset") {
    if (!config.value_type) return;
    std::string_view name = config.value_type->name;
    if (name == codec<Lines>::name) {
        lines_ = true;
    } else if (name != codec<std::string>::name) {
        throw ConfigError(config.where() + "stores 'string' or 'vector<string>' values but the pipeline moves '" +
                          std::string(name) + "' through it; use kiln.JsonDataset or kiln.BinaryDataset for that type");
    }
}

Value TextDataset::load() {
    std::string text = file_.read_text();
    if (!lines_) return Value::make(std::move(text));
    Lines lines;
    // Empty file: no lines. Otherwise drop one trailing newline so "a\nb\n" is {"a", "b"}
    // and "\n" is one empty line, the inverse of save().
    if (!text.empty()) {
        if (text.back() == '\n') text.pop_back();
        std::size_t start = 0;
        while (true) {
            std::size_t end = text.find('\n', start);
            if (end == std::string::npos) {
                lines.push_back(text.substr(start));
                break;
            }
            lines.push_back(text.substr(start, end - start));
            start = end + 1;
        }
    }
    return Value::make(std::move(lines));
}

void TextDataset::save(const Value& value) {
    if (value.holds<std::string>()) {
        file_.write(value.get<std::string>());
        return;
    }
    if (!value.holds<Lines>())
        throw file_.save_error("TextDataset writes 'string' or 'vector<string>' values, not '" +
                               std::string(value.type_name()) + "'");
    const Lines& lines = value.get<Lines>();
    std::size_t total = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].find('\n') != std::string::npos)
            throw file_.save_error("line " + std::to_string(i + 1) +
                                   " contains a newline, so it would not load back as one line; split it first");
        total += lines[i].size() + 1;
    }
    std::string text;
    text.reserve(total);
    for (const auto& line : lines) {
        text += line;
        text += '\n';
    }
    file_.write(text);
}

}  // namespace kiln::datasets
