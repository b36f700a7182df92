// Drawing a pipeline: a Mermaid flowchart, a Graphviz DOT graph, or one self-contained HTML
// page (inline SVG laid out in layers, with a little script to highlight a node's inputs and
// outputs, search by name, and pan and zoom; it works offline and loads nothing).
//
//     GraphOptions options;
//     options.title = "wordcount / __default__";
//     options.catalog = {{"word_counts", "kiln.JsonDataset"}};  // persisted datasets and their types
//     std::string text = render_mermaid(pipeline, options);
//
// What is drawn: a box per node (its name, its function "plugin.function", its tags), a
// shape per dataset (a cylinder for datasets in the catalog, with their type; a dashed pill
// for in-memory values; a parallelogram for parameters "params:..." and "parameters"), edges
// dataset -> node -> dataset, and namespaces as nested subgraphs (Mermaid), clusters (DOT) or
// shaded bands (HTML). A dataset named "<namespace>.<rest>" is drawn inside that namespace.
//
// The HTML page is laid out by kiln itself (viz/html_layout.cpp): the pipeline's layers are
// columns left to right, a dataset sits right after its producer (a free input right before
// its first reader), each column is ordered by barycenter sweeps to reduce crossings, and
// edges spanning several columns run between the items of the columns they cross. Mermaid
// renderers draw at most 500 edges unless their maxEdges setting is raised; the Mermaid text
// says so when it has more.
//
// Names never become identifiers: ids are generated ("n3" for node 3 in topological order,
// "d5" for the fifth dataset met, "g2" for a namespace), and every name is escaped for the
// format (quotes, <, >, &, newlines, control characters, invalid UTF-8, and Mermaid's own
// special characters). The functions are pure and thread safe, and deterministic: the same
// pipeline and options give byte-identical text. They run in time linear in nodes + edges
// (n log n for sorting), so a pipeline of thousands of nodes renders in milliseconds.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "model/pipeline.hpp"

namespace kiln::core {

enum class GraphFormat { mermaid, dot, html };

struct GraphOptions {
    std::string title;                           // drawn above the graph; "" for none
    std::map<std::string, std::string> catalog;  // persisted datasets: name -> type as shown
    bool show_parameters = true;                 // false: leave out params:... and parameters
};

std::string render_mermaid(const Pipeline& pipeline, const GraphOptions& options = {});
std::string render_dot(const Pipeline& pipeline, const GraphOptions& options = {});
std::string render_html(const Pipeline& pipeline, const GraphOptions& options = {});
std::string render_graph(const Pipeline& pipeline, const GraphOptions& options, GraphFormat format);

// "mermaid", "dot" or "html"; nullopt for anything else.
std::optional<GraphFormat> graph_format_from_name(std::string_view name);
// From a file name's extension, ignoring case: .mmd/.mermaid, .dot/.gv, .html/.htm; nullopt
// for anything else.
std::optional<GraphFormat> graph_format_from_path(const std::filesystem::path& file);
std::string_view graph_format_name(GraphFormat format);

}  // namespace kiln::core
