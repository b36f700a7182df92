// Rendering a pipeline as Mermaid, DOT or HTML. All three share one graph model (items with
// generated ids, edges, namespace groups); the HTML page adds a layered layout computed here,
// so the page needs no layout library and no network.
#include "viz/pipeline_graph.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string_view>
#include <tuple>
#include <vector>

#include "catalog/catalog.hpp"

namespace kiln::core {
namespace viz {

// viz/assets/viz.css and viz.js, byte for byte: core/cli/CMakeLists.txt compiles them in
// at build time through cmake/EmbedAsset.cmake.
extern const std::string_view html_style;
extern const std::string_view html_script;

}  // namespace viz

namespace {

constexpr std::size_t npos = static_cast<std::size_t>(-1);
constexpr char32_t replacement_char = 0xFFFD;

// ---------------------------------------------------------------------------- text

// Calls f(code point) for each character of s, read as UTF-8. Invalid bytes (stray
// continuation bytes, overlong forms, surrogates, truncated sequences) become U+FFFD, and
// so do control characters other than '\n'; '\t' becomes a space. Every escaper below starts
// here, so no format ever sees invalid UTF-8 or a raw control character.
template <class F>
void for_each_char(std::string_view s, F&& f) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        char32_t cp = replacement_char;
        std::size_t len = 1;
        if (c < 0x80) {
            cp = c;
        } else if (c >= 0xC2 && c <= 0xF4) {
            const std::size_t need = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
            char32_t v = c & (need == 2 ? 0x1F : need == 3 ? 0x0F : 0x07);
            std::size_t k = 1;
            for (; k < need && i + k < n && (p[i + k] & 0xC0) == 0x80; ++k) v = (v << 6) | (p[i + k] & 0x3F);
            if (k == need) {
                const char32_t min = need == 2 ? 0x80 : need == 3 ? 0x800 : 0x10000;
                if (v >= min && v <= 0x10FFFF && !(v >= 0xD800 && v <= 0xDFFF)) cp = v;
                len = need;
            } else {
                len = k;  // the bytes read so far are one invalid sequence
            }
        }
        i += len;
        if (cp == '\t') cp = ' ';
        else if ((cp < 0x20 && cp != '\n') || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) cp = replacement_char;
        f(cp);
    }
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

bool is_alnum(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// Columns a character takes in a monospace font: East Asian wide characters take two.
int char_width(char32_t c) {
    return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) || (c >= 0xAC00 && c <= 0xD7A3) ||
                   (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
                   (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1FAFF) || (c >= 0x20000 && c <= 0x3FFFD)
               ? 2
               : 1;
}

// s cleaned as for_each_char does, newlines turned into spaces, cut to at most `columns`
// columns with a trailing "…". Returns the text and its width in columns.
std::pair<std::string, int> fit_text(std::string_view s, int columns) {
    std::vector<char32_t> chars;
    for_each_char(s, [&](char32_t c) { chars.push_back(c == '\n' ? U' ' : c); });
    int width = 0;
    for (char32_t c : chars) width += char_width(c);
    std::string out;
    if (width <= columns) {
        for (char32_t c : chars) append_utf8(out, c);
        return {out, width};
    }
    int used = 0;
    for (char32_t c : chars) {
        if (used + char_width(c) > columns - 1) break;
        used += char_width(c);
        append_utf8(out, c);
    }
    append_utf8(out, U'…');
    return {out, used + 1};
}

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

// HTML text or a double- or single-quoted attribute value. UTF-8 passes through (the page
// declares it); newlines become spaces.
std::string html_text(std::string_view s) {
    std::string out;
    for_each_char(s, [&](char32_t c) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            case '\n': out += ' '; break;
            default: append_utf8(out, c);
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

// Coordinates with one decimal, independent of the locale.
void append_number(std::string& out, double v) {
    v = std::round(v * 10) / 10;
    if (v == 0) v = 0;  // no "-0"
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 1);
    std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
    if (text.ends_with(".0")) text.remove_suffix(2);
    out += text;
}

std::string num(double v) {
    std::string s;
    append_number(s, v);
    return s;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (const auto& i : items) {
        if (!out.empty()) out += sep;
        out += i;
    }
    return out;
}

// ---------------------------------------------------------------------------- the model

enum class Kind { node, persisted, memory, parameter };

struct Item {
    Kind kind = Kind::node;
    std::size_t index = 0;  // into nodes() for a node, into dataset_names() for a dataset
    std::string id;         // "n3", "d5"
    std::size_t group = 0;  // namespace group; 0 = none
};

struct Graph {
    std::vector<Item> items;  // each dataset just before its first reader, or just after its producer
    std::vector<std::pair<std::size_t, std::size_t>> edges;  // item -> item, sources before targets
    std::vector<std::string> groups;                         // [0] = "", then namespaces in sorted order
    std::vector<std::size_t> group_parent;                   // [0] unused
    std::size_t node_count = 0;
    std::size_t dataset_count = 0;
};

Graph build_graph(const Pipeline& p, const GraphOptions& o) {
    Graph g;
    std::set<std::string> namespaces;
    for (const Node& n : p.nodes()) {
        std::string_view ns = n.namespace_;
        while (!ns.empty()) {
            namespaces.emplace(ns);
            const auto dot = ns.rfind('.');
            ns = dot == std::string_view::npos ? std::string_view() : ns.substr(0, dot);
        }
    }
    g.groups.push_back("");
    g.groups.insert(g.groups.end(), namespaces.begin(), namespaces.end());
    // Sorted, so a group's index is its rank in g.groups.
    auto group_of_name = [&](std::string_view ns) -> std::size_t {
        auto it = std::lower_bound(g.groups.begin() + 1, g.groups.end(), ns,
                                   [](const std::string& a, std::string_view b) { return a < b; });
        return it != g.groups.end() && *it == ns ? static_cast<std::size_t>(it - g.groups.begin()) : 0;
    };
    // The deepest namespace that prefixes `name` before a dot (a.b.c: a.b, then a).
    auto deepest_namespace = [&](std::string_view name) -> std::size_t {
        if (g.groups.size() == 1) return 0;
        for (auto dot = name.rfind('.'); dot != std::string_view::npos && dot > 0; dot = name.rfind('.', dot - 1))
            if (std::size_t grp = group_of_name(name.substr(0, dot))) return grp;
        return 0;
    };
    g.group_parent.assign(g.groups.size(), 0);
    for (std::size_t k = 1; k < g.groups.size(); ++k) g.group_parent[k] = deepest_namespace(g.groups[k]);

    const auto& names = p.dataset_names();
    std::vector<std::size_t> dataset_item(names.size(), npos);
    std::vector<std::size_t> seen_by(names.size(), npos);  // the node that last added an edge with it
    auto dataset = [&](std::uint32_t id) -> std::size_t {
        if (dataset_item[id] != npos) return dataset_item[id];
        const std::string& name = names[id];
        Item item;
        item.index = id;
        if (is_parameter_name(name)) {
            if (!o.show_parameters) return npos;
            item.kind = Kind::parameter;
        } else {
            item.kind = o.catalog.count(name) ? Kind::persisted : Kind::memory;
            item.group = deepest_namespace(name);
        }
        item.id = "d" + std::to_string(g.dataset_count++);
        dataset_item[id] = g.items.size();
        g.items.push_back(std::move(item));
        return dataset_item[id];
    };
    for (std::size_t i = 0; i < p.size(); ++i) {
        const Node& n = p.nodes()[i];
        std::vector<std::size_t> inputs;
        for (std::uint32_t id : n.input_ids) {
            if (seen_by[id] == i) continue;  // a node reading one dataset twice gets one edge
            seen_by[id] = i;
            if (std::size_t d = dataset(id); d != npos) inputs.push_back(d);
        }
        Item item;
        item.kind = Kind::node;
        item.index = i;
        item.id = "n" + std::to_string(i);
        item.group = group_of_name(n.namespace_);
        const std::size_t self = g.items.size();
        g.items.push_back(std::move(item));
        ++g.node_count;
        for (std::size_t d : inputs) g.edges.emplace_back(d, self);
        for (std::uint32_t id : n.output_ids)
            if (std::size_t d = dataset(id); d != npos) g.edges.emplace_back(self, d);
    }
    return g;
}

struct Labels {
    std::string name;
    std::string detail;  // the function of a node, the type of a persisted dataset
    std::string tags;    // "[a, b]" or ""
};

Labels labels_of(const Pipeline& p, const GraphOptions& o, const Item& item) {
    Labels l;
    if (item.kind == Kind::node) {
        const Node& n = p.nodes()[item.index];
        l.name = n.name;
        if (n.func) l.detail = n.func->qualified_name;
        if (!n.tags.empty()) l.tags = "[" + join(n.tags, ", ") + "]";
    } else {
        l.name = p.dataset_names()[item.index];
        if (item.kind == Kind::persisted) l.detail = o.catalog.at(l.name);
    }
    return l;
}

// Items of each group, in drawing order, and the child groups of each group.
struct Tree {
    std::vector<std::vector<std::size_t>> members;
    std::vector<std::vector<std::size_t>> children;
};

Tree group_tree(const Graph& g) {
    Tree t;
    t.members.resize(g.groups.size());
    t.children.resize(g.groups.size());
    for (std::size_t k = 0; k < g.items.size(); ++k) t.members[g.items[k].group].push_back(k);
    for (std::size_t k = 1; k < g.groups.size(); ++k) t.children[g.group_parent[k]].push_back(k);
    return t;
}

// ---------------------------------------------------------------------------- Mermaid

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

// ---------------------------------------------------------------------------- DOT

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

// ---------------------------------------------------------------------------- HTML layout

// Sizes of the drawing, in pixels. Labels use a 12px monospace font (names) and 11px (the
// function, type and tags), so a label's width follows from its number of columns.
constexpr double name_char_w = 7.3;
constexpr double small_char_w = 6.7;
constexpr double line_h = 15;
constexpr double pad_y = 7;
constexpr double cap_h = 5;         // the elliptic cap of a cylinder
constexpr double item_gap = 12;     // between items of a column
constexpr double band_gap = 30;     // between items of different namespaces (room for a band's label)
constexpr double bend_h = 2;        // a long edge crossing a column
constexpr double bend_gap = 4;      // between two long edges crossing a column
constexpr double bend_item_gap = 9; // between a long edge and an item
constexpr double column_gap = 90;   // between columns
constexpr double margin = 24;
constexpr double band_pad = 8;
constexpr double band_head = 18;
constexpr int name_columns = 48;
constexpr int small_columns = 52;
constexpr int ordering_sweeps = 8;
constexpr int placement_sweeps = 8;

// A box of the layout: an item, or a bend where a long edge crosses a column.
struct Box {
    std::size_t rank = 0;
    std::size_t group = 0;
    bool bend = false;
    double x = 0, y = 0, w = 0, h = 0;  // x: left; y: centre
    std::string name, detail, tags;     // display texts, cut to fit
};

struct Layout {
    std::vector<Box> boxes;                       // the items (same indices as Graph::items), then the bends
    std::vector<std::vector<std::size_t>> ranks;  // boxes per column, top to bottom
    std::vector<std::vector<std::size_t>> bends;  // per edge of the graph: its bends, left to right
    std::vector<double> column_x, column_w;
    double width = 0, height = 0;
};

// Adjacency in compressed rows: neighbours of box k are adj[start[k] .. start[k + 1]).
struct Adjacency {
    std::vector<std::size_t> start, adj;
};

Adjacency adjacency(std::size_t count, const std::vector<std::pair<std::size_t, std::size_t>>& links) {
    Adjacency a;
    a.start.assign(count + 1, 0);
    for (const auto& [s, t] : links) {
        ++a.start[s + 1];
        ++a.start[t + 1];
    }
    for (std::size_t k = 0; k < count; ++k) a.start[k + 1] += a.start[k];
    a.adj.resize(a.start.back());
    std::vector<std::size_t> fill(a.start.begin(), a.start.end() - 1);
    for (const auto& [s, t] : links) {
        a.adj[fill[s]++] = t;
        a.adj[fill[t]++] = s;
    }
    return a;
}

// Columns: node layer L goes to column 2L + 1; a produced dataset right after its producer
// (2L + 2, before any reader, since readers are in later layers); a free input right before
// its first reader. Empty columns are then squeezed out.
std::vector<std::size_t> item_ranks(const Pipeline& p, const Graph& g) {
    std::vector<std::size_t> layer(p.size(), 0);
    for (std::size_t l = 0; l + 1 < p.layer_starts().size(); ++l)
        for (std::size_t i = p.layer_starts()[l]; i < p.layer_starts()[l + 1]; ++i) layer[i] = l;
    std::vector<std::size_t> rank(g.items.size(), 0);
    for (std::size_t k = 0; k < g.items.size(); ++k) {
        const Item& item = g.items[k];
        if (item.kind == Kind::node) {
            rank[k] = 2 * layer[item.index] + 1;
            continue;
        }
        const auto id = static_cast<std::uint32_t>(item.index);
        const std::size_t producer = p.producer_of(id);
        if (producer != Pipeline::npos) rank[k] = 2 * layer[producer] + 2;
        else if (!p.consumers_of(id).empty()) rank[k] = 2 * layer[p.consumers_of(id).front()];
    }
    std::vector<std::size_t> used(2 * std::max<std::size_t>(p.layer_count(), 1) + 2, 0);
    for (std::size_t r : rank) used[r] = 1;
    std::size_t next = 0;
    for (auto& u : used) u = u ? next++ : 0;
    for (auto& r : rank) r = used[r];
    return rank;
}

// Orders each column to reduce crossings: alternating sweeps left-to-right and right-to-left
// place each box at the mean position of its neighbours in the columns already placed
// (the barycenter heuristic), and keep a namespace's boxes together at their mean. Each
// sweep is linear in edges plus a sort per column.
void order_columns(Layout& L, const Adjacency& a, std::size_t group_count) {
    const std::size_t n = L.boxes.size();
    const auto& b = L.boxes;
    std::vector<double> pos(n, 0), bary(n, 0), key(n, 0);
    std::vector<double> group_sum(group_count, 0);
    std::vector<std::size_t> group_size(group_count, 0);
    auto set_positions = [&](const std::vector<std::size_t>& column) {
        for (std::size_t k = 0; k < column.size(); ++k)
            pos[column[k]] = (static_cast<double>(k) + 0.5) / static_cast<double>(column.size());
    };
    for (const auto& column : L.ranks) set_positions(column);
    for (int sweep = 0; sweep < ordering_sweeps; ++sweep) {
        const bool forward = sweep % 2 == 0;
        for (std::size_t step = 0; step < L.ranks.size(); ++step) {
            const std::size_t r = forward ? step : L.ranks.size() - 1 - step;
            auto& column = L.ranks[r];
            for (std::size_t box : column) {
                double sum = 0;
                std::size_t count = 0;
                for (std::size_t e = a.start[box]; e < a.start[box + 1]; ++e) {
                    const std::size_t other = a.adj[e];
                    if (forward ? b[other].rank < r : b[other].rank > r) {
                        sum += pos[other];
                        ++count;
                    }
                }
                bary[box] = count ? sum / static_cast<double>(count) : pos[box];
                group_sum[b[box].group] += bary[box];
                ++group_size[b[box].group];
            }
            for (std::size_t box : column) {
                const std::size_t grp = b[box].group;
                key[box] = grp ? group_sum[grp] / static_cast<double>(group_size[grp]) : bary[box];
            }
            for (std::size_t box : column) {
                group_sum[b[box].group] = 0;
                group_size[b[box].group] = 0;
            }
            std::sort(column.begin(), column.end(), [&](std::size_t x, std::size_t y) {
                if (key[x] != key[y]) return key[x] < key[y];
                if (b[x].group != b[y].group) return b[x].group < b[y].group;
                if (bary[x] != bary[y]) return bary[x] < bary[y];
                return pos[x] < pos[y];
            });
            set_positions(column);
        }
    }
}

double gap_between(const Box& x, const Box& y) {
    if (x.bend && y.bend) return bend_gap;
    if (x.bend || y.bend) return bend_item_gap;
    return x.group == y.group || (!x.group && !y.group) ? item_gap : band_gap;
}

// Vertical positions: each box wants the mean height of its neighbours in the columns
// already placed; a column keeps its order and gaps by taking the mean of two feasible
// placements, one pushing boxes down from the top and one pushing them up from the bottom
// (the mean of two placements that keep every gap keeps every gap too).
void place_columns(Layout& L, const Adjacency& a) {
    auto& b = L.boxes;
    for (const auto& column : L.ranks) {
        double y = 0;
        for (std::size_t k = 0; k < column.size(); ++k) {
            if (k) y += gap_between(b[column[k - 1]], b[column[k]]);
            b[column[k]].y = y + b[column[k]].h / 2;
            y += b[column[k]].h;
        }
        for (std::size_t box : column) b[box].y -= y / 2;
    }
    std::vector<double> want, down, up;
    for (int sweep = 0; sweep < placement_sweeps; ++sweep) {
        const bool forward = sweep % 2 == 0;
        for (std::size_t step = 0; step < L.ranks.size(); ++step) {
            const std::size_t r = forward ? step : L.ranks.size() - 1 - step;
            const auto& column = L.ranks[r];
            const std::size_t m = column.size();
            want.assign(m, 0);
            for (std::size_t k = 0; k < m; ++k) {
                const std::size_t box = column[k];
                double side = 0, all = 0;
                std::size_t side_count = 0, all_count = 0;
                for (std::size_t e = a.start[box]; e < a.start[box + 1]; ++e) {
                    const std::size_t other = a.adj[e];
                    all += b[other].y;
                    ++all_count;
                    if (forward ? b[other].rank < r : b[other].rank > r) {
                        side += b[other].y;
                        ++side_count;
                    }
                }
                want[k] = side_count ? side / static_cast<double>(side_count)
                          : all_count ? all / static_cast<double>(all_count)
                                      : b[box].y;
            }
            down.assign(m, 0);
            up.assign(m, 0);
            for (std::size_t k = 0; k < m; ++k) {
                down[k] = want[k];
                if (k) {
                    const Box &prev = b[column[k - 1]], &cur = b[column[k]];
                    down[k] = std::max(down[k], down[k - 1] + (prev.h + cur.h) / 2 + gap_between(prev, cur));
                }
            }
            for (std::size_t k = m; k-- > 0;) {
                up[k] = want[k];
                if (k + 1 < m) {
                    const Box &cur = b[column[k]], &next = b[column[k + 1]];
                    up[k] = std::min(up[k], up[k + 1] - (cur.h + next.h) / 2 - gap_between(cur, next));
                }
            }
            for (std::size_t k = 0; k < m; ++k) b[column[k]].y = (down[k] + up[k]) / 2;
        }
    }
}

// An edge spanning several columns crosses each column between them through a bend, a thin
// box that takes part in ordering and placement, so long edges run between items instead of
// through them. Bends are given to the shortest edges first, up to a budget proportional to
// the items, so a pipeline whose edges span many columns (a parameter read by every layer)
// stays linear in size: edges over the budget are drawn straight.
void add_bends(const Graph& g, Layout& L) {
    const std::size_t budget = std::max<std::size_t>(20000, 8 * g.items.size());
    auto span = [&](std::size_t e) { return L.boxes[g.edges[e].second].rank - L.boxes[g.edges[e].first].rank; };
    std::vector<std::size_t> order;
    for (std::size_t e = 0; e < g.edges.size(); ++e)
        if (span(e) > 1) order.push_back(e);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return span(x) < span(y); });
    L.bends.assign(g.edges.size(), {});
    std::size_t used = 0;
    for (std::size_t e : order) {
        if (used + span(e) - 1 > budget) break;
        used += span(e) - 1;
        const auto [s, t] = g.edges[e];
        const std::size_t group = L.boxes[s].group == L.boxes[t].group ? L.boxes[s].group : 0;
        for (std::size_t r = L.boxes[s].rank + 1; r < L.boxes[t].rank; ++r) {
            Box bend;
            bend.rank = r;
            bend.group = group;
            bend.bend = true;
            bend.h = bend_h;
            L.bends[e].push_back(L.boxes.size());
            L.ranks[r].push_back(L.boxes.size());
            L.boxes.push_back(std::move(bend));
        }
    }
}

Layout layout(const Pipeline& p, const GraphOptions& o, const Graph& g) {
    Layout L;
    const std::vector<std::size_t> rank = item_ranks(p, g);
    std::size_t columns = 0;
    for (std::size_t r : rank) columns = std::max(columns, r + 1);
    L.ranks.resize(columns);
    L.boxes.resize(g.items.size());
    for (std::size_t k = 0; k < g.items.size(); ++k) {
        Box& box = L.boxes[k];
        box.rank = rank[k];
        box.group = g.items[k].group;
        L.ranks[rank[k]].push_back(k);
        const Labels l = labels_of(p, o, g.items[k]);
        int name_w = 0, detail_w = 0, tags_w = 0;
        std::tie(box.name, name_w) = fit_text(l.name, name_columns);
        if (!l.detail.empty()) std::tie(box.detail, detail_w) = fit_text(l.detail, small_columns);
        if (!l.tags.empty()) std::tie(box.tags, tags_w) = fit_text(l.tags, small_columns);
        const double text_w = std::max(name_w * name_char_w, std::max(detail_w, tags_w) * small_char_w);
        const int lines = 1 + !box.detail.empty() + !box.tags.empty();
        box.w = std::max(64.0, std::ceil(text_w) + (g.items[k].kind == Kind::parameter ? 36 : 24));
        box.h = 2 * pad_y + lines * line_h + (g.items[k].kind == Kind::persisted ? 2 * cap_h : 0);
    }
    add_bends(g, L);
    std::vector<std::pair<std::size_t, std::size_t>> links;
    links.reserve(g.edges.size() + L.boxes.size() - g.items.size());
    for (std::size_t e = 0; e < g.edges.size(); ++e) {
        std::size_t from = g.edges[e].first;
        for (std::size_t bend : L.bends[e]) {
            links.emplace_back(from, bend);
            from = bend;
        }
        links.emplace_back(from, g.edges[e].second);
    }
    const Adjacency a = adjacency(L.boxes.size(), links);
    order_columns(L, a, g.groups.size());
    place_columns(L, a);

    double top = 0, bottom = 0;
    bool first = true;
    for (const Box& box : L.boxes) {
        if (first || box.y - box.h / 2 < top) top = box.y - box.h / 2;
        if (first || box.y + box.h / 2 > bottom) bottom = box.y + box.h / 2;
        first = false;
    }
    const double shift = margin + band_head + band_pad - top;
    for (Box& box : L.boxes) box.y += shift;
    L.column_x.assign(columns, 0);
    L.column_w.assign(columns, 0);
    for (const Box& box : L.boxes) L.column_w[box.rank] = std::max(L.column_w[box.rank], box.w);
    double x = margin + band_pad;
    for (std::size_t r = 0; r < columns; ++r) {
        L.column_x[r] = x;
        x += L.column_w[r] + column_gap;
    }
    for (Box& box : L.boxes) box.x = box.bend ? L.column_x[box.rank] : L.column_x[box.rank] + (L.column_w[box.rank] - box.w) / 2;
    L.width = std::max(200.0, (columns ? x - column_gap : x) + band_pad + margin);
    L.height = std::max(120.0, bottom - top + 2 * margin + band_head + 2 * band_pad);
    return L;
}

// ---------------------------------------------------------------------------- HTML page

const char* item_class(Kind kind) {
    switch (kind) {
        case Kind::node: return "nd";
        case Kind::persisted: return "dp";
        case Kind::memory: return "dm";
        case Kind::parameter: return "dq";
    }
    return "";
}

std::string signature_of(const Node& n) {
    if (!n.func || !n.func->spec) return {};
    const NodeSpec& spec = *n.func->spec;
    std::string s = n.func->qualified_name + "(";
    for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
        if (i) s += ", ";
        if (i < spec.options.args.size()) s += spec.options.args[i] + ": ";
        s += spec.inputs[i] ? std::string(spec.inputs[i]->name) : "?";
    }
    s += ") -> ";
    if (spec.outputs.empty()) return s + "None";
    std::vector<std::string> outs;
    for (const TypeOps* t : spec.outputs) outs.push_back(t ? std::string(t->name) : "?");
    return s + (outs.size() == 1 ? outs[0] : "(" + join(outs, ", ") + ")");
}

