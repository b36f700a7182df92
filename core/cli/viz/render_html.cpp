// The HTML page: one self-contained file holding an inline SVG drawn from the layout in
// html_layout.cpp, with the style sheet and script from viz/assets/ written in. It loads
// nothing, so it works offline and from a file:// address.
#include "viz/pipeline_graph.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "viz/graph_model.hpp"
#include "viz/graph_text.hpp"
#include "viz/html_layout.hpp"

namespace kiln::core {
namespace viz {

// viz/assets/viz.css and viz.js, byte for byte: core/cli/CMakeLists.txt compiles them in
// at build time through cmake/EmbedAsset.cmake.
extern const std::string_view html_style;
extern const std::string_view html_script;

}  // namespace viz

using namespace viz;  // the graph model, layout and text helpers, private to core/cli/viz/

namespace {

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

// The classes assets/viz.css styles and assets/viz.js names (its `kinds`): keep them in step.
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
    out += html_style;
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
    out += html_script;
    out += "</script>\n</body>\n</html>\n";
    return out;
}

}  // namespace kiln::core
