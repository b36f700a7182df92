// The standard dataset types (plugin "kiln"): round trips for every supported value type,
// atomic writes, and the error messages a user sees.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <kiln/dataset.hpp>
#include <kiln/file_io.hpp>

#include "dataset_test_support.hpp"

namespace fs = std::filesystem;
using kiln::ConfigError;
using kiln::DatasetConfig;
using kiln::DatasetError;
using kiln::Tensor;
using kiln::Value;
using nlohmann::json;
using namespace kiln::datasets;

namespace {

struct Point {
    double x, y;
    friend bool operator==(const Point&, const Point&) = default;
};
struct Blob {  // a codec without a JSON form
    std::string bytes;
    friend bool operator==(const Blob&, const Blob&) = default;
};

}  // namespace

template <>
struct kiln::codec<Point> {
    static constexpr std::string_view name = "datasets_test.Point";
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
    static constexpr std::string_view name = "datasets_test.Blob";
    static void encode(const Blob& b, kiln::Encoder& out) { kiln::codec<std::string>::encode(b.bytes, out); }
    static Blob decode(kiln::Decoder& in) { return {kiln::codec<std::string>::decode(in)}; }
};

using namespace dataset_test;

// ---------------------------------------------------------------------------------------
// What all file datasets share.

TEST_CASE("datasets.common.describe_and_exists") {
    TempDir dir;
    JsonDataset relative(typed<double>(dir, "JsonDataset", "data/x.json"));
    CHECK(relative.describe() == "JsonDataset(data/x.json)");
    CHECK_FALSE(relative.exists());
    relative.save(Value::make(1.0));
    CHECK(relative.exists());
    CHECK(fs::is_regular_file(dir / "data/x.json"));  // parent directories are created

    std::string absolute = (dir / "abs.npy").string();
    NpyDataset npy(typed<Tensor<float>>(dir, "NpyDataset", absolute));
    CHECK(npy.describe() == "NpyDataset(" + absolute + ")");
    CHECK(TextDataset(untyped(dir, "TextDataset", "t.txt")).describe() == "TextDataset(t.txt)");
    CHECK(BinaryDataset(untyped(dir, "BinaryDataset", "b.bin")).describe() == "BinaryDataset(b.bin)");
    CHECK(CsvDataset(untyped(dir, "CsvDataset", "c.csv")).describe() == "CsvDataset(c.csv)");

    fs::create_directories(dir / "folder.json");
    CHECK_FALSE(JsonDataset(typed<double>(dir, "JsonDataset", "folder.json")).exists());
}

TEST_CASE("datasets.common.filepath_errors") {
    TempDir dir;
    auto missing = make_config(dir, "JsonDataset", json::object(), nullptr);
    CHECK_THROWS_WITH_AS(JsonDataset{missing}, "dataset 'ds' (kiln.JsonDataset): needs \"filepath\"", ConfigError);
    auto not_string = make_config(dir, "TextDataset", {{"filepath", 3}}, nullptr);
    CHECK_THROWS_WITH_AS(TextDataset{not_string},
                         "dataset 'ds' (kiln.TextDataset): \"filepath\" must be a string, got 3", ConfigError);
    auto empty = make_config(dir, "CsvDataset", {{"filepath", ""}}, nullptr);
    CHECK_THROWS_WITH_AS(CsvDataset{empty}, doctest::Contains("dataset 'ds' (kiln.CsvDataset): \"filepath\" is empty"),
                         ConfigError);
    auto typo = make_config(dir, "JsonDataset", {{"filepath", "x.json"}, {"indnet", 4}}, nullptr);
    CHECK_THROWS_WITH_AS(JsonDataset{typo},
                         "dataset 'ds' (kiln.JsonDataset): unknown argument \"indnet\"; JsonDataset takes "
                         "\"filepath\", \"indent\"",
                         ConfigError);
    auto typo_npy = make_config(dir, "NpyDataset", {{"filepath", "x.npy"}, {"mmap", true}}, nullptr);
    CHECK_THROWS_WITH_AS(NpyDataset{typo_npy},
                         doctest::Contains("unknown argument \"mmap\"; NpyDataset takes \"filepath\""), ConfigError);
    // Kedro's "metadata" key is allowed everywhere.
    CHECK_NOTHROW(
        BinaryDataset(make_config(dir, "BinaryDataset", {{"filepath", "x"}, {"metadata", {{"a", 1}}}}, nullptr)));
}

