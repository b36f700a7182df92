// What the registrar and the handles name without needing it whole. <kiln/sdk.hpp> (nodes)
// stops here, so a node file does not compile the dataset, hook and runner headers or the
// JSON header they use. A compiler error "incomplete type" points at one of these lines:
// include the header its comment names.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <memory>
#include <string>

namespace kiln {

class Dataset;            // to write a dataset type, #include <kiln/dataset.hpp>
struct DatasetConfig;     // to write a dataset type, #include <kiln/dataset.hpp>
class Hooks;              // to write hooks, #include <kiln/hooks.hpp>
struct HookConfig;        // to write hooks, #include <kiln/hooks.hpp>
struct PipelineRunInfo;   // #include <kiln/hooks.hpp>
struct NodeRunInfo;       // #include <kiln/hooks.hpp>
struct ContextInfo;       // #include <kiln/hooks.hpp>
struct CatalogInfo;       // #include <kiln/hooks.hpp>
class Runner;             // to write a runner, #include <kiln/runner.hpp>
class RunContext;         // to write a runner, #include <kiln/runner.hpp>
class DistributedRunner;  // to write a runner over processes, #include <kiln/distributed.hpp>

namespace detail {
class DatasetHandle;
class RunnerHandle;
class HookHandle;

// The plugin-side factories of the handles, defined beside each kind's header
// (detail/dataset_adaptor.hpp, runner_adaptor.hpp, hook_adaptor.hpp).
template <class D>
std::unique_ptr<DatasetHandle> make_dataset(const DatasetConfig& config, std::string* error) noexcept;
template <class R>
std::unique_ptr<RunnerHandle> make_runner(std::string* error) noexcept;
template <class H>
std::unique_ptr<HookHandle> make_hooks(const HookConfig& config, std::string* error) noexcept;
}  // namespace detail

}  // namespace kiln