// The outline of an item, at the origin of its group.
void append_shape(std::string& out, Kind kind, double w, double h) {
    switch (kind) {
        case Kind::node:
            out += "<rect class=\"sh\" width=\"" + num(w) + "\" height=\"" + num(h) + "\" rx=\"6\"/>";
            break;
        case Kind::memory:
            out += "<rect class=\"sh\" width=\"" + num(w) + "\" height=\"" + num(h) + "\" rx=\"" +
                   num(std::min(h / 2, 14.0)) + "\"/>";
            break;
        case Kind::parameter:
            out += "<path class=\"sh\" d=\"M10,0H" + num(w) + "L" + num(w - 10) + "," + num(h) + "H0Z\"/>";
            break;
        case Kind::persisted: {
            const std::string rx = num(w / 2), ry = num(cap_h);
            out += "<path class=\"sh\" d=\"M0," + ry + "A" + rx + "," + ry + " 0 0 1 " + num(w) + "," + ry + "A" + rx +
                   "," + ry + " 0 0 1 0," + ry + "V" + num(h - cap_h) + "A" + rx + "," + ry + " 0 0 0 " + num(w) + "," +
                   num(h - cap_h) + "V" + ry + "\"/>";
            break;
        }
    }
}

void append_item(std::string& out, const Pipeline& p, const GraphOptions& o, const Graph& g, const Item& item,
                 const Box& box) {
    const Labels l = labels_of(p, o, item);
    out += "<g class=\"it ";
    out += item_class(item.kind);
    out += "\" id=\"" + item.id + "\" data-name=\"" + html_text(l.name) + "\"";
    if (item.kind == Kind::node) {
        const Node& n = p.nodes()[item.index];
        if (!l.detail.empty()) out += " data-func=\"" + html_text(l.detail) + "\"";
        if (std::string sig = signature_of(n); !sig.empty()) out += " data-sig=\"" + html_text(sig) + "\"";
        if (!n.tags.empty()) out += " data-tags=\"" + html_text(join(n.tags, ", ")) + "\"";
    } else if (!l.detail.empty()) {
        out += " data-type=\"" + html_text(l.detail) + "\"";
    }
    if (item.group) out += " data-ns=\"" + html_text(g.groups[item.group]) + "\"";
    out += " transform=\"translate(" + num(box.x) + "," + num(box.y - box.h / 2) + ")\">";
    out += "<title>" + html_text(l.name) + "</title>";
    append_shape(out, item.kind, box.w, box.h);
    double y = pad_y + (item.kind == Kind::persisted ? 2 * cap_h : 0) + 11.5;
    const double tx = item.kind == Kind::parameter ? 18 : 12;
    out += "<text x=\"" + num(tx) + "\" y=\"" + num(y) + "\">" + html_text(box.name) + "</text>";
    for (const std::string* line : {&box.detail, &box.tags}) {
        if (line->empty()) continue;
        y += line_h;
        out += "<text class=\"s\" x=\"" + num(tx) + "\" y=\"" + num(y) + "\">" + html_text(*line) + "</text>";
    }
    out += "</g>\n";
}