TEST_CASE("datasets.common.missing_file") {
    TempDir dir;
    auto check_missing = [&](kiln::Dataset&& ds, const std::string& file) {
        std::string msg = message_of<DatasetError>([&] { ds.load(); });
        CHECK(contains(msg, (dir / file).string()));
        CHECK(contains(msg, "does not exist"));
        CHECK(contains(msg,
                       "(dataset 'ds'): the file does not exist; create it, or run the node that produces "
                       "this dataset first"));
    };
    check_missing(JsonDataset(typed<double>(dir, "JsonDataset", "a.json")), "a.json");
    check_missing(TextDataset(typed<std::string>(dir, "TextDataset", "a.txt")), "a.txt");
    check_missing(BinaryDataset(typed<double>(dir, "BinaryDataset", "a.bin")), "a.bin");
    check_missing(NpyDataset(typed<std::vector<double>>(dir, "NpyDataset", "a.npy")), "a.npy");
    check_missing(CsvDataset(typed<json>(dir, "CsvDataset", "a.csv")), "a.csv");

    fs::create_directories(dir / "folder");
    std::string msg =
        message_of<DatasetError>([&] { JsonDataset(typed<double>(dir, "JsonDataset", "folder")).load(); });
    CHECK(contains(msg, "it is a directory, not a file"));
    CHECK(contains(msg, "dataset 'ds'"));
}

TEST_CASE("datasets.common.host_adaptor_reports_config_errors") {
    // The host builds datasets through make_dataset: exceptions become an error message.
    TempDir dir;
    std::string error;
    auto bad = typed<Blob>(dir, "JsonDataset", "x.json");
    CHECK(kiln::detail::make_dataset<JsonDataset>(bad, &error) == nullptr);
    CHECK(contains(error, "dataset 'ds' (kiln.JsonDataset)"));
    auto good = kiln::detail::make_dataset<JsonDataset>(typed<double>(dir, "JsonDataset", "x.json"), &error);
    REQUIRE(good != nullptr);
    CHECK(good->describe() == "JsonDataset(x.json)");
    CHECK(good->exists(&error) == 0);
    Value v;
    CHECK_FALSE(good->load(&v, &error));
    CHECK(contains(error, "does not exist"));
    CHECK(good->save(Value::make(2.0), &error));
    CHECK(good->load(&v, &error));
    CHECK(v.get<double>() == 2.0);
}

// ---------------------------------------------------------------------------------------
// Atomic writes.

TEST_CASE("datasets.atomic.success_leaves_only_the_file") {
    TempDir dir;
    JsonDataset ds(typed<std::vector<double>>(dir, "JsonDataset", "out/v.json"));
    for (int i = 0; i < 3; ++i) ds.save(Value::make(std::vector<double>(static_cast<std::size_t>(i), 1.0)));
    CHECK(dir.files() == std::set<std::string>{"out/v.json"});
}

TEST_CASE("datasets.atomic.failed_save_keeps_old_file") {
    TempDir dir;
    TextDataset ds(typed<std::vector<std::string>>(dir, "TextDataset", "lines.txt"));
    ds.save(Value::make(std::vector<std::string>{"old"}));
    CHECK_THROWS_AS(ds.save(Value::make(std::vector<std::string>{"new", "bad\nline"})), DatasetError);
    CHECK(read_raw(dir / "lines.txt") == "old\n");
    CHECK(dir.files() == std::set<std::string>{"lines.txt"});
}

TEST_CASE("datasets.atomic.write_failure_midway_keeps_old_file") {
    // Make the write itself fail halfway with a file size limit (EFBIG instead of SIGXFSZ).
    TempDir dir;
    BinaryDataset ds(typed<std::string>(dir, "BinaryDataset", "big.bin"));
    ds.save(Value::make(std::string("old")));
    std::string old = read_raw(dir / "big.bin");

    rlimit saved{};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
    auto previous = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limited = saved;
    limited.rlim_cur = 4096;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &limited) == 0);
    std::string msg;
    try {
        ds.save(Value::make(std::string(1 << 20, 'x')));
    } catch (const DatasetError& e) {
        msg = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, previous);

    CHECK(contains(msg, "cannot write '" + (dir / "big.bin").string() + "'"));
    CHECK(read_raw(dir / "big.bin") == old);
    CHECK(dir.files() == std::set<std::string>{"big.bin"});
}

TEST_CASE("datasets.atomic.a_directory_in_the_way_leaves_no_temp") {
    TempDir dir;
    fs::create_directories(dir / "target.json/inside");  // a non-empty directory cannot be replaced by a file
    JsonDataset ds(typed<double>(dir, "JsonDataset", "target.json"));
    std::string msg = message_of<DatasetError>([&] { ds.save(Value::make(1.0)); });
    CHECK(contains(msg, "cannot write '" + (dir / "target.json").string() + "': it is a directory"));
    CHECK(dir.files().empty());
    CHECK(fs::is_directory(dir / "target.json/inside"));
}

