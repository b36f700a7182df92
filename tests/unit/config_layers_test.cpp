// The configuration layer: environments merged as Kedro merges them, ${...} resolved with
// its resolvers, credentials redacted. End-to-end: tests/e2e/config_env_test.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>

#include "config/config_environment.hpp"
#include "config/config_loader.hpp"
#include "config/config_merge.hpp"
#include "config/interpolation.hpp"
#include "config/project_layout.hpp"
#include "config/redaction.hpp"
#include "test_support.hpp"

using nlohmann::json;
using namespace kiln::core;
using kiln::test::error_of;
using kiln::test::TempDir;

namespace config_layers_test_cases {

namespace {

MergedConfig config_from(json value, const std::string& file) {
    MergedConfig config;
    for (auto it = value.begin(); it != value.end(); ++it) config.origins.set({it.key()}, file);
    config.value = std::move(value);
    config.files.push_back(file);
    return config;
}

json resolved(const std::string& text, const InterpolationSources& sources) {
    return resolve_string(text, sources, "catalog.json: x");
}

}  // namespace

TEST_CASE("config.merge.destructive_replaces_top_level_keys_whole") {
    MergedConfig base = config_from({{"a", {{"type", "T"}, {"filepath", "x"}}}, {"b", 1}}, "base.json");
    merge_destructive(base, config_from({{"a", {{"type", "U"}}}, {"c", 2}}, "local.json"));
    CHECK(base.value == json{{"a", {{"type", "U"}}}, {"b", 1}, {"c", 2}});
    CHECK(base.origins.file_of({"a", "type"}) == "local.json");
    CHECK(base.origins.file_of({"b"}) == "base.json");
}

TEST_CASE("config.merge.deep_keeps_what_the_overlay_does_not_set") {
    MergedConfig base = config_from({{"model", {{"alpha", 1}, {"layers", {{"n", 3}, {"w", 8}}}}}, {"seed", 1}}, "base.json");
    merge_deep(base, config_from({{"model", {{"layers", {{"n", 5}}}, {"beta", 2}}}}, "local.json"));
    CHECK(base.value == json{{"model", {{"alpha", 1}, {"layers", {{"n", 5}, {"w", 8}}}, {"beta", 2}}}, {"seed", 1}});
    CHECK(base.origins.file_of({"model", "layers", "n"}) == "local.json");
    CHECK(base.origins.file_of({"model", "layers", "w"}) == "base.json");
    CHECK(base.origins.file_of({"model", "alpha"}) == "base.json");
}

TEST_CASE("config.environment.key_defined_twice_names_both_files") {
    TempDir dir;
    dir.write("base/catalog.json", R"({"a": {"type": "T"}})");
    dir.write("base/catalog_more.json", R"({"b": {"type": "T"}, "a": {"type": "U"}})");
    const std::string error = error_of([&] { read_config_group(dir / "base", "catalog"); });
    CHECK(error.find((dir / "base" / "catalog.json").string() + " and " + (dir / "base" / "catalog_more.json").string() +
                     " both define 'a'") != std::string::npos);
}

TEST_CASE("config.environment.reads_kedros_file_patterns") {
    TempDir dir;
    // Kedro's "parameters*", "parameters*/**" and "**/parameters*".
    dir.write("base/parameters_z.json", R"({"z": 1})");
    dir.write("base/parameters.json", R"({"a": 1})");
    dir.write("base/parametersx.json", R"({"x": 1})");
    dir.write("base/parameters/model.json", R"({"model": 1})");
    dir.write("base/data_science/parameters_ds.json", R"({"ds": 1})");
    dir.write("base/data_science/other.json", R"({"no": 1})");      // neither its name nor its folder's
    dir.write("base/.ipynb_checkpoints/parameters.json", R"({"a": 2})");  // hidden: skipped
    dir.write("base/catalog.json", R"({"no": 2})");
    const MergedConfig group = read_config_group(dir / "base", "parameters");
    CHECK(group.value == json{{"a", 1}, {"z", 1}, {"x", 1}, {"model", 1}, {"ds", 1}});
    REQUIRE(group.files.size() == 5);
    CHECK(group.files[0] == (dir / "base" / "parameters.json").string());
    // globals (and settings) are read from the top only: globals.json and globals_*.json.
    dir.write("base/globals.json", R"({"g": 1})");
    dir.write("base/globals_more.json", R"({"h": 1})");
    dir.write("base/sub/globals.json", R"({"i": 1})");
    CHECK(read_config_group(dir / "base", "globals").value == json{{"g", 1}, {"h", 1}});
    // --resume compares every file, subfolders included, hidden ones not.
    const auto all = json_files_in(dir / "base");
    CHECK(all.size() == 10);
    CHECK(std::find(all.begin(), all.end(), dir / "base" / ".ipynb_checkpoints" / "parameters.json") == all.end());
}

TEST_CASE("config.interpolation.whole_string_keeps_the_type_text_inside_is_text") {
    const MergedConfig globals = config_from({{"n", 3}, {"paths", {{"raw", "data/01_raw"}}}, {"flag", true}}, "globals.json");
    const InterpolationSources sources{&globals, nullptr, false};
    CHECK(resolved("${globals:n}", sources) == json(3));
    CHECK(resolved("${globals:flag}", sources) == json(true));
    CHECK(resolved("${globals:paths.raw}/x.csv", sources) == json("data/01_raw/x.csv"));
    CHECK(resolved("run_${globals:n}", sources) == json("run_3"));
    CHECK(resolved("${globals:paths}", sources) == json{{"raw", "data/01_raw"}});
    CHECK(resolved("\\${globals:n}", sources) == json("${globals:n}"));
    CHECK(resolved("no references", sources) == json("no references"));
}

TEST_CASE("config.interpolation.defaults_are_json_or_text_and_may_interpolate") {
    const MergedConfig globals = config_from({{"name", "g"}}, "globals.json");
    const json runtime = {{"model", {{"alpha", 0.5}}}};
    const InterpolationSources sources{&globals, &runtime, false};
    CHECK(resolved("${runtime_params:model.alpha, 0.1}", sources) == json(0.5));
    CHECK(resolved("${runtime_params:model.beta, 0.1}", sources) == json(0.1));
    CHECK(resolved("${globals:missing, 'a, b'}", sources) == json("a, b"));
    CHECK(resolved("${globals:missing, plain}", sources) == json("plain"));
    CHECK(resolved("${runtime_params:who, ${globals:name}}", sources) == json("g"));
}

TEST_CASE("config.interpolation.errors_name_where_what_and_the_fix") {
    const MergedConfig globals = config_from({{"a", "${globals:b}"}, {"b", "x_${globals:a}"}}, "globals.json");
    const json runtime = json::object();
    const InterpolationSources sources{&globals, &runtime, false};
    const std::string missing = error_of([&] { resolved("${globals:nope}", sources); });
    CHECK(missing.find("catalog.json: x: ${globals:nope} is not defined in globals.json") != std::string::npos);
    CHECK(missing.find("${globals:nope, VALUE}") != std::string::npos);
    const std::string no_param = error_of([&] { resolved("${runtime_params:alpha}", sources); });
    CHECK(no_param.find("pass --params alpha=VALUE") != std::string::npos);
    const std::string cycle = error_of([&] { resolved("${globals:a}", sources); });
    CHECK(cycle.find("cyclic reference ${globals:a} -> ${globals:b} -> ${globals:a}") != std::string::npos);
    const std::string env = error_of([&] { resolved("${oc.env:HOME}", sources); });
    CHECK(env.find("only credentials.json may do") != std::string::npos);
    CHECK(error_of([&] { resolved("${nope:x}", sources); }).find("unknown resolver 'nope'") != std::string::npos);
    CHECK(error_of([&] { resolved("${a.b}", sources); }).find("names no resolver") != std::string::npos);
    CHECK(error_of([&] { resolved("${globals:a", sources); }).find("without a closing }") != std::string::npos);
}

TEST_CASE("config.interpolation.environment_variables_in_credentials") {
    ::setenv("KILN_UNIT_TEST_SECRET", "hunter22", 1);
    const InterpolationSources sources{nullptr, nullptr, true};
    CHECK(resolved("${oc.env:KILN_UNIT_TEST_SECRET}", sources) == json("hunter22"));
    CHECK(resolved("${oc.env:KILN_UNIT_TEST_UNSET_VARIABLE, fallback}", sources) == json("fallback"));
    CHECK(error_of([&] { resolved("${oc.env:KILN_UNIT_TEST_UNSET_VARIABLE}", sources); }).find("which is not set") !=
          std::string::npos);
    ::unsetenv("KILN_UNIT_TEST_SECRET");
}

TEST_CASE("config.interpolation.errors_name_the_file_of_the_key") {
    MergedConfig doc = config_from({{"companies", {{"filepath", "${globals:nope}"}}}}, "conf/base/catalog.json");
    merge_destructive(doc, config_from({{"other", {{"path", "${globals:also_nope}"}}}},
                                       "conf/local/catalog.json"));
    const InterpolationSources sources{nullptr, nullptr, false};
    const std::string error = error_of([&] { resolve_interpolations(doc, sources); });
    CHECK(error.find("conf/base/catalog.json: companies.filepath: ${globals:nope}") != std::string::npos);
}

TEST_CASE("config.redaction.replaces_registered_values") {
    register_secret("s3cr3t-value");
    register_secret("ab");  // too short to redact
    CHECK(redact("login with s3cr3t-value failed; s3cr3t-value") == "login with *** failed; ***");
    CHECK(redact("ab cd") == "ab cd");
}

TEST_CASE("config.layout.environments_and_project_root") {
    TempDir dir;
    dir.write("conf/base/catalog.json", "{}");
    dir.write("conf/prod/catalog.json", "{}");
    dir.write("src/deep/file.txt", "");
    CHECK(find_project_root(dir / "src/deep") == std::filesystem::weakly_canonical(dir.path()));
    CHECK(config_layout(dir.path(), "", "").env_dir.empty());  // no conf/local: base only
    CHECK(config_layout(dir.path(), "", "prod").env_dir == dir / "conf/prod");
    const std::string error = error_of([&] { config_layout(dir.path(), "", "staging"); });
    CHECK(error.find("--env staging: no environment folder '" + (dir / "conf/staging").string() + "'") != std::string::npos);
    CHECK(error.find("environments there: prod") != std::string::npos);
}

TEST_CASE("config.loader.credentials_replace_the_name_in_catalog_entries") {
    TempDir dir;
    dir.write("conf/base/pipelines.json", R"({"pipelines": {}})");
    dir.write("conf/base/catalog.json", R"({"db": {"type": "T", "credentials": "warehouse"}})");
    dir.write("conf/local/credentials.json", R"({"warehouse": {"user": "u", "password": "pa55word!"}})");
    const DataConfig data = load_data_config(config_layout(dir.path(), "", ""), json::object());
    CHECK(data.catalog["db"]["credentials"] == json{{"user", "u"}, {"password", "pa55word!"}});
    CHECK(redact("pa55word!") == "***");
    dir.write("conf/base/catalog.json", R"({"db": {"type": "T", "credentials": "nope"}})");
    const std::string error = error_of([&] { load_data_config(config_layout(dir.path(), "", ""), json::object()); });
    CHECK(error.find("catalog entry 'db': credentials 'nope' are not defined in") != std::string::npos);
}

}  // namespace config_layers_test_cases