// A shaded band behind each run of items of one namespace in a column (bends of long edges
// in between do not split a run).
void append_bands(std::string& out, const Graph& g, const Layout& L) {
    std::vector<std::size_t> column;
    for (std::size_t r = 0; r < L.ranks.size(); ++r) {
        column.clear();
        for (std::size_t box : L.ranks[r])
            if (!L.boxes[box].bend) column.push_back(box);
        for (std::size_t k = 0; k < column.size();) {
            const std::size_t grp = g.items[column[k]].group;
            std::size_t end = k + 1;
            while (end < column.size() && g.items[column[end]].group == grp) ++end;
            if (grp) {
                const Box& top = L.boxes[column[k]];
                const Box& bottom = L.boxes[column[end - 1]];
                const double x = L.column_x[r] - band_pad, w = L.column_w[r] + 2 * band_pad;
                const double y = top.y - top.h / 2 - band_pad - band_head;
                const double h = bottom.y + bottom.h / 2 + band_pad - y;
                const std::string ns = html_text(g.groups[grp]);
                out += "<g class=\"band\" data-ns=\"" + ns + "\"><rect x=\"" + num(x) + "\" y=\"" + num(y) +
                       "\" width=\"" + num(w) + "\" height=\"" + num(h) + "\" rx=\"8\"/><text x=\"" + num(x + 8) +
                       "\" y=\"" + num(y + 13) + "\">" + html_text(fit_text(g.groups[grp], small_columns).first) +
                       "</text><title>namespace " + ns + "</title></g>\n";
            }
            k = end;
        }
    }
}

