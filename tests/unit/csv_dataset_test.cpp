// kiln.CsvDataset: parsing and writing, load_args and save_args, and the messages a user
// sees for a bad file or a bad argument.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>

#include "dataset_test_support.hpp"

using kiln::ConfigError;
using kiln::DatasetError;
using namespace dataset_test;

namespace csv_dataset_test_cases {

TEST_CASE("datasets.csv.load") {
    TempDir dir;
    write_raw(dir / "in.csv",
              "name,age,score,note\r\n"
              "Ann,42,3.5,\"likes \"\"quotes\"\", commas\"\r\n"
              "\n"
              "Bob,-7,1e3,\"two\nlines\"\n"
              "007,+1,\"42\",\n"
              "big,18446744073709551615,1e999,-0.5");
    auto rows = CsvDataset(typed<json>(dir, "CsvDataset", "in.csv")).load().get<json>();
    REQUIRE(rows.size() == 4);
    CHECK(rows[0] == json{{"name", "Ann"}, {"age", 42}, {"score", 3.5}, {"note", "likes \"quotes\", commas"}});
    CHECK(rows[1]["note"] == "two\nlines");
    CHECK(rows[1]["age"] == -7);
    CHECK(rows[1]["score"].is_number_float());
    CHECK(rows[1]["score"] == 1000.0);
    CHECK(rows[2] == json{{"name", "007"}, {"age", "+1"}, {"score", "42"}, {"note", ""}});
    CHECK(rows[3]["age"].is_number_unsigned());
    CHECK(rows[3]["age"] == std::numeric_limits<std::uint64_t>::max());
    CHECK(rows[3]["score"] == "1e999");  // not representable: kept as text
    CHECK(rows[3]["note"] == -0.5);
}

TEST_CASE("datasets.csv.load_edge_cases") {
    TempDir dir;
    auto load = [&](std::string_view text, json extra = json::object()) {
        write_raw(dir / "e.csv", text);
        return CsvDataset(typed<json>(dir, "CsvDataset", "e.csv", extra)).load().get<json>();
    };
    CHECK(load("") == json::array());
    CHECK(load("a,b\n") == json::array());
    CHECK(load("a;b\n1;x,y\n", {{"delimiter", ";"}}) == json::parse(R"([{"a": 1, "b": "x,y"}])"));
    CHECK(load("a\tb\n\"\t\"\t2\n", {{"delimiter", "\t"}}) == json::parse(R"([{"a": "\t", "b": 2}])"));
    CHECK(load("a,b\n,\n") == json::parse(R"([{"a": "", "b": ""}])"));
    CHECK(load("only\n\"\"\nx\n") == json::parse(R"([{"only": ""}, {"only": "x"}])"));
    CHECK(load("a,b\n1.0,2.\n") == json::parse(R"([{"a": 1.0, "b": "2."}])"));
    CHECK(load("\xEF\xBB\xBFid\n1\n") == json::parse(R"([{"id": 1}])"));
}

TEST_CASE("datasets.csv.round_trip") {
    TempDir dir;
    using C = CsvDatasetT;
    json rows = json::parse(R"([
        {"id": 1, "name": "plain", "value": 2.5, "text": "with, comma"},
        {"id": 2, "name": "007", "value": -1, "text": "quote \" and\nnewline"},
        {"id": 18446744073709551615, "name": "", "value": 1e-300, "text": "  spaces  "}
    ])");
    CHECK(round_trip<C>(dir, "r.csv", rows) == rows);
    CHECK(round_trip<C>(dir, "empty.csv", json::array()) == json::array());
    json one_column = json::parse(R"([{"x": ""}, {"x": "a"}, {"x": ""}])");
    CHECK(round_trip<C>(dir, "one.csv", one_column) == one_column);
    json semicolons = json::parse(R"([{"a": "x;y", "b": "1,5"}])");
    CHECK(round_trip<C>(dir, "semi.csv", semicolons, {{"delimiter", ";"}}) == semicolons);
}

