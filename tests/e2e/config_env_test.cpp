// Configuration environments (conf/base + conf/local or --env), globals, runtime_params,
// credentials and their redaction, --conf-source, repeated --params, and finding the
// project from a subfolder: the real kiln on projects that use each, and every error.
#include <doctest/doctest.h>

#include <filesystem>

#include "common_projects.hpp"
#include "kiln_process.hpp"
#include "project_builder.hpp"
#include "test_support.hpp"

using namespace kiln::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace config_env_test_cases {

namespace {

const std::string password = "Tr0ub4dor&3-secret";

// total = add(params:model.a, params:model.b) -> data/total.json
void sum_project(Project& p) {
    p.write("conf/base/pipelines.json", R"({"pipelines": {"__default__": {"nodes": [
        {"name": "total", "func": "testnodes.add", "inputs": ["params:model.a", "params:model.b"], "outputs": "total"}
    ]}}})");
    p.write("conf/base/catalog.json", R"({"total": {"type": "kiln.JsonDataset", "filepath": "data/total.json"}})");
    p.write("conf/base/parameters.json", R"({"model": {"a": 1, "b": 10}})");
}

// hello = greet(account) where account is a CredentialedDataset reading "warehouse".
void credentials_project(Project& p, bool fail) {
    p.write("conf/base/pipelines.json", R"({"pipelines": {"__default__": {"nodes": [
        {"name": "hello", "func": "testnodes.greet", "inputs": "account", "outputs": "hello"}
    ]}}})");
    p.write("conf/base/catalog.json", std::string(R"({
        "account": {"type": "testext.CredentialedDataset", "credentials": "warehouse", "fail": )") +
                                          (fail ? "true" : "false") + R"(},
        "hello": {"type": "kiln.JsonDataset", "filepath": "data/hello.json"}})");
    p.write("conf/local/credentials.json",
            R"({"warehouse": {"user": "alice", "password": "${oc.env:WAREHOUSE_PASSWORD_FOR_KILN_TESTS}"}})");
}

double total(const Project& p) { return p.json_file("data/total.json").get<double>(); }

}  // namespace

TEST_CASE("config_env.local_overlays_base_parameters_deep_merged") {
    Project p;
    sum_project(p);
    p.write("conf/local/parameters.json", R"({"model": {"b": 20}})");
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(total(p) == 21);  // a from base, b from local
}

TEST_CASE("config_env.catalog_and_parameters_in_subfolders_as_kedro_finds_them") {
    Project p;
    sum_project(p);
    // Kedro's patterns: a folder named catalog*/ or parameters*/, or such a file at any depth.
    fs::remove(p / "conf/base/catalog.json");
    p.write("conf/base/catalog/totals.json", R"({"total": {"type": "kiln.JsonDataset", "filepath": "data/sub.json"}})");
    p.write("conf/base/modelling/parameters_model.json", R"({"model": {"a": 5, "b": 10}})");
    fs::remove(p / "conf/base/parameters.json");
    p.write("conf/base/.ipynb_checkpoints/parameters.json", R"({"model": {"a": 1000}})");  // hidden: not read
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(p.json_file("data/sub.json").get<double>() == 15);
    p.write("conf/base/more/catalog.json", R"({"total": {"type": "kiln.JsonDataset", "filepath": "data/x.json"}})");
    r = p.run();
    CHECK(r.exit_code == 2);
    CHECK(r.contains((p / "conf/base/catalog/totals.json").string() + " and " +
                     (p / "conf/base/more/catalog.json").string() + " both define 'total'"));
}

TEST_CASE("config_env.env_option_and_variable_choose_the_environment") {
    Project p;
    sum_project(p);
    p.write("conf/local/parameters.json", R"({"model": {"b": 20}})");
    p.write("conf/prod/parameters.json", R"({"model": {"a": 100}})");
    REQUIRE(p.run({"--env", "prod"}).exit_code == 0);
    CHECK(total(p) == 110);  // conf/local is not read
    REQUIRE(p.run({}, {"KILN_ENV=prod"}).exit_code == 0);
    CHECK(total(p) == 110);
}

TEST_CASE("config_env.catalog_entries_of_the_environment_replace_base_entries_whole") {
    Project p;
    sum_project(p);
    p.write("conf/local/catalog.json", R"({"total": {"type": "kiln.JsonDataset", "filepath": "data/local_total.json"}})");
    p.write("conf/base/catalog_extra.json", R"({"unused": {"type": "kiln.JsonDataset", "filepath": "x.json"}})");
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(p.exists("data/local_total.json"));
    CHECK_FALSE(p.exists("data/total.json"));
}

