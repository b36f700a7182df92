#include "incremental/node_fingerprint.hpp"

#include <algorithm>

#include "catalog/dataset_versions.hpp"
#include "incremental/parallel_for.hpp"
#include "kiln/version.hpp"

namespace kiln::core {
namespace fs = std::filesystem;

namespace {

// Kept short in records and messages; the hash decides.
std::string shorten(std::string text, std::size_t limit = 120) {
    if (text.size() > limit) {
        text.resize(limit);
        text += "...";
    }
    return text;
}

}  // namespace

FileHashes::FileHashes(const NodeRecords& records, const fs::path& project_dir) {
    // Records write paths relative to the (normal, absolute) project folder, or absolute:
    // joined back they are the keys Fingerprinter looks files up by.
    const std::string project = project_dir.lexically_normal().string() + "/";
    known_.reserve(records.size() * 2);
    std::string key;  // reused: a path already known costs no allocation
    auto seed = [&](const std::string& shown, const FileStamp& stamp, const std::string& hash, bool newest) {
        if (!shown.empty() && shown.front() == '/') key = shown;
        else key.assign(project).append(shown);
        auto it = known_.find(key);
        if (it == known_.end()) it = known_.try_emplace(key).first;
        else if (!newest) return;
        it->second.seen = Seen{true, stamp, hash};
    };
    // A producer's record of a file it wrote is the newest: it wins over its readers'.
    for (const auto& [_, r] : records)
        for (const OutputPart& out : r.outputs)
            if (!out.path.empty() && !out.hash.empty()) seed(out.path, out.stamp, out.hash, true);
    for (const auto& [_, r] : records)
        for (const InputPart& in : r.inputs)
            if (in.kind == InputPart::Kind::file && !in.ref.empty()) seed(in.path, in.stamp, in.ref, false);
}

FileHashes::Slot& FileHashes::slot(const std::string& file) {
    std::lock_guard lock(mutex_);
    auto it = known_.try_emplace(file).first;
    it->second.file = &it->first;
    return it->second;
}

FileHashes::Seen FileHashes::look(Slot& slot, bool reuse_stat) {
    std::unique_lock lock(mutex_);
    if (reuse_stat && slot.looked) return slot.seen;
    const Seen before = slot.seen;
    lock.unlock();
    const FileState state = file_state(*slot.file);
    Seen now{state.present, state.stamp, {}};
    if (state.present) {
        if (before.present && before.stamp == state.stamp && !before.hash.empty()) {
            now.hash = before.hash;
        } else {
            now.hash = hash_file(*slot.file);
            lock.lock();
            ++hashed_;
            lock.unlock();
        }
    }
    lock.lock();
    slot.seen = now;
    slot.looked = true;
    return now;
}

void FileHashes::look_all(const std::vector<Slot*>& slots) {
    parallel_for(slots.size(), [&](std::size_t i) { look(*slots[i], true); });
}

std::size_t FileHashes::hashed() const {
    std::lock_guard lock(mutex_);
    return hashed_;
}

std::optional<fs::path> current_data_file(const DataCatalog& catalog, const std::string& dataset,
                                         const CatalogEntry& entry) {
    if (catalog.is_versioned(dataset) && !catalog.version_of(dataset)) {
        const auto versioned = catalog.versioned_file(dataset);
        const auto latest = latest_version(versioned.versions_dir, versioned.file_name);
        if (!latest) return versioned.versions_dir / "(no version yet)" / versioned.file_name;
        return versioned.versions_dir / *latest / versioned.file_name;
    }
    return dataset_file(catalog, dataset, entry);
}

Fingerprinter::Fingerprinter(const Pipeline& pipeline, DataCatalog& catalog, FileHashes& files, bool reuse_stat)
    : pipeline_(pipeline), catalog_(catalog), files_(files), reuse_stat_(reuse_stat), fingerprints_(pipeline.size()),
      facts_(pipeline.dataset_names().size()) {
    catalog_.expect_datasets(facts_.size());
}

const Fingerprinter::DatasetFacts& Fingerprinter::facts(std::uint32_t d) {
    DatasetFacts& f = facts_[d];
    if (f.known) return f;
    const std::string& name = pipeline_.dataset_names()[d];
    const bool produced = pipeline_.producer_of(d) != Pipeline::npos;
    const CatalogEntry* entry = is_parameter_name(name) ? nullptr : catalog_.find_entry(name);
    f.entry = entry ? entry->type + " " +
                          hash_text(entry->args.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)).substr(0, 8)
                    : "memory";
    if (is_parameter_name(name)) {
        f.kind = InputPart::Kind::parameter;
    } else if ((f.persists = entry ? catalog_.persists(*entry) : catalog_.persists(name))) {
        if (auto file = entry ? current_data_file(catalog_, name, *entry) : std::nullopt) {
            f.file = file->string();
            const std::string& project = catalog_.project_dir().native();
            // Plain "PROJECT/data/x.json" needs no path arithmetic (100,000 datasets add up).
            const bool plain = f.file.size() > project.size() + 1 && f.file.compare(0, project.size(), project) == 0 &&
                               f.file[project.size()] == '/' && f.file.find("/.") == std::string::npos &&
                               f.file.find("//") == std::string::npos && project.find("/.") == std::string::npos;
            if (plain) {
                f.shown = f.file.substr(project.size() + 1);
            } else {
                const fs::path normal = file->lexically_normal();
                f.file = normal.string();
                const fs::path rel = normal.lexically_relative(catalog_.project_dir().lexically_normal());
                f.shown = !rel.empty() && *rel.begin() != ".." ? rel.string() : f.file;
            }
            f.kind = InputPart::Kind::file;
            f.slot = &files_.slot(f.file);
        } else {
            f.kind = produced ? InputPart::Kind::node : InputPart::Kind::opaque;
        }
    } else if (produced) {
        f.kind = InputPart::Kind::node;
    } else {
        f.kind = entry && entry->args.contains("data") ? InputPart::Kind::preset : InputPart::Kind::opaque;
    }
    f.known = true;
    return f;
}

