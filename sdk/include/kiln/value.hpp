// kiln::Value: an immutable, shared, typed value as it moves between nodes, and
// kiln::TypeOps: what the host needs to know about a value type, generated from its
// codec.
//
// In-process runners hand the same Value to every consumer: no copy, no serialisation.
// Values are immutable once made, so sharing them between threads is safe.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "kiln/codec.hpp"
#include "kiln/error.hpp"

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

    bool has_json() const { return to_json != nullptr && from_json != nullptr; }
};

template <Codec T>
const TypeOps& type_ops();

class Value {
public:
    Value() = default;

    // Wraps a value of a type with a codec.
    template <Codec T>
    static Value make(T value) {
        return Value(std::make_shared<const T>(std::move(value)), &type_ops<T>());
    }
    // Wraps an already shared object (no copy).
    template <Codec T>
    static Value share(std::shared_ptr<const T> object) {
        return Value(std::move(object), &type_ops<T>());
    }
    // For host and dataset code working through TypeOps.
    static Value from_raw(std::shared_ptr<const void> object, const TypeOps* type) {
        return Value(std::move(object), type);
    }

    bool empty() const { return object_ == nullptr; }
    explicit operator bool() const { return !empty(); }
    const TypeOps* type() const { return type_; }
    std::string_view type_name() const { return type_ ? type_->name : std::string_view("<empty>"); }
    const void* raw() const { return object_.get(); }
    const std::shared_ptr<const void>& shared() const { return object_; }

    template <Codec T>
    bool holds() const {
        return type_ && (type_ == &type_ops<T>() || type_->name == codec<T>::name);
    }
    // The value as T; throws kiln::TypeError when it holds another type or nothing.
    template <Codec T>
    const T& get() const {
        if (!holds<T>()) [[unlikely]]
            throw TypeError("value of type '" + std::string(type_name()) + "' read as '" + std::string(codec<T>::name) + "'");
        return *static_cast<const T*>(object_.get());
    }

    // Encoding and JSON through TypeOps; throw kiln::TypeError / kiln::DatasetError.
    std::vector<std::byte> encode() const;
    nlohmann::json to_json() const;
    static Value decode(const TypeOps& type, std::span<const std::byte> bytes,
                        const std::shared_ptr<const void>& owner = nullptr);
    static Value from_json(const TypeOps& type, const nlohmann::json& j);

private:
    Value(std::shared_ptr<const void> object, const TypeOps* type) : object_(std::move(object)), type_(type) {}

    std::shared_ptr<const void> object_;
    const TypeOps* type_ = nullptr;
};

// ---------------------------------------------------------------------------------------

namespace detail {
template <class F>
bool guard(std::string* error, F&& f) noexcept {
    try {
        f();
        return true;
    } catch (const std::exception& e) {
        if (error) *error = e.what();
    } catch (...) {
        if (error) *error = "unknown exception";
    }
    return false;
}

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
    static constexpr TypeOps make() {
        TypeOps made{codec<T>::name, sizeof(T), &encoded_size, &encode, &decode, nullptr, nullptr, false};
        if constexpr (HasJson<T>) {
            made.to_json = &to_json;
            made.from_json = &from_json;
        }
        if constexpr (requires { codec<T>::process_local; }) made.process_local = codec<T>::process_local;
        made.layout = layout_fingerprint<T>();
        return made;
    }
    static constexpr TypeOps ops = make();
};
}  // namespace detail

template <Codec T>
const TypeOps& type_ops() {
    return detail::type_ops_impl<T>::ops;
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

inline nlohmann::json Value::to_json() const {
    if (empty()) throw TypeError("cannot convert an empty value to JSON");
    if (!type_->has_json()) throw TypeError("type '" + std::string(type_->name) + "' has no JSON form (its codec has no to_json/from_json)");
    nlohmann::json j;
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
