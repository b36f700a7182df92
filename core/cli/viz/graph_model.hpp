// The graph every `kiln viz` format draws: one item per node and per dataset, each with a
// generated id, edges dataset -> node -> dataset, and the namespaces as nested groups.
// Private to core/cli/viz/; the renderers (render_*.cpp) read it, never the pipeline's
// names as identifiers.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "model/pipeline.hpp"
#include "viz/pipeline_graph.hpp"

namespace kiln::core::viz {

enum class Kind { node, persisted, memory, parameter };

struct Item {
    Kind kind = Kind::node;
    std::size_t index = 0;  // into nodes() for a node, into dataset_names() for a dataset
    std::string id;         // "n3", "d5"
    std::size_t group = 0;  // namespace group; 0 = none
    // A transcoded dataset ("x@json", "x@text") is one item, drawn as "x": its forms, into
    // dataset_names(), in the order met. Empty for any other item.
    std::vector<std::size_t> forms;
};

struct Graph {
    std::vector<Item> items;  // each dataset just before its first reader, or just after its producer
    std::vector<std::pair<std::size_t, std::size_t>> edges;  // item -> item, sources before targets
    std::vector<std::string> groups;                         // [0] = "", then namespaces in sorted order
    std::vector<std::size_t> group_parent;                   // [0] unused
    std::size_t node_count = 0;
    std::size_t dataset_count = 0;
};

// Nodes in the pipeline's (topological) order, "n<i>" for node i; datasets "d<k>" in the
// order they are first met; parameters left out when !o.show_parameters.
Graph build_graph(const Pipeline& p, const GraphOptions& o);

struct Labels {
    std::string name;
    std::string detail;  // the function of a node, the type of a persisted dataset
    std::string tags;    // "[a, b]" or ""
};

// The texts drawn for an item, not yet escaped for any format.
Labels labels_of(const Pipeline& p, const GraphOptions& o, const Item& item);

// Items of each group, in drawing order, and the child groups of each group.
struct Tree {
    std::vector<std::vector<std::size_t>> members;
    std::vector<std::vector<std::size_t>> children;
};

Tree group_tree(const Graph& g);

}  // namespace kiln::core::viz
