// The pipeline model: Kedro's order and layers, validation messages, filters.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "kiln/detail/node_binding.hpp"
#include "kiln/error.hpp"
#include "model/pipeline.hpp"
#include "test_nodes.hpp"

using kiln::PipelineError;
using kiln::core::close_matches;
using kiln::core::Node;
using kiln::core::NodeFunction;
using kiln::core::Pipeline;
using kiln::core::PipelineFilter;
using Names = std::vector<std::string>;

using kiln::test::node;
using kiln::test::names_of;

namespace pipeline_test_cases {

namespace {

// Real node functions, as a plugin would register them.
const kiln::detail::NodeSpec add_spec = kiln::detail::make_node_spec("add", [](double a, double b) { return a + b; }, {});
const kiln::detail::NodeSpec neg_spec = kiln::detail::make_node_spec("neg", [](double a) { return -a; }, {});
const kiln::detail::NodeSpec show_spec =
    kiln::detail::make_node_spec("show", [](const std::string& s) { return s + "!"; }, {});
const kiln::detail::NodeSpec len_spec =
    kiln::detail::make_node_spec("len", [](const std::string& s) { return static_cast<double>(s.size()); }, {});
const NodeFunction add_fn{"t.add", "libt.so", &add_spec};
const NodeFunction neg_fn{"t.neg", "libt.so", &neg_spec};
const NodeFunction show_fn{"t.show", "libt.so", &show_spec};
const NodeFunction len_fn{"t.len", "libt.so", &len_spec};

// Kedro's order example: n1:a->b, n2:b->c, n3:a->d, n4:c,d->e (declared shuffled).
Pipeline kedro_example() {
    return Pipeline({node("n4", {"c", "d"}, {"e"}), node("n2", {"b"}, {"c"}), node("n1", {"a"}, {"b"}),
                     node("n3", {"a"}, {"d"})});
}

// a -> n1 -> b -> n2 -> c;  x -> n3 -> y;  n4 reads c and y.  Tags and namespaces for filters.
Pipeline filter_example() {
    return Pipeline({node("n1", {"a"}, {"b"}, nullptr, {"prep"}, "ns"), node("n2", {"b"}, {"c"}, nullptr, {"prep", "x"}),
                     node("n3", {"x"}, {"y"}, nullptr, {"other"}, "ns.inner"), node("n4", {"c", "y"}, {"z"})});
}

std::string error_of(auto&& f) {
    try {
        f();
    } catch (const PipelineError& e) {
        return e.what();
    }
    return "<no error>";
}

}  // namespace

TEST_CASE("pipeline.toposort.kedro_order") {
    Pipeline p = kedro_example();
    CHECK(names_of(p) == Names{"n1", "n3", "n2", "n4"});
}

TEST_CASE("pipeline.toposort.layers") {
    Pipeline p = kedro_example();
    REQUIRE(p.layer_count() == 3);
    CHECK(p.layer_starts() == std::vector<std::size_t>{0, 2, 3, 4});  // {n1, n3}, {n2}, {n4}
    CHECK(Pipeline().layer_count() == 0);
    CHECK(Pipeline(std::vector<Node>{}).layer_count() == 0);
}

TEST_CASE("pipeline.toposort.by_full_name_within_a_layer") {
    Pipeline p({node("b", {"i"}, {"o1"}), node("z", {"i"}, {"o2"}, nullptr, {}, "a"), node("a", {"i"}, {"o3"})});
    CHECK(names_of(p) == Names{"a", "a.z", "b"});
    CHECK(p.layer_count() == 1);
}

TEST_CASE("pipeline.datasets.interned") {
    Pipeline p = kedro_example();
    Names datasets = p.dataset_names();
    std::sort(datasets.begin(), datasets.end());
    CHECK(datasets == Names{"a", "b", "c", "d", "e"});
    REQUIRE(p.dataset_id("c"));
    const auto c = *p.dataset_id("c");
    CHECK(p.dataset_names()[c] == "c");
    CHECK_FALSE(p.dataset_id("nope"));
    CHECK(p.nodes()[p.producer_of(c)].name == "n2");
    const auto a = *p.dataset_id("a");
    CHECK(p.producer_of(a) == Pipeline::npos);
    CHECK(p.consumers_of(a) == std::vector<std::size_t>{0, 1});  // n1, n3: ascending
    const Node& n4 = p.nodes()[*p.node_index("n4")];
    CHECK(n4.name == "n4");
    CHECK(n4.input_ids == std::vector<std::uint32_t>{*p.dataset_id("c"), *p.dataset_id("d")});
    CHECK(n4.output_ids == std::vector<std::uint32_t>{*p.dataset_id("e")});
    CHECK_FALSE(p.node_index("n5"));
}

TEST_CASE("pipeline.datasets.read_twice_by_one_node") {
    Pipeline p({node("sq", {"a", "a"}, {"b"}, &add_fn), node("src", {}, {"a"})});
    CHECK(names_of(p) == Names{"src", "sq"});
    CHECK(p.consumers_of(*p.dataset_id("a")).size() == 1);
}

TEST_CASE("pipeline.free_inputs_and_outputs") {
    Pipeline p = kedro_example();
    CHECK(p.inputs() == Names{"a"});
    CHECK(p.outputs() == Names{"e"});
    CHECK(p.is_free_input(*p.dataset_id("a")));
    CHECK(p.is_free_output(*p.dataset_id("e")));
    CHECK_FALSE(p.is_free_output(*p.dataset_id("b")));
    Pipeline q({node("sink", {"x", "params:k"}, {}), node("src", {}, {"y"})});
    CHECK(q.inputs() == Names{"params:k", "x"});
    CHECK(q.outputs() == Names{"y"});
}

TEST_CASE("pipeline.node.describe") {
    CHECK(node("n", {"a", "b"}, {"c"}, &add_fn).describe() == "n: t.add([a;b]) -> [c]");
    CHECK(node("n", {"a"}, {}, &neg_fn).describe() == "n: t.neg([a]) -> None");
    CHECK(node("n", {}, {"x", "y"}).describe() == "n: <unbound>(None) -> [x;y]");
}

TEST_CASE("pipeline.node.tags_sorted_unique") {
    Pipeline p({node("n", {"a"}, {"b"}, nullptr, {"z", "a", "z"})});
    CHECK(p.nodes()[0].tags == Names{"a", "z"});
}

TEST_CASE("pipeline.errors.duplicate_names") {
    Node first = node("x", {"a"}, {"b"});
    first.origin = "p.json: pipeline 'one'";
    Node second = node("x", {"b"}, {"c"});
    second.origin = "p.json: pipeline 'two'";
    const std::string msg = error_of([&] { Pipeline({first, second, node("y", {}, {"q"}), node("y", {}, {"r"})}); });
    CHECK(msg.find("unique names") != std::string::npos);
    CHECK(msg.find("'x' (2 nodes, declared in p.json: pipeline 'one'; p.json: pipeline 'two')") != std::string::npos);
    CHECK(msg.find("'y' (2 nodes)") != std::string::npos);
    CHECK(msg.find("distinct \"name\"") != std::string::npos);
}

TEST_CASE("pipeline.errors.dataset_with_two_producers") {
    CHECK_THROWS_WITH_AS(Pipeline({node("p1", {"a"}, {"out"}), node("p2", {"b"}, {"out"})}),
                         doctest::Contains("'out' is an output of nodes 'p1' and 'p2'"), PipelineError);
    CHECK_THROWS_WITH_AS(Pipeline({node("p1", {"a"}, {"out", "out"})}),
                         doctest::Contains("node 'p1' lists the output 'out' more than once"), PipelineError);
}

TEST_CASE("pipeline.errors.reads_own_output") {
    CHECK_THROWS_WITH_AS(Pipeline({node("loop", {"a", "b"}, {"b"})}),
                         doctest::Contains("node 'loop' reads its own output 'b'"), PipelineError);
}

TEST_CASE("pipeline.errors.cycle_is_printed") {
    // c -> x -> a -> y -> b -> z -> c, plus d downstream of the cycle and e outside it.
    const std::string msg = error_of([] {
        Pipeline({node("b", {"y"}, {"z"}), node("a", {"x", "in"}, {"y"}), node("c", {"z"}, {"x"}),
                  node("d", {"x"}, {"w"}), node("e", {"in"}, {"v"})});
    });
    CHECK(msg.find("a -> (y) -> b -> (z) -> c -> (x) -> a") != std::string::npos);
    CHECK(msg.find("4 nodes are in or downstream of a cycle") != std::string::npos);
}

TEST_CASE("pipeline.errors.invalid_names_and_tags") {
    CHECK_THROWS_WITH_AS(Pipeline({node("my node", {"a"}, {"b"})}),
                         doctest::Contains("'my node' is not a valid node name"), PipelineError);
    CHECK_THROWS_WITH_AS(Pipeline({node("", {"a"}, {"b"})}), doctest::Contains("only letters, digits"),
                         PipelineError);
    CHECK_THROWS_WITH_AS(Pipeline({node("n", {"a"}, {"b"}, nullptr, {"bad tag"})}),
                         doctest::Contains("node 'n' has the tag 'bad tag', which is not a valid tag"),
                         PipelineError);
    CHECK_NOTHROW(Pipeline({node("ok.name-1_x", {"a"}, {"b"}, nullptr, {"t.1-x_y"})}));
}

TEST_CASE("pipeline.types.producer_and_consumer_must_agree") {
    // show returns a string; neg reads a double.
    CHECK_THROWS_WITH_AS(Pipeline({node("make", {"s"}, {"x"}, &show_fn), node("use", {"x"}, {"y"}, &neg_fn)}),
                         doctest::Contains("Type mismatch on dataset 'x': node 'make' (t.show) outputs it as "
                                           "'string', but node 'use' (t.neg) reads it as 'f64'"),
                         PipelineError);
    CHECK_NOTHROW(Pipeline({node("make", {"s"}, {"x"}, &len_fn), node("use", {"x"}, {"y"}, &neg_fn)}));
}

TEST_CASE("pipeline.types.free_input_read_as_two_types") {
    CHECK_THROWS_WITH_AS(Pipeline({node("r1", {"raw"}, {"a"}, &neg_fn), node("r2", {"raw"}, {"b"}, &show_fn)}),
                         doctest::Contains("free input 'raw': node 'r1' (t.neg) reads it as 'f64', but node "
                                           "'r2' (t.show) reads it as 'string'"),
                         PipelineError);
}

TEST_CASE("pipeline.types.parameters_may_be_read_as_any_type") {
    CHECK_NOTHROW(Pipeline({node("r1", {"params:k"}, {"a"}, &neg_fn), node("r2", {"params:k"}, {"b"}, &show_fn),
                            node("r3", {"parameters"}, {"c"}, &neg_fn), node("r4", {"parameters"}, {"d"}, &show_fn)}));
}

TEST_CASE("pipeline.types.unbound_nodes_are_not_checked") {
    CHECK_NOTHROW(Pipeline({node("make", {"s"}, {"x"}, &show_fn), node("use", {"x"}, {"y"})}));
    CHECK_NOTHROW(Pipeline({node("make", {"s"}, {"x"}), node("use", {"x", "q", "r"}, {"y"})}));
}

TEST_CASE("pipeline.types.arity") {
    CHECK_THROWS_WITH_AS(Pipeline({node("n", {"a"}, {"b"}, &add_fn)}),
                         doctest::Contains("node 'n' (t.add) takes 2 inputs (f64, f64) but 1 is given"),
                         PipelineError);
    CHECK_THROWS_WITH_AS(Pipeline({node("n", {"a"}, {"b", "c"}, &neg_fn)}),
                         doctest::Contains("node 'n' (t.neg) returns 1 output (f64) but 2 are given"),
                         PipelineError);
}

TEST_CASE("pipeline.filters.only_nodes") {
    Pipeline p = filter_example();
    CHECK(names_of(p.only_nodes({"n2", "ns.inner.n3"})) == Names{"n2", "ns.inner.n3"});
    CHECK_THROWS_WITH_AS(p.only_nodes({"n1"}),
                         doctest::Contains("Pipeline does not contain nodes named ['n1']. Did you mean: ['ns.n1']?"),
                         PipelineError);
    CHECK_THROWS_WITH_AS(p.only_nodes({"n9", "qqqq"}), doctest::Contains("nodes named ['n9', 'qqqq']"), PipelineError);
}

TEST_CASE("pipeline.filters.from_nodes_and_to_nodes") {
    Pipeline p = filter_example();
    CHECK(names_of(p.from_nodes({"n2"})) == Names{"n2", "n4"});
    CHECK(names_of(p.from_nodes({"ns.n1", "ns.inner.n3"})) == Names{"ns.inner.n3", "ns.n1", "n2", "n4"});
    CHECK(names_of(p.to_nodes({"n2"})) == Names{"ns.n1", "n2"});
    CHECK(names_of(p.to_nodes({"n4"})) == names_of(p));
    CHECK_THROWS_WITH_AS(p.to_nodes({"n22"}), doctest::Contains("nodes named ['n22']"), PipelineError);
}

TEST_CASE("pipeline.filters.from_inputs_and_to_outputs") {
    Pipeline p = filter_example();
    CHECK(names_of(p.from_inputs({"b"})) == Names{"n2", "n4"});
    CHECK(names_of(p.from_inputs({"x"})) == Names{"ns.inner.n3", "n4"});
    CHECK(names_of(p.to_outputs({"c"})) == Names{"ns.n1", "n2"});
    CHECK(names_of(p.to_outputs({"y", "b"})) == Names{"ns.inner.n3", "ns.n1"});
    // A free input has no producer and a free output no reader: they select nothing.
    CHECK(p.to_outputs({"a"}).empty());
    CHECK(p.from_inputs({"z"}).empty());
    CHECK_THROWS_WITH_AS(p.from_inputs({"cc"}), doctest::Contains("Pipeline does not contain datasets named ['cc']"),
                         PipelineError);
    Pipeline words({node("count", {"words"}, {"counts"})});
    CHECK_THROWS_WITH_AS(words.to_outputs({"count"}), doctest::Contains("named ['count']. Did you mean: ['counts']?"),
                         PipelineError);
}

TEST_CASE("pipeline.filters.tags") {
    Pipeline p = filter_example();
    CHECK(names_of(p.only_nodes_with_tags({"prep"})) == Names{"ns.n1", "n2"});
    // Both are first in the sub-pipeline, which orders them by name.
    CHECK(names_of(p.only_nodes_with_tags({"x", "other"})) == Names{"n2", "ns.inner.n3"});
    CHECK(p.only_nodes_with_tags({"none"}).empty());
}

TEST_CASE("pipeline.filters.namespaces") {
    Pipeline p = filter_example();
    CHECK(names_of(p.only_nodes_with_namespaces({"ns"})) == Names{"ns.inner.n3", "ns.n1"});
    CHECK(names_of(p.only_nodes_with_namespaces({"ns.inner"})) == Names{"ns.inner.n3"});
    CHECK_THROWS_WITH_AS(p.only_nodes_with_namespaces({"n"}),
                         doctest::Contains("does not contain nodes with the following namespaces: ['n']"),
                         PipelineError);
    CHECK_THROWS_WITH_AS(p.only_nodes_with_namespaces({"inner"}), doctest::Contains("Did you mean: ['ns.inner']?"),
                         PipelineError);
}

TEST_CASE("pipeline.filters.filter_intersects") {
    Pipeline p = filter_example();
    CHECK(PipelineFilter{}.empty());
    CHECK(names_of(p.filter({})) == names_of(p));
    PipelineFilter f;
    f.from_nodes = {"ns.n1"};
    f.to_nodes = {"n4"};
    f.tags = {"prep"};
    CHECK_FALSE(f.empty());
    CHECK(names_of(p.filter(f)) == Names{"ns.n1", "n2"});
    f.namespaces = {"ns"};
    CHECK(names_of(p.filter(f)) == Names{"ns.n1"});

    PipelineFilter none;
    none.from_inputs = {"x"};
    none.to_outputs = {"c"};
    CHECK_THROWS_WITH_AS(p.filter(none),
                         doctest::Contains("Pipeline contains no nodes after applying all provided filters (from_inputs=['x'], "
                                           "to_outputs=['c'])"),
                         PipelineError);
    CHECK_THROWS_WITH_AS(Pipeline().filter({}), doctest::Contains("The pipeline has no nodes"), PipelineError);
    PipelineFilter unknown;
    unknown.node_names = {"zz"};
    CHECK_THROWS_WITH_AS(p.filter(unknown), doctest::Contains("nodes named ['zz']"), PipelineError);
}

TEST_CASE("pipeline.subset_and_union") {
    Pipeline p = kedro_example();
    Pipeline s = p.subset({3, 0, 0});
    CHECK(names_of(s) == Names{"n1", "n4"});
    CHECK(s.inputs() == Names{"a", "c", "d"});
    CHECK_THROWS_AS(p.subset({7}), PipelineError);

    Pipeline left({node("n1", {"a"}, {"b"}), node("n2", {"b"}, {"c"})});
    Pipeline right({node("n2", {"b"}, {"c"}), node("n3", {"c"}, {"d"})});
    Pipeline both = left + right;
    CHECK(names_of(both) == Names{"n1", "n2", "n3"});
    CHECK(both.layer_count() == 3);
    Pipeline clash({node("n2", {"q"}, {"r"})});
    CHECK_THROWS_WITH_AS(left + clash, doctest::Contains("'n2' (2 nodes)"), PipelineError);
}

TEST_CASE("pipeline.close_matches") {
    const Names known = {"tokenize", "count_words", "report", "ns.clean", "a.b.clean", "x", "y"};
    CHECK(close_matches("tokenise", known) == Names{"tokenize"});
    CHECK(close_matches("count_word", known) == Names{"count_words"});
    CHECK(close_matches("clean", known) == Names{"a.b.clean", "ns.clean"});  // namespace matches first
    CHECK(close_matches("other.clean", Names{"clean"}) == Names{"clean"});
    CHECK(close_matches("Report", known) == Names{"report"});
    CHECK(close_matches("zebra", known).empty());
    CHECK(close_matches("q", known).empty());  // one letter changed is all of it
    CHECK(close_matches("tokenise", Names{"wc.tokenize"}) == Names{"wc.tokenize"});
    CHECK(close_matches("abcd", Names{"abce", "abcf", "abcg", "abch"}).size() == 3);
    CHECK(close_matches("", known).empty());
}

TEST_CASE("pipeline.scale.chain_of_100k_nodes") {
    constexpr std::size_t n = 100'000;
    std::vector<Node> nodes;
    nodes.reserve(n);
    for (std::size_t i = n; i-- > 0;)  // declared backwards: the sort must do the work
        nodes.push_back(node("n" + std::to_string(i), {"d" + std::to_string(i)}, {"d" + std::to_string(i + 1)},
                             &neg_fn));
    Pipeline p(std::move(nodes));
    REQUIRE(p.size() == n);
    CHECK(p.layer_count() == n);
    bool ordered = true;
    for (std::size_t i = 0; i < n; ++i) ordered = ordered && p.nodes()[i].name == "n" + std::to_string(i);
    CHECK(ordered);
    CHECK(p.inputs() == Names{"d0"});
    CHECK(p.outputs() == Names{"d" + std::to_string(n)});
    CHECK(p.from_nodes({"n99990"}).size() == 10);
    CHECK(p.to_nodes({"n9"}).size() == 10);
    PipelineFilter window;
    window.from_nodes = {"n10"};
    window.to_nodes = {"n19"};
    CHECK(p.filter(window).size() == 10);
}

TEST_CASE("pipeline.scale.fan_out_of_100k_nodes") {
    constexpr std::size_t n = 100'000;
    std::vector<Node> nodes;
    nodes.reserve(n + 1);
    nodes.push_back(node("src", {"in"}, {"x"}, &neg_fn));
    for (std::size_t i = 0; i < n; ++i)
        nodes.push_back(node("r" + std::to_string(i), {"x"}, {"o" + std::to_string(i)}, &neg_fn));
    Pipeline p(std::move(nodes));
    CHECK(p.layer_count() == 2);
    CHECK(p.consumers_of(*p.dataset_id("x")).size() == n);
    CHECK(p.from_inputs({"x"}).size() == n);
    CHECK(p.to_outputs({"o5"}).size() == 2);
}

}  // namespace pipeline_test_cases
