// Which nodes an incremental run must run, and why. A node is up to date when the
// fingerprint recorded when it last completed equals its fingerprint now and every
// persisted output it wrote is still there, unchanged. Otherwise it is stale, as is a
// node reading a file that a stale node writes again. A node whose in-memory output a
// running node reads runs too (Kedro's rule for --only-missing-outputs).
//
//   Staleness s = decide_staleness(full, scope, catalog, records, fingerprinter, run_id);
//   for (auto i : s.selected) ...   // scope indices to run
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "incremental/node_fingerprint.hpp"

namespace kiln::core {

struct NodeStaleness {
    enum class State { up_to_date, stale, needed };
    State state = State::up_to_date;
    std::vector<std::string> reasons;  // empty when up to date
    std::string fingerprint;           // now
    // Up to date, but its files were touched since (same content): its record with
    // today's stamps, for the store, so the next decision need not hash them again.
    std::optional<NodeRecord> refreshed;
};

struct Staleness {
    std::vector<NodeStaleness> nodes;    // by scope index
    std::vector<std::size_t> selected;   // scope indices that run, ascending
};

// `full`: the pipeline the scope was filtered from (producers outside the scope still give
// their in-memory fingerprints). `fingerprinter` works on `full`.
Staleness decide_staleness(const Pipeline& full, const Pipeline& scope, DataCatalog& catalog, const NodeRecords& records,
                           Fingerprinter& fingerprinter, const std::string& run_id);

// What changed between a node's record and now, one line each, for `kiln explain`: code,
// signature, each parameter, input and output, with hash prefixes, files and values.
std::vector<std::string> describe_changes(const NodeRecord& before, const NodeRecord& now);

}  // namespace kiln::core
