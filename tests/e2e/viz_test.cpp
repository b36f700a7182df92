// `kiln viz`: the real binary draws the word-count sample (Mermaid on stdout, DOT and HTML
// files), applies the node filters, needs no data, and reports bad formats, unknown
// pipelines and unwritable outputs as usage errors (exit code 2) without crashing.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "kiln_process.hpp"
#include "project_builder.hpp"
#include "test_support.hpp"

using namespace kiln::test;
namespace fs = std::filesystem;

namespace viz_test_cases {

namespace {

// `kiln viz --project <sample> --plugin-path <sample plugin> ARGS...`. The sample is only
// read: viz writes nothing into the project.
KilnResult viz_sample(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"viz", "--project", KILN_SAMPLE_DIR, "--plugin-path", KILN_SAMPLE_PLUGIN_DIR};
    all.insert(all.end(), args.begin(), args.end());
    return run_kiln(all);
}

KilnResult viz_project(const Project& p, const std::vector<std::string>& args) {
    std::vector<std::string> all = {"viz", "--project", p.dir(), "--plugin-path", test_plugins("good")};
    all.insert(all.end(), args.begin(), args.end());
    return run_kiln(all);
}

std::size_t count_of(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (auto pos = text.find(part); pos != std::string::npos; pos = text.find(part, pos + part.size())) ++n;
    return n;
}

// The text of the line holding `part`, from `part` on ("" when absent): error messages
// without the log prefix.
std::string line_from(const std::string& output, const std::string& part) {
    const auto pos = output.find(part);
    if (pos == std::string::npos) return "";
    return output.substr(pos, output.find('\n', pos) - pos);
}

bool braces_balance(const std::string& dot) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < dot.size(); ++i) {
        const char c = dot[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '}') {
            depth += c == '{' ? 1 : -1;
            if (depth < 0) return false;
        }
    }
    return depth == 0 && !in_string;
}

bool have_program(const std::string& name) {
    return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

const char* const sample_nodes[] = {"normalize",  "tokenize",         "remove_stopwords", "count_words",
                                    "top_words",  "length_histogram", "text_stats",       "write_report"};

}  // namespace

TEST_CASE("viz.sample.mermaid_on_stdout_by_default") {
    auto r = viz_sample({});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    // Standard output holds the drawing and nothing else.
    CHECK(r.output.rfind("---\ntitle: \"wordcount / __default__\"\n---\nflowchart LR\n", 0) == 0);
    CHECK(count_of(r.output, ":::kilnNode\n") == 8);
    for (const char* n : sample_nodes) CHECK(r.contains(std::string("[\"") + n + "<br/>wordcount." + n + "<br/>"));
    CHECK(r.contains("[(\"word_counts<br/>kiln.JsonDataset\")]:::kilnPersisted"));
    CHECK(r.contains("[(\"raw_text<br/>kiln.TextDataset\")]:::kilnPersisted"));
    CHECK(r.contains("([\"words\"]):::kilnMemory"));
    CHECK(r.contains("[/\"params#58;report.top_n\"/]:::kilnParameter"));
    CHECK(r.contains("#91;prepare#93;"));
    CHECK(count_of(r.output, " --> ") == 21);
}

TEST_CASE("viz.sample.dot_file_from_its_extension") {
    TempDir dir;
    const fs::path out = dir / "graphs" / "wordcount.gv";  // the folder is created
    auto r = viz_sample({"-o", out.string()});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.contains("drawn as dot in"));
    CHECK_FALSE(r.contains("digraph"));  // nothing on stdout
    const std::string dot = read_text(out);
    CHECK(dot.rfind("digraph kiln {\n", 0) == 0);
    CHECK(braces_balance(dot));
    CHECK(dot.find("label=\"wordcount / __default__\"") != std::string::npos);
    CHECK(dot.find("label=\"tokenize\\nwordcount.tokenize\\n[prepare]\"") != std::string::npos);
    CHECK(dot.find("label=\"top_words\\nkiln.CsvDataset\", tooltip=\"top_words\", shape=cylinder") !=
          std::string::npos);
    CHECK(count_of(dot, " -> ") == 21);
    CHECK(fs::directory_iterator(dir / "graphs") != fs::directory_iterator());
    for (const auto& e : fs::directory_iterator(dir / "graphs"))  // no temporary file left behind
        CHECK(e.path().filename() == "wordcount.gv");
    if (have_program("dot")) {
        const std::string cmd = "dot -Tsvg '" + out.string() + "' -o '" + (dir / "g.svg").string() + "'";
        CHECK(std::system(cmd.c_str()) == 0);
    }
}

