// "Did you mean" suggestions: edit distance plus namespace-aware matches.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "model/pipeline.hpp"

namespace kiln::core {
namespace {

constexpr std::size_t max_matches = 3;

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions, the most
// common typo), giving up early once every path exceeds `limit`.
std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit) {
    const std::size_t n = a.size(), m = b.size();
    if ((n > m ? n - m : m - n) > limit) return limit + 1;
    std::vector<std::size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
    for (std::size_t j = 0; j <= m; ++j) prev[j] = j;
    for (std::size_t i = 1; i <= n; ++i) {
        cur[0] = i;
        std::size_t row_min = cur[0];
        for (std::size_t j = 1; j <= m; ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                cur[j] = std::min(cur[j], prev2[j - 2] + 1);
            row_min = std::min(row_min, cur[j]);
        }
        if (row_min > limit) return limit + 1;
        std::swap(prev2, prev);
        std::swap(prev, cur);
    }
    return prev[m];
}

bool ends_with_segment(std::string_view full, std::string_view tail) {
    return full.size() > tail.size() && full.ends_with(tail) && full[full.size() - tail.size() - 1] == '.';
}

}  // namespace

std::vector<std::string> close_matches(const std::string& name, const std::vector<std::string>& known) {
    if (name.empty()) return {};
    const std::string wanted = lowercase(name);
    const bool wanted_qualified = wanted.find('.') != std::string::npos;

    // (rank, distance, name): rank 0 = same name in another namespace, 1 = a typo.
    std::vector<std::tuple<int, std::size_t, const std::string*>> found;
    for (const std::string& candidate : known) {
        const std::string lower = lowercase(candidate);
        if (ends_with_segment(lower, wanted) || ends_with_segment(wanted, lower)) {
            found.emplace_back(0, 0, &candidate);
            continue;
        }
        // Reasonably close: at most 40% of the longer name changed (difflib's 0.6 ratio).
        auto close_to = [&](std::string_view other) -> std::size_t {
            const std::size_t limit = 2 * std::max(wanted.size(), other.size()) / 5;
            const std::size_t d = edit_distance(wanted, other, limit);
            return d <= limit ? d : static_cast<std::size_t>(-1);
        };
        std::size_t best = close_to(lower);
        // "tokenise" against "wc.tokenize": also compare with the unqualified part.
        if (!wanted_qualified) {
            if (auto dot = lower.rfind('.'); dot != std::string::npos)
                best = std::min(best, close_to(std::string_view(lower).substr(dot + 1)));
        }
        if (best != static_cast<std::size_t>(-1)) found.emplace_back(1, best, &candidate);
    }
    std::sort(found.begin(), found.end(), [](const auto& x, const auto& y) {
        return std::tie(std::get<0>(x), std::get<1>(x), *std::get<2>(x)) <
               std::tie(std::get<0>(y), std::get<1>(y), *std::get<2>(y));
    });
    std::vector<std::string> out;
    for (const auto& entry : found) {
        const std::string& candidate = *std::get<2>(entry);
        if (std::find(out.begin(), out.end(), candidate) != out.end()) continue;
        out.push_back(candidate);
        if (out.size() == max_matches) break;
    }
    return out;
}

}  // namespace kiln::core
