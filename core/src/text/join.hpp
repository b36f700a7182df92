// Lists as messages and command lines show them: "a, b, c", "'a', 'b'", "a,b".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kiln::core {

// to_text(item) for each item, with `sep` between them.
//   join(types, ", ", [](const TypeOps* t) { return std::string(t->name); })  // "i64, str"
template <class Range, class ToText>
std::string join(const Range& items, std::string_view sep, ToText to_text) {
    std::string out;
    bool first = true;
    for (const auto& item : items) {
        if (!first) out += sep;
        first = false;
        out += to_text(item);
    }
    return out;
}

// The items with `sep` between them: join({"a", "b"}) is "a, b", join({"a", "b"}, ",") is "a,b".
inline std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
    return join(items, sep, [](const std::string& item) -> const std::string& { return item; });
}

// Each item between `quote`s, with ", " between them: quoted_join({"a", "b"}) is "'a', 'b'".
inline std::string quoted_join(const std::vector<std::string>& items, std::string_view quote = "'") {
    return join(items, ", ", [&](const std::string& item) {
        std::string text(quote);
        return text.append(item).append(quote);
    });
}

}  // namespace kiln::core
