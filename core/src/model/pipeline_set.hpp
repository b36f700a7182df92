// The pipelines of one pipelines.json, each built the first time it is asked for.
//
// Pipelines include one another, so building every one of them costs the sum of their
// closures: for a chain of n pipelines, n^2/2 node copies. A PipelineSet checks the
// whole file at once (unknown and looping includes, and every pipeline that no other
// includes, which holds any problem an included one has) and builds only the pipelines
// asked for: loading costs what the file declares plus what is used. A pipeline reused
// under a namespace is built once, then renamed for each reuse.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "kiln/error.hpp"
#include "model/pipeline.hpp"

namespace kiln::core {

class PipelineSet {
public:
    // A pipeline included after renaming its nodes (a modular pipeline): `expand` gets the
    // built pipeline and returns its nodes renamed, or throws kiln::ConfigError.
    struct Reuse {
        std::string pipeline;
        std::function<std::vector<Node>(const Pipeline&)> expand;
    };

    // One pipeline as the file declares it: its own nodes, the pipelines it includes as
    // they are, and those it reuses renamed.
    struct Declared {
        std::vector<Node> nodes;
        std::vector<std::string> includes;
        std::vector<Reuse> reuses = {};
    };

    PipelineSet() = default;
    // Throws kiln::ConfigError for an unknown or looping include and
    // kiln::PipelineError for a pipeline that cannot be built, naming the smallest one.
    PipelineSet(std::string file, std::vector<std::string> names, std::vector<Declared> declared);

    bool contains(const std::string& name) const { return index_.count(name) > 0; }
    std::size_t count(const std::string& name) const { return contains(name) ? 1 : 0; }
    // The pipeline, built on first use (so not to be called from several threads at
    // once); throws std::out_of_range for a name the file does not define.
    const Pipeline& at(const std::string& name) const;
    // Every name, "__default__" included, sorted.
    std::vector<std::string> names() const;
    // Every dataset some pipeline uses (parameters included): those of the pipelines no
    // other includes, which are built already.
    std::set<std::string> dataset_names() const;
    std::size_t size() const { return names_.size(); }
    bool empty() const { return names_.empty(); }

private:
    // (pipeline, part, node): part 0 is the pipeline's own nodes in declared_, part r + 1
    // the nodes of its reuse r, in expanded_.
    using NodeRef = std::tuple<std::size_t, std::size_t, std::size_t>;

    void check_includes() const;
    std::vector<char> included() const;  // per pipeline: whether another includes it as it is
    // The pipelines p includes or reuses: its includes, then its reuses.
    std::size_t dependency_count(std::size_t p) const;
    const std::string& dependency(std::size_t p, std::size_t k) const;
    const std::vector<Node>& expanded(std::size_t p, std::size_t reuse) const;
    const Node& node_at(const NodeRef& ref) const;
    std::vector<NodeRef> closure(std::size_t p) const;
    Pipeline build(std::size_t p) const;
    Pipeline build(std::size_t p, const std::vector<NodeRef>& refs) const;
    [[noreturn]] void report_smallest_failing(const PipelineError& found) const;

    std::string file_;
    std::vector<std::string> names_;      // the file's, then "__default__" when it defines none
    std::vector<std::string> labels_;     // how messages name each pipeline
    std::vector<Declared> declared_;
    std::unordered_map<std::string, std::size_t> index_;
    mutable std::vector<std::unique_ptr<Pipeline>> built_;
    mutable std::vector<std::vector<std::optional<std::vector<Node>>>> expanded_;  // [pipeline][reuse]
};

}  // namespace kiln::core
