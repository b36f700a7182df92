#include "viz/graph_text.hpp"

#include <charconv>
#include <cmath>

namespace kiln::core::viz {
namespace {

// Columns a character takes in a monospace font: East Asian wide characters take two.
int char_width(char32_t c) {
    return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) || (c >= 0xAC00 && c <= 0xD7A3) ||
                   (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
                   (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1FAFF) || (c >= 0x20000 && c <= 0x3FFFD)
               ? 2
               : 1;
}

}  // namespace

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::pair<std::string, int> fit_text(std::string_view s, int columns) {
    std::vector<char32_t> chars;
    for_each_char(s, [&](char32_t c) { chars.push_back(c == '\n' ? U' ' : c); });
    int width = 0;
    for (char32_t c : chars) width += char_width(c);
    std::string out;
    if (width <= columns) {
        for (char32_t c : chars) append_utf8(out, c);
        return {out, width};
    }
    int used = 0;
    for (char32_t c : chars) {
        if (used + char_width(c) > columns - 1) break;
        used += char_width(c);
        append_utf8(out, c);
    }
    append_utf8(out, U'…');
    return {out, used + 1};
}

void append_number(std::string& out, double v) {
    v = std::round(v * 10) / 10;
    if (v == 0) v = 0;  // no "-0"
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 1);
    std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
    if (text.ends_with(".0")) text.remove_suffix(2);
    out += text;
}

std::string num(double v) {
    std::string s;
    append_number(s, v);
    return s;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (const auto& i : items) {
        if (!out.empty()) out += sep;
        out += i;
    }
    return out;
}

}  // namespace kiln::core::viz
