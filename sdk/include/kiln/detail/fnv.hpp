// FNV-1a, 64 bits: the hash behind Kiln's fingerprints (type layouts, run plans). Stable
// across compilers, processes and machines, and usable at compile time.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <cstdint>
#include <string_view>

namespace kiln::detail {

inline constexpr std::uint64_t fnv_offset_basis = 0xcbf29ce484222325ull;

constexpr std::uint64_t fingerprint_byte(std::uint64_t h, unsigned char b) { return (h ^ b) * 0x100000001b3ull; }
constexpr std::uint64_t fingerprint_word(std::uint64_t h, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) h = fingerprint_byte(h, static_cast<unsigned char>(v >> (8 * i)));
    return h;
}
// The text, then its length: "ab" + "c" and "a" + "bc" hash differently.
constexpr std::uint64_t fingerprint_text(std::uint64_t h, std::string_view s) {
    for (char c : s) h = fingerprint_byte(h, static_cast<unsigned char>(c));
    return fingerprint_word(h, s.size());
}

}  // namespace kiln::detail
