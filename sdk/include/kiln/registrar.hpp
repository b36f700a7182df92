// kiln::Registrar: what a plugin's register block receives to declare its contents.
//
//     KILN_PLUGIN(stats) {
//         reg.node("mean", &mean, {.doc = "arithmetic mean"});
//         reg.node("scale", [](const std::vector<double>& v, double k) { ... }, {.args = {"values", "factor"}});
//         reg.dataset<LinesDataset>("LinesDataset");   // needs <kiln/dataset.hpp>
//         reg.type<Point>();   // a codec-only type used by catalog entries
//         reg.runner<DryRunner>("DryRunner");          // needs <kiln/runner.hpp>
//         reg.hooks<NodeTimer>("NodeTimer");           // needs <kiln/hooks.hpp>
//     }
//
// Names are qualified by the plugin's name by the host ("stats.mean"). Errors such as a
// duplicate name are collected by the host and reported after the block returns.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <string>
#include <string_view>

#include "kiln/detail/forward.hpp"
#include "kiln/detail/json_bridge.hpp"
#include "kiln/detail/node_binding.hpp"
#include "kiln/detail/specs.hpp"
#include "kiln/logger.hpp"
#include "kiln/node.hpp"
#include "kiln/type_options.hpp"

namespace kiln {

namespace detail {
struct RegistrarAccess;
}

class Registrar {
public:
    // Declares a node function: a function pointer or a lambda with a const call operator.
    template <class F>
    Registrar& node(std::string_view name, F fn, NodeOptions options = {}) {
        add_node(detail::make_node_spec(std::string(name), std::move(fn),
                                        {std::move(options.args), std::move(options.doc)}));
        add_node_traits(name, options);
        return *this;
    }

    // Declares a dataset type: D derives from kiln::Dataset and is constructible from
    // `const kiln::DatasetConfig&`.
    template <class D>
    Registrar& dataset(std::string_view name, DatasetTypeOptions options = {}) {
        static_assert(std::is_base_of_v<Dataset, D>, "kiln: dataset types derive from kiln::Dataset");
        static_assert(std::is_constructible_v<D, const DatasetConfig&>,
                      "kiln: dataset types are constructible from const kiln::DatasetConfig&");
        bool persists = true;
        if constexpr (requires { D::persists; }) persists = static_cast<bool>(D::persists);
        add_dataset_type(detail::DatasetTypeSpec{std::string(name), std::move(options), &detail::make_dataset<D>, persists});
        return *this;
    }

    // Makes a value type known by name without a node using it.
    template <class T>
    Registrar& type() {
        if constexpr (detail::value_type_has_codec<T>::value) add_type(type_ops<T>());
        return *this;
    }

    // Declares a runner: R derives from kiln::Runner and is default constructible.
    template <class R>
    Registrar& runner(std::string_view name, RunnerTypeOptions options = {}) {
        static_assert(std::is_base_of_v<Runner, R>, "kiln: runners derive from kiln::Runner");
        static_assert(std::is_default_constructible_v<R>, "kiln: runners are default constructible");
        add_runner(detail::RunnerTypeSpec{std::string(name), std::move(options), &detail::make_runner<R>});
        return *this;
    }

    // Declares hooks: H derives from kiln::Hooks and is constructible from
    // `const kiln::HookConfig&` or by default.
    template <class H>
    Registrar& hooks(std::string_view name, HookTypeOptions options = {}) {
        static_assert(std::is_base_of_v<Hooks, H>, "kiln: hooks derive from kiln::Hooks");
        static_assert(std::is_constructible_v<H, const HookConfig&> || std::is_default_constructible_v<H>,
                      "kiln: hooks are constructible from const kiln::HookConfig& or by default");
        add_hooks(detail::HookTypeSpec{std::string(name), std::move(options), &detail::make_hooks<H>});
        return *this;
    }

    Logger& logger() noexcept { return logger_impl(); }

protected:
    // The plain API under the templates above, implemented by the host; never throws.
    // The order of these virtual functions is part of the ABI (docs/abi.md).
    virtual void add_node(detail::NodeSpec spec) noexcept = 0;
    virtual void add_dataset_type(detail::DatasetTypeSpec spec) noexcept = 0;
    virtual void add_type(const TypeOps& ops) noexcept = 0;
    virtual Logger& logger_impl() noexcept = 0;
    ~Registrar() = default;
    // Added in ABI 1.1; declared last so the slots above keep their places.
    virtual void add_runner(detail::RunnerTypeSpec spec) noexcept = 0;
    virtual void add_hooks(detail::HookTypeSpec spec) noexcept = 0;
    // Added in ABI 1.4: the host's JSON conversion of the standard types, which the plugin
    // entry point installs before the register block runs (detail/json_bridge.hpp).
    virtual const detail::JsonBridge& json_bridge_impl() noexcept = 0;
    // Added in ABI 1.6: NodeOptions' version and always_run for the node just added.
    virtual void set_node_traits(std::string_view node_name, const detail::NodeTraits* traits) noexcept = 0;

private:
    friend struct detail::RegistrarAccess;

    // NodeOptions beyond the spec's, for the node just added (not a template: compiled once
    // per file, not once per node).
    void add_node_traits(std::string_view name, const NodeOptions& options) {
        if (!options.always_run && options.version.empty() && options.outputs.empty()) return;
        std::vector<const char*> names;
        for (const std::string& o : options.outputs) names.push_back(o.c_str());
        detail::NodeTraits traits;
        traits.always_run = options.always_run;
        traits.version = options.version.data();
        traits.version_size = options.version.size();
        traits.output_names = names.data();
        traits.output_count = options.outputs.size();
        set_node_traits(name, &traits);
    }
};

namespace detail {
// For a plugin that declares what the templates cannot express, e.g. a node with 100,000
// inputs built as a NodeSpec by hand (tests/plugins/wide_nodes.cpp).
struct RegistrarAccess {
    static void add_node(Registrar& registrar, NodeSpec spec) noexcept { registrar.add_node(std::move(spec)); }
    static const JsonBridge& json_bridge(Registrar& registrar) noexcept { return registrar.json_bridge_impl(); }
    static void set_node_traits(Registrar& registrar, std::string_view name, const NodeTraits* traits) noexcept {
        registrar.set_node_traits(name, traits);
    }
};
}  // namespace detail

}  // namespace kiln
