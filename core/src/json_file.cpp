// JSON config files: errors as "FILE:LINE:COL: message", in words a user can act on.
#include "kiln/core/json_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "kiln/error.hpp"

namespace kiln::core {
namespace {

// nlohmann's "last read" spans from the previous token ('"a":<U+000A>  tru}'): keep
// the text after the last blank, which is what the user mistyped.
std::string last_token(std::string_view quoted) {
    if (quoted.size() >= 2 && quoted.front() == '\'' && quoted.back() == '\'')
        quoted = quoted.substr(1, quoted.size() - 2);
    std::string text(quoted);
    for (const char* blank : {"<U+000A>", "<U+000D>", "<U+0009>"})
        for (auto at = text.find(blank); at != std::string::npos; at = text.find(blank)) text.replace(at, 8, " ");
    while (!text.empty() && text.back() == ' ') text.pop_back();
    const auto cut = text.find_last_of(" \t");
    if (cut != std::string::npos && cut + 1 < text.size()) text.erase(0, cut + 1);
    return text.empty() ? text : "'" + text + "'";
}

// nlohmann says "syntax error while parsing object key - unexpected '}'; expected string
// literal"; this turns the context into words and adds a hint for the usual slips.
std::string reword_syntax_error(const std::string& what) {
    std::string_view msg = what;
    if (auto colon = msg.find(": "); msg.starts_with("[json.exception.") && colon != std::string_view::npos)
        msg.remove_prefix(colon + 2);  // drop "[json.exception.parse_error.101] parse error at line L, column C"
    constexpr std::string_view syntax = "syntax error while parsing ";
    if (!msg.starts_with(syntax)) return std::string(msg);
    msg.remove_prefix(syntax.size());
    const auto dash = msg.find(" - ");
    if (dash == std::string_view::npos) return std::string(msg);
    const std::string_view context = msg.substr(0, dash);
    std::string_view rest = msg.substr(dash + 3);

    std::string problem, last_read, expected;
    for (bool first = true; !rest.empty(); first = false) {
        const auto sep = rest.find("; ");
        std::string_view part = rest.substr(0, sep);
        rest = sep == std::string_view::npos ? std::string_view() : rest.substr(sep + 2);
        if (first)
            problem = part;
        else if (part.starts_with("last read: "))
            last_read = last_token(part.substr(11));
        else if (part.starts_with("expected "))
            expected = part.substr(9);
        else
            problem += "; " + std::string(part);
    }

    std::string where = context == "object key"         ? "an object key"
                        : context == "object separator" ? "an object, after a key"
                        : context == "object"           ? "an object"
                        : context == "array"            ? "an array"
                        : context == "value"            ? "a value"
                                                        : std::string(context);
    std::string out = problem + " while reading " + where;
    if (!last_read.empty()) out += " near " + last_read;
    if (!expected.empty()) out += "; expected " + expected;

    std::string hint;
    const bool closes = problem == "unexpected '}'" || problem == "unexpected ']'";
    if (closes && (context == "object key" || context == "value"))
        hint = "JSON allows no comma before a closing '}' or ']'";
    else if (last_read.size() >= 2 && last_read[last_read.size() - 2] == '\'')
        hint = "JSON strings use double quotes";
    else if (expected == "end of input")
        hint = "a JSON document holds one value: is there text after its closing bracket?";
    else if (problem == "unexpected end of input")
        hint = "the file ends before every '{' and '[' is closed";
    else if (problem.find("U+000A") != std::string::npos)
        hint = "is a closing quote missing?";
    else if (problem.starts_with("unexpected") && (expected == "']'" || expected == "'}'"))
        hint = "is a comma missing between two items?";
    if (!hint.empty()) out += " (" + hint + ")";
    return out;
}

// Rejects a key written twice in one object: nlohmann would silently keep the last one,
// and a pipeline or catalog entry would vanish without a word. A SAX pass: nlohmann's
// callback parser is two orders of magnitude slower on large files.
class DuplicateKeyCheck {
public:
    explicit DuplicateKeyCheck(const std::string& origin) : origin_(origin) {}

