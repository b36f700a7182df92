// Catalog entries no pipeline uses: usually a typo in the entry's name or a node's, which
// would otherwise leave the data silently in memory.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"

namespace kiln::core {

// One warning per explicit entry of `catalog` that no name in `used` (every dataset the
// pipelines use) names, with the closest used dataset names as "did you mean". Patterns
// are not entries of one dataset and are never reported.
//     "catalog.json: catalog entry 'compnies' is not used by any pipeline; did you mean 'companies'?"
std::vector<std::string> unused_entry_warnings(const DataCatalog& catalog, const std::set<std::string>& used,
                                               const std::string& origin);

}  // namespace kiln::core
