// The public face of `kiln viz`: picking a format and handing the pipeline to its
// renderer. The graph model is in graph_model.cpp, one renderer per format in
// render_<format>.cpp, and the HTML page's layout in html_layout.cpp.
#include "viz/pipeline_graph.hpp"

namespace kiln::core {

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
