#include "incremental/fingerprint_observer.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

#include "kiln/error.hpp"

namespace kiln::core {

FingerprintObserver::FingerprintObserver(FingerprintStore& store, NodeRecords records, Fingerprinter& fingerprinter,
                                         std::vector<std::size_t> full_index, std::string run_id)
    : store_(store), records_(std::move(records)), fingerprinter_(fingerprinter), full_index_(std::move(full_index)),
      run_id_(std::move(run_id)) {}

void FingerprintObserver::node_finished(std::size_t node, unsigned, const NodeFailure* failure) {
    if (failure) return;  // its old record, if any, still describes the outputs it had
    std::lock_guard lock(mutex_);
    const std::size_t f = full_index_[node];
    try {
        NodeRecord record = fingerprinter_.record_now(f);
        record.run_id = run_id_;
        record.outputs = fingerprinter_.outputs_now(f);
        fingerprinter_.set_fingerprint(f, record.fingerprint);
        // A node that saved files is recorded at once (redoing it would cost); one whose
        // outputs all live in memory may wait for the next batch.
        const bool saved_files = std::any_of(record.outputs.begin(), record.outputs.end(),
                                             [](const OutputPart& out) { return !out.path.empty(); });
        store_.append(record, saved_files);
        appended_ = true;
        std::string name = record.node;
        records_.insert_or_assign(std::move(name), std::move(record));
    } catch (const std::exception& e) {
        if (!warned_)
            spdlog::warn("Could not record the fingerprint of a completed node ({}); the next incremental run runs "
                         "it again",
                         e.what());
        warned_ = true;
    }
}

void FingerprintObserver::finish() {
    std::lock_guard lock(mutex_);
    if (!appended_) return;
    try {
        store_.sync();
        store_.compact(records_);
    } catch (const std::exception& e) {
        spdlog::warn("Could not tidy {} ({})", store_.file().string(), e.what());
    }
}

}  // namespace kiln::core
