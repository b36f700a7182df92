// Run plans and the SequentialRunner on pipelines of in-process node functions, with real
// JSON datasets on disk.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "builtin_runners.hpp"
#include "json_dataset.hpp"
#include "kiln/file_io.hpp"
#include "kiln/sdk.hpp"
#include "plugins/registry.hpp"
#include "run/node_event_stream.hpp"
#include "run/run_plan.hpp"
#include "run/run_selection.hpp"
#include "test_nodes.hpp"
#include "test_support.hpp"

using namespace kiln::core;
using kiln::test::error_of;
using kiln::test::TempDir;

namespace runner_test_cases {

namespace {

// A registry with a few functions and the JSON dataset type.
Registry& test_registry() {
    static Registry* r = [] {
        auto* reg = new Registry();
        reg->add_builtin("t", "1", [](kiln::Registrar& g) {
            g.node("f1", [](double a) { return a + 1; });
            g.node("f2", [](double a, double b) { return a + b; });
            g.node("src", [] { return 10.0; });
            g.node("sink", [](double) {});
            g.node("boom", [](double) -> double { throw std::runtime_error("kaboom"); });
            g.node("scale", [](double a, std::int64_t k) { return a * static_cast<double>(k); });
            g.node("scale_f", [](double a, double k) { return a * k; });
            g.dataset<kiln::datasets::JsonDataset>("JsonDataset");
        });
        return reg;
    }();
    return *r;
}

Node node(const std::string& name, const std::string& func, std::vector<std::string> in, std::vector<std::string> out) {
    return kiln::test::make_node(test_registry(), name, "t." + func, std::move(in), std::move(out));
}

struct Fixture {
    TempDir dir;
    std::map<std::string, CatalogEntry> entries;
    nlohmann::json params = nlohmann::json::object();

    void persist(const std::string& name) {
        entries[name] = CatalogEntry{name, "t.JsonDataset", {{"filepath", name + ".json"}}};
    }
    DataCatalog catalog() { return DataCatalog(entries, Parameters(params), dir.path(), test_registry()); }
};

std::vector<std::string> names_of(const Pipeline& p, const std::vector<std::size_t>& idx) {
    std::vector<std::string> out;
    for (auto i : idx) out.push_back(p.nodes()[i].name);
    return out;
}

}  // namespace

TEST_CASE("runner.sequential.runs_in_kedro_order_and_returns_free_outputs") {
    Fixture fx;
    fx.persist("a");
    kiln::write_file_atomic(fx.dir / "a.json", std::string("2"));
    // n1:a->b, n2:b->c, n3:a->d, n4:c,d->e: Kedro runs n1, n3, n2, n4.
    Pipeline p({node("n4", "f2", {"c", "d"}, {"e"}), node("n2", "f1", {"b"}, {"c"}), node("n1", "f1", {"a"}, {"b"}),
                node("n3", "f1", {"a"}, {"d"})});
    auto catalog = fx.catalog();
    RunPlan plan(p, catalog, "run-1");
    struct Order : NodeObserver {
        std::vector<std::string> started;
        const Pipeline* p;
        unsigned listens_to() const noexcept override { return node_progress; }
        void node_started(std::size_t i, unsigned) override { started.push_back(p->nodes()[i].name); }
        void node_finished(std::size_t, unsigned, const NodeFailure*) override {}
    } order;
    order.p = &p;
    auto runner = kiln::runners::make_sequential_runner({});
    const NodeEventStream events{&order};
    auto outcome = runner->run(plan, &events);
    CHECK(outcome.ok());
    CHECK(order.started == std::vector<std::string>{"n1", "n3", "n2", "n4"});
    auto outs = plan.free_outputs();
    REQUIRE(outs.size() == 1);
    CHECK(outs[0].name == "e");
    CHECK(outs[0].value.get<double>() == 7.0);  // (2+1+1) + (2+1)
    // Intermediates b, c, d were released after their last reader; e stays.
    CHECK(plan.live_values() == 1);
}

TEST_CASE("runner.sequential.failure_stops_and_keeps_persisted_outputs") {
    Fixture fx;
    fx.persist("b");
    Pipeline p({node("first", "src", {}, {"b"}), node("second", "boom", {"b"}, {"c"}), node("third", "f1", {"c"}, {"d"})});
    auto catalog = fx.catalog();
    RunPlan plan(p, catalog, "run-1");
    auto outcome = kiln::runners::make_sequential_runner({})->run(plan, nullptr);
    REQUIRE_FALSE(outcome.ok());
    REQUIRE(outcome.failures.size() == 1);
    CHECK(p.nodes()[outcome.failures[0].node].name == "second");
    CHECK(outcome.failures[0].message.find("node 'second' (t.boom) failed: kaboom") != std::string::npos);
    CHECK(outcome.done == std::vector<char>{1, 0, 0});
    CHECK(kiln::test::read_text(fx.dir / "b.json") == "10.0\n");
}

TEST_CASE("runner.plan.missing_inputs_are_listed_with_readers") {
    Fixture fx;
    Pipeline p({node("n1", "f1", {"raw"}, {"b"}), node("n2", "f2", {"b", "other"}, {"c"}), node("n3", "f1", {"raw"}, {"d"})});
    auto catalog = fx.catalog();
    auto msg = error_of([&] { RunPlan plan(p, catalog, "r"); });
    CHECK(msg.find("pipeline input(s) not found in the catalog") != std::string::npos);
    CHECK(msg.find("'raw' (read by 'n1', 'n3')") != std::string::npos);
    CHECK(msg.find("'other' (read by 'n2')") != std::string::npos);
}

TEST_CASE("runner.plan.parameters_convert_per_reader_type") {
    Fixture fx;
    fx.params = {{"k", 3}};
    Pipeline p({node("a", "src", {}, {"x"}), node("int_scale", "scale", {"x", "params:k"}, {"y"}),
                node("float_scale", "scale_f", {"x", "params:k"}, {"z"})});
    auto catalog = fx.catalog();
    RunPlan plan(p, catalog, "r");
    CHECK(kiln::runners::make_sequential_runner({})->run(plan, nullptr).ok());
    auto outs = plan.free_outputs();
    REQUIRE(outs.size() == 2);
    CHECK(outs[0].value.get<double>() == 30.0);
    CHECK(outs[1].value.get<double>() == 30.0);

    fx.params = {{"k", "three"}};
    auto bad = fx.catalog();
    auto msg = error_of([&] { RunPlan plan2(p, bad, "r"); });
    CHECK(msg.find("parameter 'params:k' = \"three\" cannot be read as 'i64'") != std::string::npos);
}

TEST_CASE("runner.plan.persisted_value_of_wrong_type_is_reported") {
    Fixture fx;
    fx.persist("a");
    kiln::write_file_atomic(fx.dir / "a.json", std::string("\"not a number\""));
    Pipeline p({node("n1", "f1", {"a"}, {"b"})});
    auto catalog = fx.catalog();
    RunPlan plan(p, catalog, "r");
    auto outcome = kiln::runners::make_sequential_runner({})->run(plan, nullptr);
    REQUIRE_FALSE(outcome.ok());
    CHECK(outcome.failures[0].message.find("node 'n1'") != std::string::npos);
    CHECK(outcome.failures[0].message.find("dataset 'a'") != std::string::npos);
}

TEST_CASE("runner.only_missing_outputs.kedro_example") {
    // a -> n1 -> b (persisted, exists) -> n2 -> c (memory) -> n4 -> e (persisted, missing);
    // n3: a -> d (memory) -> n4; n6: b -> nothing. Kedro skips n1 and runs n2, n3, n6, n4.
    Fixture fx;
    fx.persist("a");
    fx.persist("b");
    fx.persist("e");
    kiln::write_file_atomic(fx.dir / "a.json", std::string("1"));
    kiln::write_file_atomic(fx.dir / "b.json", std::string("2"));
    Pipeline p({node("n1", "f1", {"a"}, {"b"}), node("n2", "f1", {"b"}, {"c"}), node("n3", "f1", {"a"}, {"d"}),
                node("n4", "f2", {"c", "d"}, {"e"}), node("n6", "sink", {"b"}, {})});
    auto catalog = fx.catalog();
    std::vector<std::string> skipped;
    auto selected = select_missing_outputs(p, catalog, "r", skipped);
    auto names = names_of(p, selected);
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"n2", "n3", "n4", "n6"});
    CHECK(skipped == std::vector<std::string>{"n1"});

    // Once e exists, only the output-less n6 still runs.
    kiln::write_file_atomic(fx.dir / "e.json", std::string("5"));
    skipped.clear();
    auto catalog2 = fx.catalog();
    CHECK(names_of(p, select_missing_outputs(p, catalog2, "r", skipped)) == std::vector<std::string>{"n6"});
}

