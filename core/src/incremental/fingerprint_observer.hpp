// Records each node that completes in the fingerprint store, after its outputs were saved
// (node_finished comes after the last save, wherever the node ran): its fingerprint as it
// ran, and its persisted outputs' stamps and content hashes. Every `kiln run` keeps them,
// so the first `--incremental` run after a plain one already skips what is current.
//
// A record that cannot be written (a full disk) is a warning, not a failure: the node's
// outputs are fine, and without its record the next incremental run just runs it again.
//
// An input a before_node_run hook replaced is recorded as such: Kiln cannot tell what the
// hook will give next time, so that node (and what reads its in-memory outputs) is stale
// at the next decision.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "incremental/fingerprint_store.hpp"
#include "incremental/node_fingerprint.hpp"
#include "run/node_observer.hpp"

namespace kiln::core {

class FingerprintObserver final : public NodeObserver {
public:
    // Plan node i is `full` node full_index[i]. `fingerprinter` works on `full` and may hold
    // fingerprints already decided (the incremental decision's); `records` are the store's
    // latest, kept current for compaction. `hooks_replace_inputs`: the run has hooks around
    // nodes, which may give them other inputs (watching costs the runners' fast path).
    FingerprintObserver(FingerprintStore& store, NodeRecords records, Fingerprinter& fingerprinter,
                        std::vector<std::size_t> full_index, std::string run_id, bool hooks_replace_inputs);

    unsigned listens_to() const noexcept override { return node_progress | (watch_replacements_ ? node_run : 0u); }
    void node_finished(std::size_t node, unsigned worker, const NodeFailure* failure) override;
    // Told after the hooks (the event stream's order): notes the inputs they replaced.
    void before_node_replacing(std::size_t node, unsigned worker, std::span<const NamedValue> inputs,
                               std::vector<InputReplacement>* replacements) override;

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
    bool watch_replacements_;
    std::map<std::size_t, std::set<std::string>> replaced_;  // plan node -> inputs hooks replaced
};

}  // namespace kiln::core
