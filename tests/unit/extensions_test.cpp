// Runner and hook registration, hook enabling from settings.json and the command line,
// and which hook points a hook class implements.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "hooks/hook_settings.hpp"
#include "kiln/distributed.hpp"
#include "kiln/hooks.hpp"
#include "kiln/runner.hpp"
#include "kiln/sdk.hpp"
#include "plugins/registry.hpp"
#include "test_support.hpp"

using kiln::core::Registry;
using kiln::test::error_of;
using kiln::test::TempDir;
namespace fs = std::filesystem;

namespace extensions_test_cases {

namespace {

struct NoopRunner : kiln::Runner {
    void run(kiln::RunContext&) override {}
};

struct RankRunner : kiln::Runner, kiln::DistributedRunner {
    void run(kiln::RunContext&) override {}
    bool primary() const override { return false; }
    std::string launcher() const override { return "mpirun -np 3"; }
};

struct AfterNodeOnly : kiln::Hooks {
    void after_node_run(const kiln::NodeRunInfo&) override {}
};

struct Everything : kiln::Hooks {
    void before_pipeline_run(const kiln::PipelineRunInfo&) override {}
    void after_dataset_saved(std::string_view, const kiln::Value*, const kiln::NodeView&) override {}
};

std::uint32_t bit(kiln::detail::HookPoint p) { return 1u << static_cast<unsigned>(p); }

}  // namespace

TEST_CASE("extensions.runners_and_hooks_register_under_qualified_names") {
    Registry r;
    r.add_builtin("ext", "1", [](kiln::Registrar& reg) {
        reg.runner<NoopRunner>("Noop", {.doc = "does nothing"});
        reg.hooks<AfterNodeOnly>("Timer");
    });
    std::string hint;
    REQUIRE(r.find_runner("Noop", hint) != nullptr);
    CHECK(r.find_runner("ext.Noop", hint)->spec.options.doc == "does nothing");
    CHECK(r.find_hooks("Timer", hint)->qualified_name == "ext.Timer");
    CHECK(r.plugins().back().runners == std::vector<std::string>{"ext.Noop"});
    CHECK(r.plugins().back().hooks == std::vector<std::string>{"ext.Timer"});
    CHECK(r.find_runner("Nop", hint) == nullptr);
    CHECK(hint == "did you mean ext.Noop?");
}

TEST_CASE("extensions.runner_name_rules") {
    Registry r;
    r.reserve_runner_names({"SequentialRunner"});
    auto msg = error_of([&] { r.add_builtin("x", "1", [](kiln::Registrar& reg) { reg.runner<NoopRunner>("SequentialRunner"); }); });
    CHECK(msg.find("the name of a built-in runner") != std::string::npos);
    msg = error_of([&] {
        r.add_builtin("y", "1", [](kiln::Registrar& reg) { reg.runner<NoopRunner>("A").runner<NoopRunner>("A"); });
    });
    CHECK(msg.find("declares runner 'A' twice") != std::string::npos);
    msg = error_of([&] { r.add_builtin("z", "1", [](kiln::Registrar& reg) { reg.hooks<AfterNodeOnly>("bad name"); }); });
    CHECK(msg.find("declares hooks named 'bad name'") != std::string::npos);
    CHECK(r.runners().empty());  // a refused plugin leaves no trace
}

TEST_CASE("extensions.only_a_distributed_runner_says_primary_and_launcher") {
    std::string error;
    auto plain = kiln::detail::make_runner<NoopRunner>(&error);
    REQUIRE(plain);
    CHECK(plain->primary());
    CHECK(plain->launcher().empty());
    auto rank = kiln::detail::make_runner<RankRunner>(&error);
    REQUIRE(rank);
    CHECK_FALSE(rank->primary());
    CHECK(rank->launcher() == "mpirun -np 3");
}

TEST_CASE("extensions.hook_points_are_the_overridden_methods") {
    kiln::HookConfig config;
    std::string error;
    auto only = kiln::detail::make_hooks<AfterNodeOnly>(config, &error);
    REQUIRE(only);
    CHECK(only->points() == bit(kiln::detail::HookPoint::after_node_run));
    auto two = kiln::detail::make_hooks<Everything>(config, &error);
    CHECK(two->points() ==
          (bit(kiln::detail::HookPoint::before_pipeline_run) | bit(kiln::detail::HookPoint::after_dataset_saved)));
}

TEST_CASE("extensions.hook_requests_merge_settings_and_command_line") {
    TempDir dir;
    dir.write("settings.json", R"({"hooks": ["a.One", {"name": "b.Two", "options": {"k": 1, "keep": true}}]})");
    auto requests = kiln::core::hook_requests(dir.path(), {"b.Two", "c.Three"}, "rel/trace.json");
    REQUIRE(requests.size() == 4);
    CHECK(requests[0].name == "a.One");
    CHECK(requests[1].name == "b.Two");
    CHECK(requests[1].options == nlohmann::json{{"k", 1}, {"keep", true}});
    CHECK(requests[2].name == "c.Three");
    CHECK(requests[3].name == kiln::core::trace_hook_name);
    CHECK(fs::path(requests[3].options["path"].get<std::string>()).is_absolute());
}

TEST_CASE("extensions.no_settings_file_means_no_hooks") {
    TempDir dir;
    CHECK(kiln::core::hook_requests(dir.path(), {}, {}).empty());
}

TEST_CASE("extensions.enable_hooks_resolves_names_once") {
    Registry r;
    r.add_builtin("ext", "1", [](kiln::Registrar& reg) { reg.hooks<AfterNodeOnly>("Timer"); });
    TempDir dir;
    auto enabled = kiln::core::enable_hooks(
        r, {{"Timer", nlohmann::json::object(), "--hooks"}, {"ext.Timer", nlohmann::json::object(), "settings.json"}},
        dir.path());
    CHECK(enabled.size() == 1);
    auto msg = error_of([&] { kiln::core::enable_hooks(r, {{"Tmer", nlohmann::json::object(), "--hooks"}}, dir.path()); });
    CHECK(msg == "--hooks: unknown hook 'Tmer'; did you mean ext.Timer?");
    msg = error_of([&] { kiln::core::enable_hooks(r, {{kiln::core::trace_hook_name, {{"path", "x"}}, "--trace"}}, dir.path()); });
    CHECK(msg.find("--trace needs the trace plugin") != std::string::npos);
}

}  // namespace extensions_test_cases