TEST_CASE("config_env.unknown_env_names_the_folder") {
    Project p;
    sum_project(p);
    p.write("conf/prod/parameters.json", "{}");
    auto r = p.run({"--env", "staging"});
    CHECK(r.exit_code == 2);
    CHECK(r.contains("--env staging: no environment folder '" + (p / "conf/staging").string() + "'"));
    CHECK(r.contains("environments there: prod"));
    CHECK(p.report()["status"] == "error");
    r = p.run({}, {"KILN_ENV=qa"});
    CHECK(r.exit_code == 2);
    CHECK(r.contains("KILN_ENV qa: no environment folder '" + (p / "conf/qa").string() + "'"));
}

TEST_CASE("config_env.flat_project_refuses_an_environment") {
    Project p;
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [{"name": "s", "func": "testnodes.seed", "outputs": "a"}]}}})");
    auto r = p.run({"--env", "prod"});
    CHECK(r.exit_code == 2);
    CHECK(r.contains("--env prod: project '" + p.dir() + "' has no conf/base/ folder"));
    REQUIRE(p.run().exit_code == 0);  // the flat layout itself works as before
}

TEST_CASE("config_env.key_defined_twice_in_one_environment_names_both_files") {
    Project p;
    sum_project(p);
    p.write("conf/base/catalog_more.json", R"({"total": {"type": "kiln.JsonDataset", "filepath": "data/t2.json"}})");
    auto r = p.run();
    CHECK(r.exit_code == 2);
    CHECK(r.contains((p / "conf/base/catalog.json").string() + " and " + (p / "conf/base/catalog_more.json").string() +
                     " both define 'total'"));
}

TEST_CASE("config_env.top_level_catalog_beside_conf_is_refused") {
    Project p;
    sum_project(p);
    p.catalog("{}");
    auto r = p.run();
    CHECK(r.exit_code == 2);
    CHECK(r.contains((p / "catalog.json").string() + " is not read"));
    CHECK(r.contains("move it to " + (p / "conf/base/catalog.json").string()));
}

TEST_CASE("config_env.globals_keep_their_type_whole_and_become_text_inside") {
    Project p;
    sum_project(p);
    p.write("conf/base/globals.json", R"({"b": 5, "folders": {"out": "data/out"}})");
    p.write("conf/local/globals.json", R"({"b": 7})");
    p.write("conf/base/parameters.json", R"({"model": {"a": "${globals:a_value, 2}", "b": "${globals:b}"}})");
    p.write("conf/base/catalog.json", R"({"total": {"type": "kiln.JsonDataset", "filepath": "${globals:folders.out}/t.json"}})");
    auto r = p.run();
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(p.json_file("data/out/t.json") == json(9.0));  // 2 (default) + 7 (local global)
}

