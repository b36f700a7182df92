#include "incremental/staleness.hpp"

#include <algorithm>
#include <map>

namespace kiln::core {

namespace {


const char* kind_name(InputPart::Kind kind) {
    switch (kind) {
    case InputPart::Kind::file: return "file";
    case InputPart::Kind::node: return "value in memory";
    case InputPart::Kind::parameter: return "parameter";
    case InputPart::Kind::preset: return "catalog value";
    case InputPart::Kind::opaque: return "dataset without a file";
    case InputPart::Kind::replaced: return "value a hook gave";
    }
    return "?";
}

// "plugin libwc.so 1a2b..." -> {"libwc.so", "1a2b..."}
bool split_plugin_code(const std::string& code, std::string& file, std::string& hash) {
    if (code.rfind("plugin ", 0) != 0) return false;
    const auto space = code.rfind(' ');
    if (space <= 7) return false;
    file = code.substr(7, space - 7);
    hash = code.substr(space + 1);
    return true;
}

std::string code_change(const std::string& before, const std::string& now) {
    std::string file_before, hash_before, file_now, hash_now;
    if (split_plugin_code(before, file_before, hash_before) && split_plugin_code(now, file_now, hash_now) &&
        file_before == file_now)
        return "its code changed: plugin " + file_now + " was rebuilt (content " + hash_prefix(hash_before) + " -> " +
               hash_prefix(hash_now) + "); declare a version in its NodeOptions to keep it current across rebuilds";
    if (before.rfind("version ", 0) == 0 && now.rfind("version ", 0) == 0)
        return "its declared version changed: " + before.substr(8) + " -> " + now.substr(8);
    return "its code changed: " + before + " -> " + now;
}

std::string input_change(const InputPart& was, const InputPart& now) {
    const std::string label = "'" + now.name + "'";
    if (was.kind == InputPart::Kind::replaced)
        return "input " + label + " was replaced by a before_node_run hook when it last ran: Kiln cannot tell what "
               "it read";
    if (was.kind != now.kind)
        return "input " + label + " is now a " + kind_name(now.kind) + " (was a " + kind_name(was.kind) + ")";
    switch (now.kind) {
    case InputPart::Kind::parameter:
        if (was.ref != now.ref) return "parameter " + label + " changed: " + was.shown + " -> " + now.shown;
        break;
    case InputPart::Kind::file:
        if (now.ref.empty()) return "input " + label + " (" + now.path + ") is missing";
        if (was.path != now.path)
            return "input " + label + " is now read from " + now.path + " (was " + was.path + "), content " +
                   hash_prefix(was.ref) + " -> " + hash_prefix(now.ref);
        if (was.ref != now.ref)
            return "input " + label + " (" + now.path + ") changed: content " + hash_prefix(was.ref) + " -> " +
                   hash_prefix(now.ref) + ", " + std::to_string(was.stamp.size) + " -> " + std::to_string(now.stamp.size) +
                   " bytes";
        if (was.shown != now.shown)
            return "the catalog entry of input " + label + " changed (" + was.shown + " -> " + now.shown + ")";
        break;
    case InputPart::Kind::node:
        if (was.ref != now.ref)
            return "input " + label + " comes from node '" + now.path + "', whose fingerprint changed (" +
                   hash_prefix(was.ref) + " -> " + hash_prefix(now.ref) + ")";
        break;
    case InputPart::Kind::preset:
        if (was.ref != now.ref) return "the data of " + label + " in the catalog changed";
        break;
    case InputPart::Kind::opaque:
    case InputPart::Kind::replaced: break;
    }
    return {};
}

// Why node n's persisted outputs are no longer what it wrote (`before`): missing, saved
// elsewhere now, or changed.
void output_reasons(const Node& n, const NodeRecord& before, const std::vector<OutputPart>& outputs,
                    DataCatalog& catalog, const std::string& run_id, std::vector<std::string>& why) {
    for (std::size_t k = 0; k < outputs.size(); ++k) {
        const OutputPart& out = outputs[k];
        if (out.path.empty() && !catalog.persists(out.name)) continue;  // in memory
        const auto wrote = std::find_if(before.outputs.begin(), before.outputs.end(),
                                        [&](const OutputPart& o) { return o.name == out.name; });
        if (out.path.empty()) {
            const TypeOps* type = n.func && k < n.func->spec->outputs.size() ? n.func->spec->outputs[k] : nullptr;
            if (!catalog.dataset(out.name, type, run_id).exists())
                why.push_back("its output '" + out.name + "' does not exist");
        } else if (out.hash.empty()) {
            why.push_back("its output '" + out.name + "' (" + out.path + ") is missing");
        } else if (wrote == before.outputs.end() || wrote->path != out.path) {
            why.push_back("its output '" + out.name + "' is now saved to " + out.path +
                          (wrote == before.outputs.end() || wrote->path.empty() ? "" : " (it wrote " + wrote->path + ")"));
        } else if (wrote->hash != out.hash) {
            why.push_back("its output '" + out.name + "' (" + out.path + ") changed since it wrote it: content " +
                          hash_prefix(wrote->hash) + " -> " + hash_prefix(out.hash));
        }
    }
}

// What a stale node of the scope makes again is node i's input-to-be, whatever the file or
// the producer's fingerprint says now.
void remade_input_reasons(const Pipeline& scope, const std::vector<NodeStaleness>& decided, std::size_t i,
                          const NodeRecord& now, std::vector<std::string>& why) {
    const Node& n = scope.nodes()[i];
    for (std::size_t k = 0; k < n.input_ids.size(); ++k) {
        const std::size_t p = scope.producer_of(n.input_ids[k]);
        if (p == Pipeline::npos || decided[p].state != NodeStaleness::State::stale) continue;
        const std::string& producer = scope.nodes()[p].name;
        if (now.inputs[k].kind == InputPart::Kind::file)
            why.push_back("input '" + n.inputs[k] + "' (" + now.inputs[k].path + ") is written again by stale node '" +
                          producer + "'");
        else if (std::none_of(why.begin(), why.end(), [&](const std::string& w) {
                     return w.rfind("input '" + n.inputs[k] + "' comes from node", 0) == 0;  // said already
                 }))
            why.push_back("input '" + n.inputs[k] + "' is made again by stale node '" + producer + "'");
    }
}

// Whether an up-to-date node's files were touched since its record (same content, other
// size or mtime stamps): then the record is written again, so the next decision need not hash them.
bool stamps_moved(const NodeRecord& before, const NodeRecord& now, const std::vector<OutputPart>& outputs) {
    for (std::size_t k = 0; k < now.inputs.size() && k < before.inputs.size(); ++k)
        if (now.inputs[k].kind == InputPart::Kind::file && !(now.inputs[k].stamp == before.inputs[k].stamp)) return true;
    for (const OutputPart& out : outputs)
        for (const OutputPart& wrote : before.outputs)
            if (wrote.name == out.name && !(wrote.stamp == out.stamp)) return true;
    return false;
}

}  // namespace

std::vector<std::string> describe_changes(const NodeRecord& before, const NodeRecord& now) {
    std::vector<std::string> changes;
    if (before.code != now.code) changes.push_back(code_change(before.code, now.code));
    if (before.signature != now.signature)
        changes.push_back("its definition changed: " + before.signature + " -> " + now.signature);
    std::map<std::string, const InputPart*> was;
    for (const InputPart& in : before.inputs) was[in.name] = &in;
    for (const InputPart& in : now.inputs) {
        auto it = was.find(in.name);
        if (it == was.end()) {
            changes.push_back("it reads '" + in.name + "', which it did not before");
            continue;
        }
        if (std::string change = input_change(*it->second, in); !change.empty()) changes.push_back(std::move(change));
        was.erase(it);
    }
    for (const auto& [name, _] : was) changes.push_back("it no longer reads '" + name + "'");
    return changes;
}

Staleness decide_staleness(const Pipeline& full, const Pipeline& scope, DataCatalog& catalog, const NodeRecords& records,
                           Fingerprinter& fingerprinter, const std::string& run_id) {
    Staleness s;
    const auto& nodes = scope.nodes();
    s.nodes.resize(nodes.size());
    std::vector<std::size_t> in_full(nodes.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) in_full[i] = &full == &scope ? i : *full.node_index(nodes[i].name);
    // Every file the decision reads, stat'ed (and hashed if changed) on all cores first.
    fingerprinter.look_at_files_of(in_full);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const Node& n = nodes[i];
        const std::size_t f = in_full[i];
        NodeRecord now = fingerprinter.record_now(f);
        fingerprinter.set_fingerprint(f, now.fingerprint);
        NodeStaleness& st = s.nodes[i];
        st.fingerprint = now.fingerprint;
        std::vector<std::string>& why = st.reasons;
        if (n.func && n.func->always_run) why.push_back("it is declared always_run (side effects): it runs every time");
        const auto rec = records.find(n.name);
        std::vector<OutputPart> outputs;
        if (rec == records.end()) {
            why.push_back("no fingerprint is recorded for it (it has not completed since .kiln/fingerprints was started)");
        } else {
            const NodeRecord& before = rec->second;
            if (before.fingerprint != now.fingerprint) {
                auto changes = describe_changes(before, now);
                if (changes.empty())
                    changes.push_back("its fingerprint changed (" + hash_prefix(before.fingerprint) + " -> " +
                                      hash_prefix(now.fingerprint) + ")");
                why.insert(why.end(), changes.begin(), changes.end());
            }
            outputs = fingerprinter.outputs_now(f);
            output_reasons(n, before, outputs, catalog, run_id, why);
        }
        remade_input_reasons(scope, s.nodes, i, now, why);
        for (const InputPart& in : now.inputs)
            if (in.kind == InputPart::Kind::opaque)
                why.push_back("input '" + in.name + "' (" + in.shown +
                              ") has no file to hash and no producer here: Kiln cannot tell whether it changed");
        if (!why.empty()) {
            st.state = NodeStaleness::State::stale;
        } else if (stamps_moved(rec->second, now, outputs)) {
            now.outputs = std::move(outputs);
            now.run_id = rec->second.run_id;
            st.refreshed = std::move(now);
        }
    }
    // Producers of in-memory values that running nodes read run too.
    std::vector<std::size_t> queue;
    for (std::size_t i = 0; i < nodes.size(); ++i)
        if (s.nodes[i].state == NodeStaleness::State::stale) queue.push_back(i);
    while (!queue.empty()) {
        const std::size_t c = queue.back();
        queue.pop_back();
        for (std::size_t k = 0; k < nodes[c].input_ids.size(); ++k) {
            const std::size_t p = scope.producer_of(nodes[c].input_ids[k]);
            if (p == Pipeline::npos || s.nodes[p].state != NodeStaleness::State::up_to_date ||
                catalog.persists(nodes[c].inputs[k]))
                continue;
            s.nodes[p].state = NodeStaleness::State::needed;
            s.nodes[p].reasons.push_back("its in-memory output '" + nodes[c].inputs[k] + "' is read by node '" +
                                         nodes[c].name + "', which runs");
            queue.push_back(p);
        }
    }
    for (std::size_t i = 0; i < nodes.size(); ++i)
        if (s.nodes[i].state != NodeStaleness::State::up_to_date) s.selected.push_back(i);
    return s;
}

}  // namespace kiln::core