TEST_CASE("viz.sample.html_page") {
    TempDir dir;
    auto r = viz_sample({"--output", (dir / "pipeline.HTML").string()});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    const std::string html = read_text(dir / "pipeline.HTML");
    CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(html.find("<title>wordcount / __default__</title>") != std::string::npos);
    CHECK(html.find("8 nodes, 12 datasets") != std::string::npos);
    CHECK(count_of(html, "<g class=\"it nd\"") == 8);
    CHECK(count_of(html, "<g class=\"it dp\"") == 6);  // the catalog's six datasets
    CHECK(count_of(html, "<g class=\"it dq\"") == 3);  // three parameters
    CHECK(count_of(html, "<path class=\"edge\"") == 21);
    CHECK(html.find("data-sig=\"wordcount.tokenize(text: string, min_word_length: i64) -&gt; vector&lt;string&gt;\"") !=
          std::string::npos);
    for (const char* external : {"http:", "https:", "src=", "href=", "<link"})
        CHECK_MESSAGE(html.find(external) == std::string::npos, external);
    CHECK(html.size() < 200000);
}

TEST_CASE("viz.sample.format_option_wins_over_the_extension") {
    TempDir dir;
    auto r = viz_sample({"--format", "mermaid", "-o", (dir / "graph.txt").string(), "--quiet"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.empty());
    CHECK(read_text(dir / "graph.txt").find("flowchart LR\n") != std::string::npos);
    auto html = viz_sample({"--format", "html"});
    CHECK(html.exit_code == 0);
    CHECK(html.output.rfind("<!DOCTYPE html>", 0) == 0);
    auto dot = viz_sample({"--format", "dot"});
    CHECK(dot.exit_code == 0);
    CHECK(dot.output.rfind("digraph kiln {", 0) == 0);
}

TEST_CASE("viz.sample.pipelines_and_filters") {
    auto report = viz_sample({"-p", "report"});
    INFO(report.output);
    REQUIRE(report.exit_code == 0);
    CHECK(report.contains("title: \"wordcount / report\""));
    CHECK(count_of(report.output, ":::kilnNode\n") == 1);

    auto tags = viz_sample({"--tags", "prepare"});
    INFO(tags.output);
    REQUIRE(tags.exit_code == 0);
    CHECK(tags.contains("title: \"wordcount / __default__ (3 of 8 nodes)\""));
    CHECK(count_of(tags.output, ":::kilnNode\n") == 3);
    CHECK_FALSE(tags.contains("write_report"));

    auto nodes = viz_sample({"--nodes", "count_words,top_words", "--format", "dot"});
    INFO(nodes.output);
    REQUIRE(nodes.exit_code == 0);
    CHECK(count_of(nodes.output, "shape=box, style=\"rounded,filled\"") == 2);

    auto to = viz_sample({"--to-nodes", "count_words", "--hide-parameters"});
    INFO(to.output);
    REQUIRE(to.exit_code == 0);
    CHECK(count_of(to.output, ":::kilnNode\n") == 4);
    CHECK_FALSE(to.contains("params"));
}

TEST_CASE("viz.project_needs_no_data_and_no_dataset_plugins") {
    // The catalog points at files that do not exist and at a type no plugin provides: viz
    // only draws, so neither matters (kiln run would refuse both).
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "prep.a", "namespace": "prep", "tags": ["t1"]},
        {"name": "second", "func": "testnodes.neg", "inputs": "prep.a", "outputs": "b <x> & \"y\""}
    ]}}})");
    p.catalog(R"({"prep.a": {"type": "JsonDataset", "filepath": "missing/a.json"},
                  "b <x> & \"y\"": {"type": "NoSuchType", "filepath": "missing/b.json"}})");
    auto r = viz_project(p, {"-o", (p / "out.html").string()});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    const std::string html = read_text(p / "out.html");
    CHECK(html.find("data-type=\"kiln.JsonDataset\"") != std::string::npos);  // qualified by the registry
    CHECK(html.find("data-name=\"b &lt;x&gt; &amp; &quot;y&quot;\" data-type=\"NoSuchType\"") != std::string::npos);
    CHECK(html.find("<g class=\"band\" data-ns=\"prep\">") != std::string::npos);
    CHECK(html.find("<x>") == std::string::npos);
    CHECK_FALSE(p.exists("missing"));
    CHECK_FALSE(p.exists(".kiln"));  // no run record: nothing ran

    auto m = viz_project(p, {});
    INFO(m.output);
    REQUIRE(m.exit_code == 0);
    CHECK(m.contains("    subgraph g1[\"prep\"]\n        n0[\"prep.first<br/>testnodes.seed<br/>#91;t1#93;\"]:::kilnNode\n"
                     "        d0[(\"prep.a<br/>kiln.JsonDataset\")]:::kilnPersisted\n    end\n"));
    CHECK(m.contains("[(\"b #60;x#62; #38; #34;y#34;<br/>NoSuchType\")]"));
    auto d = viz_project(p, {"--format", "dot"});
    CHECK(d.exit_code == 0);
    CHECK(braces_balance(d.output));
    CHECK(d.contains("label=\"b <x> &amp; \\\"y\\\"\\nNoSuchType\""));
}

