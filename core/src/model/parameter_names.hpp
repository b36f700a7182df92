// "parameters" and "params:..." name parameter values, never catalog datasets.
#pragma once

#include <string_view>

namespace kiln::core {

inline bool is_parameter_name(std::string_view name) {
    return name == "parameters" || name.starts_with("params:");
}

}  // namespace kiln::core
