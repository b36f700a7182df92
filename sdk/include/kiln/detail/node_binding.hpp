// Node binding: turns a C++ callable into the NodeSpec the host calls (Registrar::node).
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <array>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "kiln/detail/guard.hpp"
#include "kiln/detail/specs.hpp"
#include "kiln/node.hpp"
#include "kiln/value.hpp"

namespace kiln::detail {

template <class T>
struct is_tuple : std::false_type {};
template <class... T>
struct is_tuple<std::tuple<T...>> : std::true_type {};

template <class T>
struct signature;
template <class R, class... A>
struct signature<R (*)(A...)> {
    using result = R;
    using args = std::tuple<A...>;
};
template <class R, class... A>
struct signature<R (*)(A...) noexcept> : signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct signature<R (C::*)(A...) const> : signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct signature<R (C::*)(A...) const noexcept> : signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct signature<R (C::*)(A...)> {
    static_assert(sizeof(C) == 0, "kiln: node callables must have a const call operator (no `mutable` lambdas): "
                                  "nodes may run concurrently");
};

template <class F>
struct callable_signature : signature<decltype(&F::operator())> {};
template <class R, class... A>
struct callable_signature<R (*)(A...)> : signature<R (*)(A...)> {};
template <class R, class... A>
struct callable_signature<R (*)(A...) noexcept> : signature<R (*)(A...)> {};

template <class A>
using input_type = std::remove_cvref_t<A>;

template <class A>
constexpr void check_input() {
    static_assert(!(std::is_lvalue_reference_v<A> && !std::is_const_v<std::remove_reference_t<A>>),
                  "kiln: node parameters must be values or const references: inputs are shared and immutable");
}

// Checked once per parameter and result type before anything else uses the type, so that
// a type without a codec stops the build with this one message; the compiler names the
// type in the instantiation context just above it ("node_value_type_has_codec<Point>").
template <class T>
struct node_value_type_has_codec {
    static constexpr bool value = Codec<T>;
    static_assert(value, "kiln: this node parameter or result type has no codec: "
                         "add a kiln::codec<T> specialisation, see kiln/codec.hpp");
};

template <class R>
struct result_types {
    using type = std::tuple<R>;
};
template <>
struct result_types<void> {
    using type = std::tuple<>;
};
template <class... R>
struct result_types<std::tuple<R...>> {
    using type = std::tuple<R...>;
};

template <class... A, class... R>
constexpr bool node_types_have_codecs(std::tuple<A...>*, std::tuple<R...>*) {
    return (node_value_type_has_codec<input_type<A>>::value && ...) && (node_value_type_has_codec<R>::value && ...);
}

// The TypeOps of each result, as a constant array (no code runs to build it).
template <class R>
struct result_ops {
    static constexpr std::array<const TypeOps*, 1> value{&type_ops_impl<R>::ops};
};
template <>
struct result_ops<void> {
    static constexpr std::array<const TypeOps*, 0> value{};
};
template <class... R>
struct result_ops<std::tuple<R...>> {
    static constexpr std::array<const TypeOps*, sizeof...(R)> value{&type_ops_impl<R>::ops...};
};

template <class R>
struct outputs_of {
    static void store(R&& r, Value* out) { out[0] = Value::make<R>(std::move(r)); }
};
template <class... R>
struct outputs_of<std::tuple<R...>> {
    static void store(std::tuple<R...>&& r, Value* out) {
        store_each(std::move(r), out, std::index_sequence_for<R...>{});
    }
    template <std::size_t... I>
    static void store_each(std::tuple<R...>&& r, Value* out, std::index_sequence<I...>) {
        ((out[I] = Value::make<R>(std::move(std::get<I>(r)))), ...);
    }
};

// A function pointer is kept in one holder type for all signatures, so that a plugin of
// many plain-function nodes compiles one shared-pointer type, not one per signature (about
// 3% of a three-node file's compile time, measured).
struct FunctionHolder {
    void (*function)();
};
inline std::shared_ptr<const void> hold_function(void (*function)()) {
    return std::make_shared<const FunctionHolder>(FunctionHolder{function});
}
template <class F>
std::shared_ptr<const void> hold_callable(F&& f) {
    using Fn = std::decay_t<F>;
    if constexpr (std::is_pointer_v<Fn> && std::is_function_v<std::remove_pointer_t<Fn>>)
        return hold_function(reinterpret_cast<void (*)()>(f));
    else
        return std::make_shared<const Fn>(std::forward<F>(f));
}
template <class F>
decltype(auto) held_callable(const void* held) {
    if constexpr (std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>)
        return reinterpret_cast<F>(static_cast<const FunctionHolder*>(held)->function);
    else
        return *static_cast<const F*>(held);  // const F&
}

template <class F, class R, class Args>
struct node_binder;
template <class F, class R, class... A>
struct node_binder<F, R, std::tuple<A...>> {
    static constexpr std::array<const TypeOps*, sizeof...(A)> input_ops{&type_ops_impl<input_type<A>>::ops...};
    static constexpr void check_inputs() { (check_input<A>(), ...); }
    static bool invoke(const void* callable, const Value* in, Value* out, std::string* error) noexcept {
        return guard(error, [&] { call(held_callable<F>(callable), in, out, std::index_sequence_for<A...>{}); });
    }
    template <std::size_t... I>
    static void call(const F& f, [[maybe_unused]] const Value* in, [[maybe_unused]] Value* out,
                     std::index_sequence<I...>) {
        if constexpr (std::is_void_v<R>) {
            f(in[I].get<input_type<A>>()...);
        } else {
            outputs_of<R>::store(f(in[I].get<input_type<A>>()...), out);
        }
    }
};

// The part of a spec that does not depend on the function's types: written once, not once
// per node, so that a plugin file with many nodes compiles quickly.
inline NodeSpec node_spec_of(std::string name, std::span<const TypeOps* const> inputs,
                             std::span<const TypeOps* const> outputs, std::shared_ptr<const void> callable,
                             NodeInvoke invoke, NodeSpecOptions options) {
    NodeSpec spec;
    spec.name = std::move(name);
    spec.inputs.assign(inputs.begin(), inputs.end());
    spec.outputs.assign(outputs.begin(), outputs.end());
    spec.options = std::move(options);
    spec.callable = std::move(callable);
    spec.invoke = invoke;
    return spec;
}

template <class F>
NodeSpec make_node_spec(std::string name, F fn, NodeSpecOptions options) {
    using Fn = std::decay_t<F>;
    using Sig = callable_signature<Fn>;
    using R = std::remove_cvref_t<typename Sig::result>;
    using Args = typename Sig::args;
    using Results = typename result_types<R>::type;
    if constexpr (!node_types_have_codecs(static_cast<Args*>(nullptr), static_cast<Results*>(nullptr))) {
        return {};  // the static_assert has reported each type without a codec; no more errors
    } else {
        using Binder = node_binder<Fn, R, Args>;
        Binder::check_inputs();
        return node_spec_of(std::move(name), Binder::input_ops, result_ops<R>::value,
                            hold_callable(std::move(fn)), &Binder::invoke, std::move(options));
    }
}

}  // namespace kiln::detail
