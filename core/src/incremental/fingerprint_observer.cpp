#include "incremental/fingerprint_observer.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

#include "kiln/error.hpp"

namespace kiln::core {

FingerprintObserver::FingerprintObserver(FingerprintStore& store, NodeRecords records, Fingerprinter& fingerprinter,
                                         std::vector<std::size_t> full_index, std::string run_id,
                                         bool hooks_replace_inputs)
    : store_(store), records_(std::move(records)), fingerprinter_(fingerprinter), full_index_(std::move(full_index)),
      run_id_(std::move(run_id)), watch_replacements_(hooks_replace_inputs) {}

void FingerprintObserver::before_node_replacing(std::size_t node, unsigned, std::span<const NamedValue>,
                                                std::vector<InputReplacement>* replacements) {
    if (!replacements || replacements->empty()) return;
    std::lock_guard lock(mutex_);
    for (const InputReplacement& r : *replacements) replaced_[node].insert(r.dataset);
}

void FingerprintObserver::node_finished(std::size_t node, unsigned, const NodeFailure* failure) {
    std::lock_guard lock(mutex_);
    if (failure) {  // its old record, if any, still describes the outputs it had
        replaced_.erase(node);
        return;
    }
    const std::size_t f = full_index_[node];
    try {
        NodeRecord record = fingerprinter_.record_now(f);
        if (auto it = replaced_.find(node); it != replaced_.end()) {
            for (InputPart& in : record.inputs)
                if (it->second.count(in.name)) in = InputPart{in.name, InputPart::Kind::replaced, {}, {}, {}, "a hook's value"};
            record.fingerprint = fingerprint_of(record);
            replaced_.erase(it);
        }
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
        spdlog::warn("Could not write out the fingerprints of this run ({}); the next incremental run runs the nodes "
                     "it could not record again",
                     e.what());
    }
}

}  // namespace kiln::core
