// Versioned datasets: version names, which version is the latest, reserving a save
// version, and the versions a run chooses for its datasets.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "catalog/catalog.hpp"
#include "catalog/dataset_versions.hpp"
#include "catalog/version_plan.hpp"
#include "json_dataset.hpp"
#include "kiln/dataset.hpp"
#include "kiln/sdk.hpp"
#include "plugins/registry.hpp"
#include "test_support.hpp"

using namespace kiln::core;
using kiln::test::error_of;
using kiln::test::TempDir;
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::system_clock;

namespace dataset_versions_test_cases {

namespace {

system_clock::time_point at(const std::string& version) {
    auto t = parse_version_timestamp(version);
    REQUIRE_MESSAGE(t, version);
    return *t;
}

Node node(std::string name, std::vector<std::string> inputs, std::vector<std::string> outputs) {
    Node n;
    n.name = std::move(name);
    n.inputs = std::move(inputs);
    n.outputs = std::move(outputs);
    return n;
}

struct VersionedCatalog {
    TempDir dir;
    Registry registry;
    std::unique_ptr<DataCatalog> catalog;

    explicit VersionedCatalog(nlohmann::json doc) {
        registry.add_builtin("kiln", "test",
                             [](kiln::Registrar& reg) { reg.dataset<kiln::datasets::JsonDataset>("JsonDataset"); });
        catalog = std::make_unique<DataCatalog>(DataCatalog::entries_from_json(doc, "catalog.json"), Parameters(),
                                                dir.path(), registry);
    }
};

}  // namespace

TEST_CASE("versions.timestamp_is_kedros_format") {
    // 2026-11-23 03:45:21.123 UTC
    const auto t = system_clock::from_time_t(1795405521) + milliseconds(123);
    CHECK(version_timestamp(t) == "2026-11-23T03.45.21.123Z");
    CHECK(version_timestamp(t + std::chrono::microseconds(999)) == "2026-11-23T03.45.21.123Z");  // truncated
    CHECK(parse_version_timestamp("2026-11-23T03.45.21.123Z") == t);
    for (const char* bad : {"", "latest", "2026-11-23T03.45.21Z", "2026-13-23T03.45.21.123Z", "2026-11-23T03:45:21.123Z",
                            "2026-11-23T03.45.21.123Z/", "x026-11-23T03.45.21.123Z"})
        CHECK_MESSAGE(!parse_version_timestamp(bad), bad);
}

TEST_CASE("versions.latest_is_the_newest_folder_that_holds_the_file") {
    TempDir dir;
    const fs::path versions = dir / "m.json";
    CHECK(existing_versions(versions, "m.json").empty());
    CHECK(!latest_version(versions, "m.json"));
    dir.write("m.json/2026-01-02T00.00.00.000Z/m.json", "1");
    dir.write("m.json/2026-01-01T00.00.00.000Z/m.json", "0");
    fs::create_directories(versions / "2026-01-03T00.00.00.000Z");  // reserved, nothing saved yet
    dir.write("m.json/2026-01-04T00.00.00.000Z/other.json", "x");   // not this file
    dir.write("m.json/zzz/m.json", "not a version");
    CHECK(existing_versions(versions, "m.json") ==
          std::vector<std::string>{"2026-01-01T00.00.00.000Z", "2026-01-02T00.00.00.000Z"});
    CHECK(latest_version(versions, "m.json") == "2026-01-02T00.00.00.000Z");
}

TEST_CASE("versions.reserving_takes_the_next_free_millisecond") {
    TempDir dir;
    const std::vector<fs::path> dirs = {dir / "a.json", dir / "sub/b.json"};
    const auto now = at("2026-05-05T10.00.00.000Z");
    const std::string first = reserve_save_version(dirs, now);
    CHECK(first == "2026-05-05T10.00.00.000Z");
    CHECK(fs::is_directory(dir / "a.json" / first));
    CHECK(fs::is_directory(dir / "sub/b.json" / first));
    // Another run in the same millisecond, and one whose clock is behind.
    CHECK(reserve_save_version(dirs, now) == "2026-05-05T10.00.00.001Z");
    CHECK(reserve_save_version(dirs, now - std::chrono::hours(1)) == "2026-05-05T10.00.00.002Z");
    // A version taken in one folder only: the run gives back what it made and moves on.
    fs::create_directories(dir / "sub/b.json/2026-06-01T00.00.00.000Z");
    fs::create_directories(dir / "c.json");
    CHECK(reserve_save_version({dir / "c.json", dir / "sub/b.json"}, at("2026-06-01T00.00.00.000Z")) ==
          "2026-06-01T00.00.00.001Z");
    CHECK(!fs::exists(dir / "c.json/2026-06-01T00.00.00.000Z"));
}

TEST_CASE("versions.concurrent_reservations_never_share_a_version") {
    TempDir dir;
    const auto now = system_clock::now();
    std::vector<std::string> got(8);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < got.size(); ++i)
        threads.emplace_back([&, i] { got[i] = reserve_save_version({dir / "x.json"}, now); });
    for (auto& t : threads) t.join();
    std::sort(got.begin(), got.end());
    CHECK(std::adjacent_find(got.begin(), got.end()) == got.end());
}

