#include "catalog/unused_entries.hpp"

#include "model/pipeline.hpp"
#include "text/join.hpp"

namespace kiln::core {

std::vector<std::string> unused_entry_warnings(const DataCatalog& catalog, const std::set<std::string>& used,
                                               const std::string& origin) {
    std::vector<std::string> warnings;
    std::vector<std::string> candidates;  // only names an entry could be meant for
    for (const std::string& name : used)
        if (!is_parameter_name(name) && !catalog.entries().count(name)) candidates.push_back(name);
    for (const auto& [name, entry] : catalog.entries()) {
        if (used.count(name)) continue;
        std::string warning = origin + ": catalog entry '" + name + "' is not used by any pipeline";
        std::vector<std::string> close = close_matches(name, candidates);
        if (!close.empty()) warning += "; did you mean " + quoted_join({close.front()}) + "?";
        warnings.push_back(std::move(warning));
    }
    return warnings;
}

}  // namespace kiln::core
