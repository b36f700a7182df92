// Records each node that completes in the fingerprint store, after its outputs were saved
// (node_finished comes after the last save, wherever the node ran): its fingerprint as it
// ran, and its persisted outputs' stamps and content hashes. Every `kiln run` keeps them,
// so the first `--incremental` run after a plain one already skips what is current.
//
// A record that cannot be written (a full disk) is a warning, not a failure: the node's
// outputs are fine, and without its record the next incremental run just runs it again.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "incremental/fingerprint_store.hpp"
#include "incremental/node_fingerprint.hpp"
#include "run/node_observer.hpp"

namespace kiln::core {

class FingerprintObserver final : public NodeObserver {
public:
    // Plan node i is `full` node full_index[i]. `fingerprinter` works on `full` and may hold
    // fingerprints already decided (the incremental decision's); `records` are the store's
    // latest, kept current for compaction.
    FingerprintObserver(FingerprintStore& store, NodeRecords records, Fingerprinter& fingerprinter,
                        std::vector<std::size_t> full_index, std::string run_id);

    unsigned listens_to() const noexcept override { return node_progress; }
    void node_finished(std::size_t node, unsigned worker, const NodeFailure* failure) override;

    // At the end of the run: syncs the store and compacts it when mostly superseded.
    void finish();

private:
    FingerprintStore& store_;
    NodeRecords records_;
    Fingerprinter& fingerprinter_;
    std::vector<std::size_t> full_index_;
    std::string run_id_;
    std::mutex mutex_;
    bool warned_ = false;
    bool appended_ = false;
};

}  // namespace kiln::core
