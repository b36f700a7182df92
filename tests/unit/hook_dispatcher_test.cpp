// The hook dispatcher's ABI 1.5 points: inputs a before_node_run hook replaces (checked
// against the node's inputs and types, refused for a node run elsewhere, the later hook
// winning), and the run-wide points fired only for hooks whose plugin minor has them.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "hooks/hook_dispatcher.hpp"
#include "kiln/hooks.hpp"
#include "kiln/runner.hpp"
#include "kiln/sdk.hpp"
#include "plugins/registry.hpp"
#include "run/host_run_context.hpp"
#include "run/node_event_stream.hpp"
#include "run/run_views.hpp"
#include "test_nodes.hpp"
#include "test_support.hpp"

using namespace kiln::core;
using kiln::test::TempDir;

namespace hook_dispatcher_test_cases {

namespace {

Registry& dispatcher_registry() {
    static Registry* r = [] {
        auto* reg = new Registry();
        reg->add_builtin("hd", "1", [](kiln::Registrar& g) {
            g.node("src", [] { return 1.0; });
            g.node("inc", [](double a) { return a + 1; });
        });
        return reg;
    }();
    return *r;
}

// Gives `dataset` of node "inc" the value `value`; counts the run-wide points it hears.
struct Swap : kiln::Hooks {
    std::string dataset;
    kiln::Value value;
    int contexts = 0, catalogs = 0;
    bool saw_replacements = false;
    void before_node_run(const kiln::NodeRunInfo& r) override {
        saw_replacements = r.replacements != nullptr;
        if (r.node.name == "inc" && r.replacements) r.replace_input(dataset, value);
    }
    void after_context_created(const kiln::ContextInfo&) override { ++contexts; }
    void after_catalog_created(const kiln::CatalogInfo&) override { ++catalogs; }
};

// A hook object the test keeps a pointer to, as a plugin of `minor` made it.
EnabledHook swap_hook(Swap*& seen, std::string dataset, kiln::Value value, std::uint32_t minor = 5) {
    auto h = std::make_unique<Swap>();
    h->dataset = std::move(dataset);
    h->value = std::move(value);
    seen = h.get();
    return {"hd.Swap" + std::to_string(minor), "<built-in hd>",
            std::make_unique<kiln::detail::HookAdaptor<Swap>>(std::move(h)), minor};
}

// src -> a -> inc -> b, run through the host's lifecycle with the dispatcher as observer.
struct Run {
    TempDir dir;
    Pipeline pipeline{{kiln::test::make_node(dispatcher_registry(), "src", "hd.src", {}, {"a"}),
                       kiln::test::make_node(dispatcher_registry(), "inc", "hd.inc", {"a"}, {"b"})}};
    DataCatalog catalog{std::map<std::string, CatalogEntry>{}, Parameters(nlohmann::json::object()), dir.path(),
                        dispatcher_registry()};
    RunPlan plan{pipeline, catalog, "run-1"};
    PlanCatalogView view{plan};
    std::unique_ptr<HookDispatcher> hooks;
    std::unique_ptr<NodeEventStream> events;
    std::unique_ptr<HostRunContext> ctx;
    explicit Run(std::vector<EnabledHook> enabled) {
        hooks = std::make_unique<HookDispatcher>(std::move(enabled), plan, view);
        events = std::make_unique<NodeEventStream>(std::initializer_list<NodeObserver*>{hooks.get()});
        ctx = std::make_unique<HostRunContext>(plan, events.get(), RunnerOptions{}, "test.Runner");
    }
    // Runs both nodes here; "" or the failure.
    std::string run_both() {
        std::string error;
        if (!ctx->run_node(0, 0, &error) || !ctx->run_node(1, 0, &error)) return error;
        return "";
    }
    double b() const {
        for (const auto& o : plan.free_outputs())
            if (o.name == "b") return o.value.get<double>();
        return 0;
    }
};

std::vector<EnabledHook> hooks_of(EnabledHook a) {
    std::vector<EnabledHook> v;
    v.push_back(std::move(a));
    return v;
}

}  // namespace

TEST_CASE("hook_dispatcher.before_node_run_replaces_the_inputs_it_names") {
    Swap* swap = nullptr;
    Run r(hooks_of(swap_hook(swap, "a", kiln::Value::make(10.0))));
    REQUIRE(r.run_both() == "");
    CHECK(r.b() == 11.0);
    CHECK(swap->saw_replacements);
}

TEST_CASE("hook_dispatcher.the_later_hook_wins_a_replaced_input") {
    Swap *first = nullptr, *second = nullptr;
    std::vector<EnabledHook> enabled;
    enabled.push_back(swap_hook(first, "a", kiln::Value::make(10.0)));
    enabled.push_back(swap_hook(second, "a", kiln::Value::make(20.0)));
    Run r(std::move(enabled));
    REQUIRE(r.run_both() == "");
    CHECK(r.b() == 21.0);
}

TEST_CASE("hook_dispatcher.bad_replacements_fail_the_node_naming_hook_node_and_dataset") {
    Swap* swap = nullptr;
    SUBCASE("another type") {
        Run r(hooks_of(swap_hook(swap, "a", kiln::Value::make(std::string("ten")))));
        CHECK(r.run_both() == "node 'inc': hook hd.Swap5 (<built-in hd>) replaced input 'a' in before_node_run with a "
                              "'string' value, but the node reads '" +
                                  std::string(kiln::codec<double>::name) + "'");
    }
    SUBCASE("not an input") {
        Run r(hooks_of(swap_hook(swap, "zz", kiln::Value::make(10.0))));
        CHECK(r.run_both() == "node 'inc': hook hd.Swap5 (<built-in hd>) replaced input 'zz' in before_node_run, but it "
                              "is not an input of the node (its inputs: 'a')");
    }
}

TEST_CASE("hook_dispatcher.a_node_run_elsewhere_refuses_replacements") {
    Swap* swap = nullptr;
    Run r(hooks_of(swap_hook(swap, "a", kiln::Value::make(10.0))));
    std::string error;
    REQUIRE(r.ctx->run_node(0, 0, &error));
    CHECK_FALSE(r.ctx->remote_started(1, 1, &error));
    CHECK(error.find("node 'inc': hook hd.Swap5 (<built-in hd>) replaced input 'a' in before_node_run, but this runner "
                     "runs the node in another process") == 0);
    CHECK(error.find("use SequentialRunner or ThreadRunner") != std::string::npos);
}

TEST_CASE("hook_dispatcher.older_plugins_hear_only_the_points_of_their_minor") {
    Swap *old_hook = nullptr, *new_hook = nullptr;
    std::vector<EnabledHook> enabled;
    enabled.push_back(swap_hook(old_hook, "a", kiln::Value::make(10.0), 4));
    enabled.push_back(swap_hook(new_hook, "a", kiln::Value::make(30.0), 5));
    HookDispatcher unbound(std::move(enabled));
    const kiln::ContextInfo context{};
    CHECK(unbound.after_context_created(context) == "");
    Run r({});
    unbound.bind(r.plan, r.view);
    const kiln::CatalogInfo catalog{};
    CHECK(unbound.after_catalog_created(catalog) == "");
    CHECK(old_hook->contexts == 0);
    CHECK(old_hook->catalogs == 0);
    CHECK(new_hook->contexts == 1);
    CHECK(new_hook->catalogs == 1);

    const NodeEventStream events{&unbound};
    HostRunContext ctx(r.plan, &events, {}, "test.Runner");
    std::string error;
    REQUIRE(ctx.run_node(0, 0, &error));
    REQUIRE(ctx.run_node(1, 0, &error));
    CHECK_FALSE(old_hook->saw_replacements);  // a 1.4 NodeRunInfo has no such field
    CHECK(new_hook->saw_replacements);
    CHECK(r.b() == 31.0);  // only the 1.5 hook's value
}

}  // namespace hook_dispatcher_test_cases