// ---------------------------------------------------------------- errors

TEST_CASE("viz.errors.unknown_format") {
    TempDir dir;
    auto r = viz_sample({"--format", "svg", "-o", (dir / "g.svg").string()});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("unknown --format 'svg'; choose mermaid, dot or html"));
    CHECK_FALSE(fs::exists(dir / "g.svg"));
}

TEST_CASE("viz.errors.unknown_extension") {
    TempDir dir;
    auto r = viz_sample({"-o", (dir / "graph.png").string()});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("cannot tell the format of '" + (dir / "graph.png").string() + "' from its extension"));
    CHECK(r.contains(".mmd/.mermaid (mermaid), .dot/.gv (dot) or .html/.htm (html)"));
    CHECK(r.contains("--format mermaid, dot or html"));
    CHECK_FALSE(fs::exists(dir / "graph.png"));
}

TEST_CASE("viz.errors.unknown_pipeline_as_kiln_run_says") {
    auto viz = viz_sample({"--pipeline", "prepar"});
    auto run = run_kiln({"run", "--project", KILN_SAMPLE_DIR, "--plugin-path", KILN_SAMPLE_PLUGIN_DIR, "--pipeline",
                         "prepar"});
    INFO(viz.output);
    INFO(run.output);
    CHECK(viz.exit_code == 2);
    CHECK(run.exit_code == 2);
    const std::string message = line_from(viz.output, "/pipelines.json: no pipeline named 'prepar'");
    CHECK(message.find("did you mean prepare?") != std::string::npos);
    CHECK(message.find("Defined: __default__, analyse, prepare, report") != std::string::npos);
    CHECK(message == line_from(run.output, "/pipelines.json: no pipeline named 'prepar'"));
}

TEST_CASE("viz.errors.unwritable_output") {
    TempDir dir;
    dir.write("file.txt", "not a folder");
    const fs::path out = dir / "file.txt" / "graph.html";  // its parent is a file
    auto r = viz_sample({"-o", out.string()});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("cannot write the drawing to '" + out.string() + "'"));
    CHECK(read_text(dir / "file.txt") == "not a folder");
}

TEST_CASE("viz.errors.filters_and_projects") {
    auto unknown_node = viz_sample({"--nodes", "tokenise"});
    INFO(unknown_node.output);
    CHECK(unknown_node.exit_code == 2);
    CHECK(unknown_node.contains("Pipeline does not contain nodes named ['tokenise']"));
    CHECK(unknown_node.contains("tokenize"));

    auto no_tag = viz_sample({"--tags", "nosuchtag"});
    CHECK(no_tag.exit_code == 2);

    TempDir empty;
    auto no_project = run_kiln({"viz", "--project", (empty / "nope").string()});
    INFO(no_project.output);
    CHECK(no_project.exit_code == 2);
    CHECK(no_project.contains("does not exist; pass --project DIR"));
    auto no_pipelines = run_kiln({"viz", "--project", empty.path().string()});
    CHECK(no_pipelines.exit_code == 2);
    CHECK(no_pipelines.contains("no pipelines.json in project"));

    Project bad_catalog;
    bad_catalog.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a"}]}}})");
    bad_catalog.catalog(R"({"a": {"filepath": "x.json"}})");
    auto r = viz_project(bad_catalog, {});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.contains("catalog.json: catalog entry 'a' needs a \"type\""));

    Project bad_json;
    bad_json.pipelines("{\"pipelines\": ");
    auto j = viz_project(bad_json, {});
    CHECK(j.exit_code == 2);
    CHECK(j.contains("pipelines.json:1:"));
}

}  // namespace viz_test_cases
