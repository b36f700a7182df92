// Codecs: stable type names, byte round trips, corrupt input, JSON conversions.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <kiln/codec.hpp>
#include <kiln/value.hpp>

namespace {

struct Point {
    double x, y;
    friend bool operator==(const Point&, const Point&) = default;
};

// Only bytes, no JSON form.
struct Blob {
    std::vector<std::uint8_t> bytes;
};

}  // namespace

// The user codec exactly as kiln/codec.hpp shows it.
template <>
struct kiln::codec<Point> {
    static constexpr std::string_view name = "mylib.Point";
    static void encode(const Point& p, kiln::Encoder& out) {
        out.put(p.x);
        out.put(p.y);
    }
    static Point decode(kiln::Decoder& in) { return {in.get<double>(), in.get<double>()}; }
    static nlohmann::json to_json(const Point& p) { return {p.x, p.y}; }
    static Point from_json(const nlohmann::json& j) { return {j.at(0), j.at(1)}; }
};

template <>
struct kiln::codec<Blob> {
    static constexpr std::string_view name = "codec_test.Blob";
    static void encode(const Blob& b, kiln::Encoder& out) {
        kiln::codec<std::vector<std::uint8_t>>::encode(b.bytes, out);
    }
    static Blob decode(kiln::Decoder& in) { return {kiln::codec<std::vector<std::uint8_t>>::decode(in)}; }
};

namespace {

template <class T>
T round_trip(const T& v) {
    auto bytes = kiln::Value::make(v).encode();
    return kiln::Value::decode(kiln::type_ops<T>(), bytes).template get<T>();
}

template <class T>
T from_json(const nlohmann::json& j) {
    return kiln::Value::from_json(kiln::type_ops<T>(), j).template get<T>();
}

template <class T>
void check_truncations_throw(const T& v) {
    auto bytes = kiln::Value::make(v).encode();
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        CAPTURE(n);
        CHECK_THROWS_AS(kiln::Value::decode(kiln::type_ops<T>(), std::span(bytes).first(n)), kiln::TypeError);
    }
}

std::vector<std::byte> size_prefix(std::uint64_t n) {
    std::vector<std::byte> b(sizeof n);
    std::memcpy(b.data(), &n, sizeof n);
    return b;
}

}  // namespace

TEST_CASE("codec.names") {
    CHECK(kiln::codec<bool>::name == "bool");
    CHECK(kiln::codec<std::int8_t>::name == "i8");
    CHECK(kiln::codec<std::int16_t>::name == "i16");
    CHECK(kiln::codec<std::int32_t>::name == "i32");
    CHECK(kiln::codec<std::int64_t>::name == "i64");
    CHECK(kiln::codec<std::uint8_t>::name == "u8");
    CHECK(kiln::codec<std::uint16_t>::name == "u16");
    CHECK(kiln::codec<std::uint32_t>::name == "u32");
    CHECK(kiln::codec<std::uint64_t>::name == "u64");
    CHECK(kiln::codec<float>::name == "f32");
    CHECK(kiln::codec<double>::name == "f64");
    CHECK(kiln::codec<std::string>::name == "string");
    CHECK(kiln::codec<nlohmann::json>::name == "json");
    CHECK(kiln::codec<std::vector<std::int64_t>>::name == "vector<i64>");
    CHECK(kiln::codec<std::vector<std::string>>::name == "vector<string>");
    CHECK(kiln::codec<std::vector<std::vector<double>>>::name == "vector<vector<f64>>");
    CHECK(kiln::codec<kiln::Tensor<float>>::name == "tensor<f32>");
    CHECK(kiln::codec<std::vector<kiln::Tensor<std::uint8_t>>>::name == "vector<tensor<u8>>");
    CHECK(kiln::codec<std::vector<Point>>::name == "vector<mylib.Point>");
}

TEST_CASE("codec.concepts") {
    CHECK(kiln::Codec<double>);
    CHECK(kiln::Codec<Point>);
    CHECK(kiln::Codec<Blob>);
    CHECK_FALSE(kiln::Codec<std::vector<bool>>);  // no packed-bit vectors: a vector of bytes is clearer
    CHECK_FALSE(kiln::Codec<kiln::Tensor<bool>>);
    CHECK_FALSE(kiln::Codec<long double>);
    CHECK(kiln::HasJson<std::vector<Point>>);
    CHECK_FALSE(kiln::HasJson<Blob>);
    CHECK_FALSE(kiln::HasJson<std::vector<Blob>>);
}

TEST_CASE("codec.type_ops") {
    const kiln::TypeOps& ops = kiln::type_ops<std::vector<double>>();
    CHECK(ops.name == "vector<f64>");
    CHECK(ops.size == sizeof(std::vector<double>));
    CHECK(ops.has_json());
    CHECK(&ops == &kiln::type_ops<std::vector<double>>());
    CHECK_FALSE(kiln::type_ops<Blob>().has_json());
}