TEST_CASE("datasets.csv.save_format") {
    TempDir dir;
    CsvDataset ds(typed<json>(dir, "CsvDataset", "o.csv"));
    // Columns come from the first row (nlohmann::json keeps keys sorted); missing keys and
    // null are empty fields; number-like strings are quoted so they read back as strings.
    ds.save(Value::make(json::parse(R"([
        {"b": "12", "a": true, "c": null},
        {"a": false, "b": "x"}
    ])")));
    CHECK(read_raw(dir / "o.csv") == "a,b,c\ntrue,\"12\",\nfalse,x,\n");
    auto rows = ds.load().get<json>();
    CHECK(rows[0] == json{{"a", "true"}, {"b", "12"}, {"c", ""}});
}

TEST_CASE("datasets.csv.load_errors") {
    TempDir dir;
    auto error_for = [&](std::string_view text) {
        write_raw(dir / "bad.csv", text);
        return message_of<DatasetError>([&] { CsvDataset(typed<json>(dir, "CsvDataset", "bad.csv")).load(); });
    };
    auto at = [&](int line, const std::string& problem) {
        return (dir / "bad.csv").string() + ":" + std::to_string(line) + ": dataset 'ds': " + problem;
    };
    CHECK(error_for("a,b\n1,\"open\n2,3\n") == at(2, "a quoted field is never closed; add the closing '\"'"));
    CHECK(error_for("a,b\n\"x\"y,2\n") ==
          at(2, "unexpected text after a closing quote; quote the whole field and write a quote inside it as \"\""));
    CHECK(error_for("a,b\n1,x\"y\n") ==
          at(2, "a quote inside an unquoted field; quote the whole field and write the quote as \"\""));
    CHECK(error_for("a,b\n1,2\n\"multi\nline\",2,3\n") ==
          at(3, "the row has 3 fields but the header has 2; fix the row (a field with ',' in it must be quoted)"));
    CHECK(error_for("a,b,a\n1,2,3\n") == at(1, "column 'a' appears twice in the header row; rename one of them"));
}

TEST_CASE("datasets.csv.save_errors") {
    TempDir dir;
    CsvDataset ds(typed<json>(dir, "CsvDataset", "s.csv"));
    auto error_for = [&](const json& j) {
        std::string msg = message_of<DatasetError>([&] { ds.save(Value::make(j)); });
        CHECK(contains(msg, "cannot save '" + (dir / "s.csv").string() + "' (dataset 'ds')"));
        return msg;
    };
    CHECK(
        contains(error_for(json{{"a", 1}}), "CsvDataset writes a JSON array of objects (one per row), got an object"));
    CHECK(contains(error_for(json::parse("[1]")), "row 1 is not a JSON object"));
    CHECK(contains(error_for(json::parse(R"([{"a": 1}, 2])")), "row 2 is not a JSON object"));
    CHECK(contains(error_for(json::parse(R"([{"a": 1}, {"a": 2, "b": 3}])")),
                   "row 2 has key 'b' that row 1 lacks; the columns come from row 1"));
    CHECK(contains(error_for(json::parse(R"([{"a": [1, 2]}])")),
                   "row 1, column 'a' holds an array; CSV fields hold strings, numbers, booleans or null"));
    CHECK(contains(error_for(json::parse(R"([{"a": {"b": 1}}])")), "column 'a' holds an object"));
    CsvDataset untyped_ds(untyped(dir, "CsvDataset", "s.csv"));
    std::string msg = message_of<DatasetError>([&] { untyped_ds.save(Value::make(1.0)); });
    CHECK(contains(msg, "CsvDataset writes 'json' values, not 'f64'"));
    CHECK(dir.files().empty());
}

TEST_CASE("datasets.csv.config_errors") {
    TempDir dir;
    CHECK_THROWS_WITH_AS(CsvDataset(typed<std::vector<double>>(dir, "CsvDataset", "x.csv")),
                         "dataset 'ds' (kiln.CsvDataset): stores 'json' values (an array of row objects) but the "
                         "pipeline moves 'vector<f64>' through it; make the node take or return nlohmann::json, or use "
                         "kiln.JsonDataset or kiln.BinaryDataset for that type",
                         ConfigError);
    for (json bad : {json(""), json(",,"), json(44), json(nullptr)}) {
        CAPTURE(bad.dump());
        CHECK_THROWS_WITH_AS(CsvDataset(typed<json>(dir, "CsvDataset", "x.csv", {{"delimiter", bad}})),
                             doctest::Contains("dataset 'ds' (kiln.CsvDataset): \"delimiter\" must be a one-character "
                                               "string"),
                             ConfigError);
    }
    for (std::string bad : {"\"", "\n", "\r"}) {
        CHECK_THROWS_WITH_AS(CsvDataset(typed<json>(dir, "CsvDataset", "x.csv", {{"delimiter", bad}})),
                             doctest::Contains("\"delimiter\" cannot be a quote or a line break"), ConfigError);
    }
}

// ---------------------------------------------------------------------------------------
// load_args and save_args, with the pandas names Kedro projects use.

TEST_CASE("datasets.csv.load_args") {
    TempDir dir;
    auto load = [&](std::string_view text, json load_args) {
        write_raw(dir / "l.csv", text);
        return CsvDataset(typed<json>(dir, "CsvDataset", "l.csv", {{"load_args", load_args}})).load().get<json>();
    };
    const std::string table = "id;name;score\n007;Ann;1.5\n8;Bob;2\n";
    CHECK(load(table, {{"sep", ";"}}) == json::parse(R"([{"id": "007", "name": "Ann", "score": 1.5},
                                                         {"id": 8, "name": "Bob", "score": 2}])"));
    // usecols keeps some columns; dtype reads a column as text, or checks it is a number.
    CHECK(load(table, {{"sep", ";"}, {"usecols", {"id", "score"}}, {"dtype", {{"id", "str"}, {"score", "float"}}}}) ==
          json::parse(R"([{"id": "007", "score": 1.5}, {"id": "8", "score": 2.0}])"));
    CHECK(load(table, {{"delimiter", ";"}, {"dtype", "str"}})[1] == json::parse(R"({"id": "8", "name": "Bob", "score": "2"})"));
    json typed_score = load(table, {{"sep", ";"}, {"dtype", {{"score", "float"}}}});
    CHECK(typed_score[1]["score"].is_number_float());
    // No header row: names name the columns, else "0", "1", ...
    CHECK(load("1,x\n2,y\n", {{"header", nullptr}, {"names", {"n", "s"}}}) ==
          json::parse(R"([{"n": 1, "s": "x"}, {"n": 2, "s": "y"}])"));
    CHECK(load("1,x\n", {{"header", false}}) == json::parse(R"([{"0": 1, "1": "x"}])"));
    // names replace the header's; skiprows and a header further down skip what precedes it.
    CHECK(load("a,b\n1,2\n", {{"header", 0}, {"names", {"x", "y"}}}) == json::parse(R"([{"x": 1, "y": 2}])"));
    CHECK(load("# exported\n# by hand\na,b\n1,2\n", {{"skiprows", 2}}) == json::parse(R"([{"a": 1, "b": 2}])"));
    CHECK(load("# exported\na,b\n1,2\n", {{"header", 1}}) == json::parse(R"([{"a": 1, "b": 2}])"));
    CHECK(load("a,b\n", {{"skiprows", 5}}) == json::array());
}

TEST_CASE("datasets.csv.load_args_errors") {
    TempDir dir;
    write_raw(dir / "l.csv", "id,name\nx1,Ann\n");
    auto error_for = [&](json load_args) {
        return message_of<DatasetError>(
            [&] { CsvDataset(typed<json>(dir, "CsvDataset", "l.csv", {{"load_args", load_args}})).load(); });
    };
    CHECK(contains(error_for({{"usecols", {"id", "nmae"}}}),
                   "dataset 'ds'): \"load_args\".usecols names column 'nmae', which the file does not have; its "
                   "columns: 'id', 'name'"));
    CHECK(contains(error_for({{"dtype", {{"id", "int"}}}}),
                   "l.csv:2: dataset 'ds': column 'id' is \"int\" in \"load_args\".dtype but holds 'x1'"));
    CHECK(contains(error_for({{"names", {"a", "b", "c"}}}),
                   "l.csv:1: dataset 'ds': \"load_args\".names gives 3 names but the header has 2 fields"));

    auto config_error = [&](json args) {
        return message_of<ConfigError>([&] { CsvDataset(typed<json>(dir, "CsvDataset", "l.csv", args)); });
    };
    CHECK(config_error({{"load_args", {{"seperator", ";"}}}}) ==
          "dataset 'ds' (kiln.CsvDataset): \"load_args\" has \"seperator\", which CsvDataset does not take; it takes "
          "\"sep\", \"delimiter\", \"header\", \"names\", \"usecols\", \"skiprows\", \"dtype\"");
    CHECK(contains(config_error({{"load_args", ";"}}), "\"load_args\" must be an object"));
    CHECK(contains(config_error({{"load_args", {{"sep", ";;"}}}}), "\"load_args\".sep must be a one-character string"));
    CHECK(contains(config_error({{"load_args", {{"sep", ";"}, {"delimiter", ";"}}}}),
                   "\"load_args\" gives both \"sep\" and \"delimiter\"; keep one"));
    CHECK(contains(config_error({{"load_args", {{"dtype", {{"id", "decimal"}}}}}}),
                   "\"load_args\".dtype.id must be \"str\", \"int\" or \"float\", got \"decimal\""));
    CHECK(contains(config_error({{"load_args", {{"skiprows", -1}}}}), "\"load_args\".skiprows must be a number of rows"));
    CHECK(contains(config_error({{"load_args", {{"usecols", {"a", "a"}}}}}), "names column 'a' twice"));
    CHECK(contains(config_error({{"load_args", {{"header", "yes"}}}}), "\"load_args\".header must be true or 0"));
}

TEST_CASE("datasets.csv.save_args") {
    TempDir dir;
    const json rows = json::parse(R"([{"id": 1, "name": "Ann", "secret": "x"}, {"name": "Bob", "id": 2}])");
    auto saved = [&](json save_args) {
        CsvDataset(typed<json>(dir, "CsvDataset", "s.csv", {{"save_args", save_args}})).save(Value::make(rows));
        return read_raw(dir / "s.csv");
    };
    // columns choose which columns and in what order; keys not listed are left out, and a
    // key a row lacks is an empty field.
    CHECK(saved({{"columns", {"name", "id"}}, {"index", false}}) == "name,id\nAnn,1\nBob,2\n");
    CHECK(saved({{"columns", {"name", "secret"}}, {"sep", ";"}}) == "name;secret\nAnn;x\nBob;\n");
    CHECK(saved({{"columns", {"name", "id"}}, {"header", false}}) == "Ann,1\nBob,2\n");
    CHECK(saved({{"columns", {"name", "id"}}, {"header", {"Name", "Id"}}}) == "Name,Id\nAnn,1\nBob,2\n");
    // A top-level "delimiter" applies to both; save_args' own wins for saving.
    CsvDataset both(typed<json>(dir, "CsvDataset", "b.csv",
                                {{"delimiter", ";"}, {"save_args", {{"columns", {"id", "name"}}}}}));
    both.save(Value::make(rows));
    CHECK(read_raw(dir / "b.csv") == "id;name\n1;Ann\n2;Bob\n");
    CHECK(both.load().get<json>() == json::parse(R"([{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bob"}])"));

    auto config_error = [&](json save_args) {
        return message_of<ConfigError>(
            [&] { CsvDataset(typed<json>(dir, "CsvDataset", "s.csv", {{"save_args", save_args}})); });
    };
    CHECK(contains(config_error({{"index", true}}), "\"save_args\".index is true, but CsvDataset rows have no index"));
    CHECK(contains(config_error({{"header", {"A"}}}), "\"save_args\".columns must say which columns"));
    CHECK(contains(config_error({{"columns", {"a", "b"}}, {"header", {"A"}}}),
                   "\"save_args\".header has 1 names for 2 columns"));
    CHECK(contains(config_error({{"mode", "w"}}), "\"save_args\" has \"mode\", which CsvDataset does not take"));
    CHECK(contains(config_error({{"columns", "name"}}), "\"save_args\".columns must be a non-empty list"));
}

}  // namespace csv_dataset_test_cases
