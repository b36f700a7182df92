// kiln::TypeOps: what the host needs to know about a value type, generated from its codec
// inside the plugin that uses the type. Plugin code meets it only as an opaque handle
// (Value::type(), DatasetConfig::value_type, Value::decode).
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "kiln/codec.hpp"
#include "kiln/detail/fnv.hpp"
#include "kiln/detail/guard.hpp"
#include "kiln/detail/json_bridge.hpp"
#include "kiln/detail/keyed_values.hpp"

namespace kiln {

// Type-erased operations of one value type. Made by type_ops<T>() inside the plugin that
// uses T, so every function pointer runs the plugin's own code; none of them throws (errors
// come back as a message).
struct TypeOps {
    std::string_view name;  // codec<T>::name
    std::size_t size;       // sizeof(T): same-name types from two plugins must agree
    // Bytes of the encoded value.
    std::size_t (*encoded_size)(const void* object, std::string* error) noexcept;
    // Encodes into exactly encoded_size() bytes.
    bool (*encode)(const void* object, std::byte* out, std::size_t size, std::string* error) noexcept;
    // Decodes; empty pointer and *error set on failure. When `owner` is set, the bytes stay
    // valid while it lives and the value may refer to them instead of copying.
    std::shared_ptr<const void> (*decode)(std::span<const std::byte> bytes, const std::shared_ptr<const void>& owner,
                                          std::string* error) noexcept;
    // Null when the codec has no JSON form.
    bool (*to_json)(const void* object, nlohmann::json* out, std::string* error) noexcept;
    std::shared_ptr<const void> (*from_json)(const nlohmann::json& in, std::string* error) noexcept;

    // Values of this type cannot leave their process (the codec says so with
    // `static constexpr bool process_local = true;`): the ParallelRunner refuses them.
    bool process_local = false;

    // detail::layout_fingerprint<T>(): the name and size of T and of every type it is built
    // from (ABI 1.3; the host reads it only from plugins built for 1.3 or later).
    std::uint64_t layout = 0;

    // ABI 1.8: keyed values (std::map<std::string, T>, kiln::Partitions<T>); null for every
    // other type, and never read from plugins built before 1.8. `element` is T's operations;
    // to_keyed lists the entries of `object`, sharing it (no copy); from_keyed makes a value
    // of this type from entries (a map loads those not at hand; Partitions keeps them lazy).
    const TypeOps* element = nullptr;
    bool (*to_keyed)(const std::shared_ptr<const void>& object, detail::KeyedValues* out,
                     std::string* error) noexcept = nullptr;
    std::shared_ptr<const void> (*from_keyed)(const detail::KeyedValues& in, std::string* error) noexcept = nullptr;