TEST_CASE("runner.resume.suggestion_and_exact_set") {
    // a(persisted) -> n1 -> b(memory) -> n2 -> c(persisted) -> n3 -> d(memory) -> n4 -> e
    Fixture fx;
    fx.persist("a");
    fx.persist("c");
    kiln::write_file_atomic(fx.dir / "a.json", std::string("1"));
    Pipeline p({node("n1", "f1", {"a"}, {"b"}), node("n2", "f1", {"b"}, {"c"}), node("n3", "f1", {"c"}, {"d"}),
                node("n4", "f1", {"d"}, {"e"})});
    auto catalog = fx.catalog();
    // n4 failed after n1..n3 ran: its input d was in memory, so resume from n3 (c is persisted).
    std::vector<char> done{1, 1, 1, 0};
    kiln::write_file_atomic(fx.dir / "c.json", std::string("3"));
    CHECK(suggest_resume_nodes(p, done, catalog) == std::vector<std::string>{"n3"});
    CHECK(names_of(p, nodes_to_resume(p, done, catalog, "r")) == std::vector<std::string>{"n3", "n4"});
    // n2 failed: b lived in memory, so n1 must run again.
    done = {1, 0, 0, 0};
    CHECK(suggest_resume_nodes(p, done, catalog) == std::vector<std::string>{"n1"});
    CHECK(names_of(p, nodes_to_resume(p, done, catalog, "r")) == std::vector<std::string>{"n1", "n2", "n3", "n4"});
    // Nothing ran: no suggestion.
    done = {0, 0, 0, 0};
    CHECK(suggest_resume_nodes(p, done, catalog).empty());
    // A persisted output deleted since is produced again by the exact resume.
    done = {1, 1, 1, 0};
    std::filesystem::remove(fx.dir / "c.json");
    auto catalog2 = fx.catalog();
    CHECK(names_of(p, nodes_to_resume(p, done, catalog2, "r")) == std::vector<std::string>{"n1", "n2", "n3", "n4"});
}

}  // namespace runner_test_cases
