// Which nodes a run runs, beyond the CLI filters: --only-missing-outputs, Kedro's resume
// suggestion after a failure, and the exact resume set for `kiln run --resume`.
#pragma once

#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "model/pipeline.hpp"

namespace kiln::core {

// Kedro's rule, walking from the outputs back: a node runs when it has no outputs, when
// one of its catalog outputs does not exist, or when a running node needs an output of
// it that is in memory or missing. Returns the indices (ascending) of nodes to run;
// `skipped` receives the names of the others.
std::vector<std::size_t> select_missing_outputs(const Pipeline& pipeline, DataCatalog& catalog,
                                                const std::string& run_id, std::vector<std::string>& skipped);

// Kedro's suggestion after a failure: the nearest nodes, upstream of what did not run,
// whose inputs are all persisted (catalog entries or parameters). Sorted names; empty when
// nothing ran or everything did.
std::vector<std::string> suggest_resume_nodes(const Pipeline& pipeline, const std::vector<char>& done,
                                              const DataCatalog& catalog);

// Exactly what a resumed run must run: every node not done, plus the done producers of
// inputs that are no longer available (in memory, or persisted but missing now),
// recursively. Indices ascending.
std::vector<std::size_t> nodes_to_resume(const Pipeline& pipeline, const std::vector<char>& done, DataCatalog& catalog,
                                         const std::string& run_id);

}  // namespace kiln::core
