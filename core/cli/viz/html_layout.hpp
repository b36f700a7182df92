// The layout of the HTML page, computed here so the page needs no layout library and no
// network: the pipeline's layers are columns left to right, a dataset sits right after its
// producer (a free input right before its first reader), each column is ordered by
// barycenter sweeps to reduce crossings, and edges spanning several columns run through
// bends between the items of the columns they cross. Private to core/cli/viz/.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "model/pipeline.hpp"
#include "viz/graph_model.hpp"
#include "viz/pipeline_graph.hpp"

namespace kiln::core::viz {

// Sizes of the drawing, in pixels. Labels use a 12px monospace font (names) and 11px (the
// function, type and tags), so a label's width follows from its number of columns.
inline constexpr double name_char_w = 7.3;
inline constexpr double small_char_w = 6.7;
inline constexpr double line_h = 15;
inline constexpr double pad_y = 7;
inline constexpr double cap_h = 5;         // the elliptic cap of a cylinder
inline constexpr double item_gap = 12;     // between items of a column
inline constexpr double band_gap = 30;     // between items of different namespaces (room for a band's label)
inline constexpr double bend_h = 2;        // a long edge crossing a column
inline constexpr double bend_gap = 4;      // between two long edges crossing a column
inline constexpr double bend_item_gap = 9; // between a long edge and an item
inline constexpr double column_gap = 90;   // between columns
inline constexpr double margin = 24;
inline constexpr double band_pad = 8;
inline constexpr double band_head = 18;
inline constexpr int name_columns = 48;
inline constexpr int small_columns = 52;

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

// Linear in nodes + edges, plus a sort per column and sweep; deterministic.
Layout layout(const Pipeline& p, const GraphOptions& o, const Graph& g);

}  // namespace kiln::core::viz