TEST_CASE("codec.round_trip.arithmetic") {
    CHECK(round_trip(true) == true);
    CHECK(round_trip(false) == false);
    CHECK(round_trip(std::int8_t{-128}) == -128);
    CHECK(round_trip(std::int16_t{-32768}) == -32768);
    CHECK(round_trip(std::int32_t{123456789}) == 123456789);
    CHECK(round_trip(std::numeric_limits<std::int64_t>::min()) == std::numeric_limits<std::int64_t>::min());
    CHECK(round_trip(std::uint8_t{255}) == 255);
    CHECK(round_trip(std::uint16_t{65535}) == 65535);
    CHECK(round_trip(std::uint32_t{4000000000u}) == 4000000000u);
    CHECK(round_trip(std::numeric_limits<std::uint64_t>::max()) == std::numeric_limits<std::uint64_t>::max());
    CHECK(round_trip(1.5f) == 1.5f);
    CHECK(round_trip(-0.1) == -0.1);
    CHECK(round_trip(std::numeric_limits<double>::infinity()) == std::numeric_limits<double>::infinity());
    CHECK(kiln::Value::make(2.0).encode().size() == sizeof(double));
}

TEST_CASE("codec.round_trip.strings_and_vectors") {
    CHECK(round_trip(std::string()) == "");
    CHECK(round_trip(std::string("héllo\0world", 12)) == std::string("héllo\0world", 12));
    CHECK(round_trip(std::vector<double>{}).empty());
    CHECK(round_trip(std::vector<double>{1, 2.5, -3}) == std::vector<double>{1, 2.5, -3});
    CHECK(round_trip(std::vector<std::int64_t>{-1, 0, 1}) == std::vector<std::int64_t>{-1, 0, 1});
    CHECK(round_trip(std::vector<std::string>{}).empty());
    CHECK(round_trip(std::vector<std::string>{"", "a", ""}) == std::vector<std::string>{"", "a", ""});
    std::vector<std::vector<double>> nested{{}, {1.0}, {2.0, 3.0}};
    CHECK(round_trip(nested) == nested);
    CHECK(round_trip(std::vector<std::vector<double>>{}).empty());
}

TEST_CASE("codec.round_trip.json") {
    nlohmann::json j = {{"a", 1}, {"b", {true, nullptr, "x", 2.5}}, {"c", nlohmann::json::object()}};
    CHECK(round_trip(j) == j);
    CHECK(round_trip(nlohmann::json()) == nlohmann::json());
    CHECK(round_trip(nlohmann::json::array()) == nlohmann::json::array());
}

TEST_CASE("codec.round_trip.tensor") {
    kiln::Tensor<float> t({2, 3}, {1, 2, 3, 4, 5, 6});
    CHECK(round_trip(t) == t);
    CHECK(round_trip(t).at({1, 2}) == 6.0f);
    kiln::Tensor<std::int32_t> scalar(std::vector<std::size_t>{}, {7});
    CHECK(round_trip(scalar) == scalar);
    kiln::Tensor<double> empty({0, 4});
    CHECK(round_trip(empty) == empty);
    // A default tensor is empty with shape {0}, so it survives encoding too.
    kiln::Tensor<double> def;
    CHECK(def.shape() == std::vector<std::size_t>{0});
    CHECK(round_trip(def) == def);
}

TEST_CASE("codec.round_trip.user_codec") {
    CHECK(round_trip(Point{1.5, -2}) == Point{1.5, -2});
    std::vector<Point> points{{1, 2}, {3, 4}};
    CHECK(round_trip(points) == points);
    CHECK(round_trip(Blob{{1, 2, 3}}).bytes == std::vector<std::uint8_t>{1, 2, 3});
    CHECK(kiln::Value::make(Point{1, 2}).to_json() == nlohmann::json{1.0, 2.0});
    CHECK(from_json<Point>(nlohmann::json{3, 4}) == Point{3, 4});
    CHECK(from_json<std::vector<Point>>(nlohmann::json::parse("[[1,2],[3,4]]")) == points);
    CHECK_THROWS_WITH_AS(kiln::Value::make(Blob{}).to_json(), doctest::Contains("'codec_test.Blob' has no JSON form"),
                         kiln::TypeError);
    CHECK_THROWS_WITH_AS(kiln::Value::from_json(kiln::type_ops<Blob>(), nlohmann::json::array()),
                         doctest::Contains("has no JSON form"), kiln::TypeError);
}

