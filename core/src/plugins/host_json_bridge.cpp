#include "plugins/host_json_bridge.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/tensor.hpp"
#include "kiln/value.hpp"

namespace kiln::core {

namespace {
using detail::guard;

// One standard type: how to recognise it and this image's conversion of it.
struct Conversion {
    std::string_view name;
    std::size_t size;
    std::uint64_t layout;
    bool (*to_json)(const void* object, nlohmann::json* out, std::string* error) noexcept;
    std::shared_ptr<const void> (*from_json)(const nlohmann::json& in, std::string* error) noexcept;
};

template <class T>
constexpr Conversion conversion_of() {
    static_assert(detail::host_json_type<T>, "kiln: the host converts only the SDK's standard types");
    return {codec<T>::name, sizeof(T), detail::layout_fingerprint<T>(),
            [](const void* object, nlohmann::json* out, std::string* error) noexcept {
                return guard(error, [&] { *out = codec<T>::to_json(*static_cast<const T*>(object)); });
            },
            [](const nlohmann::json& in, std::string* error) noexcept {
                std::shared_ptr<const void> result;
                guard(error, [&] { result = std::make_shared<const T>(codec<T>::from_json(in)); });
                return result;
            }};
}

// Each arithmetic type, alone, in a vector and in a tensor (bool only alone: the SDK has
// no codec for vector<bool> or Tensor<bool>).
template <class... A>
constexpr auto numeric_conversions() {
    return std::array{conversion_of<bool>(),           conversion_of<A>()...,
                      conversion_of<std::vector<A>>()..., conversion_of<Tensor<A>>()...};
}

constexpr auto numeric = numeric_conversions<std::int8_t, std::int16_t, std::int32_t, std::int64_t, std::uint8_t,
                                         std::uint16_t, std::uint32_t, std::uint64_t, float, double>();
constexpr std::array textual{conversion_of<std::string>(), conversion_of<nlohmann::json>(),
                         conversion_of<std::vector<std::string>>(), conversion_of<std::vector<nlohmann::json>>()};

template <std::size_t N>
const Conversion* named(const std::array<Conversion, N>& table, std::string_view name) noexcept {
    const auto it = std::find_if(table.begin(), table.end(), [&](const Conversion& c) { return c.name == name; });
    return it == table.end() ? nullptr : &*it;
}

// The type's conversion, or nullptr with *error set. A type of the same name but another
// size or layout is not ours (a plugin built against other headers): refuse it.
const Conversion* find(const TypeOps& type, std::string* error) noexcept {
    const Conversion* found = named(numeric, type.name);
    if (!found) found = named(textual, type.name);
    if (found && found->size == type.size && found->layout == type.layout) return found;
    guard(error, [&] {
        *error = "this kiln has no JSON conversion for type '" + std::string(type.name) + "'" +
                 (found ? " of this size and layout; rebuild the plugin against this Kiln's SDK" : "");
    });
    return nullptr;
}

// Keyed values (std::map<std::string, T>, kiln::Partitions<T>) route here from plugins of
// ABI 1.8 and later only, so their keyed fields may be read; the name says which they are.
bool is_keyed(const TypeOps& type) noexcept {
    return (type.name.starts_with("map<string,") || type.name.starts_with("partitions<")) && type.element &&
           type.to_keyed && type.from_keyed && type.element->has_json();
}

// An object of key to the entry's JSON (entries not at hand are loaded now).
bool keyed_to_json(const TypeOps& type, const void* object, nlohmann::json* out, std::string* error) noexcept {
    return guard(error, [&] {
        detail::KeyedValues entries;
        std::string why;
        // Not owned: the entries are used only during this call.
        if (!type.to_keyed(std::shared_ptr<const void>(std::shared_ptr<const void>(), object), &entries, &why))
            throw std::runtime_error(why);
        nlohmann::json result = nlohmann::json::object();
        for (const detail::KeyedEntry& e : entries) {
            std::shared_ptr<const void> value = detail::entry_object(e, &why);
            if (!value) throw std::runtime_error("entry '" + e.key + "': " + why);
            const TypeOps& entry_type = e.type ? *e.type : *type.element;
            if (!entry_type.to_json(value.get(), &result[e.key], &why))
                throw std::runtime_error("entry '" + e.key + "': " + why);
        }
        *out = std::move(result);
    });
}

std::shared_ptr<const void> keyed_from_json(const TypeOps& type, const nlohmann::json& in, std::string* error) noexcept {
    std::shared_ptr<const void> result;
    guard(error, [&] {
        if (!in.is_object()) throw std::invalid_argument("expected an object of key to value, got " + in.dump());
        detail::KeyedValues entries;
        std::string why;
        for (auto it = in.begin(); it != in.end(); ++it) {
            auto value = type.element->from_json(it.value(), &why);
            if (!value) throw std::invalid_argument("key '" + it.key() + "': " + why);
            entries.push_back({it.key(), std::move(value), type.element, nullptr});
        }
        result = type.from_keyed(entries, &why);
        if (!result) throw std::invalid_argument(why);
    });
    return result;
}

class HostJsonBridge final : public detail::JsonBridge {
public:
    bool to_json(const TypeOps& type, const void* object, nlohmann::json* out,
                 std::string* error) const noexcept override {
        if (is_keyed(type)) return keyed_to_json(type, object, out, error);
        const Conversion* c = find(type, error);
        return c && c->to_json(object, out, error);
    }
    std::shared_ptr<const void> from_json(const TypeOps& type, const nlohmann::json& in,
                                          std::string* error) const noexcept override {
        if (is_keyed(type)) return keyed_from_json(type, in, error);
        const Conversion* c = find(type, error);
        return c ? c->from_json(in, error) : nullptr;
    }
};

const HostJsonBridge bridge;

// The host's own TypeOps of standard types forward to the slot too. Filled during static
// initialisation, before any code of this program can convert a value; registry.cpp uses
// host_json_bridge(), so every program that loads plugins links this file.
const bool installed = (detail::json_bridge_slot() = &bridge, true);
}  // namespace

const detail::JsonBridge& host_json_bridge() noexcept {
    (void)installed;
    return bridge;
}

}  // namespace kiln::core
