// Keyed values: the std::map codec, kiln::Partitions (lazy entries, order, encoding) and
// the TypeOps the host uses to list their entries and make them (ABI 1.8).
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <kiln/partitions.hpp>
#include <kiln/value.hpp>
#include <nlohmann/json.hpp>

namespace keyed_values_test_cases {

using Map = std::map<std::string, std::int64_t>;
using Parts = kiln::Partitions<std::string>;
using kiln::detail::KeyedEntry;
using kiln::detail::KeyedValues;

namespace {

template <class T>
T round_trip(const T& v) {
    auto bytes = kiln::Value::make(v).encode();
    return kiln::Value::decode(kiln::type_ops<T>(), bytes).template get<T>();
}

// A loader that counts its calls: the proof that nothing is read before it is asked for.
class CountingLoader final : public kiln::detail::EntryLoader {
public:
    CountingLoader(std::string text, std::atomic<int>& calls) : text_(std::move(text)), calls_(calls) {}
    std::shared_ptr<const void> load(std::string* error) const noexcept override {
        ++calls_;
        if (text_ == "fail") {
            *error = "cannot read it";
            return nullptr;
        }
        return std::make_shared<const std::string>(text_);
    }

private:
    std::string text_;
    std::atomic<int>& calls_;
};

KeyedEntry lazy(std::string key, std::string text, std::atomic<int>& calls) {
    return {std::move(key), nullptr, nullptr, std::make_shared<CountingLoader>(std::move(text), calls)};
}

}  // namespace

TEST_CASE("keyed.names_and_operations") {
    CHECK(kiln::codec<Map>::name == "map<string,i64>");
    CHECK(kiln::codec<std::map<std::int32_t, std::string>>::name == "map<i32,string>");
    CHECK(kiln::codec<Parts>::name == "partitions<string>");
    CHECK(kiln::type_ops<Map>().element == &kiln::type_ops<std::int64_t>());
    CHECK(kiln::type_ops<Parts>().element == &kiln::type_ops<std::string>());
    const bool map_is_keyed = kiln::type_ops<Map>().to_keyed && kiln::type_ops<Map>().from_keyed;
    CHECK(map_is_keyed);
    // Only string keys name partitions or outputs; other types have no keyed operations.
    CHECK(kiln::type_ops<std::map<std::int32_t, std::string>>().element == nullptr);
    const bool vector_is_keyed = kiln::type_ops<std::vector<std::string>>().to_keyed;
    CHECK_FALSE(vector_is_keyed);
}

TEST_CASE("keyed.map_codec_round_trips_bytes_and_json") {
    const Map m{{"b", 2}, {"a", -1}, {"", 0}};
    CHECK(round_trip(m) == m);
    CHECK(round_trip(Map{}).empty());
    const std::map<std::int32_t, std::string> by_number{{3, "c"}, {1, "a"}};
    CHECK(round_trip(by_number) == by_number);

    CHECK(kiln::Value::make(m).to_json() == nlohmann::json{{"a", -1}, {"b", 2}, {"", 0}});
    CHECK(kiln::Value::make(by_number).to_json() == nlohmann::json::parse(R"([[1, "a"], [3, "c"]])"));
    CHECK(kiln::Value::from_json(kiln::type_ops<Map>(), {{"x", 5}}).get<Map>() == Map{{"x", 5}});
    CHECK_THROWS_WITH_AS(kiln::Value::from_json(kiln::type_ops<Map>(), nlohmann::json::array()),
                         doctest::Contains("expected an object"), kiln::TypeError);
    CHECK_THROWS_WITH_AS(kiln::Value::from_json(kiln::type_ops<Map>(), {{"x", "not a number"}}),
                         doctest::Contains("key 'x': expected an integer"), kiln::TypeError);
    CHECK_THROWS_WITH_AS(kiln::Value::from_json(kiln::type_ops<std::map<std::int32_t, std::string>>(),
                                                nlohmann::json::parse(R"([[1, "a"], [1, "b"]])")),
                         doctest::Contains("the key 1 is given twice"), kiln::TypeError);

    // Every truncation, a huge count and a repeated key are refused.
    auto bytes = kiln::Value::make(m).encode();
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        CAPTURE(n);
        CHECK_THROWS_AS(kiln::Value::decode(kiln::type_ops<Map>(), std::span(bytes).first(n)), kiln::TypeError);
    }
    std::vector<std::byte> huge(8, std::byte{0xff});
    CHECK_THROWS_AS(kiln::Value::decode(kiln::type_ops<Map>(), huge), kiln::TypeError);
    std::vector<std::byte> twice(8);
    twice[0] = std::byte{2};  // two entries, both with the key "k"
    for (const char* text : {"k", "v", "k", "w"}) {
        auto part = kiln::Value::make(std::string(text)).encode();
        twice.insert(twice.end(), part.begin(), part.end());
    }
    CHECK_THROWS_WITH_AS(kiln::Value::decode(kiln::type_ops<std::map<std::string, std::string>>(), twice),
                         doctest::Contains("the same key twice"), kiln::TypeError);
}

