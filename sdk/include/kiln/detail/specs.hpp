// What a plugin's register block hands the host for each thing it declares (through the
// Registrar's virtual functions): names, options and factories. Passed by value, so their
// layouts are part of the ABI (docs/abi.md).
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/detail/forward.hpp"
#include "kiln/detail/handles.hpp"
#include "kiln/node.hpp"
#include "kiln/type_options.hpp"
#include "kiln/value.hpp"

namespace kiln::detail {

// Calls the node function: inputs[i] are the arguments, outputs[j] receive the results.
// Never throws; on failure returns false and sets *error.
using NodeInvoke = bool (*)(const void* callable, const Value* inputs, Value* outputs, std::string* error) noexcept;

// The part of NodeOptions a NodeSpec carries: the fields of ABI 1.0, so the spec's layout
// never changes. Later fields travel in NodeTraits.
struct NodeSpecOptions {
    std::vector<std::string> args = {};
    std::string doc = {};
};

struct NodeSpec {
    std::string name;  // unqualified, e.g. "tokenize"
    std::vector<const TypeOps*> inputs;
    std::vector<const TypeOps*> outputs;
    NodeSpecOptions options;
    std::shared_ptr<const void> callable;  // owns the function object
    NodeInvoke invoke = nullptr;
};

// ABI 1.6: what NodeOptions adds to a node beyond its spec, handed to
// Registrar::set_node_traits by pointer right after the node's add_node. Plain data
// whose struct_size tells the host which fields the plugin knew, so it may grow at the end.
struct NodeTraits {
    std::uint32_t struct_size = sizeof(NodeTraits);
    bool always_run = false;
    const char* version = nullptr;  // not NUL-terminated: version_size bytes
    std::size_t version_size = 0;
    // ABI 1.7: NodeOptions::outputs, output_count NUL-terminated names.
    const char* const* output_names = nullptr;
    std::size_t output_count = 0;
};

using DatasetFactory = std::unique_ptr<DatasetHandle> (*)(const DatasetConfig& config, std::string* error) noexcept;

struct DatasetTypeSpec {
    std::string name;  // unqualified, e.g. "JsonDataset"
    DatasetTypeOptions options;
    DatasetFactory create;
    // ABI 1.2: D::persists (default true). Read only from plugins built for 1.2 or later.
    bool persists = true;
};

using RunnerFactory = std::unique_ptr<RunnerHandle> (*)(std::string* error) noexcept;

struct RunnerTypeSpec {
    std::string name;  // unqualified, e.g. "DryRunner"
    RunnerTypeOptions options;
    RunnerFactory create;
};

using HookFactory = std::unique_ptr<HookHandle> (*)(const HookConfig& config, std::string* error) noexcept;

struct HookTypeSpec {
    std::string name;  // unqualified, e.g. "NodeTimer"
    HookTypeOptions options;
    HookFactory create;
};

}  // namespace kiln::detail
