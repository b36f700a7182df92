// The plugin side of a runner handle (detail/handles.hpp): wraps the author's kiln::Runner
// and turns its exceptions into messages. Included by kiln/runner.hpp.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "kiln/detail/dataset_adaptor.hpp"
#include "kiln/detail/forward.hpp"
#include "kiln/detail/guard.hpp"
#include "kiln/detail/handles.hpp"
#include "kiln/runner.hpp"

namespace kiln::detail {

template <class R>
class RunnerAdaptor final : public RunnerHandle {
public:
    explicit RunnerAdaptor(std::unique_ptr<R> r) : r_(std::move(r)) {}
    bool run(RunContext& context, std::string* error) noexcept override {
        return guard(error, [&] { r_->run(context); });
    }
    std::unique_ptr<DatasetHandle> create_default_dataset(const DatasetConfig& config,
                                                          std::string* error) noexcept override {
        std::unique_ptr<DatasetHandle> handle;
        guard(error, [&] {
            if (auto d = r_->create_default_dataset(config))
                handle = std::make_unique<DatasetAdaptor<Dataset>>(std::move(d));
        });
        return handle;
    }
    // Only a DistributedRunner spans processes; any other runner is primary, with no launcher.
    bool primary() const noexcept override {
        bool p = true;
        if constexpr (std::is_base_of_v<DistributedRunner, R>) guard(nullptr, [&] { p = r_->primary(); });
        return p;
    }
    std::string launcher() const noexcept override {
        std::string l;
        if constexpr (std::is_base_of_v<DistributedRunner, R>) guard(nullptr, [&] { l = r_->launcher(); });
        return l;
    }

private:
    std::unique_ptr<R> r_;
};

template <class R>
std::unique_ptr<RunnerHandle> make_runner(std::string* error) noexcept {
    std::unique_ptr<RunnerHandle> handle;
    guard(error, [&] { handle = std::make_unique<RunnerAdaptor<R>>(std::make_unique<R>()); });
    return handle;
}

}  // namespace kiln::detail