TEST_CASE("versions.a_run_saves_one_version_and_reads_the_latest_of_the_others") {
    VersionedCatalog c(nlohmann::json::parse(R"({
        "raw":   {"type": "kiln.JsonDataset", "filepath": "data/raw.json", "versioned": true},
        "mid":   {"type": "kiln.JsonDataset", "filepath": "data/mid.json", "versioned": true},
        "out":   {"type": "kiln.JsonDataset", "filepath": "data/out.json", "versioned": true},
        "plain": {"type": "kiln.JsonDataset", "filepath": "data/plain.json", "versioned": false}
    })"));
    c.dir.write("data/raw.json/2026-01-01T00.00.00.000Z/raw.json", "1");
    c.dir.write("data/raw.json/2026-01-02T00.00.00.000Z/raw.json", "2");
    Pipeline p({node("a", {"raw"}, {"mid"}), node("b", {"mid"}, {"out", "plain"})});
    const auto now = at("2026-03-03T03.03.03.333Z");
    RunVersions v = choose_versions(*c.catalog, p, {}, {}, now);
    CHECK(v.save_version == "2026-03-03T03.03.03.333Z");
    CHECK(v.datasets.size() == 3);
    CHECK(v.datasets["raw"] == DatasetVersion{"2026-01-02T00.00.00.000Z", ""});
    CHECK(v.datasets["mid"] == DatasetVersion{v.save_version, v.save_version});  // read after it is saved
    CHECK(v.datasets["out"] == DatasetVersion{"", v.save_version});
    c.catalog->set_versions(v.datasets);
    CHECK(c.catalog->versioned_filepath("mid") == "data/mid.json/2026-03-03T03.03.03.333Z/mid.json");
    CHECK(!c.catalog->versioned_filepath("plain"));

    // The dataset itself only sees the version's file.
    auto& raw = c.catalog->dataset("raw", &kiln::type_ops<double>(), "run");
    CHECK(raw.load().get<double>() == 2);
    auto& out = c.catalog->dataset("out", &kiln::type_ops<double>(), "run");
    out.save(kiln::Value::make(7.0));
    CHECK(fs::exists(c.dir / "data/out.json/2026-03-03T03.03.03.333Z/out.json"));
    c.catalog->dataset("plain", &kiln::type_ops<double>(), "run").save(kiln::Value::make(1.0));
    CHECK(fs::is_regular_file(c.dir / "data/plain.json"));

    // A pin picks an older version; the JSON forms round-trip.
    RunVersions pinned = choose_versions(*c.catalog, p, {{"raw", "2026-01-01T00.00.00.000Z"}}, {}, now);
    CHECK(pinned.datasets["raw"].load == "2026-01-01T00.00.00.000Z");
    CHECK(pinned.save_version == "2026-03-03T03.03.03.334Z");  // the first run holds .333
    RunVersions back = RunVersions::from_json(pinned.to_json(), "journal");
    CHECK(back.save_version == pinned.save_version);
    CHECK(back.datasets == pinned.datasets);
    CHECK(pinned.report_json()["out"] == nlohmann::json{{"load", nullptr}, {"save", pinned.save_version}});

    // A resumed run keeps the versions it recorded.
    RunVersions resumed = choose_versions(*c.catalog, p, {}, back, now + std::chrono::hours(1));
    CHECK(resumed.save_version == pinned.save_version);
    CHECK(resumed.datasets == pinned.datasets);
}

