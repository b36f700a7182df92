// What a session keeps for incremental runs: the fingerprint store, the records read from
// it, the file hashes they vouch for, the fingerprinter over the run's full pipeline and,
// with --incremental, the decision of which nodes are stale.
#pragma once

#include <filesystem>
#include <optional>

#include "incremental/fingerprint_store.hpp"
#include "incremental/node_fingerprint.hpp"
#include "incremental/staleness.hpp"

namespace kiln::core {

struct IncrementalState {
    // Reads PROJECT/.kiln/fingerprints. `whole`: the pipeline the run's scope comes from.
    IncrementalState(const std::filesystem::path& project, const Pipeline& whole, DataCatalog& catalog)
        : store(project), records(store.load()), files(records, project), fingerprinter(whole, catalog, files, true),
          full(whole) {}

    FingerprintStore store;
    NodeRecords records;
    FileHashes files;
    Fingerprinter fingerprinter;
    const Pipeline& full;
    std::optional<Staleness> decision;  // with --incremental
};

}  // namespace kiln::core
