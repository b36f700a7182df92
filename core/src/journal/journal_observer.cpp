#include "journal/journal_observer.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

#include "kiln/error.hpp"
#include "run/run_guard.hpp"

namespace kiln::core {
namespace fs = std::filesystem;

std::vector<char> verified_done(const JournalState& journal, const Pipeline& scope, const DataCatalog& catalog,
                                std::vector<std::pair<std::string, std::string>>& why) {
    std::vector<char> done(scope.size(), 0);
    const auto& names = journal.header["nodes"];
    for (std::size_t j = 0; j < names.size(); ++j) {
        if (!journal.done[j]) continue;
        auto i = scope.node_index(names[j].get<std::string>());
        if (!i) continue;
        const Node& n = scope.nodes()[*i];
        std::string changed;
        for (const OutputStamp& s : journal.outputs[j]) {
            if (s.output >= n.outputs.size()) continue;
            auto file = dataset_file(catalog, n.outputs[s.output]);
            if (!file) continue;
            auto now = stamp_file(*file);
            if (!now) changed = "its output '" + n.outputs[s.output] + "' (" + file->string() + ") is missing";
            else if (now->size != s.size || now->mtime_ns != s.mtime_ns)
                changed = "its output '" + n.outputs[s.output] + "' (" + file->string() + ") changed after it was written";
            if (!changed.empty()) break;
        }
        if (changed.empty()) done[*i] = 1;
        else why.emplace_back(n.name, changed);
    }
    return done;
}

JournalObserver::JournalObserver(fs::path project, nlohmann::json header, const Pipeline& scope,
                                 std::vector<std::size_t> scope_index, const DataCatalog& catalog, std::vector<char> carried)
    : project_(std::move(project)), header_(std::move(header)), scope_(scope), carried_(std::move(carried)),
      scope_index_(std::move(scope_index)) {
    files_.resize(scope.size());
    if (!catalog.entries().empty() || !catalog.patterns().empty())
        for (std::size_t i = 0; i < scope.size(); ++i) {
            const Node& n = scope.nodes()[i];
            for (std::size_t k = 0; k < n.outputs.size(); ++k)
                if (auto file = dataset_file(catalog, n.outputs[k]))
                    files_[i].emplace_back(static_cast<std::uint32_t>(k), *file);
        }
}

namespace {

// The header with the node names appended without building a JSON value per name (a
// 100,000-node run would allocate one each).
std::string header_text(const nlohmann::json& header, const Pipeline& scope) {
    std::string text = header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    text.pop_back();  // the closing brace
    text += header.empty() ? "\"nodes\":[" : ",\"nodes\":[";
    bool first = true;
    for (const Node& n : scope.nodes()) {
        if (!first) text += ',';
        first = false;
        const bool plain = std::none_of(n.name.begin(), n.name.end(), [](char c) {
            return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x80;
        });
        if (plain) text.append("\"").append(n.name).append("\"");
        else text += nlohmann::json(n.name).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    return text + "]}";
}

}  // namespace

void JournalObserver::open() {
    if (opened_fast_.load(std::memory_order_acquire)) return;
    std::call_once(opened_, [&] {
        try {
            journal_ = RunJournal::create(project_, header_text(header_, scope_));
        } catch (const std::exception& e) {
            failed_to_open_ = true;
            spdlog::warn("{}; this run cannot be resumed with --resume", e.what());
            return;
        }
        header_ = nullptr;
        for (std::size_t i = 0; i < carried_.size(); ++i)
            if (carried_[i]) {
                stamp_outputs(i);
                journal_->append({.event = static_cast<std::uint8_t>(JournalEvent::done), .node = static_cast<std::uint32_t>(i)});
            }
        set_guarded_journal(journal_.get());
    });
    opened_fast_.store(true, std::memory_order_release);
}

void JournalObserver::stamp_outputs(std::size_t scope_node) {
    for (const auto& [k, file] : files_[scope_node])
        if (auto s = stamp_file(file, k))
            journal_->append({.event = static_cast<std::uint8_t>(JournalEvent::output),
                              .node = static_cast<std::uint32_t>(scope_node),
                              .a = s->size,
                              .b = s->mtime_ns,
                              .c = k});
}

void JournalObserver::node_started(std::size_t node, unsigned worker) {
    open();
    if (!journal_) return;
    journal_->append({.event = static_cast<std::uint8_t>(JournalEvent::started),
                      .node = static_cast<std::uint32_t>(scope_index_[node]),
                      .a = worker});
}

void JournalObserver::node_finished(std::size_t node, unsigned, const NodeFailure* failure) {
    open();
    if (!journal_) return;
    const std::size_t j = scope_index_[node];
    if (!failure) stamp_outputs(j);
    journal_->append({.event = static_cast<std::uint8_t>(failure ? JournalEvent::failed : JournalEvent::done),
                      .node = static_cast<std::uint32_t>(j)});
    // A node that saved files paid for syncing them; its done record is synced too, so
    // that after a power loss --resume does not run it again (a node with only in-memory
    // outputs must run again anyway: its values died with the process).
    if (!failure && !files_[j].empty()) journal_->sync();
}

bool JournalObserver::finish(RunEnding ending, int signal) {
    open();
    if (!journal_) return false;
    journal_->append({.event = static_cast<std::uint8_t>(JournalEvent::ended),
                      .a = static_cast<std::uint64_t>(ending),
                      .b = static_cast<std::uint64_t>(signal)});
    journal_->sync();
    return true;
}

}  // namespace kiln::core