TEST_CASE("keyed.map_entries_share_the_map_and_maps_are_made_from_entries") {
    const kiln::Value v = kiln::Value::make(Map{{"b", 2}, {"a", 1}});
    const kiln::TypeOps& ops = *v.type();
    KeyedValues entries;
    std::string error;
    REQUIRE(ops.to_keyed(v.shared(), &entries, &error));
    REQUIRE(entries.size() == 2);
    CHECK(entries[0].key == "a");
    CHECK(entries[0].object.get() == &v.get<Map>().at("a"));  // no copy
    CHECK(entries[0].type == &kiln::type_ops<std::int64_t>());

    // Entries not at hand are loaded by a map.
    std::atomic<int> calls = 0;
    KeyedValues strings{lazy("x", "one", calls), lazy("y", "two", calls)};
    auto made = kiln::type_ops<std::map<std::string, std::string>>().from_keyed(strings, &error);
    REQUIRE(made);
    CHECK(calls == 2);
    CHECK(*static_cast<const std::map<std::string, std::string>*>(made.get()) ==
          std::map<std::string, std::string>{{"x", "one"}, {"y", "two"}});

    // A failing loader, a value of another type and a key given twice are errors, not crashes.
    KeyedValues failing{lazy("x", "fail", calls)};
    CHECK_FALSE(kiln::type_ops<std::map<std::string, std::string>>().from_keyed(failing, &error));
    CHECK(error == "cannot read it");
    KeyedValues wrong{{"x", std::make_shared<const double>(1.0), &kiln::type_ops<double>(), nullptr}};
    CHECK_FALSE(kiln::type_ops<std::map<std::string, std::string>>().from_keyed(wrong, &error));
    CHECK(error == "entry 'x' holds a 'f64', not a 'string'");
    KeyedValues repeated{lazy("x", "1", calls), lazy("x", "2", calls)};
    CHECK_FALSE(kiln::type_ops<std::map<std::string, std::string>>().from_keyed(repeated, &error));
    CHECK(error == "the key 'x' is given twice");
}

TEST_CASE("keyed.partitions_stay_lazy_until_a_partition_is_loaded") {
    std::atomic<int> calls = 0;
    KeyedValues entries{lazy("2024/02", "feb", calls), lazy("2024/01", "jan", calls), lazy("bad", "fail", calls)};
    std::string error;
    auto made = kiln::type_ops<Parts>().from_keyed(entries, &error);
    REQUIRE_MESSAGE(made, error);
    const Parts& parts = *static_cast<const Parts*>(made.get());
    CHECK(calls == 0);
    CHECK(parts.ids() == std::vector<std::string>{"2024/01", "2024/02", "bad"});  // in id order
    CHECK_FALSE(parts.at("2024/01").in_memory());
    CHECK(*parts.load("2024/02") == "feb");
    CHECK(calls == 1);
    CHECK(*parts.load("2024/02") == "feb");  // read again: nothing is cached
    CHECK(calls == 2);
    CHECK_THROWS_WITH_AS(parts.load("bad"), "partition 'bad': cannot read it", kiln::DatasetError);
    CHECK_THROWS_WITH_AS(parts.at("nope"), "no partition 'nope'; there are '2024/01', '2024/02', 'bad'",
                         kiln::DatasetError);

    // The host lists them back with their loaders: still nothing read.
    calls = 0;
    KeyedValues listed;
    REQUIRE(kiln::type_ops<Parts>().to_keyed(made, &listed, &error));
    CHECK(listed.size() == 3);
    CHECK(listed[0].loader != nullptr);
    CHECK(calls == 0);
}

TEST_CASE("keyed.partitions_built_by_a_node") {
    Parts parts;
    int made = 0;
    parts.add("b", "bee");
    parts.add("a", "ant");
    parts.add_lazy("c", [&made] {
        ++made;
        return std::string("cat");
    });
    CHECK(parts.ids() == std::vector<std::string>{"a", "b", "c"});
    CHECK(parts.at("a").in_memory());
    CHECK(made == 0);
    CHECK_THROWS_WITH_AS(parts.add("a", "again"), "partition 'a' is added twice", std::invalid_argument);
    CHECK_THROWS_AS(parts.add("", "x"), std::invalid_argument);
    CHECK(parts.load_all() == std::map<std::string, std::string>{{"a", "ant"}, {"b", "bee"}, {"c", "cat"}});
    CHECK(made == 1);

    // Encoded whole (the lazy one made on both passes), decoded all in memory.
    const Parts back = round_trip(parts);
    CHECK(made == 3);
    CHECK(back.ids() == parts.ids());
    CHECK(back.at("c").in_memory());
    CHECK(*back.load("c") == "cat");
    CHECK(kiln::Value::make(back).to_json() == nlohmann::json{{"a", "ant"}, {"b", "bee"}, {"c", "cat"}});
    const Parts from_json = kiln::Value::from_json(kiln::type_ops<Parts>(), {{"z", "zed"}}).get<Parts>();
    CHECK(*from_json.load("z") == "zed");
    CHECK(Parts(std::map<std::string, std::string>{{"k", "v"}}).load_all().at("k") == "v");

    // A failing lazy partition fails the encoding with its id.
    Parts failing;
    failing.add_lazy("boom", []() -> std::string { throw std::runtime_error("no data"); });
    CHECK_THROWS_WITH_AS(kiln::Value::make(failing).encode(), doctest::Contains("partition 'boom': no data"),
                         kiln::TypeError);
}

}  // namespace keyed_values_test_cases
