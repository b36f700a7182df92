// The host's views of the objects a plugin makes (datasets, runners, hooks): the same
// operations as the SDK's base classes, but noexcept, so an exception stays in the plugin
// that threw it. The adaptors (detail/dataset_adaptor.hpp, runner_adaptor.hpp,
// hook_adaptor.hpp) implement them inside the plugin.
// Their vtables are part of the ABI (docs/abi.md).
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "kiln/detail/forward.hpp"
#include "kiln/run_view.hpp"
#include "kiln/value.hpp"

namespace kiln::detail {

class DatasetHandle {
public:
    virtual ~DatasetHandle() = default;
    virtual bool load(Value* out, std::string* error) noexcept = 0;
    virtual bool save(const Value& value, std::string* error) noexcept = 0;
    virtual int exists(std::string* error) noexcept = 0;  // 1 yes, 0 no, -1 error
    virtual bool release(std::string* error) noexcept = 0;
    virtual std::string describe() const noexcept = 0;
};

class RunnerHandle {
public:
    virtual ~RunnerHandle() = default;
    virtual bool run(RunContext& context, std::string* error) noexcept = 0;
    // nullptr with an empty *error: keep the value in memory.
    virtual std::unique_ptr<DatasetHandle> create_default_dataset(const DatasetConfig& config,
                                                                  std::string* error) noexcept = 0;
    virtual bool primary() const noexcept = 0;
    virtual std::string launcher() const noexcept = 0;
};

// One noexcept entry for every hook point. New points go at the end (docs/abi.md); the
// host fires them only for plugins of the minor that added them.
enum class HookPoint : std::uint8_t {
    before_pipeline_run,
    after_pipeline_run,
    on_pipeline_error,
    before_node_run,
    after_node_run,
    on_node_error,
    before_dataset_loaded,
    after_dataset_loaded,
    before_dataset_saved,
    after_dataset_saved,
    after_context_created,  // 1.5
    after_catalog_created,  // 1.5
};

struct HookEvent {
    HookPoint point = HookPoint::before_pipeline_run;
    const PipelineRunInfo* pipeline = nullptr;  // pipeline points
    std::span<const NamedValue> outputs;        // after_pipeline_run
    const NodeRunInfo* node_run = nullptr;      // node points
    const NodeView* node = nullptr;             // dataset points
    std::string_view dataset;                   // dataset points
    const Value* data = nullptr;                // dataset points
    std::string_view error;                     // on_*_error
    const ContextInfo* context = nullptr;       // after_context_created (1.5)
    const CatalogInfo* catalog = nullptr;       // after_catalog_created (1.5)
};

class HookHandle {
public:
    virtual ~HookHandle() = default;
    virtual bool fire(const HookEvent& event, std::string* error) noexcept = 0;
    // Bit (1 << HookPoint) is set for each point the hook overrides; the host skips the rest.
    virtual std::uint32_t points() const noexcept = 0;
};

}  // namespace kiln::detail