TEST_CASE("versions.errors_name_the_dataset") {
    VersionedCatalog c(nlohmann::json::parse(R"({
        "raw":  {"type": "kiln.JsonDataset", "filepath": "data/raw.json", "versioned": true},
        "mem":  {"type": "kiln.MemoryDataset", "versioned": true},
        "odd":  {"type": "kiln.JsonDataset", "filepath": "data/odd.json", "versioned": "yes"},
        "dir":  {"type": "kiln.JsonDataset", "filepath": "data/folder/", "versioned": true},
        "plain": {"type": "kiln.JsonDataset", "filepath": "data/plain.json"}
    })"));
    Pipeline reads_raw({node("a", {"raw"}, {"x"})});
    auto msg = error_of([&] { choose_versions(*c.catalog, reads_raw, {}, {}, system_clock::now()); });
    CHECK(msg.find("versioned dataset 'raw' has no version to load") != std::string::npos);
    CHECK(msg.find((c.dir / "data/raw.json").string()) != std::string::npos);

    msg = error_of([&] { c.catalog->is_versioned("mem"); });
    CHECK(msg.find("catalog entry 'mem' (kiln.MemoryDataset) says \"versioned\": true, but only a file dataset") !=
          std::string::npos);
    msg = error_of([&] { c.catalog->is_versioned("odd"); });
    CHECK(msg.find("catalog entry 'odd': \"versioned\" must be true or false") != std::string::npos);
    msg = error_of([&] { c.catalog->is_versioned("dir"); });
    CHECK(msg.find("must name a file") != std::string::npos);

    c.dir.write("data/raw.json/2026-01-01T00.00.00.000Z/raw.json", "1");
    msg = error_of([&] { check_load_versions(*c.catalog, parse_load_versions({"nope:2026-01-01T00.00.00.000Z"})); });
    CHECK(msg.find("dataset 'nope' is not in the catalog; versioned datasets: raw") != std::string::npos);
    msg = error_of([&] { check_load_versions(*c.catalog, parse_load_versions({"plain:2026-01-01T00.00.00.000Z"})); });
    CHECK(msg.find("dataset 'plain' is not versioned") != std::string::npos);
    msg = error_of([&] { check_load_versions(*c.catalog, parse_load_versions({"raw:2025-01-01T00.00.00.000Z"})); });
    CHECK(msg.find("dataset 'raw' has no version '2025-01-01T00.00.00.000Z'") != std::string::npos);
    CHECK(msg.find("versions that exist: 2026-01-01T00.00.00.000Z") != std::string::npos);
    CHECK_NOTHROW(check_load_versions(*c.catalog, parse_load_versions({"raw:2026-01-01T00.00.00.000Z"})));
    msg = error_of([] { parse_load_versions({"raw"}); });
    CHECK(msg.find("'raw' is not DATASET:VERSION") != std::string::npos);

    Pipeline saves_raw({node("a", {}, {"raw"})});
    msg = error_of([&] {
        choose_versions(*c.catalog, saves_raw, {{"raw", "2026-01-01T00.00.00.000Z"}}, {}, system_clock::now());
    });
    CHECK(msg.find("dataset 'raw' is saved by a node of this run") != std::string::npos);
}

}  // namespace dataset_versions_test_cases
