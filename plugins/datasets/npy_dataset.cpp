#include "npy_dataset.hpp"

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "npy_header.hpp"

namespace kiln::datasets {

namespace {

// Array data is copied as is; a big-endian host would need byte swapping.
static_assert(std::endian::native == std::endian::little, "NpyDataset assumes a little-endian host");

// Calls f(std::type_identity<T>{}) for the element type named `name` ("f64"); false when
// no supported type has that name.
template <class F>
bool visit_element(std::string_view name, F&& f) {
    auto one = [&]<class T>(std::type_identity<T> t) {
        if (name != codec<T>::name) return false;
        f(t);
        return true;
    };
    return one(std::type_identity<float>{}) || one(std::type_identity<double>{}) ||
           one(std::type_identity<std::int8_t>{}) || one(std::type_identity<std::int16_t>{}) ||
           one(std::type_identity<std::int32_t>{}) || one(std::type_identity<std::int64_t>{}) ||
           one(std::type_identity<std::uint8_t>{}) || one(std::type_identity<std::uint16_t>{}) ||
           one(std::type_identity<std::uint32_t>{}) || one(std::type_identity<std::uint64_t>{});
}

template <class T>
std::string descr_of() {
    char kind = std::is_floating_point_v<T> ? 'f' : std::is_signed_v<T> ? 'i' : 'u';
    return std::string(sizeof(T) == 1 ? "|" : "<") + kind + std::to_string(sizeof(T));
}

// The Kiln element name of a .npy descr ("<f8" -> "f64"), or "" when Kiln has none.
// One-byte types carry no byte order; '=' is native, which is little here.
std::string element_of_descr(const std::string& descr) {
    if (descr.size() < 3) return "";
    char order = descr[0], kind = descr[1];
    std::string size = descr.substr(2);
    if (order != '<' && order != '|' && order != '=' && !(order == '>' && size == "1")) return "";
    if (kind != 'f' && kind != 'i' && kind != 'u') return "";
    if (size != "1" && size != "2" && size != "4" && size != "8") return "";
    std::string name = std::string(1, kind) + std::to_string(std::stoi(size) * 8);
    return (name == "f8" || name == "f16") ? "" : name;
}

struct ValueKind {
    bool vector = false;
    std::string element;
};

// "tensor<f64>" / "vector<i32>" -> its kind; false for anything else.
bool parse_value_type(std::string_view name, ValueKind& out) {
    for (std::string_view prefix : {"tensor<", "vector<"}) {
        if (name.starts_with(prefix) && name.ends_with(">")) {
            std::string element(name.substr(prefix.size(), name.size() - prefix.size() - 1));
            if (!visit_element(element, [](auto) {})) return false;
            out = {prefix == "vector<", element};
            return true;
        }
    }
    return false;
}

std::size_t element_count(const std::vector<std::size_t>& shape) {
    std::size_t n = 1;
    for (std::size_t d : shape) {
        if (d != 0 && n > std::numeric_limits<std::size_t>::max() / d) return std::numeric_limits<std::size_t>::max();
        n *= d;
    }
    return n;
}

// The file image: header, then the array bytes in one copy.
std::vector<std::byte> npy_image(const std::string& descr, const std::vector<std::size_t>& shape, const void* data,
                                 std::size_t bytes) {
    std::string header = format_npy_header(descr, shape);
    std::vector<std::byte> image(header.size() + bytes);
    std::memcpy(image.data(), header.data(), header.size());
    if (bytes) std::memcpy(image.data() + header.size(), data, bytes);
    return image;
}

}  // namespace

NpyDataset::NpyDataset(const DatasetConfig& config) : file_(config, "NpyDataset"), type_(config.value_type) {
    if (!type_) return;
    ValueKind kind;
    if (!parse_value_type(type_->name, kind))
        throw ConfigError(config.where() +
                          "stores kiln::Tensor<T> or std::vector<T> with T one of f32, f64, i8, i16, "
                          "i32, i64, u8, u16, u32, u64, but the pipeline moves '" +
                          std::string(type_->name) +
                          "' through it; use kiln.JsonDataset or kiln.BinaryDataset for that type");
    vector_ = kind.vector;
    element_ = kind.element;
}

Value NpyDataset::load() {
    auto bytes = file_.read_bytes();
    NpyHeader h;
    try {
        h = parse_npy_header(bytes);
    } catch (const std::invalid_argument& e) {
        throw file_.load_error(std::string("invalid .npy header: ") + e.what());
    }
    std::string found = element_of_descr(h.descr);
    if (found.empty())
        throw file_.load_error(
            "its dtype '" + h.descr + "' is not one Kiln reads" + (h.descr.starts_with(">") ? " (big-endian)" : "") +
            "; save the array as little-endian f32, f64, i8..i64 or u8..u64, e.g. arr.astype('<f8')");
    std::string element = element_.empty() ? found : element_;
    if (found != element) {
        std::string expected;
        visit_element(element, [&]<class T>(std::type_identity<T>) { expected = descr_of<T>(); });
        throw file_.load_error("it holds '" + h.descr + "' (" + found + ") elements but the pipeline expects '" +
                               expected + "' (" + element + "); convert the array, e.g. arr.astype('" + expected +
                               "'), or change the node's element type");
    }
    if (h.fortran_order)
        throw file_.load_error(
            "the array is in Fortran (column-major) order; save it in C order, e.g. "
            "np.save(path, np.ascontiguousarray(arr))");
    if (vector_ && h.shape.size() != 1)
        throw file_.load_error("it has shape " + format_npy_shape(h.shape) +
                               " but a std::vector needs a 1-D array; "
                               "take a kiln::Tensor in the node, or save arr.reshape(-1)");

    Value result;
    visit_element(element, [&]<class T>(std::type_identity<T>) {
        std::size_t n = element_count(h.shape);
        std::size_t available = bytes.size() - h.data_offset;
        if (n > available / sizeof(T))
            throw file_.load_error("the file is truncated: shape " + format_npy_shape(h.shape) + " needs " +
                                   std::to_string(n) + " elements but only " + std::to_string(available) +
                                   " bytes of data follow the header");
        if (n * sizeof(T) != available)
            throw file_.load_error(std::to_string(available - n * sizeof(T)) +
                                   " unexpected bytes after the array data; the file is corrupt");
        const std::byte* data = bytes.data() + h.data_offset;
        if (vector_) {
            std::vector<T> v(n);
            if (n) std::memcpy(v.data(), data, n * sizeof(T));
            result = Value::make(std::move(v));
        } else {
            Tensor<T> t(h.shape);
            if (n) std::memcpy(t.data(), data, n * sizeof(T));
            result = Value::make(std::move(t));
        }
    });
    return result;
}

void NpyDataset::save(const Value& value) {
    ValueKind kind;
    if (value.empty() || !parse_value_type(value.type_name(), kind))
        throw file_.save_error("NpyDataset writes kiln::Tensor<T> or std::vector<T> of a numeric T, not '" +
                               std::string(value.type_name()) + "'");
    if (type_ && value.type_name() != type_->name)
        throw file_.save_error("got a '" + std::string(value.type_name()) + "' value but the dataset stores '" +
                               std::string(type_->name) + "'");
    std::vector<std::byte> image;
    visit_element(kind.element, [&]<class T>(std::type_identity<T>) {
        if (kind.vector) {
            const auto& v = value.get<std::vector<T>>();
            image = npy_image(descr_of<T>(), {v.size()}, v.data(), v.size() * sizeof(T));
        } else {
            const auto& t = value.get<Tensor<T>>();
            image = npy_image(descr_of<T>(), t.shape(), t.data(), t.size() * sizeof(T));
        }
    });
    file_.write(image);
}

}  // namespace kiln::datasets
