// The pipeline model: nodes bound to node functions, validated, in a deterministic
// topological order, with Kedro's filters. Every operation is linear (or n log n) in
// nodes + edges.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/detail/specs.hpp"

namespace kiln::core {

using kiln::detail::NodeSpec;  // the SDK's plumbing: what a plugin declared for a node

// A node function as the registry resolved it.
struct NodeFunction {
    std::string qualified_name;  // "wordcount.tokenize"
    std::string plugin_file;     // the .so it came from, for messages
    const NodeSpec* spec = nullptr;
    std::string version = {};  // NodeOptions::version: the code's version; "" to use the plugin file's content
    bool always_run = false;  // NodeOptions::always_run: never skipped as up to date
    std::vector<std::string> output_names = {};  // NodeOptions::outputs: for "outputs" given by name
    // Its one result when that is a std::map<std::string, T> or kiln::Partitions<T> from a
    // plugin of ABI 1.8 or later: "outputs" may then split it by key (model/split_outputs.hpp).
    const TypeOps* keyed_result = nullptr;
};

struct Node {
    std::string name;        // full name, namespace included ("ns.tokenize")
    std::string namespace_;  // "" when none
    const NodeFunction* func = nullptr;
    std::shared_ptr<const NodeFunction> own_func;  // owns func when the loader made it (split_by_key)
    std::vector<std::string> inputs;   // dataset names, in the function's parameter order
    std::vector<std::string> outputs;  // dataset names, in the function's result order
    std::vector<std::string> tags;     // sorted, unique
    nlohmann::json resources;          // e.g. {"gpu": 1}; null when none
    std::string origin;                // where it was declared, e.g. "pipelines.json: pipeline 'etl'"

    // Filled by Pipeline: ids into Pipeline::dataset_names().
    std::vector<std::uint32_t> input_ids;
    std::vector<std::uint32_t> output_ids;

    // Kedro's rendering: "name: func([in1;in2]) -> [out]".
    std::string describe() const;
};

struct PipelineFilter {
    std::vector<std::string> tags;
    std::vector<std::string> from_nodes;
    std::vector<std::string> to_nodes;
    std::vector<std::string> node_names;
    std::vector<std::string> from_inputs;
    std::vector<std::string> to_outputs;
    std::vector<std::string> namespaces;
    bool empty() const;
};

class Pipeline {
public:
    Pipeline() = default;
    // Validates and orders the nodes. Throws kiln::PipelineError naming the nodes and
    // datasets involved for: duplicate node names, a dataset produced by two nodes, a node
    // reading its own output, cycles (the cycle is printed), and a consumer whose input
    // type differs from its producer's output type. Transcoded forms ("x@json", "x@text":
    // model/transcoding.hpp) count as their underlying dataset for all of these but the
    // type check, which compares only a form with itself; a name with two separators, and
    // a name used both plainly and transcoded ("x" and "x@json"), are refused.
    explicit Pipeline(std::vector<Node> nodes);

    // Topological order: Kedro's layers, by full node name within a layer.
    const std::vector<Node>& nodes() const { return nodes_; }
    // Layers as index ranges into nodes(): layer k is nodes()[layer_starts()[k] .. layer_starts()[k+1]).
    const std::vector<std::size_t>& layer_starts() const { return layer_starts_; }
    std::size_t layer_count() const { return layer_starts_.empty() ? 0 : layer_starts_.size() - 1; }
    bool empty() const { return nodes_.empty(); }
    std::size_t size() const { return nodes_.size(); }

    // Every dataset a node reads or writes, interned: Node::input_ids index this.
    const std::vector<std::string>& dataset_names() const { return dataset_names_; }
    std::optional<std::uint32_t> dataset_id(const std::string& name) const;
    // Index into nodes() of the node producing dataset id, or npos. For a transcoded form,
    // the node producing any form of its underlying dataset: it need not list this form.
    std::size_t producer_of(std::uint32_t dataset) const { return producer_[dataset]; }
    // Indices into nodes() of the nodes reading dataset id, ascending; for a transcoded
    // form, the nodes reading any form of its underlying dataset.
    const std::vector<std::size_t>& consumers_of(std::uint32_t dataset) const { return consumers_[dataset]; }
    // The same id for every form of one underlying dataset (that of the form mentioned
    // first); a dataset that is not transcoded is its own.
    //   if (p.underlying_id(d) != d) continue;  // visit each underlying dataset once
    std::uint32_t underlying_id(std::uint32_t dataset) const {
        return underlying_.empty() ? dataset : underlying_[dataset];
    }
    bool has_transcoding() const { return !underlying_.empty(); }
    // The ids of the transcoded forms of the underlying dataset `name`, ascending:
    // transcoded_forms("x") lists "x@json" and "x@text"; empty when there are none.
    std::vector<std::uint32_t> transcoded_forms(std::string_view name) const;
    std::optional<std::size_t> node_index(const std::string& name) const;

    // Free inputs (read, never produced) and free outputs (produced, never read), sorted.
    std::vector<std::string> inputs() const;
    std::vector<std::string> outputs() const;
    bool is_free_input(std::uint32_t dataset) const { return producer_[dataset] == npos; }
    bool is_free_output(std::uint32_t dataset) const {
        return producer_[dataset] != npos && consumers_[dataset].empty();
    }

    // Kedro's filters; each returns a new pipeline and throws kiln::PipelineError naming
    // unknown nodes / datasets / namespaces (with close matches).
    Pipeline only_nodes(const std::vector<std::string>& names) const;
    Pipeline from_nodes(const std::vector<std::string>& names) const;  // named + downstream
    Pipeline to_nodes(const std::vector<std::string>& names) const;    // named + upstream
    Pipeline from_inputs(const std::vector<std::string>& datasets) const;
    Pipeline to_outputs(const std::vector<std::string>& datasets) const;
    Pipeline only_nodes_with_tags(const std::vector<std::string>& tags) const;  // any tag
    Pipeline only_nodes_with_namespaces(const std::vector<std::string>& namespaces) const;
    // Applies each non-empty filter to this pipeline and intersects the results; throws
    // when nothing is left.
    Pipeline filter(const PipelineFilter& filter) const;
    // The sub-pipeline of the nodes whose indices are given.
    Pipeline subset(const std::vector<std::size_t>& node_indices) const;

    // Union of two pipelines (a node present in both, by name, is kept once).
    friend Pipeline operator+(const Pipeline& a, const Pipeline& b);

    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

private:
    void take_in_order(std::vector<Node>& nodes, const std::vector<std::size_t>& order,
                       const std::vector<std::size_t>& producer, const std::vector<std::size_t>& start,
                       const std::vector<std::size_t>& readers);

    std::vector<Node> nodes_;
    std::vector<std::size_t> layer_starts_;
    std::vector<std::string> dataset_names_;
    std::vector<std::size_t> producer_;
    std::vector<std::vector<std::size_t>> consumers_;
    std::vector<std::uint32_t> underlying_;  // by dataset id; empty when nothing is transcoded
    // Open-addressing hash indexes for node_index() and dataset_id(): each slot holds
    // (name hash << 32 | index + 1), 0 when empty. Indices, not pointers: copies stay valid.
    std::vector<std::uint64_t> node_slots_;
    std::vector<std::uint64_t> dataset_slots_;
};

// A node function's input or output types as messages list them: "i64, str" ("?" for a
// type it does not know).
std::string type_list(const std::vector<const TypeOps*>& types);

// Up to three known names closest to `name` (edit distance), for "did you mean" hints.
std::vector<std::string> close_matches(const std::string& name, const std::vector<std::string>& known);

}  // namespace kiln::core
