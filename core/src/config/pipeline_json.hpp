// Small helpers the readers of pipelines.json share: how messages name a JSON value's kind,
// which names are valid, and the "did you mean" hint.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kiln::core {

// "an object", "a list", "a string", "a number", ... for messages.
std::string kind_of(const nlohmann::json& j);

// Node names, namespaces and tags: non-empty, letters, digits, '_', '-' and '.'.
bool is_valid_name(const std::string& s);

// " (did you mean 'a', 'b'?)" with the known names closest to `name`, or "".
std::string did_you_mean(const std::string& name, const std::vector<std::string>& known);

}  // namespace kiln::core