std::string Fingerprinter::signature(const Node& node) {
    const NodeSpec* spec = node.func ? node.func->spec : nullptr;
    auto type_at = [](const std::vector<const TypeOps*>* types, std::size_t k) {
        return types && k < types->size() && (*types)[k] ? std::string((*types)[k]->name) : std::string("?");
    };
    std::string s = node.func ? node.func->qualified_name : "?";
    s += "(";
    for (std::size_t k = 0; k < node.inputs.size(); ++k) {
        if (k) s += ", ";
        s += node.inputs[k] + ": " + type_at(spec ? &spec->inputs : nullptr, k);
    }
    s += ") -> ";
    for (std::size_t k = 0; k < node.outputs.size(); ++k) {
        if (k) s += ", ";
        // The output's catalog entry: another filepath or save_args make other data.
        s += node.outputs[k] + ": " + type_at(spec ? &spec->outputs : nullptr, k) + " [" + facts(node.output_ids[k]).entry + "]";
    }
    return s;
}

std::string Fingerprinter::code_of(const Node& node) {
    if (!node.func) return "?";
    if (!node.func->version.empty()) return "version " + node.func->version;
    const std::string& file = node.func->plugin_file;
    if (file.empty() || file.front() == '<') return "built-in kiln " KILN_VERSION_STRING;
    auto it = plugin_hashes_.find(file);
    if (it == plugin_hashes_.end())
        it = plugin_hashes_.emplace(file, "plugin " + fs::path(file).filename().string() + " " + hash_file(file)).first;
    return it->second;
}

InputPart Fingerprinter::input_part(const Node& node, std::size_t k) {
    const std::uint32_t d = node.input_ids[k];
    InputPart part;
    part.name = node.inputs[k];
    const DatasetFacts& f = facts(d);
    part.kind = f.kind;
    switch (part.kind) {
    case InputPart::Kind::parameter: {
        const std::string key = part.name == "parameters" ? "" : part.name.substr(std::string_view("params:").size());
        const nlohmann::json* value = key.empty() ? &catalog_.parameters().root() : catalog_.parameters().find(key);
        const std::string text =
            value ? value->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : std::string("(missing)");
        part.ref = hash_text(text);
        part.shown = shorten(text);
        break;
    }
    case InputPart::Kind::file: {
        part.path = f.shown;
        const FileHashes::Seen seen = files_.look(*f.slot, reuse_stat_);
        part.ref = seen.hash;
        part.stamp = seen.stamp;
        part.shown = f.entry;  // another load_args reads other data
        break;
    }
    case InputPart::Kind::node: {
        const std::size_t producer = pipeline_.producer_of(d);
        part.path = pipeline_.nodes()[producer].name;
        part.ref = fingerprint(producer);
        break;
    }
    case InputPart::Kind::preset:
        part.ref = hash_text(catalog_.find_entry(part.name)->args.dump(-1, ' ', false,
                                                                       nlohmann::json::error_handler_t::replace));
        break;
    case InputPart::Kind::opaque:
        part.shown = f.entry == "memory" ? "no catalog entry" : f.entry.substr(0, f.entry.find(' '));
        break;
    case InputPart::Kind::replaced: break;  // only a record says so (FingerprintObserver)
    }
    return part;
}

