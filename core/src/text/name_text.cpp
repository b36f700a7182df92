#include "text/name_text.hpp"

#include <cstdio>

namespace kiln::core {
namespace {

// The length of the valid UTF-8 character starting at text[at], or 0 when it is not one.
std::size_t utf8_length(std::string_view text, std::size_t at) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[at + k]); };
    const unsigned char lead = byte(0);
    if (lead < 0x80) return 1;
    std::size_t length;
    unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) low = 0xA0;        // overlong
        else if (lead == 0xED) high = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) low = 0x90;        // overlong
        else if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
    } else {
        return 0;
    }
    if (at + length > text.size()) return 0;
    if (byte(1) < low || byte(1) > high) return 0;
    for (std::size_t k = 2; k < length; ++k)
        if ((byte(k) & 0xC0) != 0x80) return 0;
    return length;
}

}  // namespace

std::optional<std::size_t> invalid_utf8_at(std::string_view text) {
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t n = utf8_length(text, at);
        if (n == 0) return at;
        at += n;
    }
    return std::nullopt;
}

bool has_control_character(std::string_view name) {
    for (std::size_t at = 0; at < name.size(); ++at) {
        const auto c = static_cast<unsigned char>(name[at]);
        if (c < 0x20 || c == 0x7F) return true;
        // U+0080-U+009F are C2 80 - C2 9F in UTF-8 (0x9B alone is an escape on some terminals).
        if (c == 0xC2 && at + 1 < name.size()) {
            const auto next = static_cast<unsigned char>(name[at + 1]);
            if (next >= 0x80 && next <= 0x9F) return true;
        }
    }
    return false;
}

std::string escaped(std::string_view text) {
    std::string out = "\"";
    char hex[8];
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t n = utf8_length(text, at);
        const auto c = static_cast<unsigned char>(text[at]);
        if (n == 0) {
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
            ++at;
            continue;
        }
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c < 0x20 || c == 0x7F) {
            std::snprintf(hex, sizeof hex, "\\u%04x", c);
            out += hex;
        } else if (c == 0xC2 && static_cast<unsigned char>(text[at + 1]) <= 0x9F) {
            std::snprintf(hex, sizeof hex, "\\u%04x", static_cast<unsigned char>(text[at + 1]));
            out += hex;
        } else {
            out.append(text.substr(at, n));
        }
        at += n;
    }
    return out + "\"";
}

}  // namespace kiln::core