TEST_CASE("codec.encoder.measures_then_writes") {
    std::vector<double> v{1, 2, 3};
    kiln::Encoder measure;
    kiln::codec<std::vector<double>>::encode(v, measure);
    CHECK(measure.size() == 8 + 3 * sizeof(double));
    std::vector<std::byte> buffer(measure.size() - 1);
    kiln::Encoder small(buffer.data(), buffer.size());
    CHECK_THROWS_AS(kiln::codec<std::vector<double>>::encode(v, small), std::length_error);
}

TEST_CASE("codec.corrupt.truncated") {
    check_truncations_throw(3.5);
    check_truncations_throw(std::string("hello"));
    check_truncations_throw(std::vector<double>{1, 2});
    check_truncations_throw(std::vector<std::string>{"ab", "c"});
    check_truncations_throw(std::vector<std::vector<std::int32_t>>{{1}, {2, 3}});
    check_truncations_throw(kiln::Tensor<double>({2}, {1, 2}));
    check_truncations_throw(nlohmann::json{{"k", "v"}});
    check_truncations_throw(Point{1, 2});
}

TEST_CASE("codec.corrupt.trailing_bytes") {
    auto bytes = kiln::Value::make(std::int32_t{5}).encode();
    bytes.push_back(std::byte{0});
    CHECK_THROWS_WITH_AS(kiln::Value::decode(kiln::type_ops<std::int32_t>(), bytes),
                         doctest::Contains("1 trailing bytes"), kiln::TypeError);
}

TEST_CASE("codec.corrupt.huge_lengths") {
    // Lengths far beyond the bytes present must throw before allocating anything.
    auto huge = size_prefix(std::numeric_limits<std::uint64_t>::max());
    CHECK_THROWS_AS(kiln::Value::decode(kiln::type_ops<std::string>(), huge), kiln::TypeError);
    CHECK_THROWS_AS(kiln::Value::decode(kiln::type_ops<std::vector<double>>(), huge), kiln::TypeError);
    CHECK_THROWS_AS(kiln::Value::decode(kiln::type_ops<std::vector<std::string>>(), huge), kiln::TypeError);
    CHECK_THROWS_AS(kiln::Value::decode(kiln::type_ops<nlohmann::json>(), huge), kiln::TypeError);

    // A tensor whose dimensions multiply past the size type, or past the bytes present.
    std::vector<std::byte> tensor;
    for (std::uint64_t part : {std::uint64_t{2}, std::uint64_t{1} << 62, std::uint64_t{8}}) {
        auto b = size_prefix(part);
        tensor.insert(tensor.end(), b.begin(), b.end());
    }
    CHECK_THROWS_WITH_AS(kiln::Value::decode(kiln::type_ops<kiln::Tensor<double>>(), tensor),
                         doctest::Contains("cannot decode 'tensor<f64>'"), kiln::TypeError);
    auto rank = size_prefix(1000);
    CHECK_THROWS_AS(kiln::Value::decode(kiln::type_ops<kiln::Tensor<double>>(), rank), kiln::TypeError);
    std::vector<std::byte> big_dim = size_prefix(1);
    auto dim = size_prefix(std::uint64_t{1} << 40);
    big_dim.insert(big_dim.end(), dim.begin(), dim.end());
    CHECK_THROWS_AS(kiln::Value::decode(kiln::type_ops<kiln::Tensor<float>>(), big_dim), kiln::TypeError);
}

TEST_CASE("codec.corrupt.json_payload") {
    std::vector<std::byte> bytes = size_prefix(2);
    bytes.push_back(std::byte{0xff});  // CBOR "break" where a value should start
    bytes.push_back(std::byte{0xff});
    CHECK_THROWS_WITH_AS(kiln::Value::decode(kiln::type_ops<nlohmann::json>(), bytes),
                         doctest::Contains("cannot decode 'json'"), kiln::TypeError);
}

TEST_CASE("codec.json.to_json") {
    CHECK(kiln::Value::make(2.5).to_json() == 2.5);
    CHECK(kiln::Value::make(std::int64_t{-3}).to_json() == -3);
    CHECK(kiln::Value::make(true).to_json() == true);
    CHECK(kiln::Value::make(std::string("s")).to_json() == "s");
    CHECK(kiln::Value::make(std::vector<std::string>{"a", "b"}).to_json() == nlohmann::json{"a", "b"});
    CHECK(kiln::Value::make(std::vector<std::vector<double>>{{1}, {}}).to_json() ==
          nlohmann::json::parse("[[1.0], []]"));
    CHECK(kiln::Value::make(kiln::Tensor<std::int32_t>({1, 2}, {5, 6})).to_json() ==
          nlohmann::json::parse(R"({"shape": [1, 2], "data": [5, 6]})"));
    CHECK_THROWS_WITH_AS(kiln::Value().to_json(), doctest::Contains("empty value"), kiln::TypeError);
}

