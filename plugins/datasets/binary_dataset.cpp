#include "binary_dataset.hpp"

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace kiln::datasets {

namespace {

// The header's integers are written in host order; say so loudly if that ever differs.
static_assert(std::endian::native == std::endian::little, "BinaryDataset assumes a little-endian host");

constexpr std::string_view magic = "KILNBIN1";

template <class T>
void put(std::byte*& out, T v) {
    std::memcpy(out, &v, sizeof v);
    out += sizeof v;
}

}  // namespace

BinaryDataset::BinaryDataset(const DatasetConfig& config) : file_(config, "BinaryDataset"), type_(config.value_type) {}

Value BinaryDataset::load() {
    auto bytes = file_.read_bytes();
    std::span<const std::byte> rest(bytes);
    auto truncated = [&](const char* part) {
        return file_.load_error(std::string("the file is truncated (it ends inside the ") + part +
                                "); delete it and run the node that produces it again");
    };
    auto take = [&](std::size_t n, const char* part) {
        if (rest.size() < n) throw truncated(part);
        auto s = rest.first(n);
        rest = rest.subspan(n);
        return s;
    };
    if (rest.size() < magic.size() || std::memcmp(rest.data(), magic.data(), magic.size()) != 0)
        throw file_.load_error(
            "not a Kiln binary file (it does not start with \"KILNBIN1\"); point \"filepath\" at a "
            "file written by kiln.BinaryDataset");
    take(magic.size(), "header");
    std::uint32_t name_size;
    std::memcpy(&name_size, take(sizeof name_size, "header").data(), sizeof name_size);
    auto name_bytes = take(name_size, "type name");
    std::string stored(reinterpret_cast<const char*>(name_bytes.data()), name_bytes.size());

    if (!type_)
        throw file_.load_error("it holds a '" + stored +
                               "' value but no node uses this dataset, so the type to "
                               "decode is unknown; connect the dataset to a node");
    if (stored != type_->name)
        throw file_.load_error("it holds a '" + stored + "' value but the pipeline expects '" +
                               std::string(type_->name) + "'; delete the file or point \"filepath\" elsewhere");

    std::uint64_t payload_size;
    std::memcpy(&payload_size, take(sizeof payload_size, "header").data(), sizeof payload_size);
    if (payload_size > rest.size()) throw truncated("value");
    if (payload_size < rest.size())
        throw file_.load_error(std::to_string(rest.size() - payload_size) +
                               " unexpected bytes after the value; the file is corrupt");
    try {
        return Value::decode(*type_, rest);
    } catch (const TypeError& e) {
        throw file_.load_error(std::string("the value is corrupt: ") + e.what());
    }
}

void BinaryDataset::save(const Value& value) {
    if (value.empty()) throw file_.save_error("the value is empty");
    const TypeOps& type = *value.type();
    if (type_ && type.name != type_->name)
        throw file_.save_error("got a '" + std::string(type.name) + "' value but the dataset stores '" +
                               std::string(type_->name) + "'");
    if (type.name.size() > UINT32_MAX) throw file_.save_error("the type name is too long");

    // Encode straight into the file image: one buffer, no intermediate copy of the payload.
    std::string error;
    std::size_t payload = type.encoded_size(value.raw(), &error);
    if (!error.empty()) throw file_.save_error("cannot encode '" + std::string(type.name) + "': " + error);
    std::size_t header = magic.size() + sizeof(std::uint32_t) + type.name.size() + sizeof(std::uint64_t);
    std::vector<std::byte> image(header + payload);
    std::byte* out = image.data();
    std::memcpy(out, magic.data(), magic.size());
    out += magic.size();
    put(out, static_cast<std::uint32_t>(type.name.size()));
    std::memcpy(out, type.name.data(), type.name.size());
    out += type.name.size();
    put(out, static_cast<std::uint64_t>(payload));
    if (!type.encode(value.raw(), out, payload, &error))
        throw file_.save_error("cannot encode '" + std::string(type.name) + "': " + error);
    file_.write(image);
}

}  // namespace kiln::datasets
