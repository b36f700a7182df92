// Codecs: how a value type is named, turned into bytes and back, and (optionally) into
// JSON. Every type that crosses a dataset needs one.
//
// Built in: bool, the fixed-width integers, float, double, std::string,
// std::vector and std::map of those, nlohmann::json and kiln::Tensor<T>.
//
// Adding a codec for your own type: specialise kiln::codec in namespace kiln.
//
//     struct Point { double x, y; };
//     template <> struct kiln::codec<Point> {
//         static constexpr std::string_view name = "mylib.Point";  // stable, unique
//         static void encode(const Point& p, kiln::Encoder& out) { out.put(p.x); out.put(p.y); }
//         static Point decode(kiln::Decoder& in) { return {in.get<double>(), in.get<double>()}; }
//         // Optional: enables JSON datasets, parameters and run reports for the type
//         // (include <nlohmann/json.hpp> for these two; the SDK itself does not).
//         static nlohmann::json to_json(const Point& p) { return {p.x, p.y}; }
//         static Point from_json(const nlohmann::json& j) { return {j.at(0), j.at(1)}; }
//     };
//
// A type whose values only make sense inside one process (a handle, a pointer) says so
// with `static constexpr bool process_local = true;`: the ParallelRunner then refuses to
// move it between processes, before the run starts.
//
// The name identifies the type across plugins (never typeid: RTTI identity is not
// reliable across shared libraries). Two plugins using the same name must mean the same
// C++ type: kiln compares a fingerprint of the name and size of the type and of every
// type it is built from, and refuses a plugin whose fingerprint differs (a stale build).
// The built-in containers list their element type; a codec of yours that stores other
// codec types can list them too, so that a change in one of them is noticed:
//
//     static constexpr std::string_view name = "mylib.Segment";
//     using built_from = std::tuple<Point, Point>;  // optional; no recursive types
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <limits>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "kiln/tensor.hpp"

namespace kiln {

// Writes encoded bytes. Used twice per value: once with no buffer to measure the size,
// then into a buffer of exactly that size (so shared memory is written in place).
class Encoder {
public:
    Encoder() = default;  // measuring pass
    explicit Encoder(std::byte* buffer, std::size_t capacity) : buffer_(buffer), capacity_(capacity) {}

    void put_bytes(const void* data, std::size_t n) {
        if (buffer_) {
            if (size_ + n > capacity_) throw std::length_error("kiln::Encoder: value larger than measured");
            if (n) std::memcpy(buffer_ + size_, data, n);
        }
        size_ += n;
    }
    template <class T>
        requires std::is_trivially_copyable_v<T>
    void put(const T& v) { put_bytes(&v, sizeof v); }
    void put_size(std::size_t n) { put(static_cast<std::uint64_t>(n)); }

    std::size_t size() const { return size_; }

private:
    std::byte* buffer_ = nullptr;
    std::size_t capacity_ = 0;
    std::size_t size_ = 0;
};

// Reads encoded bytes; every read is bounds-checked so corrupt input throws instead of
// reading past the end.
class Decoder {
public:
    explicit Decoder(std::span<const std::byte> bytes) : pos_(bytes.data()), end_(bytes.data() + bytes.size()) {}
    // Bytes that stay valid while `owner` lives: codecs may then return views of them
    // instead of copies (kiln::Tensor does).
    Decoder(std::span<const std::byte> bytes, std::shared_ptr<const void> owner)
        : pos_(bytes.data()), end_(bytes.data() + bytes.size()), owner_(std::move(owner)) {}
    const std::shared_ptr<const void>& owner() const { return owner_; }

