// kiln::Value: an immutable, shared, typed value as it moves between nodes.
//
//     kiln::Value v = kiln::Value::make(std::vector<double>{1, 2});
//     const auto& xs = v.get<std::vector<double>>();  // throws kiln::TypeError if not
//
// In-process runners hand the same Value to every consumer: no copy, no serialisation.
// Values are immutable once made, so sharing them between threads is safe.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <memory>
#include <new>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "kiln/codec.hpp"
#include "kiln/detail/type_ops.hpp"
#include "kiln/error.hpp"

namespace kiln {

class Value;
namespace detail {
inline Value value_from_raw(std::shared_ptr<const void> object, const TypeOps* type);
// Value::get's error, out of line: one copy per file rather than one per type read.
[[noreturn, gnu::cold]] inline void throw_read_as(std::string_view held, std::string_view wanted) {
    throw TypeError("value of type '" + std::string(held) + "' read as '" + std::string(wanted) + "'");
}
}  // namespace detail

class Value {
public:
    Value() = default;

    // Wraps a value of a type with a codec.
    template <class T>
    static Value make(T value) {
        if constexpr (detail::value_type_has_codec<T>::value)
            return Value(std::make_shared<const T>(std::move(value)), &type_ops<T>());
        else
            return {};  // the static_assert has said why
    }
    // Wraps an already shared object (no copy).
    template <class T>
    static Value share(std::shared_ptr<const T> object) {
        if constexpr (detail::value_type_has_codec<T>::value)
            return Value(std::move(object), &type_ops<T>());
        else
            return {};
    }

    bool empty() const { return object_ == nullptr; }
    explicit operator bool() const { return !empty(); }
    const TypeOps* type() const { return type_; }
    std::string_view type_name() const { return type_ ? type_->name : std::string_view("<empty>"); }
    const void* raw() const { return object_.get(); }
    const std::shared_ptr<const void>& shared() const { return object_; }

    template <class T>
    bool holds() const {
        if constexpr (detail::value_type_has_codec<T>::value)
            return type_ && (type_ == &type_ops<T>() || type_->name == codec<T>::name);
        else
            return false;
    }
    // The value as T; throws kiln::TypeError when it holds another type or nothing.
    template <class T>
    const T& get() const {
        if constexpr (detail::value_type_has_codec<T>::value) {
            if (!holds<T>()) [[unlikely]]
                detail::throw_read_as(type_name(), codec<T>::name);
        }
        return *static_cast<const T*>(object_.get());
    }

    // Encoding and JSON for code that does not know the type (a dataset storing any value):
    // `type` is the value's TypeOps, e.g. DatasetConfig::value_type_or_throw(). Throw
    // kiln::TypeError. (to_json is a template only so that this header compiles without
    // the JSON header; call it as v.to_json() where <nlohmann/json.hpp> is included.)
    std::vector<std::byte> encode() const;
    template <class J = nlohmann::json>
    J to_json() const;
    static Value decode(const TypeOps& type, std::span<const std::byte> bytes,
                        const std::shared_ptr<const void>& owner = nullptr);
    static Value from_json(const TypeOps& type, const nlohmann::json& j);

private:
    friend Value detail::value_from_raw(std::shared_ptr<const void> object, const TypeOps* type);
    Value(std::shared_ptr<const void> object, const TypeOps* type) : object_(std::move(object)), type_(type) {}

    std::shared_ptr<const void> object_;
    const TypeOps* type_ = nullptr;
};

// An object of the type `type` describes, wrapped without a check (for host code that made
// it through TypeOps).
inline Value detail::value_from_raw(std::shared_ptr<const void> object, const TypeOps* type) {
    return Value(std::move(object), type);
}

inline std::vector<std::byte> Value::encode() const {
    if (empty()) throw TypeError("cannot encode an empty value");
    std::string error;
    std::size_t n = type_->encoded_size(raw(), &error);
    if (!error.empty()) throw TypeError("cannot encode '" + std::string(type_->name) + "': " + error);
    std::vector<std::byte> bytes(n);
    if (!type_->encode(raw(), bytes.data(), n, &error))
        throw TypeError("cannot encode '" + std::string(type_->name) + "': " + error);
    return bytes;
}

template <class J>
J Value::to_json() const {
    if (empty()) throw TypeError("cannot convert an empty value to JSON");
    if (!type_->has_json()) throw TypeError("type '" + std::string(type_->name) + "' has no JSON form (its codec has no to_json/from_json)");
    J j;
    std::string error;
    if (!type_->to_json(raw(), &j, &error))
        throw TypeError("cannot convert '" + std::string(type_->name) + "' to JSON: " + error);
    return j;
}

inline Value Value::decode(const TypeOps& type, std::span<const std::byte> bytes,
                           const std::shared_ptr<const void>& owner) {
    std::string error;
    auto object = type.decode(bytes, owner, &error);
    if (!object) throw TypeError("cannot decode '" + std::string(type.name) + "': " + error);
    return Value(std::move(object), &type);
}

inline Value Value::from_json(const TypeOps& type, const nlohmann::json& j) {
    if (!type.has_json()) throw TypeError("type '" + std::string(type.name) + "' has no JSON form (its codec has no to_json/from_json)");
    std::string error;
    auto object = type.from_json(j, &error);
    if (!object) throw TypeError("cannot read '" + std::string(type.name) + "' from JSON: " + error);
    return Value(std::move(object), &type);
}

}  // namespace kiln