NodeRecord Fingerprinter::record_now(std::size_t i) {
    const Node& node = pipeline_.nodes()[i];
    NodeRecord r;
    r.node = node.name;
    r.signature = signature(node);
    r.code = code_of(node);
    r.inputs.reserve(node.inputs.size());
    for (std::size_t k = 0; k < node.inputs.size(); ++k) r.inputs.push_back(input_part(node, k));
    r.fingerprint = fingerprint_of(r);
    return r;
}

void Fingerprinter::look_at_files_of(const std::vector<std::size_t>& nodes) {
    std::vector<std::uint32_t> datasets;
    std::vector<char> taken(facts_.size());
    for (std::size_t i : nodes) {
        const Node& node = pipeline_.nodes()[i];
        for (const auto* ids : {&node.input_ids, &node.output_ids})
            for (std::uint32_t d : *ids)
                if (!taken[d]) {
                    taken[d] = 1;
                    datasets.push_back(d);
                }
    }
    // What the catalog says first, on this thread (the look-ups contend for its lock when
    // spread over threads: measured slower), then the files on all cores.
    std::vector<FileHashes::Slot*> slots;
    for (std::uint32_t d : datasets)
        if (const DatasetFacts& f = facts(d); f.slot) slots.push_back(f.slot);
    files_.look_all(slots);
}

std::vector<OutputPart> Fingerprinter::outputs_now(std::size_t i) {
    const Node& node = pipeline_.nodes()[i];
    std::vector<OutputPart> outputs;
    outputs.reserve(node.outputs.size());
    for (std::size_t k = 0; k < node.outputs.size(); ++k) {
        OutputPart out;
        out.name = node.outputs[k];
        const DatasetFacts& f = facts(node.output_ids[k]);
        if (f.persists && !f.file.empty()) {
            out.path = f.shown;
            const FileHashes::Seen seen = files_.look(*f.slot, reuse_stat_);
            out.stamp = seen.stamp;
            out.hash = seen.hash;
        }
        outputs.push_back(std::move(out));
    }
    return outputs;
}

std::string Fingerprinter::fingerprint(std::size_t node) {
    if (!fingerprints_[node].empty()) return fingerprints_[node];
    // The producers of in-memory inputs first, in topological (index) order, without recursion.
    std::vector<std::size_t> pending{node};
    std::unordered_map<std::size_t, char> seen{{node, 1}};
    for (std::size_t at = 0; at < pending.size(); ++at) {
        const Node& n = pipeline_.nodes()[pending[at]];
        for (std::uint32_t d : n.input_ids) {
            const std::size_t p = pipeline_.producer_of(d);
            if (p == Pipeline::npos || !fingerprints_[p].empty() || seen.count(p)) continue;
            if (facts(d).kind != InputPart::Kind::node) continue;
            seen[p] = 1;
            pending.push_back(p);
        }
    }
    std::sort(pending.begin(), pending.end());
    for (std::size_t p : pending) fingerprints_[p] = record_now(p).fingerprint;
    return fingerprints_[node];
}

void Fingerprinter::set_fingerprint(std::size_t node, std::string fingerprint) {
    fingerprints_[node] = std::move(fingerprint);
}

std::string fingerprint_of(const NodeRecord& r) {
    ContentHasher h;
    h.add(r.signature);
    h.add(r.code);
    for (const InputPart& in : r.inputs) {
        h.add(in.name);
        h.add(std::string_view(reinterpret_cast<const char*>(&in.kind), 1));
        h.add(in.ref);
        if (in.kind == InputPart::Kind::file || in.kind == InputPart::Kind::opaque) h.add(in.shown);
    }
    return h.hex();
}

}  // namespace kiln::core