TEST_CASE("codec.json.from_json") {
    CHECK(from_json<double>(3) == 3.0);
    CHECK(from_json<float>(0.5) == 0.5f);
    CHECK(from_json<std::int64_t>(-7) == -7);
    CHECK(from_json<std::uint8_t>(255) == 255);
    CHECK(from_json<std::int8_t>(-128) == -128);
    CHECK(from_json<std::uint64_t>(nlohmann::json(std::numeric_limits<std::uint64_t>::max())) ==
          std::numeric_limits<std::uint64_t>::max());
    CHECK(from_json<std::int64_t>(nlohmann::json(std::numeric_limits<std::int64_t>::min())) ==
          std::numeric_limits<std::int64_t>::min());
    CHECK(from_json<bool>(false) == false);
    CHECK(from_json<std::string>("x") == "x");
    CHECK(from_json<std::vector<std::int32_t>>(nlohmann::json::parse("[1, 2]")) == std::vector<std::int32_t>{1, 2});
    CHECK(from_json<nlohmann::json>(nlohmann::json::parse("{\"a\": [1]}"))["a"][0] == 1);
    auto t = from_json<kiln::Tensor<double>>(nlohmann::json::parse(R"({"shape": [2, 1], "data": [1, 2]})"));
    CHECK(t.shape() == std::vector<std::size_t>{2, 1});
    CHECK(t.at({1, 0}) == 2.0);
}

TEST_CASE("codec.json.integers_are_checked") {
    using kiln::TypeError;
    const auto& ops_i32 = kiln::type_ops<std::int32_t>();
    // 3.7 must never silently become 3.
    CHECK_THROWS_WITH_AS(from_json<std::int32_t>(3.7), doctest::Contains("expected an integer, got 3.7"), TypeError);
    CHECK_THROWS_WITH_AS(from_json<std::uint64_t>(1.0), doctest::Contains("expected an integer"), TypeError);
    CHECK_THROWS_WITH_AS(from_json<std::int32_t>("3"), doctest::Contains("expected an integer, got \"3\""), TypeError);
    CHECK_THROWS_WITH_AS(from_json<std::int8_t>(128), doctest::Contains("128 does not fit"), TypeError);
    CHECK_THROWS_WITH_AS(from_json<std::int8_t>(-129), doctest::Contains("does not fit"), TypeError);
    CHECK_THROWS_WITH_AS(from_json<std::uint8_t>(256), doctest::Contains("does not fit"), TypeError);
    CHECK_THROWS_WITH_AS(from_json<std::uint32_t>(-1), doctest::Contains("is negative"), TypeError);
    CHECK_THROWS_WITH_AS(from_json<std::int64_t>(nlohmann::json(std::numeric_limits<std::uint64_t>::max())),
                         doctest::Contains("does not fit"), TypeError);
    CHECK_THROWS_WITH_AS(from_json<std::int32_t>(nlohmann::json(std::uint64_t{1} << 40)),
                         doctest::Contains("does not fit"), TypeError);
    CHECK_THROWS_WITH_AS(kiln::Value::from_json(ops_i32, 2.5), doctest::Contains("cannot read 'i32' from JSON"),
                         TypeError);
}

TEST_CASE("codec.json.wrong_kinds") {
    using kiln::TypeError;
    CHECK_THROWS_WITH_AS(from_json<bool>(1), doctest::Contains("expected a boolean"), TypeError);
    CHECK_THROWS_WITH_AS(from_json<double>("1.5"), doctest::Contains("expected a number"), TypeError);
    CHECK_THROWS_WITH_AS(from_json<std::string>(1), doctest::Contains("expected a string"), TypeError);
    CHECK_THROWS_WITH_AS(from_json<std::vector<double>>(1), doctest::Contains("expected an array"), TypeError);
    CHECK_THROWS_WITH_AS(from_json<std::vector<std::int16_t>>(nlohmann::json::parse("[1, 2.5]")),
                         doctest::Contains("expected an integer, got 2.5"), TypeError);
    CHECK_THROWS_WITH_AS(from_json<kiln::Tensor<float>>(nlohmann::json::array()),
                         doctest::Contains("expected {\"shape\""), TypeError);
    CHECK_THROWS_WITH_AS(from_json<kiln::Tensor<float>>(nlohmann::json::parse(R"({"shape": [2, 2], "data": [1]})")),
                         doctest::Contains("1 elements but shape needs 4"), TypeError);
    // A negative dimension must not wrap around to a huge allocation.
    CHECK_THROWS_WITH_AS(from_json<kiln::Tensor<float>>(nlohmann::json::parse(R"({"shape": [-1], "data": []})")),
                         doctest::Contains("negative"), TypeError);
    CHECK_THROWS_AS(from_json<Point>(nlohmann::json::array()), TypeError);
}
