#include "commands/status_command.hpp"

#include <iostream>
#include <set>
#include <spdlog/spdlog.h>

#include "commands/standard_output.hpp"
#include "config/redaction.hpp"
#include "incremental/content_hash.hpp"
#include "kiln/error.hpp"
#include "text/join.hpp"

using namespace kiln;
using core::NodeStaleness;

namespace {

// prepare_run up to the decision, with its per-node log lines left to this command.
std::unique_ptr<core::PreparedRun> decide(core::SessionOptions& o) {
    o.incremental = true;
    o.decide_only = true;
    o.only_missing_outputs = false;
    const auto level = spdlog::get_level();
    if (level == spdlog::level::info) spdlog::set_level(spdlog::level::warn);
    struct Restore {
        spdlog::level::level_enum level;
        ~Restore() { spdlog::set_level(level); }
    } restore{level};
    return core::prepare_run(o);
}

const char* state_name(NodeStaleness::State s) {
    switch (s) {
    case NodeStaleness::State::up_to_date: return "up to date";
    case NodeStaleness::State::stale: return "stale";
    case NodeStaleness::State::needed: return "needed";
    }
    return "?";
}

// The reasons of scope node i, and under each in-memory input whose producer changed,
// that producer's own reasons (each node once).
void explain_reasons(core::PreparedRun& run, std::size_t i, const std::string& indent, std::set<std::size_t>& shown) {
    const core::Staleness& decision = *run.incremental->decision;
    for (const std::string& reason : decision.nodes[i].reasons) {
        std::cout << indent << "- " << core::redact(reason) << "\n";
        // "input 'x' comes from node 'P', whose fingerprint changed": why P changed.
        const std::string marker = "comes from node '";
        const auto at = reason.find(marker);
        if (at == std::string::npos) continue;
        const auto end = reason.find('\'', at + marker.size());
        const std::string producer = reason.substr(at + marker.size(), end - at - marker.size());
        const auto p = run.scope.node_index(producer);
        if (!p || !shown.insert(*p).second || decision.nodes[*p].reasons.empty()) continue;
        std::cout << indent << "  node '" << producer << "' is " << state_name(decision.nodes[*p].state) << ":\n";
        explain_reasons(run, *p, indent + "    ", shown);
    }
}

}  // namespace

int show_status(core::SessionOptions o) {
    auto run = decide(o);
    const core::Staleness& decision = *run->incremental->decision;
    std::size_t counts[3] = {0, 0, 0};
    for (const NodeStaleness& n : decision.nodes) ++counts[static_cast<int>(n.state)];
    std::cout << "Pipeline '" << run->pipeline_name << "': " << counts[1] << " stale, " << counts[2]
              << " needed for their in-memory outputs, " << counts[0] << " up to date (of " << decision.nodes.size()
              << " nodes)\n";
    for (std::size_t i = 0; i < decision.nodes.size(); ++i) {
        const NodeStaleness& n = decision.nodes[i];
        std::cout << "  " << state_name(n.state);
        for (std::size_t pad = std::string_view(state_name(n.state)).size(); pad < 12; ++pad) std::cout << ' ';
        std::cout << run->scope.nodes()[i].name;
        if (!n.reasons.empty()) {
            std::cout << ": " << core::redact(n.reasons.front());
            if (n.reasons.size() > 1) std::cout << " (and " << n.reasons.size() - 1 << " more: kiln explain)";
        }
        std::cout << "\n";
    }
    flush_standard_output();
    return 0;
}

int explain_node(core::SessionOptions o, const std::string& name) {
    auto run = decide(o);
    const auto i = run->scope.node_index(name);
    if (!i) {
        std::vector<std::string> names;
        for (const core::Node& n : run->scope.nodes()) names.push_back(n.name);
        const auto matches = core::close_matches(name, names);
        throw ConfigError("no node named '" + name + "' among the " + std::to_string(names.size()) +
                          " selected nodes of pipeline '" + run->pipeline_name + "'" +
                          (matches.empty() ? "" : "; did you mean " + core::join(matches) + "?"));
    }
    const NodeStaleness& n = run->incremental->decision->nodes[*i];
    const auto& records = run->incremental->records;
    const auto record = records.find(name);
    std::cout << "Node '" << name << "' is " << state_name(n.state)
              << (n.state == NodeStaleness::State::up_to_date ? ": `kiln run --incremental` skips it"
                                                              : ", so `kiln run --incremental` runs it")
              << (n.reasons.empty() ? ".\n" : ":\n");
    std::set<std::size_t> shown{*i};
    explain_reasons(*run, *i, "  ", shown);
    std::cout << "Fingerprint now " << core::hash_prefix(n.fingerprint);
    if (record != records.end()) {
        std::cout << "; recorded " << core::hash_prefix(record->second.fingerprint) << " by run " << record->second.run_id << "\n";
        std::cout << "Code: " << record->second.code << "\n";
        for (const core::OutputPart& out : record->second.outputs)
            if (!out.path.empty())
                std::cout << "Output '" << out.name << "': " << out.path << " (content " << core::hash_prefix(out.hash) << ", "
                          << out.stamp.size << " bytes when written)\n";
    } else {
        std::cout << "; none recorded\n";
    }
    flush_standard_output();
    return 0;
}