    bool has_json() const { return to_json != nullptr && from_json != nullptr; }
};

template <Codec T>
const TypeOps& type_ops();

namespace detail {
template <class T>
constexpr std::uint64_t layout_fingerprint();
template <class Tuple, std::size_t... I>
constexpr std::uint64_t parts_fingerprint(std::uint64_t h, std::index_sequence<I...>) {
    ((h = fingerprint_word(h, layout_fingerprint<std::tuple_element_t<I, Tuple>>())), ...);
    return h;
}
// The codec's name and sizeof(T), then the same of every type listed in its built_from.
template <class T>
constexpr std::uint64_t layout_fingerprint() {
    std::uint64_t h = fingerprint_word(fingerprint_text(fnv_offset_basis, codec<T>::name), sizeof(T));
    if constexpr (requires { typename codec<T>::built_from; }) {
        using Parts = typename codec<T>::built_from;
        h = parts_fingerprint<Parts>(h, std::make_index_sequence<std::tuple_size_v<Parts>>{});
    }
    return h;
}

// The SDK's standard types whose JSON form the host converts (detail/json_bridge.hpp):
// arithmetic types, std::string, nlohmann::json, std::vector of those (but bool) and
// kiln::Tensor. Nested containers and authors' codecs convert in their own plugin.
template <class T>
inline constexpr bool host_json_scalar = Arithmetic<T> || std::is_same_v<T, std::string> || std::is_same_v<T, nlohmann::json>;
template <class T>
inline constexpr bool host_json_type = host_json_scalar<T>;
template <class E>
inline constexpr bool host_json_type<std::vector<E>> = host_json_scalar<E> && !std::is_same_v<E, bool>;
template <class E>
inline constexpr bool host_json_type<Tensor<E>> = Arithmetic<E> && !std::is_same_v<E, bool>;

inline bool no_json_bridge(std::string* error) noexcept {
    if (error)
        guard(nullptr, [&] {
            *error = "no kiln host converts standard types to JSON in this program: load the plugin with kiln, "
                     "or link kiln's core library";
        });
    return false;
}

// Keyed value types say how they list their entries and are made from them: std::map with
// string keys here, kiln::Partitions<T> in kiln/partitions.hpp.
template <class T>
struct keyed_traits {
    static constexpr bool keyed = false;
};

// The object of entry `e` as a V: the one at hand (checked by type name), or loaded now.
template <class V>
std::shared_ptr<const V> keyed_entry_object(const KeyedEntry& e) {
    if (e.object) {
        if (e.type && e.type->name != codec<V>::name)
            throw std::invalid_argument("entry '" + e.key + "' holds a '" + std::string(e.type->name) + "', not a '" +
                                        std::string(codec<V>::name) + "'");
        return std::static_pointer_cast<const V>(e.object);
    }
    std::string error;
    std::shared_ptr<const void> loaded = entry_object(e, &error);
    if (!loaded) throw std::runtime_error(error);
    return std::static_pointer_cast<const V>(loaded);
}

template <class V>
struct keyed_traits<std::map<std::string, V>> {
    static constexpr bool keyed = true;
    using element = V;
    using Map = std::map<std::string, V>;
    // Entries alias the map's own values: no copy.
    static void to_keyed(const std::shared_ptr<const void>& object, KeyedValues& out) {
        const Map& m = *static_cast<const Map*>(object.get());
        out.reserve(m.size());
        for (const auto& [k, v] : m) out.push_back({k, std::shared_ptr<const void>(object, &v), &type_ops<V>(), nullptr});
    }
    static std::shared_ptr<const void> from_keyed(const KeyedValues& in) {
        auto m = std::make_shared<Map>();
        for (const KeyedEntry& e : in)
            if (!m->emplace(e.key, *keyed_entry_object<V>(e)).second)
                throw std::invalid_argument("the key '" + e.key + "' is given twice");
        return m;
    }
};

// Keyed values of JSON-convertible entries convert in the host too (an object of key to
// entry, through to_keyed/from_keyed and the entry type's own conversion), so that a file
// using std::map<std::string, T> or kiln::Partitions<T> needs no JSON header (ABI 1.8).
template <class T>
inline constexpr bool host_keyed_json = false;
template <class T>
    requires keyed_traits<T>::keyed
inline constexpr bool host_keyed_json<T> = HasJson<typename keyed_traits<T>::element>;

template <Codec T>
struct type_ops_impl {
    static std::size_t encoded_size(const void* object, std::string* error) noexcept {
        std::size_t n = 0;
        guard(error, [&] {
            Encoder measure;
            codec<T>::encode(*static_cast<const T*>(object), measure);
            n = measure.size();
        });
        return n;
    }
    static bool encode(const void* object, std::byte* out, std::size_t size, std::string* error) noexcept {
        return guard(error, [&] {
            Encoder enc(out, size);
            codec<T>::encode(*static_cast<const T*>(object), enc);
            if (enc.size() != size) throw std::length_error("encoded size changed between passes");
        });
    }
    static std::shared_ptr<const void> decode(std::span<const std::byte> bytes, const std::shared_ptr<const void>& owner,
                                              std::string* error) noexcept {
        std::shared_ptr<const void> result;
        guard(error, [&] {
            Decoder dec(bytes, owner);
            result = std::make_shared<const T>(codec<T>::decode(dec));
            if (dec.remaining() != 0) {
                result.reset();
                throw std::invalid_argument(std::to_string(dec.remaining()) + " trailing bytes after the value");
            }
        });
        return result;
    }
    static bool to_json(const void* object, nlohmann::json* out, std::string* error) noexcept {
        return guard(error, [&] { *out = codec<T>::to_json(*static_cast<const T*>(object)); });
    }
    static std::shared_ptr<const void> from_json(const nlohmann::json& in, std::string* error) noexcept {
        std::shared_ptr<const void> result;
        guard(error, [&] { result = std::make_shared<const T>(codec<T>::from_json(in)); });
        return result;
    }
    static bool to_json_by_host(const void* object, nlohmann::json* out, std::string* error) noexcept {
        const JsonBridge* bridge = json_bridge_slot();
        return bridge ? bridge->to_json(ops, object, out, error) : no_json_bridge(error);
    }
    static std::shared_ptr<const void> from_json_by_host(const nlohmann::json& in, std::string* error) noexcept {
        const JsonBridge* bridge = json_bridge_slot();
        if (!bridge) return no_json_bridge(error), nullptr;
        return bridge->from_json(ops, in, error);
    }
    static bool to_keyed(const std::shared_ptr<const void>& object, KeyedValues* out, std::string* error) noexcept {
        return guard(error, [&] {
            out->clear();
            keyed_traits<T>::to_keyed(object, *out);
        });
    }
    static std::shared_ptr<const void> from_keyed(const KeyedValues& in, std::string* error) noexcept {
        std::shared_ptr<const void> result;
        guard(error, [&] { result = keyed_traits<T>::from_keyed(in); });
        return result;
    }
    static constexpr TypeOps make() {
        TypeOps made{codec<T>::name, sizeof(T), &encoded_size, &encode, &decode, nullptr, nullptr, false};
        if constexpr (host_json_type<T> || host_keyed_json<T>) {
            made.to_json = &to_json_by_host;
            made.from_json = &from_json_by_host;
        } else if constexpr (HasJson<T>) {
            made.to_json = &to_json;
            made.from_json = &from_json;
        }
        if constexpr (requires { codec<T>::process_local; }) made.process_local = codec<T>::process_local;
        made.layout = layout_fingerprint<T>();
        if constexpr (keyed_traits<T>::keyed) {
            made.element = &type_ops_impl<typename keyed_traits<T>::element>::ops;
            made.to_keyed = &to_keyed;
            made.from_keyed = &from_keyed;
        }
        return made;
    }
    static constexpr TypeOps ops = make();
};
}  // namespace detail

template <Codec T>
const TypeOps& type_ops() {
    return detail::type_ops_impl<T>::ops;
}

}  // namespace kiln
