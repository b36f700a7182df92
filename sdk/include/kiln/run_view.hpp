// Read-only views of a run that runner and hook plugins receive: a node, a value with its
// dataset name, and the catalog. Views are valid for the duration of the call (nodes and
// the catalog: for the whole run).
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "kiln/value.hpp"

namespace kiln {

struct NodeView {
    std::size_t index = 0;              // position in the run's topological order
    std::string_view name;              // full name, namespace included
    std::string_view function;          // qualified node function, e.g. "wordcount.tokenize"
    std::span<const std::string> inputs;   // dataset names, in the function's parameter order
    std::span<const std::string> outputs;  // dataset names, in the function's result order
    std::span<const std::string> tags;
};

// A dataset name and its value. `value` is null where the value is not in this process
// (hooks of a ParallelRunner run: values live in the worker processes).
struct NamedValue {
    std::string_view name;
    const Value* value = nullptr;
};

// The catalog as a run sees it. Implemented by the host; never throws.
class CatalogView {
public:
    // Whether the dataset is persisted by a dataset object (a catalog.json entry, or a
    // runner's default dataset) rather than kept in memory.
    virtual bool is_persisted(std::string_view dataset) const noexcept = 0;
    // One line for logs: "kiln.JsonDataset(data/counts.json)", "MemoryDataset",
    // "parameter", or "" for a name the run does not use.
    virtual std::string describe(std::string_view dataset) const noexcept = 0;
    // Whether the dataset holds data now: its file exists, or its in-memory value is set.
    virtual bool exists(std::string_view dataset) const noexcept = 0;

protected:
    ~CatalogView() = default;
};

}  // namespace kiln
