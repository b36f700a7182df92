// Mermaid: a flowchart with a class per kind of item and namespaces as nested subgraphs.
#include "viz/pipeline_graph.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "viz/graph_model.hpp"
#include "viz/graph_text.hpp"

namespace kiln::core {

using namespace viz;  // the graph model and text helpers, private to core/cli/viz/

namespace {

bool is_alnum(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// Inside a Mermaid "quoted label". Mermaid decodes "#<number>;" and "#<name>;" entities in
// labels, and its parser reacts to quotes, backticks (markdown strings), '#', ';' and ':'
// (it rewrites "style...:#...;" anywhere on a line). So anything but letters, digits and a
// few harmless marks is written as a numeric entity; '\n' is a line break.
std::string mermaid_text(std::string_view s) {
    std::string out;
    for_each_char(s, [&](char32_t c) {
        if (c == '\n') {
            out += "<br/>";
        } else if (is_alnum(c) || c == ' ' || c == '_' || c == '-' || c == '.' || c == ',' || c == '/' || c == '(' ||
                   c == ')' || c == '+' || c == '=' || c == '*' || c == '!' || c == '?' || c == '~' || c == '^') {
            out += static_cast<char>(c);
        } else {
            out += "#" + std::to_string(static_cast<std::uint32_t>(c)) + ";";
        }
    });
    return out;
}

// A YAML double-quoted scalar (Mermaid's front matter), ASCII only.
std::string yaml_quoted(std::string_view s) {
    std::string out = "\"";
    for_each_char(s, [&](char32_t c) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += ' ';
        } else if (c >= 0x20 && c < 0x7F) {
            out += static_cast<char>(c);
        } else {
            char buf[16];
            std::snprintf(buf, sizeof buf, c > 0xFFFF ? "\\U%08X" : "\\u%04X", static_cast<unsigned>(c));
            out += buf;
        }
    });
    return out + "\"";
}

void mermaid_group(const Pipeline& p, const GraphOptions& o, const Graph& g, const Tree& t, std::size_t group,
                   int depth, std::string& out) {
    const std::string indent(static_cast<std::size_t>(depth) * 4, ' ');
    for (std::size_t k : t.members[group]) {
        const Item& item = g.items[k];
        const Labels l = labels_of(p, o, item);
        std::string text = mermaid_text(l.name);
        if (!l.detail.empty()) text += "<br/>" + mermaid_text(l.detail);
        if (!l.tags.empty()) text += "<br/>" + mermaid_text(l.tags);
        out += indent + item.id;
        switch (item.kind) {
            case Kind::node: out += "[\"" + text + "\"]:::kilnNode\n"; break;
            case Kind::persisted: out += "[(\"" + text + "\")]:::kilnPersisted\n"; break;
            case Kind::memory: out += "([\"" + text + "\"]):::kilnMemory\n"; break;
            case Kind::parameter: out += "[/\"" + text + "\"/]:::kilnParameter\n"; break;
        }
    }
    for (std::size_t child : t.children[group]) {
        out += indent + "subgraph g" + std::to_string(child) + "[\"" + mermaid_text(g.groups[child]) + "\"]\n";
        mermaid_group(p, o, g, t, child, depth + 1, out);
        out += indent + "end\n";
    }
}

}  // namespace

std::string render_mermaid(const Pipeline& p, const GraphOptions& o) {
    const Graph g = build_graph(p, o);
    const Tree t = group_tree(g);
    std::string out;
    if (!o.title.empty()) out += "---\ntitle: " + yaml_quoted(o.title) + "\n---\n";
    out += "flowchart LR\n";
    if (g.edges.size() > 500)
        out += "    %% " + std::to_string(g.edges.size()) +
               " edges: Mermaid draws at most 500 unless its maxEdges setting is raised (or use kiln viz --format html)\n";
    out += "    classDef kilnNode fill:#e8f0fe,stroke:#3b6fd8,color:#1d2433\n"
           "    classDef kilnPersisted fill:#fff4e0,stroke:#c77800,color:#1d2433\n"
           "    classDef kilnMemory fill:#ffffff,stroke:#8a93a3,stroke-dasharray:4 3,color:#1d2433\n"
           "    classDef kilnParameter fill:#eaf6ea,stroke:#3d8b3d,color:#1d2433\n";
    mermaid_group(p, o, g, t, 0, 1, out);
    for (const auto& [s, d] : g.edges) out += "    " + g.items[s].id + " --> " + g.items[d].id + "\n";
    return out;
}

}  // namespace kiln::core
