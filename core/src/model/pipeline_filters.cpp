// Kedro's pipeline filters. Each selects node indices of this pipeline (a breadth-first
// walk over producers/consumers where it follows edges, so linear time), then builds the
// sub-pipeline from them. The walks follow underlying datasets: producer_of and
// consumers_of join the transcoded forms of one dataset, as Kedro's from_nodes and to_nodes
// strip the format before following an edge.
#include <algorithm>
#include <string>
#include <vector>

#include "kiln/error.hpp"
#include "model/pipeline.hpp"
#include "model/transcoding.hpp"
#include "text/join.hpp"

namespace kiln::core {
namespace {

using Marks = std::vector<char>;  // one per node of the pipeline filtered: 1 = selected

constexpr std::size_t max_hinted = 5;  // close matches are looked up for this many unknown names

std::string quoted_list(const std::vector<std::string>& names) {
    return "[" + quoted_join(names) + "]";
}

// " Did you mean: ['ns.x']?" for one unknown name, or "['ns.x'] for 'x', ..." for several.
std::string did_you_mean(const std::vector<std::string>& unknown, const std::vector<std::string>& known) {
    std::string out;
    for (std::size_t k = 0; k < unknown.size() && k < max_hinted; ++k) {
        auto matches = close_matches(unknown[k], known);
        if (matches.empty()) continue;
        out += (out.empty() ? "" : ", ") + quoted_list(matches);
        if (unknown.size() > 1) out += " for '" + unknown[k] + "'";
    }
    return out.empty() ? out : " Did you mean: " + out + "?";
}

std::vector<std::size_t> find_nodes(const Pipeline& p, const std::vector<std::string>& names) {
    std::vector<std::size_t> found;
    std::vector<std::string> unknown;
    for (const auto& name : names) {
        if (auto index = p.node_index(name))
            found.push_back(*index);
        else
            unknown.push_back(name);
    }
    if (!unknown.empty()) {
        std::vector<std::string> known;
        for (const Node& node : p.nodes()) known.push_back(node.name);
        throw PipelineError("Pipeline does not contain nodes named " + quoted_list(unknown) + "." +
                            did_you_mean(unknown, known));
    }
    return found;
}

// A dataset named in --from-inputs / --to-outputs, read as Kedro reads it: a transcoded
// form ("x@json") selects only the nodes naming that form; an underlying name ("x")
// selects the nodes using any of its forms, as a plain dataset name does.
struct NamedDataset {
    std::uint32_t id;  // the dataset, or one of the underlying name's forms
    bool exact;        // only nodes naming this very form
};

std::vector<NamedDataset> find_datasets(const Pipeline& p, const std::vector<std::string>& names) {
    std::vector<NamedDataset> found;
    std::vector<std::string> unknown;
    for (const auto& name : names) {
        if (auto id = p.dataset_id(name)) {
            found.push_back({*id, is_transcoded(name)});
        } else if (auto forms = p.transcoded_forms(name); !forms.empty()) {
            found.push_back({forms.front(), false});
        } else {
            unknown.push_back(name);
        }
    }
    if (!unknown.empty()) {
        // Underlying names can be given too, so they are suggested too (each once).
        std::vector<std::string> known = p.dataset_names();
        for (const std::string& name : p.dataset_names()) {
            if (!is_transcoded(name)) continue;
            std::string base(underlying_dataset(name));
            if (std::find(known.begin(), known.end(), base) == known.end()) known.push_back(std::move(base));
        }
        throw PipelineError("Pipeline does not contain datasets named " + quoted_list(unknown) + "." +
                            did_you_mean(unknown, known));
    }
    return found;
}

bool names_dataset(const std::vector<std::uint32_t>& ids, std::uint32_t id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// Marks the seeds and everything downstream (outputs -> readers) or upstream (inputs -> producer).
void spread(const Pipeline& p, std::vector<std::size_t> queue, Marks& marks, bool downstream) {
    for (std::size_t i : queue) marks[i] = 1;
    while (!queue.empty()) {
        const Node& node = p.nodes()[queue.back()];
        queue.pop_back();
        auto visit = [&](std::size_t next) {
            if (next != Pipeline::npos && !marks[next]) {
                marks[next] = 1;
                queue.push_back(next);
            }
        };
        if (downstream) {
            for (std::uint32_t id : node.output_ids)
                for (std::size_t reader : p.consumers_of(id)) visit(reader);
        } else {
            for (std::uint32_t id : node.input_ids) visit(p.producer_of(id));
        }
    }
}

Marks select_nodes(const Pipeline& p, const std::vector<std::string>& names) {
    Marks marks(p.size(), 0);
    for (std::size_t i : find_nodes(p, names)) marks[i] = 1;
    return marks;
}

Marks select_from_nodes(const Pipeline& p, const std::vector<std::string>& names) {
    Marks marks(p.size(), 0);
    spread(p, find_nodes(p, names), marks, true);
    return marks;
}

Marks select_to_nodes(const Pipeline& p, const std::vector<std::string>& names) {
    Marks marks(p.size(), 0);
    spread(p, find_nodes(p, names), marks, false);
    return marks;
}

Marks select_from_inputs(const Pipeline& p, const std::vector<std::string>& datasets) {
    std::vector<std::size_t> readers;
    for (const NamedDataset& d : find_datasets(p, datasets))
        for (std::size_t reader : p.consumers_of(d.id))
            if (!d.exact || names_dataset(p.nodes()[reader].input_ids, d.id)) readers.push_back(reader);
    Marks marks(p.size(), 0);
    spread(p, std::move(readers), marks, true);
    return marks;
}

Marks select_to_outputs(const Pipeline& p, const std::vector<std::string>& datasets) {
    std::vector<std::size_t> writers;
    for (const NamedDataset& d : find_datasets(p, datasets)) {
        const std::size_t writer = p.producer_of(d.id);
        if (writer != Pipeline::npos && (!d.exact || names_dataset(p.nodes()[writer].output_ids, d.id)))
            writers.push_back(writer);
    }
    Marks marks(p.size(), 0);
    spread(p, std::move(writers), marks, false);
    return marks;
}

Marks select_tags(const Pipeline& p, const std::vector<std::string>& tags) {
    std::vector<std::string> wanted = tags;
    std::sort(wanted.begin(), wanted.end());
    Marks marks(p.size(), 0);
    for (std::size_t i = 0; i < p.size(); ++i)
        for (const auto& tag : p.nodes()[i].tags)
            if (std::binary_search(wanted.begin(), wanted.end(), tag)) marks[i] = 1;
    return marks;
}

bool in_namespace(const std::string& node_namespace, const std::string& ns) {
    return node_namespace == ns ||
           (node_namespace.size() > ns.size() && node_namespace.starts_with(ns) && node_namespace[ns.size()] == '.');
}

Marks select_namespaces(const Pipeline& p, const std::vector<std::string>& namespaces) {
    Marks marks(p.size(), 0);
    std::vector<std::string> unmatched;
    for (const auto& ns : namespaces) {
        bool matched = false;
        for (std::size_t i = 0; i < p.size(); ++i)
            if (in_namespace(p.nodes()[i].namespace_, ns)) marks[i] = 1, matched = true;
        if (!matched) unmatched.push_back(ns);
    }
    if (!unmatched.empty()) {
        // Every namespace and each of its parents ("a.b" -> "a") can be selected.
        std::vector<std::string> known;
        for (const Node& node : p.nodes()) {
            const std::string& ns = node.namespace_;
            for (auto dot = ns.find('.'); dot != std::string::npos; dot = ns.find('.', dot + 1))
                known.push_back(ns.substr(0, dot));
            if (!ns.empty()) known.push_back(ns);
        }
        std::sort(known.begin(), known.end());
        known.erase(std::unique(known.begin(), known.end()), known.end());
        throw PipelineError("Pipeline does not contain nodes with the following namespaces: " +
                            quoted_list(unmatched) + "." +
                            (known.empty() ? std::string(" No node has a namespace.") : did_you_mean(unmatched, known)));
    }
    return marks;
}

std::vector<std::size_t> indices_of(const Marks& marks) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < marks.size(); ++i)
        if (marks[i]) out.push_back(i);
    return out;
}

}  // namespace

