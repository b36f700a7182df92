// The run journal as an observer of node events: every node's start, saved outputs and
// completion go to PROJECT/.kiln/journal as they happen, under every runner (the host
// sees every node start and finish, wherever it runs).
//
// The journal file is created at the first node start (or when the run ends without
// starting one), so a run that runs nothing, such as a dry run, leaves the previous
// journal in place for --resume.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "journal/run_journal.hpp"
#include "model/pipeline.hpp"
#include "run/node_observer.hpp"

namespace kiln::core {

// The nodes of `scope` a journal says completed whose persisted outputs are still the
// files they wrote (same size and mtime). `why` receives, per node that no longer counts,
// the reason (an output changed or went missing).
std::vector<char> verified_done(const JournalState& journal, const Pipeline& scope, const DataCatalog& catalog,
                                std::vector<std::pair<std::string, std::string>>& why);

class JournalObserver final : public NodeObserver {
public:
    // The runner reports plan indices; the journal names nodes of `scope`: plan node i is
    // scope node scope_index[i]. `carried`: scope nodes done before this run started (by an
    // earlier part of a resumed run, or skipped as present), recorded as done when the
    // journal is created.
    JournalObserver(std::filesystem::path project, nlohmann::json header, const Pipeline& scope,
                    std::vector<std::size_t> scope_index, const DataCatalog& catalog, std::vector<char> carried);

    unsigned listens_to() const noexcept override { return node_progress; }
    void node_started(std::size_t node, unsigned worker) override;
    void node_finished(std::size_t node, unsigned worker, const NodeFailure* failure) override;

    // Creates the journal now if no node has started; then records how the run ended and
    // syncs it. Returns false (after a warning) when the journal could not be written.
    bool finish(RunEnding ending, int signal);

    // Null until the journal is created.
    RunJournal* journal() const { return journal_.get(); }

private:
    void open();
    void stamp_outputs(std::size_t scope_node);

    std::filesystem::path project_;
    nlohmann::json header_;
    const Pipeline& scope_;
    std::vector<char> carried_;
    std::vector<std::size_t> scope_index_;
    // Per scope node: (output position, file) of its outputs persisted with a file.
    std::vector<std::vector<std::pair<std::uint32_t, std::filesystem::path>>> files_;
    std::once_flag opened_;
    std::atomic<bool> opened_fast_{false};  // spares call_once on every event once open
    std::unique_ptr<RunJournal> journal_;
    bool failed_to_open_ = false;
};

}  // namespace kiln::core