    bool null() { return element_done(); }
    bool boolean(bool) { return element_done(); }
    bool number_integer(nlohmann::json::number_integer_t) { return element_done(); }
    bool number_unsigned(nlohmann::json::number_unsigned_t) { return element_done(); }
    bool number_float(nlohmann::json::number_float_t, const std::string&) { return element_done(); }
    bool string(std::string&) { return element_done(); }
    bool binary(nlohmann::json::binary_t&) { return element_done(); }
    bool start_object(std::size_t) { return open(true); }
    bool start_array(std::size_t) { return open(false); }
    bool end_object() { return close(); }
    bool end_array() { return close(); }
    bool key(std::string& k) {
        Frame& top = frames_.back();
        // Objects in config files are small: a linear scan beats hashing.
        if (std::find(top.keys.begin(), top.keys.end(), k) != top.keys.end())
            throw ConfigError(origin_ + ": key \"" + k + "\" appears twice in " + container() +
                              "; JSON would keep only the last one: merge the two or rename one");
        top.keys.push_back(k);
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

private:
    struct Frame {
        bool object;
        std::vector<std::string> keys;  // keys seen so far, in an object
        std::size_t index;              // the element being read, in an array
    };

    bool open(bool object) {
        frames_.push_back({object, {}, 0});
        return true;
    }
    bool close() {
        frames_.pop_back();
        return element_done();
    }
    bool element_done() {
        if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
        return true;
    }

    // Where the innermost object sits, e.g. the object at "pipelines.etl.nodes[2]".
    std::string container() const {
        std::string path;
        for (std::size_t i = 0; i + 1 < frames_.size(); ++i) {
            if (frames_[i].object)
                path += (path.empty() ? "" : ".") + frames_[i].keys.back();
            else
                path += "[" + std::to_string(frames_[i].index) + "]";
        }
        return path.empty() ? "the top-level object" : "the object at \"" + path + "\"";
    }

    const std::string& origin_;
    std::vector<Frame> frames_;
};

}  // namespace

std::pair<std::size_t, std::size_t> line_and_column(const std::string& text, std::size_t offset) {
    if (offset > text.size()) offset = text.size();
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '\n') {
            ++line;
            column = 1;
        } else if ((c & 0xC0) != 0x80) {  // count UTF-8 characters, not continuation bytes
            ++column;
        }
    }
    return {line, column};
}

nlohmann::json parse_json_text(const std::string& text, const std::string& origin) {
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
        throw ConfigError(origin + ":1:1: the text is empty; expected a JSON value such as {}");
    try {
        // Comments are allowed: config files deserve them.
        nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
        DuplicateKeyCheck check(origin);
        nlohmann::json::sax_parse(text, &check, nlohmann::json::input_format_t::json, /*strict=*/true,
                                  /*ignore_comments=*/true);
        return doc;
    } catch (const nlohmann::json::parse_error& e) {
        // e.byte counts the characters read, so the offending one is at e.byte - 1.
        const std::size_t offset = e.byte > 0 ? e.byte - 1 : 0;
        const auto [line, column] = line_and_column(text, offset);
        throw ConfigError(origin + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                          reword_syntax_error(e.what()));
    } catch (const nlohmann::json::exception& e) {
        throw ConfigError(origin + ": " + reword_syntax_error(e.what()));
    }
}

nlohmann::json read_json_file(const std::filesystem::path& file) {
    const std::string name = file.string();
    std::error_code ec;
    const auto status = std::filesystem::status(file, ec);
    const std::string where =
        file.is_absolute() ? std::string() : " (relative to " + std::filesystem::current_path(ec).string() + ")";
    if (!std::filesystem::exists(status))
        throw ConfigError(name + ": cannot read the file: it does not exist" + where);
    if (std::filesystem::is_directory(status))
        throw ConfigError(name + ": cannot read the file: it is a directory, a JSON file was expected");
    std::ifstream in(file, std::ios::binary);
    if (!in) throw ConfigError(name + ": cannot read the file: " + std::strerror(errno));
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) throw ConfigError(name + ": cannot read the file: " + std::strerror(errno));
    return parse_json_text(buffer.str(), name);
}

}  // namespace kiln::core
