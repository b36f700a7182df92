// What a plugin's register block hands the host for each thing it declares (through the
// Registrar's virtual functions): names, options and factories. Passed by value, so their
// layouts are part of the ABI (docs/abi.md).
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <memory>
#include <string>
#include <vector>

#include "kiln/dataset.hpp"
#include "kiln/detail/handles.hpp"
#include "kiln/hooks.hpp"
#include "kiln/node.hpp"
#include "kiln/runner.hpp"
#include "kiln/value.hpp"

namespace kiln::detail {

// Calls the node function: inputs[i] are the arguments, outputs[j] receive the results.
// Never throws; on failure returns false and sets *error.
using NodeInvoke = bool (*)(const void* callable, const Value* inputs, Value* outputs, std::string* error) noexcept;

struct NodeSpec {
    std::string name;  // unqualified, e.g. "tokenize"
    std::vector<const TypeOps*> inputs;
    std::vector<const TypeOps*> outputs;
    NodeOptions options;
    std::shared_ptr<const void> callable;  // owns the function object
    NodeInvoke invoke = nullptr;
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
