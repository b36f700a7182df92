// The plugin side of a hook handle (detail/handles.hpp): wraps the author's kiln::Hooks,
// turns its exceptions into messages and tells the host which points it overrides.
// Included by kiln/hooks.hpp.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "kiln/detail/guard.hpp"
#include "kiln/detail/handles.hpp"
#include "kiln/hooks.hpp"

namespace kiln::detail {

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
