// `kiln viz`: draws a pipeline of the project as a Mermaid flowchart, a Graphviz DOT graph or
// one self-contained HTML page, without running anything.
//
//     kiln viz --project samples/wordcount -o pipeline.html     # format from the extension
//     kiln viz --pipeline prepare --format dot | dot -Tsvg > prepare.svg
#pragma once

#include <filesystem>
#include <string>

#include "model/pipeline.hpp"
#include "commands/project_query.hpp"

struct VizOptions {
    ProjectQuery project;               // the project and its configuration, as for `kiln run`
    std::string pipeline;               // empty: "__default__"
    kiln::core::PipelineFilter filter;  // as `kiln run` applies it
    std::string format;                 // "mermaid", "dot" or "html"; empty: from output's extension, else mermaid
    std::filesystem::path output;       // empty: standard output
    bool hide_parameters = false;       // leave out params:... and parameters
};

// Loads the plugins and pipelines (the functions must resolve, as for `kiln run`) and the
// names and types of catalog.json's entries; it binds no dataset and reads no data, so a
// project whose inputs do not exist yet can be drawn. Writes the drawing to the output file
// atomically, or to standard output. Returns 0; throws kiln::Error (ConfigError for an
// unknown format, project, pipeline or an unwritable output, PipelineError for filters
// that select nothing), which the caller turns into exit code 2.
int run_viz(const VizOptions& options);
