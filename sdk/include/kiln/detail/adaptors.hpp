// The plugin-side implementations of the host's handles (detail/handles.hpp): each wraps
// the plugin author's object and turns its exceptions into messages. Instantiated by the
// Registrar's templates inside the plugin, so every call runs the plugin's own code.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "kiln/detail/guard.hpp"
#include "kiln/detail/handles.hpp"
#include "kiln/distributed.hpp"

namespace kiln::detail {

template <class D>
class DatasetAdaptor final : public DatasetHandle {
public:
    explicit DatasetAdaptor(std::unique_ptr<D> d) : d_(std::move(d)) {}
    bool load(Value* out, std::string* error) noexcept override {
        return guard(error, [&] {
            *out = d_->load();
            if (out->empty()) throw DatasetError("load() returned an empty value");
        });
    }
    bool save(const Value& v, std::string* error) noexcept override {
        return guard(error, [&] { d_->save(v); });
    }
    int exists(std::string* error) noexcept override {
        int r = -1;
        guard(error, [&] { r = d_->exists() ? 1 : 0; });
        return r;
    }
    bool release(std::string* error) noexcept override {
        return guard(error, [&] { d_->release(); });
    }
    std::string describe() const noexcept override {
        std::string s;
        if (!guard(nullptr, [&] { s = d_->describe(); })) s = "<describe() failed>";
        return s;
    }

private:
    std::unique_ptr<D> d_;
};

template <class D>
std::unique_ptr<DatasetHandle> make_dataset(const DatasetConfig& config, std::string* error) noexcept {
    std::unique_ptr<DatasetHandle> handle;
    guard(error, [&] { handle = std::make_unique<DatasetAdaptor<D>>(std::make_unique<D>(config)); });
    return handle;
}
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
template <class H>
class HookAdaptor final : public HookHandle {
public:
    explicit HookAdaptor(std::unique_ptr<H> h) : h_(std::move(h)) {}
    bool fire(const HookEvent& e, std::string* error) noexcept override {
        return guard(error, [&] {
            Hooks& h = *h_;
            switch (e.point) {
                case HookPoint::before_pipeline_run: h.before_pipeline_run(*e.pipeline); break;
                case HookPoint::after_pipeline_run: h.after_pipeline_run(*e.pipeline, e.outputs); break;
                case HookPoint::on_pipeline_error: h.on_pipeline_error(*e.pipeline, e.error); break;
                case HookPoint::before_node_run: h.before_node_run(*e.node_run); break;
                case HookPoint::after_node_run: h.after_node_run(*e.node_run); break;
                case HookPoint::on_node_error: h.on_node_error(*e.node_run, e.error); break;
                case HookPoint::before_dataset_loaded: h.before_dataset_loaded(e.dataset, *e.node); break;
                case HookPoint::after_dataset_loaded: h.after_dataset_loaded(e.dataset, e.data, *e.node); break;
                case HookPoint::before_dataset_saved: h.before_dataset_saved(e.dataset, e.data, *e.node); break;
                case HookPoint::after_dataset_saved: h.after_dataset_saved(e.dataset, e.data, *e.node); break;
                case HookPoint::after_context_created: h.after_context_created(*e.context); break;
                case HookPoint::after_catalog_created: h.after_catalog_created(*e.catalog); break;
            }
        });
    }
    std::uint32_t points() const noexcept override {
        // A method H does not override still has Hooks as its class.
        std::uint32_t p = 0;
        auto bit = [&](HookPoint point, bool overridden) {
            if (overridden) p |= 1u << static_cast<unsigned>(point);
        };
#define KILN_DETAIL_HOOK_BIT(NAME) bit(HookPoint::NAME, !std::is_same_v<decltype(&H::NAME), decltype(&Hooks::NAME)>)
        KILN_DETAIL_HOOK_BIT(before_pipeline_run);
        KILN_DETAIL_HOOK_BIT(after_pipeline_run);
        KILN_DETAIL_HOOK_BIT(on_pipeline_error);
        KILN_DETAIL_HOOK_BIT(before_node_run);
        KILN_DETAIL_HOOK_BIT(after_node_run);
        KILN_DETAIL_HOOK_BIT(on_node_error);
        KILN_DETAIL_HOOK_BIT(before_dataset_loaded);
        KILN_DETAIL_HOOK_BIT(after_dataset_loaded);
        KILN_DETAIL_HOOK_BIT(before_dataset_saved);
        KILN_DETAIL_HOOK_BIT(after_dataset_saved);
        KILN_DETAIL_HOOK_BIT(after_context_created);
        KILN_DETAIL_HOOK_BIT(after_catalog_created);
#undef KILN_DETAIL_HOOK_BIT
        return p;
    }

private:
    std::unique_ptr<H> h_;
};

template <class H>
std::unique_ptr<HookHandle> make_hooks(const HookConfig& config, std::string* error) noexcept {
    std::unique_ptr<HookHandle> handle;
    guard(error, [&] {
        if constexpr (std::is_constructible_v<H, const HookConfig&>)
            handle = std::make_unique<HookAdaptor<H>>(std::make_unique<H>(config));
        else
            handle = std::make_unique<HookAdaptor<H>>(std::make_unique<H>());
    });
    return handle;
}

}  // namespace kiln::detail