TEST_CASE("datasets.atomic.concurrent_saves_and_loads") {
    // Readers see a whole old or a whole new file, never half of one.
    TempDir dir;
    auto config = typed<std::vector<std::int64_t>>(dir, "JsonDataset", "shared.json");
    JsonDataset(config).save(Value::make(std::vector<std::int64_t>(1000, 0)));
    std::vector<std::thread> threads;
    std::atomic<int> bad{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            JsonDataset ds(config);
            for (int i = 0; i < 20; ++i) {
                if (t % 2 == 0) {
                    ds.save(Value::make(std::vector<std::int64_t>(1000, t * 100 + i)));
                } else {
                    Value loaded = ds.load();
                    const auto& v = loaded.get<std::vector<std::int64_t>>();
                    if (v.size() != 1000 || std::count(v.begin(), v.end(), v.front()) != 1000) ++bad;
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(bad == 0);
    CHECK(dir.files() == std::set<std::string>{"shared.json"});
}

// ---------------------------------------------------------------------------------------
// kiln.JsonDataset

TEST_CASE("datasets.json.round_trip") {
    TempDir dir;
    using J = JsonDatasetT;
    CHECK(round_trip<J>(dir, "f64.json", 2.5) == 2.5);
    CHECK(round_trip<J>(dir, "f32.json", 0.25f) == 0.25f);
    CHECK(round_trip<J>(dir, "i64.json", std::numeric_limits<std::int64_t>::min()) ==
          std::numeric_limits<std::int64_t>::min());
    CHECK(round_trip<J>(dir, "u64.json", std::numeric_limits<std::uint64_t>::max()) ==
          std::numeric_limits<std::uint64_t>::max());
    CHECK(round_trip<J>(dir, "i8.json", std::int8_t{-5}) == -5);
    CHECK(round_trip<J>(dir, "bool.json", true) == true);
    CHECK(round_trip<J>(dir, "string.json", std::string("a \"quoted\"\nline")) == "a \"quoted\"\nline");
    CHECK(round_trip<J>(dir, "empty_string.json", std::string()) == "");
    CHECK(round_trip<J>(dir, "vf64.json", std::vector<double>{1, -2.5, 1e300}) == std::vector<double>{1, -2.5, 1e300});
    CHECK(round_trip<J>(dir, "empty_vec.json", std::vector<double>{}).empty());
    CHECK(round_trip<J>(dir, "vstr.json", std::vector<std::string>{"a", ""}) == std::vector<std::string>{"a", ""});
    std::vector<std::vector<double>> nested{{1, 2}, {}, {3}};
    CHECK(round_trip<J>(dir, "nested.json", nested) == nested);
    json j = {{"name", "kiln"}, {"list", {1, 2.5, nullptr, false}}, {"nested", {{"x", json::object()}}}};
    CHECK(round_trip<J>(dir, "json.json", j) == j);
    Tensor<float> t({2, 2}, {1, 2, 3, 4});
    CHECK(round_trip<J>(dir, "tensor.json", t) == t);
    CHECK(round_trip<J>(dir, "point.json", Point{1.5, 2}) == Point{1.5, 2});
    std::vector<Point> points{{1, 2}, {3, 4}};
    CHECK(round_trip<J>(dir, "points.json", points) == points);
}

TEST_CASE("datasets.json.file_format") {
    TempDir dir;
    JsonDataset(typed<json>(dir, "JsonDataset", "two.json")).save(Value::make(json{{"a", {1, 2}}}));
    CHECK(read_raw(dir / "two.json") == "{\n  \"a\": [\n    1,\n    2\n  ]\n}\n");
    JsonDataset(typed<json>(dir, "JsonDataset", "one.json", {{"indent", -1}})).save(Value::make(json{{"a", {1, 2}}}));
    CHECK(read_raw(dir / "one.json") == "{\"a\":[1,2]}\n");
    JsonDataset(typed<json>(dir, "JsonDataset", "four.json", {{"indent", 4}})).save(Value::make(json{1}));
    CHECK(read_raw(dir / "four.json") == "[\n    1\n]\n");
}

TEST_CASE("datasets.json.untyped_loads_json") {
    TempDir dir;
    write_raw(dir / "x.json", R"({"k": [1, 2]})");
    Value v = JsonDataset(untyped(dir, "JsonDataset", "x.json")).load();
    CHECK(v.type_name() == "json");
    CHECK(v.get<json>()["k"][1] == 2);
    JsonDataset(untyped(dir, "JsonDataset", "y.json")).save(Value::make(std::vector<std::int32_t>{4}));
    CHECK(read_raw(dir / "y.json") == "[\n  4\n]\n");
}

TEST_CASE("datasets.json.config_errors") {
    TempDir dir;
    CHECK_THROWS_WITH_AS(
        JsonDataset(typed<Blob>(dir, "JsonDataset", "b.json")),
        "dataset 'ds' (kiln.JsonDataset): values of type 'datasets_test.Blob' have no JSON form (their codec "
        "has no to_json/from_json); add them to the codec, or use kiln.BinaryDataset for this dataset",
        ConfigError);
    for (json bad : {json(-2), json(17), json("2"), json(2.5)}) {
        CAPTURE(bad.dump());
        CHECK_THROWS_WITH_AS(JsonDataset(typed<double>(dir, "JsonDataset", "x.json", {{"indent", bad}})),
                             doctest::Contains("dataset 'ds' (kiln.JsonDataset): \"indent\" must be an integer from -1 "
                                               "(one line) to 16"),
                             ConfigError);
    }
}

TEST_CASE("datasets.json.malformed_reports_line_and_column") {
    TempDir dir;
    write_raw(dir / "bad.json", "{\n  \"a\": 1,\n  \"b\": x\n}\n");
    std::string msg =
        message_of<DatasetError>([&] { JsonDataset(typed<json>(dir, "JsonDataset", "bad.json")).load(); });
    CHECK(contains(msg, (dir / "bad.json").string() + ":3:8: dataset 'ds': invalid JSON"));
    CHECK(contains(msg, "; fix the file, or delete it and run the node that produces this dataset"));

    write_raw(dir / "empty.json", "");
    msg = message_of<DatasetError>([&] { JsonDataset(typed<json>(dir, "JsonDataset", "empty.json")).load(); });
    CHECK(contains(msg, "cannot load '" + (dir / "empty.json").string() + "' (dataset 'ds'): the file is empty"));

    write_raw(dir / "trailing.json", "[1, 2]\n[3]");
    msg = message_of<DatasetError>([&] { JsonDataset(typed<json>(dir, "JsonDataset", "trailing.json")).load(); });
    CHECK(contains(msg, (dir / "trailing.json").string() + ":2:1: dataset 'ds': invalid JSON"));

    write_raw(dir / "unterminated.json", "{\"a\": \"no end");
    msg = message_of<DatasetError>([&] { JsonDataset(typed<json>(dir, "JsonDataset", "unterminated.json")).load(); });
    CHECK(contains(msg, "unterminated.json:1:"));
    CHECK(contains(msg, "invalid JSON"));
}

TEST_CASE("datasets.json.wrong_value_in_file") {
    TempDir dir;
    write_raw(dir / "v.json", R"([1, "two"])");
    std::string msg =
        message_of<DatasetError>([&] { JsonDataset(typed<std::vector<double>>(dir, "JsonDataset", "v.json")).load(); });
    CHECK(contains(msg, "cannot load '" + (dir / "v.json").string() + "' (dataset 'ds')"));
    CHECK(contains(msg, "the JSON does not hold a 'vector<f64>' value"));
    CHECK(contains(msg, "expected a number, got \"two\""));

    write_raw(dir / "i.json", "3.7");
    msg = message_of<DatasetError>([&] { JsonDataset(typed<std::int32_t>(dir, "JsonDataset", "i.json")).load(); });
    CHECK(contains(msg, "does not hold a 'i32' value"));
    CHECK(contains(msg, "expected an integer, got 3.7"));
}

TEST_CASE("datasets.json.save_errors") {
    TempDir dir;
    JsonDataset ds(untyped(dir, "JsonDataset", "x.json"));
    std::string msg = message_of<DatasetError>([&] { ds.save(Value::make(Blob{"raw"})); });
    CHECK(contains(msg, "cannot save '" + (dir / "x.json").string() + "' (dataset 'ds')"));
    CHECK(contains(msg, "'datasets_test.Blob' has no JSON form"));

    msg = message_of<DatasetError>([&] { ds.save(Value::make(std::string("\xff\xfe"))); });
    CHECK(contains(msg, "the value cannot be written as JSON"));
    CHECK(dir.files().empty());
}

// ---------------------------------------------------------------------------------------
// kiln.TextDataset

TEST_CASE("datasets.text.round_trip_string") {
    TempDir dir;
    using T = TextDatasetT;
    for (std::string s : {std::string(), std::string("no newline"), std::string("two\nlines\n"),
                          std::string("crlf\r\n"), std::string("nul\0byte", 8), std::string("\n\n")}) {
        CAPTURE(s);
        CHECK(round_trip<T>(dir, "s.txt", s) == s);
        CHECK(read_raw(dir / "s.txt") == s);  // byte for byte
    }
}

TEST_CASE("datasets.text.round_trip_lines") {
    TempDir dir;
    using T = TextDatasetT;
    using Lines = std::vector<std::string>;
    for (const Lines& lines :
         {Lines{}, Lines{""}, Lines{"", ""}, Lines{"a", "b"}, Lines{"a", "", "c"}, Lines{"cr\r"}}) {
        CAPTURE(lines.size());
        CHECK(round_trip<T>(dir, "l.txt", lines) == lines);
    }
    TextDataset(typed<Lines>(dir, "TextDataset", "f.txt")).save(Value::make(Lines{"a", "b"}));
    CHECK(read_raw(dir / "f.txt") == "a\nb\n");
}

TEST_CASE("datasets.text.load_lines") {
    TempDir dir;
    using Lines = std::vector<std::string>;
    auto load = [&](std::string_view text) {
        write_raw(dir / "in.txt", text);
        return TextDataset(typed<Lines>(dir, "TextDataset", "in.txt")).load().get<Lines>();
    };
    CHECK(load("") == Lines{});
    CHECK(load("a") == Lines{"a"});
    CHECK(load("a\nb") == Lines{"a", "b"});
    CHECK(load("a\nb\n") == Lines{"a", "b"});
    CHECK(load("a\n\n") == Lines{"a", ""});
    CHECK(load("\n") == Lines{""});
}

TEST_CASE("datasets.text.untyped_is_string") {
    TempDir dir;
    write_raw(dir / "t.txt", "x\ny\n");
    Value v = TextDataset(untyped(dir, "TextDataset", "t.txt")).load();
    CHECK(v.get<std::string>() == "x\ny\n");
}

TEST_CASE("datasets.text.errors") {
    TempDir dir;
    CHECK_THROWS_WITH_AS(TextDataset(typed<double>(dir, "TextDataset", "t.txt")),
                         "dataset 'ds' (kiln.TextDataset): stores 'string' or 'vector<string>' values but the pipeline "
                         "moves 'f64' through it; use kiln.JsonDataset or kiln.BinaryDataset for that type",
                         ConfigError);
    TextDataset ds(untyped(dir, "TextDataset", "t.txt"));
    std::string msg = message_of<DatasetError>([&] { ds.save(Value::make(3)); });
    CHECK(contains(msg, "cannot save '" + (dir / "t.txt").string() + "' (dataset 'ds')"));
    CHECK(contains(msg, "TextDataset writes 'string' or 'vector<string>' values, not 'i32'"));
    msg = message_of<DatasetError>([&] { ds.save(Value::make(std::vector<std::string>{"ok", "x\ny"})); });
    CHECK(contains(msg, "line 2 contains a newline"));
    CHECK(dir.files().empty());
}

// ---------------------------------------------------------------------------------------
// kiln.BinaryDataset

TEST_CASE("datasets.binary.round_trip") {
    TempDir dir;
    using B = BinaryDatasetT;
    CHECK(round_trip<B>(dir, "f64.bin", -0.5) == -0.5);
    CHECK(round_trip<B>(dir, "u16.bin", std::uint16_t{65535}) == 65535);
    CHECK(round_trip<B>(dir, "bool.bin", false) == false);
    CHECK(round_trip<B>(dir, "str.bin", std::string("bytes\0\xff", 7)) == std::string("bytes\0\xff", 7));
    CHECK(round_trip<B>(dir, "empty_str.bin", std::string()) == "");
    CHECK(round_trip<B>(dir, "vec.bin", std::vector<std::int32_t>{1, -2, 3}) == std::vector<std::int32_t>{1, -2, 3});
    CHECK(round_trip<B>(dir, "empty_vec.bin", std::vector<float>{}).empty());
    CHECK(round_trip<B>(dir, "vstr.bin", std::vector<std::string>{"", "x"}) == std::vector<std::string>{"", "x"});
    std::vector<std::vector<double>> nested{{}, {1, 2}};
    CHECK(round_trip<B>(dir, "nested.bin", nested) == nested);
    json j = {{"a", {1, "b", nullptr}}};
    CHECK(round_trip<B>(dir, "json.bin", j) == j);
    Tensor<std::uint8_t> t({2, 1, 3}, {1, 2, 3, 4, 5, 6});
    CHECK(round_trip<B>(dir, "tensor.bin", t) == t);
    CHECK(round_trip<B>(dir, "empty_tensor.bin", Tensor<double>()) == Tensor<double>());
    CHECK(round_trip<B>(dir, "point.bin", Point{3, 4}) == Point{3, 4});
    CHECK(round_trip<B>(dir, "blob.bin", Blob{"no json"}) == Blob{"no json"});
}

TEST_CASE("datasets.binary.file_format") {
    TempDir dir;
    BinaryDataset(typed<std::int32_t>(dir, "BinaryDataset", "x.bin")).save(Value::make(std::int32_t{7}));
    std::string bytes = read_raw(dir / "x.bin");
    std::string expected = std::string("KILNBIN1") + std::string("\x03\x00\x00\x00", 4) + "i32" +
                           std::string("\x04\0\0\0\0\0\0\0", 8) + std::string("\x07\x00\x00\x00", 4);
    CHECK(bytes == expected);
}

TEST_CASE("datasets.binary.type_mismatch") {
    TempDir dir;
    BinaryDataset(typed<std::vector<double>>(dir, "BinaryDataset", "v.bin")).save(Value::make(std::vector<double>{1}));
    std::string msg = message_of<DatasetError>(
        [&] { BinaryDataset(typed<std::vector<float>>(dir, "BinaryDataset", "v.bin")).load(); });
    CHECK(contains(msg, "cannot load '" + (dir / "v.bin").string() + "' (dataset 'ds')"));
    CHECK(contains(msg, "it holds a 'vector<f64>' value but the pipeline expects 'vector<f32>'"));

    msg = message_of<DatasetError>([&] { BinaryDataset(untyped(dir, "BinaryDataset", "v.bin")).load(); });
    CHECK(contains(msg, "it holds a 'vector<f64>' value but no node uses this dataset"));

    BinaryDataset typed_ds(typed<double>(dir, "BinaryDataset", "d.bin"));
    msg = message_of<DatasetError>([&] { typed_ds.save(Value::make(1.0f)); });
    CHECK(contains(msg, "got a 'f32' value but the dataset stores 'f64'"));
    msg = message_of<DatasetError>([&] { typed_ds.save(Value()); });
    CHECK(contains(msg, "the value is empty"));
}

TEST_CASE("datasets.binary.corrupt_files") {
    TempDir dir;
    auto config = typed<std::vector<std::string>>(dir, "BinaryDataset", "c.bin");
    BinaryDataset(config).save(Value::make(std::vector<std::string>{"alpha", "beta"}));
    const std::string good = read_raw(dir / "c.bin");

    // Every truncation is a DatasetError, never a crash.
    for (std::size_t n = 0; n < good.size(); ++n) {
        CAPTURE(n);
        write_raw(dir / "c.bin", good.substr(0, n));
        std::string msg = message_of<DatasetError>([&] { BinaryDataset(config).load(); });
        CHECK(contains(msg, (dir / "c.bin").string()));
        CHECK((contains(msg, "truncated") || contains(msg, "not a Kiln binary file")));
    }

    write_raw(dir / "c.bin", "PNG\x89 whatever this is");
    CHECK(contains(message_of<DatasetError>([&] { BinaryDataset(config).load(); }),
                   "not a Kiln binary file (it does not start with \"KILNBIN1\")"));

    write_raw(dir / "c.bin", good + "x");
    CHECK(contains(message_of<DatasetError>([&] { BinaryDataset(config).load(); }),
                   "1 unexpected bytes after the value"));

    // A payload whose inner lengths lie: the string count says 2^40 strings.
    std::string lying = good;
    std::size_t payload = 8 + 4 + std::string("vector<string>").size() + 8;
    lying[payload + 5] = '\x01';
    write_raw(dir / "c.bin", lying);
    std::string msg = message_of<DatasetError>([&] { BinaryDataset(config).load(); });
    CHECK(contains(msg, "the value is corrupt"));
    CHECK(contains(msg, "vector<string>"));

    // A type-name length far past the end of the file.
    std::string long_name = good;
    long_name[8 + 3] = '\x7f';
    write_raw(dir / "c.bin", long_name);
    CHECK(contains(message_of<DatasetError>([&] { BinaryDataset(config).load(); }),
                   "the file is truncated (it ends inside the type name)"));
}

// ---------------------------------------------------------------------------------------
// kiln.NpyDataset

namespace {

template <class T>
void check_npy_round_trips(const TempDir& dir) {
    CAPTURE(kiln::codec<T>::name);
    using N = NpyDatasetT;
    Tensor<T> matrix({2, 3});
    for (std::size_t i = 0; i < matrix.size(); ++i) matrix[i] = static_cast<T>(i * 7 + 1);
    CHECK(round_trip<N>(dir, "m.npy", matrix) == matrix);
    Tensor<T> cube({2, 1, 2}, {T(1), T(2), T(3), std::numeric_limits<T>::max()});
    CHECK(round_trip<N>(dir, "c.npy", cube) == cube);
    Tensor<T> scalar(std::vector<std::size_t>{}, {std::numeric_limits<T>::lowest()});
    CHECK(round_trip<N>(dir, "s.npy", scalar) == scalar);
    Tensor<T> empty({3, 0});
    CHECK(round_trip<N>(dir, "e.npy", empty) == empty);
    CHECK(round_trip<N>(dir, "d.npy", Tensor<T>()) == Tensor<T>());
    std::vector<T> vec{T(0), T(1), std::numeric_limits<T>::min(), std::numeric_limits<T>::max()};
    CHECK(round_trip<N>(dir, "v.npy", vec) == vec);
    CHECK(round_trip<N>(dir, "ev.npy", std::vector<T>{}).empty());

    // The header: version 1.0, the right descr, data aligned to 64 bytes.
    std::string bytes = read_raw(dir / "m.npy");
    REQUIRE(bytes.size() > 10);
    CHECK(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
    std::size_t header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    CHECK((10 + header_len) % 64 == 0);
    CHECK(bytes.size() == 10 + header_len + 6 * sizeof(T));
    CHECK(bytes[10 + header_len - 1] == '\n');
    char kind = std::is_floating_point_v<T> ? 'f' : std::is_signed_v<T> ? 'i' : 'u';
    std::string descr = std::string(sizeof(T) == 1 ? "|" : "<") + kind + std::to_string(sizeof(T));
    CHECK(bytes.substr(10, header_len)
              .starts_with("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (2, 3), }"));
    CHECK(std::memcmp(bytes.data() + 10 + header_len, matrix.data(), 6 * sizeof(T)) == 0);
}

// A .npy file as NumPy might write it, with any header text.
std::string npy_file(const std::string& dict, std::string_view data, int major = 1) {
    std::string header = dict;
    std::size_t prefix = major == 1 ? 10 : 12;
    while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::string out = "\x93NUMPY";
    out += static_cast<char>(major);
    out += '\0';
    std::size_t n = header.size();
    out += static_cast<char>(n & 0xff);
    out += static_cast<char>(n >> 8);
    if (major != 1) out += std::string(2, '\0');
    return out + header + std::string(data);
}

template <class T>
std::string bytes_of(const std::vector<T>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

}  // namespace

TEST_CASE("datasets.npy.round_trip_every_element_type") {
    TempDir dir;
    check_npy_round_trips<float>(dir);
    check_npy_round_trips<double>(dir);
    check_npy_round_trips<std::int8_t>(dir);
    check_npy_round_trips<std::int16_t>(dir);
    check_npy_round_trips<std::int32_t>(dir);
    check_npy_round_trips<std::int64_t>(dir);
    check_npy_round_trips<std::uint8_t>(dir);
    check_npy_round_trips<std::uint16_t>(dir);
    check_npy_round_trips<std::uint32_t>(dir);
    check_npy_round_trips<std::uint64_t>(dir);
}

TEST_CASE("datasets.npy.header_shapes") {
    TempDir dir;
    auto header_of = [&](const Value& v) {
        NpyDataset(untyped(dir, "NpyDataset", "h.npy")).save(v);
        std::string bytes = read_raw(dir / "h.npy");
        return bytes.substr(10, bytes.find('}') - 9);
    };
    CHECK(header_of(Value::make(std::vector<double>{1, 2, 3})) ==
          "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }");
    CHECK(header_of(Value::make(Tensor<std::uint8_t>(std::vector<std::size_t>{}, {1}))) ==
          "{'descr': '|u1', 'fortran_order': False, 'shape': (), }");
    CHECK(header_of(Value::make(Tensor<std::int16_t>({4, 0, 2}))) ==
          "{'descr': '<i2', 'fortran_order': False, 'shape': (4, 0, 2), }");
}

TEST_CASE("datasets.npy.reads_numpy_variants") {
    TempDir dir;
    std::vector<double> data{1.5, 2.5, 3.5, 4.5};
    // NumPy 1.x style header with no trailing comma, version 2.0 and 3.0 headers, Python 2 long ints.
    for (auto [dict, major] :
         {std::pair{std::string("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2)}"), 1},
          std::pair{std::string("{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (2,2,)}"), 1},
          std::pair{std::string("{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 2L), }"), 1},
          std::pair{std::string("{'descr': '=f8', 'fortran_order': False, 'shape': (2, 2), }"), 2},
          std::pair{std::string("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }"), 3}}) {
        CAPTURE(dict);
        write_raw(dir / "n.npy", npy_file(dict, bytes_of(data), major));
        auto t = NpyDataset(typed<Tensor<double>>(dir, "NpyDataset", "n.npy")).load().get<Tensor<double>>();
        CHECK(t.shape() == std::vector<std::size_t>{2, 2});
        CHECK(t.at({1, 0}) == 3.5);
    }
    // One-byte types may carry any byte order mark.
    write_raw(dir / "b.npy", npy_file("{'descr': '<i1', 'fortran_order': False, 'shape': (2,), }", "\x01\xff"));
    CHECK(NpyDataset(typed<std::vector<std::int8_t>>(dir, "NpyDataset", "b.npy"))
              .load()
              .get<std::vector<std::int8_t>>() == std::vector<std::int8_t>{1, -1});
}

TEST_CASE("datasets.npy.untyped_loads_file_dtype") {
    TempDir dir;
    std::vector<std::uint16_t> data{1, 2, 3};
    write_raw(dir / "u.npy", npy_file("{'descr': '<u2', 'fortran_order': False, 'shape': (3,), }", bytes_of(data)));
    Value v = NpyDataset(untyped(dir, "NpyDataset", "u.npy")).load();
    CHECK(v.type_name() == "tensor<u16>");
    CHECK(v.get<Tensor<std::uint16_t>>() == Tensor<std::uint16_t>({3}, {1, 2, 3}));
}

TEST_CASE("datasets.npy.config_errors") {
    TempDir dir;
    std::string expected =
        "stores kiln::Tensor<T> or std::vector<T> with T one of f32, f64, i8, i16, i32, i64, u8, "
        "u16, u32, u64, but the pipeline moves '";
    CHECK_THROWS_WITH_AS(NpyDataset(typed<std::vector<std::string>>(dir, "NpyDataset", "x.npy")),
                         has("dataset 'ds' (kiln.NpyDataset): " + expected +
                             "vector<string>' through it; use kiln.JsonDataset or kiln.BinaryDataset"),
                         ConfigError);
    CHECK_THROWS_WITH_AS(NpyDataset(typed<double>(dir, "NpyDataset", "x.npy")), has(expected + "f64'"), ConfigError);
    CHECK_THROWS_WITH_AS(NpyDataset(typed<std::vector<std::vector<double>>>(dir, "NpyDataset", "x.npy")),
                         has(expected + "vector<vector<f64>>'"), ConfigError);
    CHECK_THROWS_WITH_AS(NpyDataset(typed<json>(dir, "NpyDataset", "x.npy")), has(expected + "json'"), ConfigError);
}

TEST_CASE("datasets.npy.load_errors") {
    TempDir dir;
    auto error_for = [&](const std::string& file_bytes, const DatasetConfig& config) {
        write_raw(dir / "e.npy", file_bytes);
        std::string msg = message_of<DatasetError>([&] { NpyDataset(config).load(); });
        CHECK(contains(msg, "cannot load '" + (dir / "e.npy").string() + "' (dataset 'ds')"));
        return msg;
    };
    auto f64_tensor = typed<Tensor<double>>(dir, "NpyDataset", "e.npy");
    auto f64_vector = typed<std::vector<double>>(dir, "NpyDataset", "e.npy");
    std::string four = bytes_of(std::vector<double>{1, 2, 3, 4});

    std::string msg =
        error_for(npy_file("{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", four), f64_tensor);
    CHECK(contains(msg, "it holds '<i4' (i32) elements but the pipeline expects '<f8' (f64)"));
    CHECK(contains(msg, "arr.astype('<f8')"));

    msg = error_for(npy_file("{'descr': '>f8', 'fortran_order': False, 'shape': (4,), }", four), f64_tensor);
    CHECK(contains(msg, "its dtype '>f8' is not one Kiln reads (big-endian)"));
    msg = error_for(npy_file("{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }", "\1\0\1\0"), f64_tensor);
    CHECK(contains(msg, "its dtype '|b1' is not one Kiln reads"));
    msg = error_for(npy_file("{'descr': '<f2', 'fortran_order': False, 'shape': (4,), }", "abcdefgh"), f64_tensor);
    CHECK(contains(msg, "its dtype '<f2' is not one Kiln reads"));

    msg = error_for(npy_file("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", four), f64_tensor);
    CHECK(contains(msg, "Fortran (column-major) order"));

    msg = error_for(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", four), f64_vector);
    CHECK(contains(msg, "it has shape (2, 2) but a std::vector needs a 1-D array"));

    msg = error_for(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }", four), f64_vector);
    CHECK(contains(msg, "the file is truncated: shape (5,) needs 5 elements but only 32 bytes"));
    msg = error_for(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", four), f64_vector);
    CHECK(contains(msg, "8 unexpected bytes after the array data"));
    msg = error_for(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 2), }", four),
                    f64_tensor);
    CHECK(contains(msg, "the file is truncated"));

    msg = error_for("PK\x03\x04 a zip file", f64_tensor);
    CHECK(contains(msg, "invalid .npy header: not a .npy file"));
    msg = error_for(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", four, 4), f64_tensor);
    CHECK(contains(msg, "unsupported .npy format version 4.0"));
    msg = error_for(npy_file("{'descr': [('x', '<f8')], 'fortran_order': False, 'shape': (4,), }", four), f64_tensor);
    CHECK(contains(msg, "structured dtypes"));
    msg = error_for(npy_file("{'descr': '<f8', 'shape': (4,), }", four), f64_tensor);
    CHECK(contains(msg, "the header lacks one of 'descr', 'fortran_order' and 'shape'"));
    msg = error_for(npy_file("{'descr': '<f8', 'fortran_order': Nope, 'shape': (4,), }", four), f64_tensor);
    CHECK(contains(msg, "expected True or False"));
    msg = error_for(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (-4,), }", four), f64_tensor);
    CHECK(contains(msg, "expected a non-negative integer in the shape"));
    msg = error_for(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,), }", four),
                    f64_tensor);
    CHECK(contains(msg, "too large"));
    msg = error_for(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), 'extra': 1}", four), f64_tensor);
    CHECK(contains(msg, "unexpected key 'extra'"));
    msg = error_for(npy_file("{'descr': '<f8, 'fortran_order': False}", four), f64_tensor);
    CHECK(contains(msg, "invalid .npy header"));
}

TEST_CASE("datasets.npy.truncated_anywhere") {
    TempDir dir;
    auto config = typed<Tensor<float>>(dir, "NpyDataset", "t.npy");
    NpyDataset(config).save(Value::make(Tensor<float>({3, 2}, {1, 2, 3, 4, 5, 6})));
    const std::string good = read_raw(dir / "t.npy");
    for (std::size_t n = 0; n < good.size(); ++n) {
        CAPTURE(n);
        write_raw(dir / "t.npy", good.substr(0, n));
        std::string msg = message_of<DatasetError>([&] { NpyDataset(config).load(); });
        CHECK(contains(msg, (dir / "t.npy").string()));
    }
}

TEST_CASE("datasets.npy.save_errors") {
    TempDir dir;
    NpyDataset any(untyped(dir, "NpyDataset", "s.npy"));
    std::string msg = message_of<DatasetError>([&] { any.save(Value::make(std::string("x"))); });
    CHECK(contains(msg, "cannot save '" + (dir / "s.npy").string() + "' (dataset 'ds')"));
    CHECK(contains(msg, "NpyDataset writes kiln::Tensor<T> or std::vector<T> of a numeric T, not 'string'"));
    NpyDataset f32(typed<Tensor<float>>(dir, "NpyDataset", "s.npy"));
    msg = message_of<DatasetError>([&] { f32.save(Value::make(Tensor<double>({1}))); });
    CHECK(contains(msg, "got a 'tensor<f64>' value but the dataset stores 'tensor<f32>'"));
    CHECK(dir.files().empty());
}