bool PipelineFilter::empty() const {
    return tags.empty() && from_nodes.empty() && to_nodes.empty() && node_names.empty() && from_inputs.empty() &&
           to_outputs.empty() && namespaces.empty();
}

Pipeline Pipeline::only_nodes(const std::vector<std::string>& names) const {
    return subset(indices_of(select_nodes(*this, names)));
}
Pipeline Pipeline::from_nodes(const std::vector<std::string>& names) const {
    return subset(indices_of(select_from_nodes(*this, names)));
}
Pipeline Pipeline::to_nodes(const std::vector<std::string>& names) const {
    return subset(indices_of(select_to_nodes(*this, names)));
}
Pipeline Pipeline::from_inputs(const std::vector<std::string>& datasets) const {
    return subset(indices_of(select_from_inputs(*this, datasets)));
}
Pipeline Pipeline::to_outputs(const std::vector<std::string>& datasets) const {
    return subset(indices_of(select_to_outputs(*this, datasets)));
}
Pipeline Pipeline::only_nodes_with_tags(const std::vector<std::string>& tags) const {
    return subset(indices_of(select_tags(*this, tags)));
}
Pipeline Pipeline::only_nodes_with_namespaces(const std::vector<std::string>& namespaces) const {
    return subset(indices_of(select_namespaces(*this, namespaces)));
}

Pipeline Pipeline::filter(const PipelineFilter& f) const {
    // Like Kedro: every filter sees the whole pipeline, and a node must pass them all.
    Marks keep(size(), 1);
    std::string given;
    auto apply = [&](const std::vector<std::string>& args, const char* what, auto select) {
        if (args.empty()) return;
        given += (given.empty() ? "" : ", ") + std::string(what) + "=" + quoted_list(args);
        const Marks marks = select(*this, args);
        for (std::size_t i = 0; i < keep.size(); ++i) keep[i] = keep[i] && marks[i];
    };
    apply(f.tags, "tags", select_tags);
    apply(f.from_nodes, "from_nodes", select_from_nodes);
    apply(f.to_nodes, "to_nodes", select_to_nodes);
    apply(f.node_names, "node_names", select_nodes);
    apply(f.from_inputs, "from_inputs", select_from_inputs);
    apply(f.to_outputs, "to_outputs", select_to_outputs);
    apply(f.namespaces, "namespaces", select_namespaces);
    if (given.empty() && !empty()) return *this;
    std::vector<std::size_t> kept = indices_of(keep);
    if (kept.empty()) {
        if (given.empty())
            throw PipelineError("The pipeline has no nodes: define at least one pipeline with nodes.");
        throw PipelineError("Pipeline contains no nodes after applying all provided filters (" + given +
                            "). Please ensure that provided pipeline and filters are valid: each filter is "
                            "applied to the whole pipeline and a node must pass all of them.");
    }
    return subset(kept);
}

}  // namespace kiln::core
