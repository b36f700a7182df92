// JSON config files: errors as "FILE:LINE:COL: message", in words a user can act on.
#include "config/json_file.hpp"

#include "text/elided_list.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
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

// One pass over the text, before any value is built: finds a key written twice in one
// object (nlohmann would silently keep the last one, and a pipeline or catalog entry
// would vanish without a word), nesting deeper than max_json_nesting (every walk over a
// parsed value may then recurse safely), and where a parse error is (nlohmann's
// out_of_range errors, such as a number too large, carry no position). A SAX pass:
// nlohmann's callback parser is two orders of magnitude slower on large files.
class ConfigTextCheck {
public:
    explicit ConfigTextCheck(const std::string& origin) : origin_(origin) {}

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
        if (duplicate_.empty() && std::find(top.keys.begin(), top.keys.end(), k) != top.keys.end())
            duplicate_ = origin_ + ": key \"" + k + "\" appears twice in " + container() +
                         "; JSON would keep only the last one: merge the two or rename one";
        top.keys.push_back(k);
        return true;
    }
    bool parse_error(std::size_t position, const std::string& token, const nlohmann::detail::exception& e) {
        // A syntax error is found at the character before `position`; a number out of
        // range once the whole number is read, so point at its first character.
        const bool out_of_range = dynamic_cast<const nlohmann::json::out_of_range*>(&e) != nullptr;
        error_offset_ = out_of_range ? position - std::min(position, token.size()) : (position > 0 ? position - 1 : 0);
        error_ = out_of_range ? reword_out_of_range(token, e.what()) : reword_syntax_error(e.what());
        return false;
    }

    // The first problem found, as the message to throw; "" when the text is fine.
    std::string problem(const std::string& text) const {
        if (!error_.empty()) {
            const auto [line, column] = line_and_column(text, error_offset_);
            return origin_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + error_;
        }
        return duplicate_;
    }

private:
    struct Frame {
        bool object;
        std::vector<std::string> keys;  // keys seen so far, in an object
        std::size_t index;              // the element being read, in an array
    };

    static std::string reword_out_of_range(const std::string& token, const std::string& what) {
        if (what.find(".406]") != std::string::npos)
            return "the number " + token + " is out of range: a JSON number here must fit a double (at most about "
                   "1.8e308 in magnitude)";
        const auto prefix_end = what.find("] ");
        return prefix_end == std::string::npos ? what : what.substr(prefix_end + 2);
    }

    bool open(bool object) {
        if (frames_.size() >= max_json_nesting)
            throw ConfigError(origin_ + ": the value at \"" + path(frames_.size()) + "\" nests deeper than " +
                              std::to_string(max_json_nesting) +
                              " levels of objects and lists, the most Kiln reads; flatten it");
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

    // The key path of the first `depth` open containers, e.g. "pipelines.etl.nodes[2]";
    // a long one keeps its first and last steps.
    std::string path(std::size_t depth) const {
        auto step = [&](std::size_t i) {
            const Frame& f = frames_[i];
            if (!f.object) return "[" + std::to_string(f.index) + "]";
            return (i ? "." : "") + (f.keys.empty() ? std::string() : f.keys.back());
        };
        return elided_list(depth, 8, 3, step,
                           [](std::size_t hidden) { return " ... " + std::to_string(hidden) + " more levels ... "; });
    }

    // Where the innermost object sits, e.g. the object at "pipelines.etl.nodes[2]".
    std::string container() const {
        const std::string where = frames_.empty() ? std::string() : path(frames_.size() - 1);
        return where.empty() ? "the top-level object" : "the object at \"" + where + "\"";
    }

    const std::string& origin_;
    std::vector<Frame> frames_;
    std::string duplicate_;
    std::string error_;
    std::size_t error_offset_ = 0;
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
    ConfigTextCheck check(origin);
    try {
        // Comments are allowed: config files deserve them.
        nlohmann::json::sax_parse(text, &check, nlohmann::json::input_format_t::json, /*strict=*/true,
                                  /*ignore_comments=*/true);
    } catch (const nlohmann::json::exception& e) {
        throw ConfigError(origin + ": " + reword_syntax_error(e.what()));
    }
    if (std::string problem = check.problem(text); !problem.empty()) throw ConfigError(problem);
    try {
        return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
    } catch (const nlohmann::json::exception& e) {  // the check above saw the same text: not expected
        throw ConfigError(origin + ": " + reword_syntax_error(e.what()));
    }
}

std::optional<nlohmann::json> parse_json_if_json(const std::string& text, const std::string& origin) {
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) return std::nullopt;
    ConfigTextCheck check(origin);
    try {
        if (!nlohmann::json::sax_parse(text, &check, nlohmann::json::input_format_t::json, /*strict=*/true,
                                       /*ignore_comments=*/false))
            return std::nullopt;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
    if (std::string problem = check.problem(text); !problem.empty()) throw ConfigError(problem);
    return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/false);
}

std::size_t json_nesting(const nlohmann::json& value) {
    // Iterative: the value may come from anywhere, and this is what says whether it is safe.
    std::size_t deepest = 0;
    std::vector<std::pair<const nlohmann::json*, std::size_t>> todo{{&value, 0}};
    while (!todo.empty()) {
        const auto [j, depth] = todo.back();
        todo.pop_back();
        if (!j->is_structured()) continue;
        deepest = std::max(deepest, depth + 1);
        for (const auto& child : *j) todo.emplace_back(&child, depth + 1);
    }
    return deepest;
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
