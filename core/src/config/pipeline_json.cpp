#include "config/pipeline_json.hpp"

#include <algorithm>

#include "model/pipeline.hpp"
#include "text/join.hpp"

namespace kiln::core {

std::string kind_of(const nlohmann::json& j) {
    using nlohmann::json;
    switch (j.type()) {
        case json::value_t::null: return "null";
        case json::value_t::object: return "an object";
        case json::value_t::array: return "a list";
        case json::value_t::string: return "a string";
        case json::value_t::boolean: return "a boolean";
        case json::value_t::binary: return "binary data";
        case json::value_t::discarded: return "nothing";
        default: return "a number";
    }
}

bool is_valid_name(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
               c == '-';
    });
}

std::string did_you_mean(const std::string& name, const std::vector<std::string>& known) {
    auto matches = close_matches(name, known);
    return matches.empty() ? std::string() : " (did you mean " + quoted_join(matches) + "?)";
}

}  // namespace kiln::core
