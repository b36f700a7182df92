// JSON config files: parse errors point at FILE:LINE:COL in words a user can act on.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/json_file.hpp"
#include "kiln/error.hpp"

using kiln::ConfigError;
using kiln::core::line_and_column;
using kiln::core::parse_json_text;
using kiln::core::read_json_file;

namespace json_file_test_cases {

namespace {

std::string error_of(const std::string& text, const std::string& origin = "conf.json") {
    try {
        parse_json_text(text, origin);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "<no error>";
}

// A scratch directory removed at the end of the test.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        path = std::filesystem::temp_directory_path() /
               ("kiln_json_file_test_" + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::filesystem::path write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name, std::ios::binary) << text;
        return path / name;
    }
};

}  // namespace

TEST_CASE("json_file.line_and_column") {
    const std::string text = "ab\ncd\n\xC3\xA9x";  // é is two bytes but one column
    CHECK(line_and_column(text, 0) == std::pair<std::size_t, std::size_t>{1, 1});
    CHECK(line_and_column(text, 1) == std::pair<std::size_t, std::size_t>{1, 2});
    CHECK(line_and_column(text, 3) == std::pair<std::size_t, std::size_t>{2, 1});
    CHECK(line_and_column(text, 4) == std::pair<std::size_t, std::size_t>{2, 2});
    CHECK(line_and_column(text, 8) == std::pair<std::size_t, std::size_t>{3, 2});
    CHECK(line_and_column(text, 999) == std::pair<std::size_t, std::size_t>{3, 3});  // clamped to the end
}

TEST_CASE("json_file.parses_valid_text_with_comments") {
    auto j = parse_json_text("{\n  // a comment\n  \"a\": [1, 2], /* another */ \"b\": {\"c\": null}\n}", "x.json");
    CHECK(j["a"] == nlohmann::json({1, 2}));
    CHECK(j["b"]["c"].is_null());
    CHECK(parse_json_text("[{\"a\": 1}, {\"a\": 2}]", "x").size() == 2);  // same key in sibling objects is fine
}

TEST_CASE("json_file.syntax_errors_have_file_line_column") {
    // Trailing comma: the '}' on line 3 is where it goes wrong.
    const std::string trailing = error_of("{\n  \"a\": 1,\n}\n");
    CHECK(trailing.rfind("conf.json:3:1: ", 0) == 0);
    CHECK(trailing.find("unexpected '}' while reading an object key") != std::string::npos);
    CHECK(trailing.find("no comma before a closing") != std::string::npos);
    CHECK(trailing.find("json.exception") == std::string::npos);

    const std::string missing_comma = error_of("[1,\n 2\n 3]");
    CHECK(missing_comma.rfind("conf.json:3:2: ", 0) == 0);
    CHECK(missing_comma.find("is a comma missing") != std::string::npos);

    const std::string quotes = error_of("{'a': 1}");
    CHECK(quotes.rfind("conf.json:1:2: ", 0) == 0);
    CHECK(quotes.find("double quotes") != std::string::npos);

    const std::string truncated = error_of("{\"a\": [1, 2");
    CHECK(truncated.rfind("conf.json:1:12: ", 0) == 0);
    CHECK(truncated.find("unexpected end of input") != std::string::npos);

    const std::string extra = error_of("{\"a\": 1} x");
    CHECK(extra.find("conf.json:1:10: ") == 0);
    CHECK(extra.find("one value") != std::string::npos);

    const std::string literal = error_of("{\"a\":\n  tru}");
    CHECK(literal.rfind("conf.json:2:6: ", 0) == 0);
    CHECK(literal.find("invalid literal") != std::string::npos);

    CHECK(error_of("", "--params") == "--params:1:1: the text is empty; expected a JSON value such as {}");
    CHECK(error_of("  \n") == "conf.json:1:1: the text is empty; expected a JSON value such as {}");
}

TEST_CASE("json_file.duplicate_keys_are_errors") {
    CHECK(error_of("{\"a\": 1, \"a\": 2}") ==
          "conf.json: key \"a\" appears twice in the top-level object; JSON would keep only the last one: merge "
          "the two or rename one");
    const std::string nested = error_of("{\"p\": {\"x\": [{}, {\"n\": 1, \"n\": 1}]}}");
    CHECK(nested.find("key \"n\" appears twice in the object at \"p.x[1]\"") != std::string::npos);
}

TEST_CASE("json_file.read_file") {
    TempDir dir;
    CHECK(read_json_file(dir.write("ok.json", "{\"k\": [true]}"))["k"][0] == true);

    const auto bad = dir.write("bad.json", "{\n\"k\": }");
    CHECK_THROWS_WITH_AS(read_json_file(bad), doctest::Contains((bad.string() + ":2:6: ").c_str()), ConfigError);

    CHECK_THROWS_WITH_AS(read_json_file(dir.path / "missing.json"),
                         doctest::Contains("missing.json: cannot read the file: it does not exist"), ConfigError);
    CHECK_THROWS_WITH_AS(read_json_file("surely/not/here.json"),
                         doctest::Contains("surely/not/here.json: cannot read the file: it does not exist (relative to "),
                         ConfigError);
    CHECK_THROWS_WITH_AS(read_json_file(dir.path), doctest::Contains("it is a directory"), ConfigError);
}

}  // namespace json_file_test_cases
