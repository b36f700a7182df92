// Graphviz DOT: a left-to-right digraph with a shape per kind of item and namespaces as
// clusters.
#include "viz/pipeline_graph.hpp"

#include <cstdint>
#include <string>
#include <string_view>

#include "viz/graph_model.hpp"
#include "viz/graph_text.hpp"

namespace kiln::core {

using namespace viz;  // the graph model and text helpers, private to core/cli/viz/

namespace {

// Inside a DOT "quoted string". Backslashes start escapes (\n, \N, \G, \l...) and Graphviz
// decodes HTML entities in labels, so '\\' and '&' are escaped too; non-ASCII is written as
// numeric entities, which Graphviz reads whatever the charset.
std::string dot_text(std::string_view s) {
    std::string out;
    for_each_char(s, [&](char32_t c) {
        if (c == '\n') out += "\\n";
        else if (c == '"') out += "\\\"";
        else if (c == '\\') out += "\\\\";
        else if (c == '&') out += "&amp;";
        else if (c < 0x80) out += static_cast<char>(c);
        else out += "&#" + std::to_string(static_cast<std::uint32_t>(c)) + ";";
    });
    return out;
}

std::string dot_attributes(const Item& item) {
    switch (item.kind) {
        case Kind::node: return "shape=box, style=\"rounded,filled\", fillcolor=\"#e8f0fe\", color=\"#3b6fd8\"";
        case Kind::persisted: return "shape=cylinder, style=filled, fillcolor=\"#fff4e0\", color=\"#c77800\"";
        case Kind::memory: return "shape=box, style=\"rounded,dashed\", color=\"#8a93a3\"";
        case Kind::parameter: return "shape=parallelogram, style=filled, fillcolor=\"#eaf6ea\", color=\"#3d8b3d\"";
    }
    return {};
}

void dot_group(const Pipeline& p, const GraphOptions& o, const Graph& g, const Tree& t, std::size_t group, int depth,
               std::string& out) {
    const std::string indent(static_cast<std::size_t>(depth) * 4, ' ');
    for (std::size_t k : t.members[group]) {
        const Item& item = g.items[k];
        const Labels l = labels_of(p, o, item);
        std::string text = dot_text(l.name);
        if (!l.detail.empty()) text += "\\n" + dot_text(l.detail);
        if (!l.tags.empty()) text += "\\n" + dot_text(l.tags);
        out += indent + item.id + " [label=\"" + text + "\", tooltip=\"" + dot_text(l.name) + "\", " +
               dot_attributes(item) + "];\n";
    }
    for (std::size_t child : t.children[group]) {
        out += indent + "subgraph cluster_g" + std::to_string(child) + " {\n";
        out += indent + "    label=\"" + dot_text(g.groups[child]) +
               "\"; style=\"rounded,filled\"; fillcolor=\"#f3f5fa\"; color=\"#b8c1d3\";\n";
        dot_group(p, o, g, t, child, depth + 1, out);
        out += indent + "}\n";
    }
}

}  // namespace

std::string render_dot(const Pipeline& p, const GraphOptions& o) {
    const Graph g = build_graph(p, o);
    const Tree t = group_tree(g);
    std::string out = "digraph kiln {\n";
    out += "    graph [rankdir=LR, fontname=\"Helvetica\", nodesep=0.25, ranksep=0.6";
    if (!o.title.empty()) out += ", label=\"" + dot_text(o.title) + "\", labelloc=t, fontsize=16";
    out += "];\n";
    out += "    node [fontname=\"Helvetica\", fontsize=11];\n";
    out += "    edge [color=\"#7b8496\", arrowsize=0.7];\n";
    dot_group(p, o, g, t, 0, 1, out);
    for (const auto& [s, d] : g.edges) out += "    " + g.items[s].id + " -> " + g.items[d].id + ";\n";
    out += "}\n";
    return out;
}

}  // namespace kiln::core