    std::span<const std::byte> take(std::size_t n) {
        if (static_cast<std::size_t>(end_ - pos_) < n)
            throw std::out_of_range("kiln::Decoder: encoded value is truncated or corrupt");
        std::span<const std::byte> s(pos_, n);
        pos_ += n;
        return s;
    }
    template <class T>
        requires std::is_trivially_copyable_v<T>
    T get() {
        T v;
        std::memcpy(&v, take(sizeof v).data(), sizeof v);
        return v;
    }
    std::size_t get_size() { return static_cast<std::size_t>(get<std::uint64_t>()); }
    std::size_t remaining() const { return static_cast<std::size_t>(end_ - pos_); }

private:
    const std::byte* pos_;
    const std::byte* end_;
    std::shared_ptr<const void> owner_;
};

template <class T>
struct codec;  // specialise for your types, see above

namespace detail {
template <class T>
struct arithmetic_name;
#define KILN_DETAIL_ARITH_NAME(T, N) \
    template <>                      \
    struct arithmetic_name<T> {      \
        static constexpr std::string_view value = N; \
    };
KILN_DETAIL_ARITH_NAME(bool, "bool")
KILN_DETAIL_ARITH_NAME(std::int8_t, "i8")
KILN_DETAIL_ARITH_NAME(std::int16_t, "i16")
KILN_DETAIL_ARITH_NAME(std::int32_t, "i32")
KILN_DETAIL_ARITH_NAME(std::int64_t, "i64")
KILN_DETAIL_ARITH_NAME(std::uint8_t, "u8")
KILN_DETAIL_ARITH_NAME(std::uint16_t, "u16")
KILN_DETAIL_ARITH_NAME(std::uint32_t, "u32")
KILN_DETAIL_ARITH_NAME(std::uint64_t, "u64")
KILN_DETAIL_ARITH_NAME(float, "f32")
KILN_DETAIL_ARITH_NAME(double, "f64")
#undef KILN_DETAIL_ARITH_NAME

template <class T>
concept Arithmetic = requires { arithmetic_name<T>::value; };

// Compile-time string concatenation for derived names such as "vector<f64>".
template <std::size_t N>
struct fixed_string {
    char data[N + 1]{};
    constexpr std::string_view view() const { return {data, N}; }
};
template <std::string_view const&... Parts>
struct joined {
    static constexpr auto build() {
        constexpr std::size_t n = (Parts.size() + ...);
        fixed_string<n> s;
        std::size_t i = 0;
        for (std::string_view p : {Parts...})
            for (char c : p) s.data[i++] = c;
        return s;
    }
    static constexpr auto storage = build();
    static constexpr std::string_view value = storage.view();
};
inline constexpr std::string_view vector_open = "vector<";
inline constexpr std::string_view tensor_open = "tensor<";
inline constexpr std::string_view map_open = "map<";
inline constexpr std::string_view comma = ",";
inline constexpr std::string_view close_angle = ">";

// Element count of a tensor shape read from outside (bytes, JSON). Throws when the product
// overflows, so a corrupt shape never yields a tensor whose data does not fill its shape.
inline std::size_t checked_element_count(const std::vector<std::size_t>& shape) {
    std::size_t n = 1;
    for (std::size_t d : shape) {
        if (d != 0 && n > std::numeric_limits<std::size_t>::max() / d)
            throw std::out_of_range("tensor shape is too large or corrupt");
        n *= d;
    }
    return n;
}

// JSON numbers are checked against the target type so "3.7" never silently becomes 3.
// (J is nlohmann::json: a parameter, so that the SDK compiles without the JSON header.)
template <class T, class J>
T arithmetic_from_json(const J& j) {
    if constexpr (std::is_same_v<T, bool>) {
        if (!j.is_boolean()) throw std::invalid_argument("expected a boolean, got " + j.dump());
        return j.template get<bool>();
    } else if constexpr (std::is_floating_point_v<T>) {
        if (!j.is_number()) throw std::invalid_argument("expected a number, got " + j.dump());
        return j.template get<T>();
    } else {
        if (!j.is_number_integer() && !j.is_number_unsigned())
            throw std::invalid_argument("expected an integer, got " + j.dump());
        if constexpr (std::is_signed_v<T>) {
            if (j.is_number_unsigned() && j.template get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
                throw std::out_of_range("integer " + j.dump() + " does not fit");
            auto v = j.template get<std::int64_t>();
            if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
                throw std::out_of_range("integer " + j.dump() + " does not fit");
            return static_cast<T>(v);
        } else {
            // is_number_integer() is also true for unsigned JSON numbers: test the sign only
            // on signed ones, or values above INT64_MAX would read as negative.
            if (!j.is_number_unsigned() && j.template get<std::int64_t>() < 0)
                throw std::out_of_range("integer " + j.dump() + " is negative");
            auto v = j.template get<std::uint64_t>();
            if (v > std::numeric_limits<T>::max()) throw std::out_of_range("integer " + j.dump() + " does not fit");
            return static_cast<T>(v);
        }
    }
}
}  // namespace detail

template <detail::Arithmetic T>
struct codec<T> {
    static constexpr std::string_view name = detail::arithmetic_name<T>::value;
    static void encode(const T& v, Encoder& out) { out.put(v); }
    static T decode(Decoder& in) { return in.get<T>(); }
    template <class J = nlohmann::json>
    static J to_json(const T& v) { return J(v); }
    template <class J = nlohmann::json>
    static T from_json(const std::type_identity_t<J>& j) { return detail::arithmetic_from_json<T>(j); }
};

// std::string and nlohmann::json are matched by a constraint rather than specialised
// outright, so that their members (JSON dumps, CBOR) are compiled only in files that use
// them, not in every file that includes the SDK.
template <class S>
    requires std::is_same_v<S, std::string>
struct codec<S> {
    static constexpr std::string_view name = "string";
    static void encode(const std::string& v, Encoder& out) {
        out.put_size(v.size());
        out.put_bytes(v.data(), v.size());
    }
    static std::string decode(Decoder& in) {
        auto n = in.get_size();
        auto bytes = in.take(n);
        return std::string(reinterpret_cast<const char*>(bytes.data()), n);
    }
    template <class J = nlohmann::json>
    static J to_json(const std::string& v) { return J(v); }
    template <class J = nlohmann::json>
    static std::string from_json(const std::type_identity_t<J>& j) {
        if (!j.is_string()) throw std::invalid_argument("expected a string, got " + j.dump());
        return j.template get<std::string>();
    }
};

namespace detail {
// What a codec's to_json may return. Checked by name first, so that the SDK's own codecs
// qualify without the JSON header; any other type must convert to nlohmann::json.
template <class R>
concept JsonResult = std::same_as<std::remove_cv_t<R>, nlohmann::json> || std::convertible_to<R, nlohmann::json>;
}  // namespace detail

// True when codec<T> has a JSON form (to_json and from_json).
template <class T>
concept HasJson = requires(const T& v, const nlohmann::json& j) {
    requires detail::JsonResult<decltype(codec<T>::to_json(v))>;
    { codec<T>::from_json(j) } -> std::convertible_to<T>;
};

// Vectors of arithmetic types are one block of bytes; other elements go one by one.
template <class E>
    requires requires { codec<E>::name; } && (!std::is_same_v<E, bool>)
struct codec<std::vector<E>> {
    static constexpr std::string_view name = detail::joined<detail::vector_open, codec<E>::name, detail::close_angle>::value;
    using built_from = std::tuple<E>;
    static void encode(const std::vector<E>& v, Encoder& out) {
        out.put_size(v.size());
        if constexpr (detail::Arithmetic<E>) {
            out.put_bytes(v.data(), v.size() * sizeof(E));
        } else {
            for (const E& e : v) codec<E>::encode(e, out);
        }
    }
    static std::vector<E> decode(Decoder& in) {
        auto n = in.get_size();
        std::vector<E> v;
        if constexpr (detail::Arithmetic<E>) {
            if (n > in.remaining() / sizeof(E)) throw std::out_of_range("kiln::Decoder: vector length is corrupt");
            v.resize(n);
            auto bytes = in.take(n * sizeof(E));
            if (n) std::memcpy(v.data(), bytes.data(), bytes.size());
        } else {
            if (n > in.remaining()) throw std::out_of_range("kiln::Decoder: vector length is corrupt");
            v.reserve(n);
            for (std::size_t i = 0; i < n; ++i) v.push_back(codec<E>::decode(in));
        }
        return v;
    }
    template <class J = nlohmann::json>
    static J to_json(const std::vector<E>& v)
        requires HasJson<E>
    {
        auto arr = J::array();
        for (const E& e : v) arr.push_back(codec<E>::to_json(e));
        return arr;
    }
    template <class J = nlohmann::json>
    static std::vector<E> from_json(const std::type_identity_t<J>& j)
        requires HasJson<E>
    {
        if (!j.is_array()) throw std::invalid_argument("expected an array, got " + j.dump());
        std::vector<E> v;
        v.reserve(j.size());
        for (const auto& e : j) v.push_back(codec<E>::from_json(e));
        return v;
    }
};

// Maps: the entries in key order. A map with string keys is a JSON object; any other map
// is a JSON array of [key, value] pairs. A node returning a std::map<std::string, T> may
// have its result split by key into several datasets ("outputs": {"key": "dataset"}), and
// kiln.PartitionedDataset loads and saves one (a file per key).
template <class K, class V>
    requires requires { codec<K>::name; codec<V>::name; }
struct codec<std::map<K, V>> {
    static constexpr std::string_view name =
        detail::joined<detail::map_open, codec<K>::name, detail::comma, codec<V>::name, detail::close_angle>::value;
    using built_from = std::tuple<K, V>;
    static void encode(const std::map<K, V>& m, Encoder& out) {
        out.put_size(m.size());
        for (const auto& [k, v] : m) {
            codec<K>::encode(k, out);
            codec<V>::encode(v, out);
        }
    }
    static std::map<K, V> decode(Decoder& in) {
        auto n = in.get_size();
        if (n > in.remaining()) throw std::out_of_range("kiln::Decoder: map size is corrupt");
        std::map<K, V> m;
        for (std::size_t i = 0; i < n; ++i) {
            K k = codec<K>::decode(in);
            V v = codec<V>::decode(in);
            if (!m.emplace(std::move(k), std::move(v)).second)
                throw std::invalid_argument("kiln::Decoder: a map holds the same key twice");
        }
        return m;
    }
    template <class J = nlohmann::json>
    static J to_json(const std::map<K, V>& m)
        requires HasJson<K> && HasJson<V>
    {
        if constexpr (std::is_same_v<K, std::string>) {
            auto obj = J::object();
            for (const auto& [k, v] : m) obj[k] = codec<V>::to_json(v);
            return obj;
        } else {
            auto arr = J::array();
            for (const auto& [k, v] : m) arr.push_back(J::array({codec<K>::to_json(k), codec<V>::to_json(v)}));
            return arr;
        }
    }
    template <class J = nlohmann::json>
    static std::map<K, V> from_json(const std::type_identity_t<J>& j)
        requires HasJson<K> && HasJson<V>
    {
        std::map<K, V> m;
        if constexpr (std::is_same_v<K, std::string>) {
            if (!j.is_object()) throw std::invalid_argument("expected an object, got " + j.dump());
            for (auto it = j.begin(); it != j.end(); ++it) m.emplace(it.key(), codec<V>::from_json(it.value()));
        } else {
            if (!j.is_array()) throw std::invalid_argument("expected an array of [key, value] pairs, got " + j.dump());
            for (const auto& pair : j) {
                if (!pair.is_array() || pair.size() != 2)
                    throw std::invalid_argument("expected a [key, value] pair, got " + pair.dump());
                if (!m.emplace(codec<K>::from_json(pair[0]), codec<V>::from_json(pair[1])).second)
                    throw std::invalid_argument("the key " + pair[0].dump() + " is given twice");
            }
        }
        return m;
    }
};

template <class J>
    requires std::is_same_v<J, nlohmann::json>
struct codec<J> {
    static constexpr std::string_view name = "json";
    static void encode(const J& v, Encoder& out) {
        auto cbor = J::to_cbor(v);
        out.put_size(cbor.size());
        out.put_bytes(cbor.data(), cbor.size());
    }
    static J decode(Decoder& in) {
        auto n = in.get_size();
        auto bytes = in.take(n);
        auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
        return J::from_cbor(p, p + n);
    }
    static J to_json(const J& v) { return v; }
    static J from_json(const J& j) { return j; }
};

template <detail::Arithmetic T>
    requires(!std::is_same_v<T, bool>)
struct codec<Tensor<T>> {
    static constexpr std::string_view name = detail::joined<detail::tensor_open, codec<T>::name, detail::close_angle>::value;
    using built_from = std::tuple<T>;
    static void encode(const Tensor<T>& t, Encoder& out) {
        out.put_size(t.shape().size());
        for (auto d : t.shape()) out.put_size(d);
        out.put_bytes(t.data(), t.size() * sizeof(T));
    }
    static Tensor<T> decode(Decoder& in) {
        auto rank = in.get_size();
        if (rank > 32) throw std::out_of_range("kiln::Decoder: tensor rank is corrupt");
        std::vector<std::size_t> shape(rank);
        for (auto& d : shape) d = in.get_size();
        // Check against the bytes left before allocating: a corrupt shape must not allocate.
        if (detail::checked_element_count(shape) > in.remaining() / sizeof(T))
            throw std::out_of_range("kiln::Decoder: tensor size is corrupt");
        const std::size_t n = detail::checked_element_count(shape);
        auto bytes = in.take(n * sizeof(T));
        // Shared bytes, suitably aligned: hand out a view, no copy.
        if (in.owner() && reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(T) == 0)
            return Tensor<T>::view(std::move(shape), reinterpret_cast<const T*>(bytes.data()), in.owner());
        Tensor<T> t(std::move(shape));
        if (n) std::memcpy(t.data(), bytes.data(), bytes.size());
        return t;
    }
    template <class J = nlohmann::json>
    static J to_json(const Tensor<T>& t) {
        return J{{"shape", t.shape()}, {"data", std::vector<T>(t.data(), t.data() + t.size())}};
    }
    template <class J = nlohmann::json>
    static Tensor<T> from_json(const std::type_identity_t<J>& j) {
        if (!j.is_object() || !j.contains("shape") || !j.contains("data"))
            throw std::invalid_argument("expected {\"shape\": [...], \"data\": [...]}, got " + j.dump());
        auto data = codec<std::vector<T>>::from_json(j.at("data"));
        // Range-checked dimensions: a negative size must not wrap to a huge one.
        auto dims = codec<std::vector<std::uint64_t>>::from_json(j.at("shape"));
        std::vector<std::size_t> shape(dims.begin(), dims.end());
        std::size_t n = detail::checked_element_count(shape);
        if (data.size() != n)
            throw std::invalid_argument("tensor data has " + std::to_string(data.size()) + " elements but shape needs " +
                                        std::to_string(n));
        return Tensor<T>(std::move(shape), std::move(data));
    }
};

// True when kiln::codec<T> is usable.
template <class T>
concept Codec = requires(const T& v, Encoder& e, Decoder& d) {
    { codec<T>::name } -> std::convertible_to<std::string_view>;
    codec<T>::encode(v, e);
    { codec<T>::decode(d) } -> std::convertible_to<T>;
};

namespace detail {
// Checked where a value type enters the SDK (Value::make, Registrar::type, ...), so that a
// type without a codec stops the build with this one message; the compiler names the type
// in the instantiation context just above it ("value_type_has_codec<Point>").
template <class T>
struct value_type_has_codec {
    static constexpr bool value = Codec<T>;
    static_assert(value, "kiln: this value type has no codec: add a kiln::codec<T> specialisation, see kiln/codec.hpp");
};
}  // namespace detail

}  // namespace kiln
