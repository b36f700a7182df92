// Drawing pipelines: Mermaid, DOT and HTML on small pipelines (shapes, escaping, namespaces,
// determinism), the HTML layout's geometry, and large pipelines (no size or time limits:
// they only have to render).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "kiln/detail/node_binding.hpp"
#include "model/pipeline.hpp"
#include "test_nodes.hpp"
#include "test_support.hpp"
#include "viz/pipeline_graph.hpp"

using kiln::core::GraphFormat;
using kiln::core::GraphOptions;
using kiln::core::Node;
using kiln::core::NodeFunction;
using kiln::core::Pipeline;
using kiln::core::render_dot;
using kiln::core::render_html;
using kiln::core::render_mermaid;
using Names = std::vector<std::string>;

using kiln::test::node;

namespace pipeline_graph_test_cases {

namespace {

const kiln::detail::NodeSpec split_spec = kiln::detail::make_node_spec(
    "split", [](const std::string& s, std::int64_t n) { return std::vector<std::string>(static_cast<std::size_t>(n), s); },
    {.args = {"text", "n"}});
const NodeFunction split_fn{"words.split", "libwords.so", &split_spec};
// A function name no plugin could have, to see node labels escaped.
const kiln::detail::NodeSpec odd_spec = kiln::detail::make_node_spec("odd", [](double a) { return a; }, {});
const NodeFunction odd_fn{"p.\"odd\"<&>#1:`x`\xC3\xA9", "libp.so", &odd_spec};

// raw_text (catalog) -> split -> words (memory) -> count -> counts (catalog); split reads params:n.
std::vector<Node> small_nodes() {
    return {node("split", {"raw_text", "params:n"}, {"words"}, &split_fn, {"prep", "text"}),
            node("count", {"words"}, {"counts"}, nullptr, {"report"})};
}

GraphOptions small_options() {
    GraphOptions o;
    o.title = "proj / __default__";
    o.catalog = {{"raw_text", "kiln.TextDataset"}, {"counts", "kiln.JsonDataset"}, {"unused", "kiln.JsonDataset"}};
    return o;
}

// Names that every format must escape: quotes, markup, entities, Mermaid's '#', ':', ';' and
// backticks, a newline, a tab, a NUL, non-ASCII, and bytes that are not UTF-8.
const std::string nasty = std::string("a\"b<script>alert('x')</script>&amp;#35;:;`md`\nline2\tt\xC3\xA9\xE2\x9C\x93") +
                          std::string(1, '\0') + "\xFF\xC3" + "end";

Pipeline nasty_pipeline() {
    return Pipeline({node("reader", {nasty}, {"out put\\x"}, nullptr, {"t-1"}),
                     node("odd", {"out put\\x"}, {"{braces} [brackets] |pipe| %%"}, &odd_fn)});
}

std::size_t count_of(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (auto pos = text.find(part); pos != std::string::npos; pos = text.find(part, pos + part.size())) ++n;
    return n;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

bool has_line(const std::string& text, const std::string& line) {
    auto lines = lines_of(text);
    return std::find(lines.begin(), lines.end(), line) != lines.end();
}

bool is_ascii(const std::string& text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// DOT's lexical sanity: every "string" closes (with \" escapes), no raw newline inside one,
// and braces outside strings balance without going negative.
std::string dot_problem(const std::string& dot) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < dot.size(); ++i) {
        const char c = dot[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
            else if (c == '\n') return "newline inside a string at byte " + std::to_string(i);
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{') {
            ++depth;
        } else if (c == '}') {
            if (--depth < 0) return "unbalanced '}' at byte " + std::to_string(i);
        }
    }
    if (in_string) return "unterminated string";
    if (depth != 0) return "unbalanced braces";
    return "";
}

bool have_program(const std::string& name) {
    return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

// Items of an HTML drawing: id -> (x, y, w, h) from each item's translate() and outline
// (a rect, the parallelogram "M10,0H<w>L<w-10>,<h>H0Z" or the cylinder "...0 0 1 <w>,5A...V<h-5>A...").
struct Rect {
    double x, y, w, h;
};
std::map<std::string, Rect> html_items(const std::string& html) {
    std::map<std::string, Rect> items;
    static const std::regex item_re(
        R"re(<g class="it [a-z]+" id="([nd][0-9]+)"[^>]*transform="translate\(([-0-9.]+),([-0-9.]+)\)">)re");
    static const std::regex rect_re(R"re(^<rect class="sh" width="([0-9.]+)" height="([0-9.]+)")re");
    static const std::regex para_re(R"re(^<path class="sh" d="M10,0H([0-9.]+)L[0-9.]+,([0-9.]+)H0Z")re");
    static const std::regex cyl_re(R"re(^<path class="sh" d="M0,5A[0-9.]+,5 0 0 1 ([0-9.]+),5A[^V]*V([0-9.]+)A)re");
    for (std::sregex_iterator it(html.begin(), html.end(), item_re), end; it != end; ++it) {
        const auto& m = *it;
        Rect r{std::stod(m[2]), std::stod(m[3]), 0, 0};
        std::string rest = html.substr(static_cast<std::size_t>(m.position(0) + m.length(0)), 4000);
        rest = rest.substr(rest.find("</title>") + 8);
        std::smatch size;
        if (std::regex_search(rest, size, rect_re) || std::regex_search(rest, size, para_re)) {
            r.w = std::stod(size[1]);
            r.h = std::stod(size[2]);
        } else if (std::regex_search(rest, size, cyl_re)) {
            r.w = std::stod(size[1]);
            r.h = std::stod(size[2]) + 5;
        }
        items[m[1]] = r;
    }
    return items;
}

// An edge of an HTML drawing: "M x1,y1" then curves "C a,b c,d x,y" and straight runs
// across columns "H x", ending at x2,y2.
struct Edge {
    std::string source, target;
    double x1, y1, x2, y2;
    std::vector<std::array<double, 3>> straight;  // x from, x to, y
};
std::vector<Edge> html_edges(const std::string& html) {
    std::vector<Edge> edges;
    static const std::regex edge_re(
        R"re(<path class="edge" data-s="([nd][0-9]+)" data-t="([nd][0-9]+)" d="M([-0-9.]+),([-0-9.]+)((?:C[-0-9.]+,[-0-9.]+ [-0-9.]+,[-0-9.]+ [-0-9.]+,[-0-9.]+|H[-0-9.]+)+)"/>)re");
    static const std::regex step_re(R"re(C[-0-9.]+,[-0-9.]+ [-0-9.]+,[-0-9.]+ ([-0-9.]+),([-0-9.]+)|H([-0-9.]+))re");
    for (std::sregex_iterator it(html.begin(), html.end(), edge_re), end; it != end; ++it) {
        const auto& m = *it;
        Edge e{m[1], m[2], std::stod(m[3]), std::stod(m[4]), 0, 0, {}};
        double x = e.x1, y = e.y1;
        const std::string steps = m[5];
        for (std::sregex_iterator st(steps.begin(), steps.end(), step_re); st != end; ++st) {
            if ((*st)[1].matched) {
                x = std::stod((*st)[1]);
                y = std::stod((*st)[2]);
            } else {
                e.straight.push_back({x, std::stod((*st)[3]), y});
                x = std::stod((*st)[3]);
            }
        }
        e.x2 = x;
        e.y2 = y;
        edges.push_back(std::move(e));
    }
    return edges;
}

// A deterministic layered DAG of `count` nodes in a few namespaces, each reading one to three
// earlier outputs, some parameters, and writing one output; every tenth output persisted.
Pipeline big_pipeline(std::size_t count, GraphOptions& o) {
    std::vector<Node> nodes;
    std::uint64_t state = 42;
    auto next = [&] {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<std::size_t>(state >> 33);
    };
    for (std::size_t i = 0; i < count; ++i) {
        Names inputs;
        if (i == 0 || next() % 10 == 0) inputs.push_back("source_" + std::to_string(i));
        for (std::size_t k = 0, fan = 1 + next() % 3; i > 0 && k < fan; ++k) {
            std::string in = "out_" + std::to_string(i - 1 - next() % std::min<std::size_t>(i, 40));
            if (std::find(inputs.begin(), inputs.end(), in) == inputs.end()) inputs.push_back(in);
        }
        if (next() % 4 == 0) inputs.push_back("params:p" + std::to_string(next() % 5));
        const std::string out = "out_" + std::to_string(i);
        if (i % 10 == 0) o.catalog[out] = "kiln.JsonDataset";
        const std::string ns = i % 3 == 0 ? "" : i % 3 == 1 ? "alpha" : "beta.inner";
        nodes.push_back(node("node_" + std::to_string(i), inputs, {out}, nullptr, {"t" + std::to_string(i % 4)}, ns));
    }
    return Pipeline(std::move(nodes));
}

}  // namespace

// ---------------------------------------------------------------- formats and names

TEST_CASE("pipeline_graph.format_names_and_extensions") {
    using kiln::core::graph_format_from_name;
    using kiln::core::graph_format_from_path;
    CHECK(graph_format_from_name("mermaid") == GraphFormat::mermaid);
    CHECK(graph_format_from_name("dot") == GraphFormat::dot);
    CHECK(graph_format_from_name("html") == GraphFormat::html);
    CHECK_FALSE(graph_format_from_name("svg"));
    CHECK_FALSE(graph_format_from_name(""));
    CHECK_FALSE(graph_format_from_name("HTML"));
    CHECK(graph_format_from_path("a/b.mmd") == GraphFormat::mermaid);
    CHECK(graph_format_from_path("b.MERMAID") == GraphFormat::mermaid);
    CHECK(graph_format_from_path("b.dot") == GraphFormat::dot);
    CHECK(graph_format_from_path("b.gv") == GraphFormat::dot);
    CHECK(graph_format_from_path("b.HTML") == GraphFormat::html);
    CHECK(graph_format_from_path("b.htm") == GraphFormat::html);
    CHECK_FALSE(graph_format_from_path("b.txt"));
    CHECK_FALSE(graph_format_from_path("html"));
    CHECK_FALSE(graph_format_from_path(""));
    for (auto f : {GraphFormat::mermaid, GraphFormat::dot, GraphFormat::html})
        CHECK(graph_format_from_name(kiln::core::graph_format_name(f)) == f);
}

// ---------------------------------------------------------------- Mermaid

TEST_CASE("pipeline_graph.mermaid.shapes_labels_and_edges") {
    const std::string m = render_mermaid(Pipeline(small_nodes()), small_options());
    INFO(m);
    CHECK(m.rfind("---\ntitle: \"proj / __default__\"\n---\nflowchart LR\n", 0) == 0);
    // Ids are generated: datasets in the order met, nodes by topological index.
    CHECK(has_line(m, "    d0[(\"raw_text<br/>kiln.TextDataset\")]:::kilnPersisted"));
    CHECK(has_line(m, "    d1[/\"params#58;n\"/]:::kilnParameter"));
    CHECK(has_line(m, "    n0[\"split<br/>words.split<br/>#91;prep, text#93;\"]:::kilnNode"));
    CHECK(has_line(m, "    d2([\"words\"]):::kilnMemory"));
    CHECK(has_line(m, "    n1[\"count<br/>#91;report#93;\"]:::kilnNode"));
    CHECK(has_line(m, "    d3[(\"counts<br/>kiln.JsonDataset\")]:::kilnPersisted"));
    CHECK(has_line(m, "    d0 --> n0"));
    CHECK(has_line(m, "    d1 --> n0"));
    CHECK(has_line(m, "    n0 --> d2"));
    CHECK(has_line(m, "    d2 --> n1"));
    CHECK(has_line(m, "    n1 --> d3"));
    CHECK(count_of(m, "-->") == 5);
    CHECK(m.find("unused") == std::string::npos);  // catalog entries the pipeline does not use
    CHECK(m.find("subgraph") == std::string::npos);
}

TEST_CASE("pipeline_graph.mermaid.escapes_every_name") {
    GraphOptions o;
    o.title = "t\"itle\n---\nflowchart";
    o.catalog[nasty] = "my<Type>";
    const std::string m = render_mermaid(nasty_pipeline(), o);
    INFO(m);
    CHECK(is_ascii(m));
    CHECK(m.find('\0') == std::string::npos);
    CHECK(m.find("<script") == std::string::npos);
    CHECK(m.find("&amp;") == std::string::npos);
    CHECK(m.find('`') == std::string::npos);
    CHECK(m.find("%%") == std::string::npos);
    CHECK(m.find("#34;") != std::string::npos);                   // "
    CHECK(m.find("#60;script#62;") != std::string::npos);         // <script>
    CHECK(m.find("#38;amp#59;#35;35#59;#58;#59;") != std::string::npos);  // &amp;#35;:;
    CHECK(m.find("line2 t#233;#10003;#65533;") != std::string::npos);   // tab, é, ✓, NUL
    CHECK(m.find("#65533;#65533;end") != std::string::npos);  // invalid bytes
    CHECK(m.find("<br/>line2") != std::string::npos);          // the newline
    CHECK(m.find("my#60;Type#62;") != std::string::npos);
    CHECK(m.find("p.#34;odd#34;#60;#38;#62;#35;1#58;#96;x#96;#233;") != std::string::npos);
    CHECK(m.find("#123;braces#125; #91;brackets#93; #124;pipe#124; #37;#37;") != std::string::npos);
    CHECK(m.find("out put#92;x") != std::string::npos);
    // The title stays one YAML scalar: front matter is exactly the first three lines.
    auto lines = lines_of(m);
    REQUIRE(lines.size() > 4);
    CHECK(lines[0] == "---");
    CHECK(lines[1] == "title: \"t\\\"itle --- flowchart\"");
    CHECK(lines[2] == "---");
    CHECK(lines[3] == "flowchart LR");
    // Each item line holds exactly its two quotes: names never open or close a string.
    for (const auto& line : lines)
        if (line.find("\"]") != std::string::npos || line.find("\")]") != std::string::npos) {
            INFO(line);
            CHECK(count_of(line, "\"") == 2);
        }
}

TEST_CASE("pipeline_graph.mermaid.namespaces_nest") {
    Pipeline p({node("a", {"x"}, {"outer.y"}, nullptr, {}, "outer"),
                node("b", {"outer.y"}, {"outer.inner.z"}, nullptr, {}, "outer.inner"),
                node("c", {"outer.inner.z"}, {"w"})});
    const std::string m = render_mermaid(p);
    INFO(m);
    CHECK(m.find("title") == std::string::npos);
    auto lines = lines_of(m);
    auto at = [&](const std::string& line) {
        return static_cast<std::size_t>(std::find(lines.begin(), lines.end(), line) - lines.begin());
    };
    const std::size_t outer = at("    subgraph g1[\"outer\"]");
    const std::size_t inner = at("        subgraph g2[\"outer.inner\"]");
    const std::size_t node_b = at("            n1[\"outer.inner.b\"]:::kilnNode");
    const std::size_t z = at("            d2([\"outer.inner.z\"]):::kilnMemory");
    const std::size_t inner_end = at("        end");
    const std::size_t outer_end = at("    end");
    REQUIRE(outer_end < lines.size());
    CHECK(outer < inner);
    CHECK(inner < node_b);
    CHECK(node_b < inner_end);
    CHECK(z < inner_end);
    CHECK(inner_end < outer_end);
    CHECK(at("        n0[\"outer.a\"]:::kilnNode") < inner);
    CHECK(at("        d1([\"outer.y\"]):::kilnMemory") < inner);
    CHECK(at("    d0([\"x\"]):::kilnMemory") < outer);  // not in a namespace
    CHECK(at("    n2[\"c\"]:::kilnNode") < outer);  // a group's own items come before its subgraphs
    CHECK(count_of(m, "subgraph") == 2);
    CHECK(count_of(m, "\n    end\n") + count_of(m, "\n        end\n") == 2);
}

TEST_CASE("pipeline_graph.transcoded_forms_are_one_dataset") {
    // write -> scores@json ... scores@text -> read: one box "scores", as Kedro-Viz draws it.
    Pipeline p({node("write", {"raw_text"}, {"scores@json"}), node("read", {"scores@text"}, {"report"})});
    GraphOptions o = small_options();
    o.catalog = {{"scores@json", "kiln.JsonDataset"}, {"scores@text", "kiln.TextDataset"}};
    const std::string m = render_mermaid(p, o);
    INFO(m);
    CHECK(has_line(m, "    d1[(\"scores<br/>#64;json kiln.JsonDataset, #64;text kiln.TextDataset\")]:::kilnPersisted"));
    CHECK(has_line(m, "    n0 --> d1"));
    CHECK(has_line(m, "    d1 --> n1"));
    CHECK(m.find("scores@") == std::string::npos);
    CHECK(count_of(m, "-->") == 4);
    const std::string dot = render_dot(p, o);
    CHECK(count_of(dot, "->") == 4);
}

TEST_CASE("pipeline_graph.parameters_can_be_left_out") {
    GraphOptions o = small_options();
    o.show_parameters = false;
    Pipeline p(small_nodes());
    for (const std::string& text : {render_mermaid(p, o), render_dot(p, o), render_html(p, o)}) {
        CHECK(text.find("params") == std::string::npos);
        CHECK(text.find("words") != std::string::npos);
    }
    CHECK(count_of(render_mermaid(p, o), "-->") == 4);
}

// ---------------------------------------------------------------- DOT

TEST_CASE("pipeline_graph.dot.shapes_clusters_and_edges") {
    std::vector<Node> nodes = small_nodes();
    nodes.push_back(node("late", {"counts"}, {"ns.final"}, nullptr, {}, "ns"));
    const std::string d = render_dot(Pipeline(std::move(nodes)), small_options());
    INFO(d);
    CHECK(dot_problem(d) == "");
    CHECK(d.rfind("digraph kiln {\n", 0) == 0);
    CHECK(d.find("label=\"proj / __default__\"") != std::string::npos);
    CHECK(d.find("    d0 [label=\"raw_text\\nkiln.TextDataset\", tooltip=\"raw_text\", shape=cylinder") !=
          std::string::npos);
    CHECK(d.find("    d1 [label=\"params:n\", tooltip=\"params:n\", shape=parallelogram") != std::string::npos);
    CHECK(d.find("    n0 [label=\"split\\nwords.split\\n[prep, text]\", tooltip=\"split\", shape=box") !=
          std::string::npos);
    CHECK(d.find("    d2 [label=\"words\", tooltip=\"words\", shape=box, style=\"rounded,dashed\"") !=
          std::string::npos);
    CHECK(d.find("    subgraph cluster_g1 {\n        label=\"ns\";") != std::string::npos);
    CHECK(d.find("        n2 [label=\"ns.late\"") != std::string::npos);
    CHECK(d.find("        d4 [label=\"ns.final\"") != std::string::npos);
    CHECK(has_line(d, "    d0 -> n0;"));
    CHECK(has_line(d, "    n2 -> d4;"));
    CHECK(count_of(d, " -> ") == 7);
}

TEST_CASE("pipeline_graph.dot.escapes_every_name") {
    GraphOptions o;
    o.title = "ti\"tle\\";
    o.catalog[nasty] = "my<Type>";
    const std::string d = render_dot(nasty_pipeline(), o);
    INFO(d);
    CHECK(dot_problem(d) == "");
    CHECK(is_ascii(d));
    CHECK(d.find('\0') == std::string::npos);
    CHECK(d.find("label=\"ti\\\"tle\\\\\"") != std::string::npos);
    CHECK(d.find("a\\\"b<script>alert('x')</script>&amp;amp;#35;:;`md`\\nline2 t&#233;&#10003;&#65533;&#65533;&#65533;end") !=
          std::string::npos);
    CHECK(d.find("out put\\\\x") != std::string::npos);
    CHECK(d.find("p.\\\"odd\\\"<&amp;>#1:`x`&#233;") != std::string::npos);
}

TEST_CASE("pipeline_graph.dot.graphviz_accepts_it" * doctest::skip(!have_program("dot"))) {
    kiln::test::TempDir dir;
    GraphOptions o;
    o.catalog[nasty] = "T";
    for (const Pipeline& p : {nasty_pipeline(), Pipeline(small_nodes())}) {
        dir.write("g.dot", render_dot(p, o));
        const std::string cmd = "dot -Tsvg '" + (dir / "g.dot").string() + "' -o '" + (dir / "g.svg").string() + "'";
        CHECK(std::system(cmd.c_str()) == 0);
    }
}

// ---------------------------------------------------------------- HTML

TEST_CASE("pipeline_graph.html.is_one_offline_page") {
    const std::string h = render_html(Pipeline(small_nodes()), small_options());
    CHECK(h.rfind("<!DOCTYPE html>\n", 0) == 0);
    CHECK(h.find("<meta charset=\"utf-8\">") != std::string::npos);
    CHECK(h.find("<title>proj / __default__</title>") != std::string::npos);
    CHECK(h.find("<h1>proj / __default__</h1>") != std::string::npos);
    CHECK(h.find("2 nodes, 4 datasets") != std::string::npos);
    // Nothing is fetched: no external script, style sheet, font, image or URL.
    for (const char* external : {"http:", "https:", "//cdn", "src=", "href=", "<link", "@import", "mermaid", "fetch("})
        CHECK_MESSAGE(h.find(external) == std::string::npos, external);
    for (auto pos = h.find("url("); pos != std::string::npos; pos = h.find("url(", pos + 1))
        CHECK(h.compare(pos, 5, "url(#") == 0);  // only the page's own arrowheads
    CHECK(count_of(h, "<script>") == 1);
    CHECK(count_of(h, "</script>") == 1);
    CHECK(h.find("<svg id=\"graph\"") != std::string::npos);
    for (const char* id : {"n0", "n1", "d0", "d1", "d2", "d3"})
        CHECK(h.find(std::string("id=\"") + id + "\"") != std::string::npos);
    CHECK(h.find("<g class=\"it nd\" id=\"n0\" data-name=\"split\" data-func=\"words.split\" "
                 "data-sig=\"words.split(text: string, n: i64) -&gt; vector&lt;string&gt;\" "
                 "data-tags=\"prep, text\"") != std::string::npos);
    CHECK(h.find("<g class=\"it dp\" id=\"d0\" data-name=\"raw_text\" data-type=\"kiln.TextDataset\"") !=
          std::string::npos);
    CHECK(h.find("<g class=\"it dq\" id=\"d1\" data-name=\"params:n\"") != std::string::npos);
    CHECK(h.find("<g class=\"it dm\" id=\"d2\" data-name=\"words\"") != std::string::npos);
    CHECK(count_of(h, "<path class=\"edge\"") == 5);
}

TEST_CASE("pipeline_graph.html.escapes_every_name") {
    GraphOptions o;
    o.title = "<b>\"T\"</b> & 'co'";
    o.catalog[nasty] = "my<Type>";
    const std::string h = render_html(nasty_pipeline(), o);
    CHECK(count_of(h, "<script") == 1);  // the page's own
    CHECK(count_of(h, "</script>") == 1);
    CHECK(h.find("<b>") == std::string::npos);
    CHECK(h.find('\0') == std::string::npos);
    CHECK(h.find("<title>&lt;b&gt;&quot;T&quot;&lt;/b&gt; &amp; &#39;co&#39;</title>") != std::string::npos);
    CHECK(h.find("data-name=\"a&quot;b&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;amp;#35;:;`md` line2 "
                 "t\xC3\xA9\xE2\x9C\x93\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "end\"") != std::string::npos);
    CHECK(h.find("data-type=\"my&lt;Type&gt;\"") != std::string::npos);
    CHECK(h.find("data-func=\"p.&quot;odd&quot;&lt;&amp;&gt;#1:`x`\xC3\xA9\"") != std::string::npos);
    // Long names are cut in the box (with "…") but kept whole in data-name and the tooltip.
    std::string long_name(300, 'x');
    const std::string l = render_html(Pipeline({node("n", {long_name}, {"o"})}));
    CHECK(l.find("data-name=\"" + long_name + "\"") != std::string::npos);
    CHECK(l.find("<title>" + long_name + "</title>") != std::string::npos);
    CHECK(l.find(">" + std::string(47, 'x') + "\xE2\x80\xA6</text>") != std::string::npos);
}

TEST_CASE("pipeline_graph.html.layout_flows_left_to_right_without_overlaps") {
    // Two sources feed a wide middle layer that joins again; a parameter read late.
    std::vector<Node> nodes;
    for (int i = 0; i < 12; ++i)
        nodes.push_back(node("mid" + std::to_string(i), {i % 2 ? "left" : "right"}, {"m" + std::to_string(i)}, nullptr,
                             {}, i % 3 == 0 ? "grp" : ""));
    Names all;
    for (int i = 0; i < 12; ++i) all.push_back("m" + std::to_string(i));
    all.push_back("seed");  // long edges: across four columns...
    nodes.push_back(node("join", all, {"joined"}));
    nodes.push_back(node("late", {"joined", "params:p", "left"}, {"final"}));  // ...and five
    nodes.push_back(node("src_l", {"seed"}, {"left"}));
    nodes.push_back(node("src_r", {"seed"}, {"right"}));
    GraphOptions o;
    o.catalog = {{"seed", "T"}, {"final", "T"}};
    const Pipeline p(std::move(nodes));
    const std::string h = render_html(p, o);
    const auto items = html_items(h);
    const auto edges = html_edges(h);
    CHECK(items.size() == 16 + 18);  // datasets: seed, left, right, m0..m11, joined, params:p, final
    REQUIRE(edges.size() == 2 + 2 + 12 + 12 + 13 + 1 + 3 + 1);
    std::size_t straight_runs = 0;
    for (const Edge& e : edges) {
        INFO(e.source << " -> " << e.target);
        REQUIRE(items.count(e.source));
        REQUIRE(items.count(e.target));
        const Rect& s = items.at(e.source);
        const Rect& t = items.at(e.target);
        CHECK(s.x + s.w < t.x);                        // every edge goes right
        CHECK(e.x1 == doctest::Approx(s.x + s.w).epsilon(0.001));
        CHECK(e.x2 < t.x + 0.01);
        CHECK(e.y1 == doctest::Approx(s.y + s.h / 2).epsilon(0.001));  // from the middle of the source...
        CHECK(e.y2 == doctest::Approx(t.y + t.h / 2).epsilon(0.001));  // ...to the middle of the target
        // A long edge crosses the columns in between straight, and between their items.
        for (const auto& [from, to, y] : e.straight) {
            ++straight_runs;
            CHECK(from < to);
            for (const auto& [id, r] : items) {
                INFO(id);
                const bool overlaps_x = r.x < to && from < r.x + r.w;
                CHECK_FALSE((overlaps_x && r.y - 2 < y && y < r.y + r.h + 2));
            }
        }
    }
    CHECK(straight_runs == 4 + 4);  // seed -> join and left -> late cross four columns each
    // Items sharing a column (same centre, up to rounding) never overlap.
    std::vector<Rect> all_items;
    for (const auto& [id, r] : items) {
        INFO(id);
        CHECK(r.w > 0);
        CHECK(r.h > 0);
        all_items.push_back(r);
    }
    auto centre = [](const Rect& r) { return r.x + r.w / 2; };
    std::sort(all_items.begin(), all_items.end(), [&](const Rect& a, const Rect& b) {
        return std::abs(centre(a) - centre(b)) > 1 ? centre(a) < centre(b) : a.y < b.y;
    });
    std::size_t column_count = 1;
    for (std::size_t k = 1; k < all_items.size(); ++k) {
        const Rect& a = all_items[k - 1];
        const Rect& b = all_items[k];
        if (std::abs(centre(a) - centre(b)) > 1) {
            ++column_count;
            CHECK(centre(b) - centre(a) > 90);
        } else {
            CHECK(a.y + a.h < b.y);
        }
    }
    CHECK(column_count == 9);  // seed | src | left,right | mid | m | join | joined,params:p | late | final
    // The parameter sits just before its reader (late), after the join.
    CHECK(items.at("n14").x < items.at("d16").x);  // join, then params:p...
    CHECK(items.at("d16").x < items.at("n15").x);  // ...then late
    CHECK(h.find("<g class=\"band\" data-ns=\"grp\">") != std::string::npos);
    // Everything is inside the drawing's declared size.
    static const std::regex size_re(R"re(data-w="([0-9.]+)" data-h="([0-9.]+)")re");
    std::smatch size;
    REQUIRE(std::regex_search(h, size, size_re));
    for (const auto& [id, r] : items) {
        CHECK(r.x >= 0);
        CHECK(r.y >= 0);
        CHECK(r.x + r.w <= std::stod(size[1]));
        CHECK(r.y + r.h <= std::stod(size[2]));
    }
}

// ---------------------------------------------------------------- all formats

TEST_CASE("pipeline_graph.deterministic_whatever_the_declaration_order") {
    GraphOptions o = small_options();
    std::vector<Node> nodes = small_nodes();
    nodes.push_back(node("side", {"raw_text"}, {"ns.side_out"}, nullptr, {}, "ns"));
    nodes.push_back(node("more", {"ns.side_out", "words"}, {"more_out"}, nullptr, {}, "ns.deeper"));
    std::vector<Node> shuffled(nodes.rbegin(), nodes.rend());
    std::swap(shuffled[0], shuffled[2]);
    const Pipeline a(nodes), b(shuffled);
    for (auto format : {GraphFormat::mermaid, GraphFormat::dot, GraphFormat::html}) {
        INFO(kiln::core::graph_format_name(format));
        const std::string first = kiln::core::render_graph(a, o, format);
        CHECK(first == kiln::core::render_graph(a, o, format));
        CHECK(first == kiln::core::render_graph(b, o, format));
        CHECK(first == kiln::core::render_graph(Pipeline(a), o, format));
    }
}

TEST_CASE("pipeline_graph.random_bytes_in_names_stay_contained") {
    std::uint64_t state = 7;
    auto next = [&] {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<unsigned>(state >> 33);
    };
    // Any bytes, but at most one '@': a name with two is not a dataset name (transcoding).
    auto random_name = [&] {
        std::string s(1 + next() % 24, ' ');
        bool separator = false;
        for (char& c : s) {
            c = static_cast<char>(next() % 256);
            if (c == '@' && std::exchange(separator, true)) c = '`';
        }
        return s;
    };
    for (int round = 0; round < 20; ++round) {
        std::vector<Node> nodes;
        GraphOptions o;
        o.title = random_name();
        std::string previous = random_name();
        for (int i = 0; i < 6; ++i) {
            std::string out = random_name() + std::to_string(i);
            if (i % 2) o.catalog[out] = random_name();
            nodes.push_back(node("n" + std::to_string(i), {previous}, {out}, nullptr, {}, i % 3 ? "ns" : ""));
            previous = out;
        }
        const Pipeline p(std::move(nodes));
        const std::string m = render_mermaid(p, o);
        CHECK(is_ascii(m));
        CHECK(lines_of(m)[1].rfind("title: \"", 0) == 0);  // the title is one line
        CHECK(lines_of(m)[2] == "---");
        const std::string graph = m.substr(m.find("\nflowchart LR\n"));
        CHECK(count_of(graph, "\"") == 2 * 13 + 2);  // 13 items and the subgraph
        CHECK(graph.find("&") == std::string::npos);
        CHECK(dot_problem(render_dot(p, o)) == "");
        const std::string h = render_html(p, o);
        CHECK(count_of(h, "</script>") == 1);
        CHECK(count_of(h, "<g class=\"it ") == 13);
        CHECK(h.find('\0') == std::string::npos);
    }
}

TEST_CASE("pipeline_graph.empty_and_tiny_pipelines") {
    const Pipeline empty;
    CHECK(render_mermaid(empty) == "flowchart LR\n"
                                   "    classDef kilnNode fill:#e8f0fe,stroke:#3b6fd8,color:#1d2433\n"
                                   "    classDef kilnPersisted fill:#fff4e0,stroke:#c77800,color:#1d2433\n"
                                   "    classDef kilnMemory fill:#ffffff,stroke:#8a93a3,stroke-dasharray:4 3,color:#1d2433\n"
                                   "    classDef kilnParameter fill:#eaf6ea,stroke:#3d8b3d,color:#1d2433\n");
    CHECK(dot_problem(render_dot(empty)) == "");
    CHECK(render_html(empty).find("This pipeline has no nodes.") != std::string::npos);
    // A node with neither inputs nor outputs, and one reading a dataset twice.
    const Pipeline lonely({node("alone", {}, {}), node("twice", {"x", "x"}, {"y"})});
    CHECK(count_of(render_mermaid(lonely), "-->") == 2);
    CHECK(count_of(render_dot(lonely), " -> ") == 2);
    const std::string h = render_html(lonely);
    CHECK(html_items(h).size() == 4);
    CHECK(html_edges(h).size() == 2);
}

TEST_CASE("pipeline_graph.large_pipelines_render") {
    // 2000 nodes with namespaces, parameters read everywhere, and long edges; then a
    // 2000-node chain (2000 layers) and a 2000-node fan-out (one layer, one shared input).
    GraphOptions o;
    const Pipeline dag = big_pipeline(2000, o);
    std::vector<Node> chain, fan;
    for (int i = 0; i < 2000; ++i) {
        chain.push_back(node("c" + std::to_string(i), {"v" + std::to_string(i), "params:x"}, {"v" + std::to_string(i + 1)}));
        fan.push_back(node("f" + std::to_string(i), {"shared"}, {"o" + std::to_string(i)}));
    }
    for (const Pipeline& p : {dag, Pipeline(std::move(chain)), Pipeline(std::move(fan))}) {
        const std::string m = render_mermaid(p, o);
        const std::string d = render_dot(p, o);
        const std::string h = render_html(p, o);
        CHECK(count_of(m, ":::kilnNode\n") == 2000);
        CHECK(m.find("Mermaid draws at most 500") != std::string::npos);
        CHECK(dot_problem(d) == "");
        CHECK(count_of(h, "<g class=\"it nd\"") == 2000);
        CHECK(h.find("id=\"n1999\"") != std::string::npos);
    }
}

}  // namespace pipeline_graph_test_cases
