// Text helpers every renderer of `kiln viz` shares: reading a name as clean UTF-8, cutting
// it to fit a box, and writing numbers and lists. Private to core/cli/viz/; each format's
// own escaping lives beside its renderer and starts from for_each_char.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::core::viz {

inline constexpr char32_t replacement_char = 0xFFFD;

// Calls f(code point) for each character of s, read as UTF-8. Invalid bytes (stray
// continuation bytes, overlong forms, surrogates, truncated sequences) become U+FFFD, and
// so do control characters other than '\n'; '\t' becomes a space. Every escaper starts
// here, so no format ever sees invalid UTF-8 or a raw control character.
template <class F>
void for_each_char(std::string_view s, F&& f) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        char32_t cp = replacement_char;
        std::size_t len = 1;
        if (c < 0x80) {
            cp = c;
        } else if (c >= 0xC2 && c <= 0xF4) {
            const std::size_t need = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
            char32_t v = c & (need == 2 ? 0x1F : need == 3 ? 0x0F : 0x07);
            std::size_t k = 1;
            for (; k < need && i + k < n && (p[i + k] & 0xC0) == 0x80; ++k) v = (v << 6) | (p[i + k] & 0x3F);
            if (k == need) {
                const char32_t min = need == 2 ? 0x80 : need == 3 ? 0x800 : 0x10000;
                if (v >= min && v <= 0x10FFFF && !(v >= 0xD800 && v <= 0xDFFF)) cp = v;
                len = need;
            } else {
                len = k;  // the bytes read so far are one invalid sequence
            }
        }
        i += len;
        if (cp == '\t') cp = ' ';
        else if ((cp < 0x20 && cp != '\n') || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) cp = replacement_char;
        f(cp);
    }
}

void append_utf8(std::string& out, char32_t cp);

// s cleaned as for_each_char does, newlines turned into spaces, cut to at most `columns`
// columns with a trailing "…". Returns the text and its width in columns.
std::pair<std::string, int> fit_text(std::string_view s, int columns);

// Coordinates with one decimal, independent of the locale, without "-0" or ".0".
void append_number(std::string& out, double v);
std::string num(double v);

std::string join(const std::vector<std::string>& items, std::string_view sep);

}  // namespace kiln::core::viz