void append_legend(std::string& out) {
    auto entry = [&](Kind kind, const char* text) {
        out += "<span><svg width=\"30\" height=\"18\" class=\"it ";
        out += item_class(kind);
        out += "\">";
        if (kind == Kind::persisted) {
            out += "<g transform=\"translate(1,0)\">";
            out += "<path class=\"sh\" d=\"M0,4A14,4 0 0 1 28,4A14,4 0 0 1 0,4V14A14,4 0 0 0 28,14V4\"/></g>";
        } else {
            out += "<g transform=\"translate(1,1)\">";
            append_shape(out, kind, 28, 16);
            out += "</g>";
        }
        out += "</svg> ";
        out += text;
        out += "</span>";
    };
    out += "<div class=\"legend\">";
    entry(Kind::node, "node");
    entry(Kind::persisted, "catalog dataset");
    entry(Kind::memory, "in memory");
    entry(Kind::parameter, "parameter");
    out += "</div>";
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

std::string render_html(const Pipeline& p, const GraphOptions& o) {
    const Graph g = build_graph(p, o);
    const Layout L = layout(p, o, g);
    const std::string title = o.title.empty() ? std::string("Kiln pipeline") : o.title;
    std::string out;
    out.reserve(4096 + g.items.size() * 420 + g.edges.size() * 110);
    out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<meta name=\"generator\" content=\"kiln viz\">\n<title>" +
           html_text(title) + "</title>\n<style>\n";
    out += viz::html_style;
    out += "</style>\n</head>\n<body>\n<header>\n<h1>" + html_text(title) + "</h1>\n<span class=\"stats\">" +
           std::to_string(g.node_count) + (g.node_count == 1 ? " node, " : " nodes, ") +
           std::to_string(g.dataset_count) + (g.dataset_count == 1 ? " dataset" : " datasets") + "</span>\n";
    append_legend(out);
    out += "\n<input id=\"q\" type=\"search\" placeholder=\"Search names ( / )\" autocomplete=\"off\" "
           "aria-label=\"Search nodes and datasets\">\n<span id=\"count\"></span>\n"
           "<button id=\"zout\" title=\"Zoom out\">&#8722;</button><button id=\"zin\" title=\"Zoom in\">+</button>"
           "<button id=\"fit\" title=\"Fit the graph in the window\">Fit</button>\n"
           "<span class=\"help\">hover or click a node to see its inputs and outputs; drag to pan, wheel to "
           "zoom</span>\n</header>\n<main>\n";
    out += "<svg id=\"graph\" data-w=\"" + num(L.width) + "\" data-h=\"" + num(L.height) + "\">\n";
    out += "<defs><marker id=\"ah\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
           "orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"#a3abb9\"/></marker>"
           "<marker id=\"ahl\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" "
           "orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"#d9480f\"/></marker></defs>\n";
    out += "<g id=\"vp\">\n";
    if (g.items.empty())
        out += "<text x=\"" + num(margin) + "\" y=\"" + num(margin + 20) + "\">This pipeline has no nodes.</text>\n";
    append_bands(out, g, L);
    out += "<g class=\"edges\">\n";
    for (std::size_t e = 0; e < g.edges.size(); ++e) {
        const auto [s, d] = g.edges[e];
        const Box& a = L.boxes[s];
        const Box& b = L.boxes[d];
        out += "<path class=\"edge\" data-s=\"" + g.items[s].id + "\" data-t=\"" + g.items[d].id + "\" d=\"M";
        double x = a.x + a.w, y = a.y;
        append_number(out, x);
        out += ',';
        append_number(out, y);
        // A curve across each gap between columns; straight across each column a bend crosses.
        auto curve_to = [&](double x2, double y2) {
            const double dx = std::clamp((x2 - x) / 2, 20.0, 160.0);
            out += 'C';
            append_number(out, x + dx);
            out += ',';
            append_number(out, y);
            out += ' ';
            append_number(out, x2 - dx);
            out += ',';
            append_number(out, y2);
            out += ' ';
            append_number(out, x2);
            out += ',';
            append_number(out, y2);
            x = x2;
            y = y2;
        };
        for (std::size_t bend : L.bends[e]) {
            const Box& c = L.boxes[bend];
            curve_to(c.x, c.y);
            x = c.x + L.column_w[c.rank];
            out += 'H';
            append_number(out, x);
        }
        curve_to(b.x - 1, b.y);
        out += "\"/>\n";
    }
    out += "</g>\n<g class=\"items\">\n";
    for (std::size_t k = 0; k < g.items.size(); ++k) append_item(out, p, o, g, g.items[k], L.boxes[k]);
    out += "</g>\n</g>\n</svg>\n<div id=\"details\"></div>\n</main>\n<script>\n";
    out += viz::html_script;
    out += "</script>\n</body>\n</html>\n";
    return out;
}

std::string render_graph(const Pipeline& p, const GraphOptions& o, GraphFormat format) {
    switch (format) {
        case GraphFormat::mermaid: return render_mermaid(p, o);
        case GraphFormat::dot: return render_dot(p, o);
        case GraphFormat::html: return render_html(p, o);
    }
    return {};
}

std::optional<GraphFormat> graph_format_from_name(std::string_view name) {
    if (name == "mermaid") return GraphFormat::mermaid;
    if (name == "dot") return GraphFormat::dot;
    if (name == "html") return GraphFormat::html;
    return std::nullopt;
}

std::optional<GraphFormat> graph_format_from_path(const std::filesystem::path& file) {
    std::string ext = file.extension().string();
    for (char& c : ext)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (ext == ".mmd" || ext == ".mermaid") return GraphFormat::mermaid;
    if (ext == ".dot" || ext == ".gv") return GraphFormat::dot;
    if (ext == ".html" || ext == ".htm") return GraphFormat::html;
    return std::nullopt;
}

std::string_view graph_format_name(GraphFormat format) {
    switch (format) {
        case GraphFormat::mermaid: return "mermaid";
        case GraphFormat::dot: return "dot";
        case GraphFormat::html: return "html";
    }
    return "";
}

}  // namespace kiln::core
