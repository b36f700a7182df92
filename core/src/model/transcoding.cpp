#include "model/transcoding.hpp"

#include <algorithm>

#include "model/parameter_names.hpp"

namespace kiln::core {
bool is_transcoded(std::string_view name) {
    return name.find(transcoding_separator) != std::string_view::npos && !is_parameter_name(name);
}

std::string_view underlying_dataset(std::string_view name) {
    if (!is_transcoded(name)) return name;
    return name.substr(0, name.find(transcoding_separator));
}

std::size_t transcoding_separators(std::string_view name) {
    if (is_parameter_name(name)) return 0;
    return static_cast<std::size_t>(std::count(name.begin(), name.end(), transcoding_separator));
}

}  // namespace kiln::core