TEST_CASE("config_env.runtime_params_and_repeated_params") {
    Project p;
    sum_project(p);
    p.write("conf/base/parameters.json", R"({"model": {"a": "${runtime_params:a, 3}", "b": 10}})");
    REQUIRE(p.run().exit_code == 0);
    CHECK(total(p) == 13);
    REQUIRE(p.run({"--params", "a=4"}).exit_code == 0);
    CHECK(total(p) == 14);
    // Later --params win; dotted keys from several merge.
    auto r = p.run({"--params", "a=5,model.b=1", "--params", "model.b=2"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(total(p) == 7);  // a: runtime 5 through the parameter; model.b: the later --params
}

TEST_CASE("config_env.interpolation_errors_name_file_key_and_fix") {
    Project p;
    sum_project(p);
    p.write("conf/local/parameters.json", R"({"model": {"b": "${globals:nope}"}})");
    auto r = p.run();
    CHECK(r.exit_code == 2);
    CHECK(r.contains((p / "conf/local/parameters.json").string() + ": model.b: ${globals:nope} is not defined in"));
    CHECK(r.contains("${globals:nope, VALUE}"));

    p.write("conf/local/parameters.json", R"({"model": {"b": "${runtime_params:bee}"}})");
    r = p.run();
    CHECK(r.exit_code == 2);
    CHECK(r.contains("${runtime_params:bee} has no value: pass --params bee=VALUE"));

    p.write("conf/local/parameters.json", "{}");
    p.write("conf/base/globals.json", R"({"x": "${globals:y}", "y": "${globals:x}"})");
    p.write("conf/base/catalog.json", R"({"total": {"type": "kiln.JsonDataset", "filepath": "${globals:x}"}})");
    r = p.run();
    CHECK(r.exit_code == 2);
    CHECK(r.contains("cyclic reference ${globals:x} -> ${globals:y} -> ${globals:x}"));

    p.write("conf/base/catalog.json", R"({"total": {"type": "kiln.JsonDataset", "filepath": "${oc.env:HOME}/t.json"}})");
    r = p.run();
    CHECK(r.exit_code == 2);
    CHECK(r.contains((p / "conf/base/catalog.json").string() + ": total.filepath: ${oc.env:HOME}"));
    CHECK(r.contains("only credentials.json may do"));

    p.write("conf/base/catalog.json", R"({"total": {"type": "kiln.JsonDataset", "filepath": "${oc.select:x}"}})");
    r = p.run();
    CHECK(r.exit_code == 2);
    CHECK(r.contains("total.filepath: ${oc.select:x} uses the unknown resolver 'oc.select'"));

    p.write("conf/base/catalog.json", R"({"total": {"type": "kiln.JsonDataset", "filepath": "${globals:x"}})");
    r = p.run();
    CHECK(r.exit_code == 2);
    CHECK(r.contains("total.filepath: \"${globals:x\" opens ${ without a closing }"));
}

TEST_CASE("config_env.credentials_reach_the_dataset") {
    Project p;
    credentials_project(p, false);
    auto r = run_ext(p, {}, {"WAREHOUSE_PASSWORD_FOR_KILN_TESTS=" + password});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(p.json_file("data/hello.json") == json("hello user:alice"));
}

TEST_CASE("config_env.credential_values_never_reach_logs_reports_traces_or_viz") {
    // A forked worker inherits the secrets; a spawned one gets them with the host's plan.
    for (const std::string start : {"", "fork", "spawn"}) {
        CAPTURE(start);
        Project p;
        credentials_project(p, true);
        std::vector<std::string> args = {"-v", "--trace", (p / "trace.json").string()};
        if (!start.empty()) args.insert(args.end(), {"--runner", "ParallelRunner", "--start-method", start});
        auto r = run_ext(p, args, {"WAREHOUSE_PASSWORD_FOR_KILN_TESTS=" + password});
        INFO(r.output);
        CHECK(r.exit_code == 1);
        // Every value of credentials.json counts as secret, the user name too.
        CHECK(r.contains("cannot connect as *** with password ***"));
        CHECK_FALSE(r.contains(password));
        CHECK(read_text(p.report_path()).find(password) == std::string::npos);
        CHECK(read_text(p.report_path()).find("password ***") != std::string::npos);
        for (const auto& file : p.files_containing("")) {
            if (fs::is_regular_file(file) && fs::path(file).filename() != "credentials.json") {
                INFO(file);
                CHECK(read_text(file).find(password) == std::string::npos);
            }
        }
    }
    Project p;
    credentials_project(p, true);
    p.write("conf/local/credentials.json", R"({"warehouse": {"user": "alice", "password": ")" + password + R"("}})");
    auto viz = run_kiln({"viz", "--project", p.dir(), "--plugin-path", test_plugins("good"), "--plugin-path", ext_plugins});
    INFO(viz.output);
    CHECK(viz.exit_code == 0);
    CHECK_FALSE(viz.contains(password));
}

TEST_CASE("config_env.credentials_errors") {
    Project p;
    credentials_project(p, false);
    p.write("conf/base/catalog.json", R"({"account": {"type": "testext.CredentialedDataset", "credentials": "nope"}})");
    auto r = run_ext(p, {}, {"WAREHOUSE_PASSWORD_FOR_KILN_TESTS=x"});
    CHECK(r.exit_code == 2);
    CHECK(r.contains((p / "conf/base/catalog.json").string() + ": catalog entry 'account': credentials 'nope' are not defined in " +
                     (p / "conf/local/credentials.json").string()));

    credentials_project(p, false);
    r = run_ext(p, {}, {});  // the variable is not set
    CHECK(r.exit_code == 2);
    CHECK(r.contains("warehouse.password: ${oc.env:WAREHOUSE_PASSWORD_FOR_KILN_TESTS} names the environment variable"));
}

TEST_CASE("config_env.conf_source_points_elsewhere") {
    Project p, conf;
    sum_project(conf);  // its conf/ folder is used from another project folder
    conf.write("conf/local/parameters.json", R"({"model": {"a": 2}})");
    auto r = p.run({"--conf-source", (conf / "conf").string()});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(total(p) == 12);
    r = p.run({"--conf-source", (p / "nowhere").string()});
    CHECK(r.exit_code == 2);
    CHECK(r.contains("no folder '" + (p / "nowhere" / "base").string() + "'"));
}

TEST_CASE("config_env.run_and_viz_from_a_subfolder_find_the_project") {
    Project p;
    sum_project(p);
    fs::create_directories(p / "notebooks/deep");
    const std::string sub = (p / "notebooks/deep").string();
    auto r = run_kiln({"run", "--plugin-path", test_plugins("good")}, {"-C", sub});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(total(p) == 11);
    auto viz = run_kiln({"viz", "--plugin-path", test_plugins("good")}, {"-C", sub});
    CHECK(viz.exit_code == 0);
    CHECK(viz.contains("total"));
}

TEST_CASE("config_env.catalog_commands_read_the_environment") {
    Project p;
    credentials_project(p, false);
    p.write("conf/base/globals.json", R"({"folder": "data/base"})");
    p.write("conf/base/catalog.json", R"({
        "account": {"type": "testext.CredentialedDataset", "credentials": "warehouse"},
        "{name}": {"type": "kiln.JsonDataset", "filepath": "${globals:folder}/{name}.json"}})");
    p.write("conf/prod/globals.json", R"({"folder": "${runtime_params:where, data/prod}"})");
    p.write("conf/prod/credentials.json", R"({"warehouse": {"user": "alice", "password": ")" + password + R"("}})");
    const std::vector<std::string> plugins = {"--plugin-path", test_plugins("good"), "--plugin-path", ext_plugins};
    auto catalog = [&](std::vector<std::string> args, const std::vector<std::string>& env = {}) {
        args.insert(args.begin(), "catalog");
        args.insert(args.end(), plugins.begin(), plugins.end());
        args.insert(args.end(), {"-q"});
        return run_kiln(args, env);
    };
    const std::string sub = (p / "notebooks").string();
    fs::create_directories(sub);

    // From a subfolder, the project and its environment are found as `kiln run` finds them.
    auto r = catalog({"resolve", "--env", "prod"}, {"-C", sub});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    json resolved = json::parse(r.output);
    CHECK(resolved["hello"]["filepath"] == "data/prod/hello.json");
    CHECK(resolved["account"]["credentials"] == json({{"user", "***"}, {"password", "***"}}));
    CHECK_FALSE(r.contains(password));

    r = catalog({"resolve", "--project", p.dir(), "--env", "prod", "--params", "where=elsewhere"});
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.output)["hello"]["filepath"] == "elsewhere/hello.json");

    r = catalog({"list", "--project", p.dir()}, {"KILN_ENV=prod"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.contains("hello    pattern '{name}' (kiln.JsonDataset)"));
    CHECK(r.contains("account  entry (testext.CredentialedDataset)"));

    r = catalog({"patterns", "--conf-source", (p / "conf").string(), "--env", "prod"}, {"-C", sub});
    CHECK(r.exit_code == 0);
    CHECK(r.output == "{name}\n");

    r = catalog({"list", "--project", p.dir(), "--env", "staging"});
    CHECK(r.exit_code == 2);
    CHECK(r.contains("staging"));
}

TEST_CASE("config_env.resume_notices_a_changed_environment_file") {
    Project p;
    p.write("conf/base/pipelines.json", R"({"pipelines": {"__default__": {"nodes": [
        {"name": "load", "func": "testnodes.seed", "outputs": "a"},
        {"name": "check", "func": "testnodes.fail_if", "inputs": {"x": "a", "fail": "params:should_fail"}, "outputs": "c"}
    ]}}})");
    p.write("conf/base/catalog.json", R"({"a": {"type": "kiln.JsonDataset", "filepath": "data/a.json"}})");
    p.write("conf/base/parameters.json", R"({"should_fail": true})");
    REQUIRE(p.run().exit_code == 1);
    p.write("conf/local/parameters.json", R"({"should_fail": false})");
    auto r = p.run({"--resume"});
    CHECK(r.exit_code == 2);
    CHECK(r.contains("conf/local/parameters.json was added"));
    r = p.run({"--resume", "--force"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
}

TEST_CASE("config_env.kiln_new_ignores_credentials_and_local_configuration") {
    TempDir dir;
    auto r = run_kiln({"new", "plugin", "demo", "--dir", dir.path().string()});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    const std::string ignore = read_text(dir / "demo/.gitignore");
    CHECK(ignore.find("credentials.json\n") != std::string::npos);
    CHECK(ignore.find("/conf/local/\n") != std::string::npos);
}

}  // namespace config_env_test_cases
