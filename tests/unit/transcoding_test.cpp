// Transcoding in the pipeline model: "x@json" and "x@text" are one dataset, "x", for
// order, validation, filters and scheduling; each form keeps its own name and type.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "kiln/detail/node_binding.hpp"
#include "kiln/error.hpp"
#include "model/pipeline.hpp"
#include "model/transcoding.hpp"
#include "run/scheduler.hpp"
#include "test_nodes.hpp"

using kiln::PipelineError;
using kiln::core::Node;
using kiln::core::NodeFunction;
using kiln::core::Pipeline;
using kiln::core::Scheduler;
using Names = std::vector<std::string>;

using kiln::test::node;
using kiln::test::names_of;

namespace transcoding_test_cases {

namespace {

const kiln::detail::NodeSpec number_spec = kiln::detail::make_node_spec("number", [] { return 2.0; }, {});
const kiln::detail::NodeSpec neg_spec = kiln::detail::make_node_spec("neg", [](double a) { return -a; }, {});
const kiln::detail::NodeSpec show_spec =
    kiln::detail::make_node_spec("show", [](const std::string& s) { return s + "!"; }, {});
const NodeFunction number_fn{"t.number", "libt.so", &number_spec};
const NodeFunction neg_fn{"t.neg", "libt.so", &neg_spec};
const NodeFunction show_fn{"t.show", "libt.so", &show_spec};

std::string error_of(auto&& f) {
    try {
        f();
    } catch (const PipelineError& e) {
        return e.what();
    }
    return "<no error>";
}

// write: -> x@json;  read_text: x@text -> t;  read_json: x@json -> j;  last: t -> out.
// Declared backwards: only the shared underlying dataset orders read_text after write.
Pipeline transcoded_chain() {
    return Pipeline({node("last", {"t"}, {"out"}), node("read_text", {"x@text"}, {"t"}),
                     node("read_json", {"x@json"}, {"j"}), node("write", {}, {"x@json"})});
}

}  // namespace

TEST_CASE("transcoding.names") {
    using kiln::core::underlying_dataset;
    CHECK(underlying_dataset("x@json") == "x");
    CHECK(underlying_dataset("x") == "x");
    CHECK(kiln::core::is_transcoded("x@json"));
    CHECK_FALSE(kiln::core::is_transcoded("x"));
    CHECK_FALSE(kiln::core::is_transcoded("params:a@b"));  // parameters are values, not datasets
    CHECK(underlying_dataset("params:a@b") == "params:a@b");
    CHECK(kiln::core::transcoding_separators("a@b@c") == 2);
}

TEST_CASE("transcoding.order.reader_of_one_form_after_writer_of_another") {
    Pipeline p = transcoded_chain();
    CHECK(names_of(p) == Names{"write", "read_json", "read_text", "last"});
    CHECK(p.layer_count() == 3);
    const auto json = *p.dataset_id("x@json"), text = *p.dataset_id("x@text");
    CHECK(p.nodes()[p.producer_of(text)].name == "write");  // it writes another form
    CHECK(p.consumers_of(json) == p.consumers_of(text));
    CHECK(p.consumers_of(json).size() == 2);
    CHECK(p.underlying_id(json) == p.underlying_id(text));
    CHECK(p.underlying_id(*p.dataset_id("t")) == *p.dataset_id("t"));
    CHECK(p.has_transcoding());
    CHECK_FALSE(Pipeline({node("a", {}, {"x"})}).has_transcoding());
    CHECK(p.transcoded_forms("x").size() == 2);
    CHECK(p.transcoded_forms("t").empty());
}

TEST_CASE("transcoding.free_inputs_and_outputs_are_by_underlying_dataset") {
    Pipeline p = transcoded_chain();
    // Kedro: x@text is produced (as x@json), x@json is read (as x@text): neither is free.
    CHECK(p.inputs() == Names{});
    CHECK(p.outputs() == Names{"j", "out"});
    Pipeline readers({node("a", {"y@json"}, {"p"}), node("b", {"y@text"}, {"q"})});
    CHECK(readers.inputs() == Names{"y@json", "y@text"});
}

TEST_CASE("transcoding.node_reading_two_forms_is_one_reader") {
    Pipeline p({node("both", {"x@json", "x@text"}, {"y"}), node("write", {}, {"x@json"})});
    CHECK(names_of(p) == Names{"write", "both"});
    CHECK(p.consumers_of(*p.dataset_id("x@json")).size() == 1);
}

TEST_CASE("transcoding.types.forms_may_differ_but_each_form_has_one_type") {
    // write outputs a number as x@json; show reads x@text as a string: that is the point.
    CHECK_NOTHROW(Pipeline({node("show", {"x@text"}, {"s"}, &show_fn), node("write", {}, {"x@json"}, &number_fn)}));
    // The same form still has one type.
    CHECK(error_of([] {
              Pipeline({node("show", {"x@json"}, {"s"}, &show_fn), node("write", {}, {"x@json"}, &number_fn)});
          }) == "Type mismatch on dataset 'x@json': node 'write' (t.number) outputs it as 'f64', but node 'show' "
                "(t.show) reads it as 'string'. A dataset has one type: change one of the two functions, or convert "
                "the value with a node in between.");
    CHECK(error_of([] {
              Pipeline({node("show", {"x@text"}, {"s"}, &show_fn), node("neg", {"x@text"}, {"n"}, &neg_fn),
                        node("write", {}, {"x@json"}, &number_fn)});
          }).starts_with("Type mismatch on dataset 'x@text': node 'show' (t.show) reads it as 'string', but node 'neg' "
                         "(t.neg) reads it as 'f64'."));
}

TEST_CASE("transcoding.errors.plain_and_transcoded_uses") {
    CHECK(error_of([] {
              Pipeline({node("a", {}, {"x@json"}), node("b", {"x"}, {"y"}), node("c", {"x@text"}, {"z"})});
          }) ==
          "These datasets are used with transcoding ('name@format') and also without it:\n"
          "  - 'x', also used as 'x@json', 'x@text'\n"
          "A transcoded dataset is named with its format wherever it is used: add the format to the plain uses, or "
          "give the plain dataset another name.");
}

TEST_CASE("transcoding.errors.two_separators") {
    CHECK(error_of([] { Pipeline({node("a", {}, {"x@json@gz"})}); }) ==
          "A dataset name may contain '@' at most once (it separates a transcoded dataset from its format, as in "
          "'name@format'), but these have more:\n  - 'x@json@gz' (node 'a')");
}

TEST_CASE("transcoding.errors.two_writers_of_one_dataset") {
    CHECK(error_of([] { Pipeline({node("a", {}, {"x@json"}), node("b", {}, {"x@text"})}); }) ==
          "A dataset can be written by only one node, but:\n"
          "  - the transcoded dataset 'x' is written by node 'a' as 'x@json' and node 'b' as 'x@text'\n"
          "The forms 'name@format' of one dataset are that one dataset: let a single node write it, in one form, "
          "and the others read it in theirs.");
    // One node writing two forms writes the dataset twice.
    CHECK(error_of([] { Pipeline({node("a", {}, {"x@json", "x@text"})}); })
              .find("'x' is written by node 'a' as 'x@json' and node 'a' as 'x@text'") != std::string::npos);
    // The same form written twice keeps the plain message.
    CHECK(error_of([] { Pipeline({node("a", {}, {"x@json"}), node("b", {}, {"x@json"})}); })
              .find("'x@json' is an output of nodes 'a' and 'b'") != std::string::npos);
}

TEST_CASE("transcoding.errors.reading_a_form_of_its_own_output") {
    CHECK(error_of([] { Pipeline({node("a", {"x@text"}, {"x@json"})}); }) ==
          "node 'a' reads its own output 'x@text' (a form of its output 'x@json'): a node cannot have the same "
          "dataset as input and output");
}

TEST_CASE("transcoding.errors.cycle_through_forms") {
    const std::string e =
        error_of([] { Pipeline({node("a", {"y@bin"}, {"x@json"}), node("b", {"x@text"}, {"y@csv"})}); });
    CHECK(e.starts_with("The pipeline has a dependency cycle: a -> (x@text) -> b -> (y@bin) -> a"));
}

TEST_CASE("transcoding.filters.from_inputs") {
    Pipeline p = transcoded_chain();
    // The underlying name selects every reader; a form only the nodes naming it.
    CHECK(names_of(p.from_inputs({"x"})) == Names{"read_json", "read_text", "last"});
    CHECK(names_of(p.from_inputs({"x@text"})) == Names{"read_text", "last"});
    CHECK(names_of(p.from_inputs({"x@json"})) == Names{"read_json"});
    CHECK_THROWS_WITH_AS(p.from_inputs({"x@csv"}), doctest::Contains("datasets named ['x@csv']"), PipelineError);
    // Underlying names are suggested too.
    Pipeline scores({node("write", {}, {"scores@json"}), node("read", {"scores@text"}, {"t"})});
    CHECK_THROWS_WITH_AS(scores.from_inputs({"score"}), doctest::Contains("Did you mean: ['scores']?"), PipelineError);
}

TEST_CASE("transcoding.filters.to_outputs") {
    Pipeline p = transcoded_chain();
    CHECK(names_of(p.to_outputs({"x"})) == Names{"write"});
    CHECK(names_of(p.to_outputs({"x@json"})) == Names{"write"});
    // Kedro: no node writes x@text under that name, so it selects nothing.
    CHECK(p.to_outputs({"x@text"}).empty());
    CHECK(names_of(p.to_outputs({"out"})) == Names{"write", "read_text", "last"});
}

TEST_CASE("transcoding.filters.from_nodes_and_to_nodes_follow_the_underlying_dataset") {
    Pipeline p = transcoded_chain();
    CHECK(names_of(p.from_nodes({"write"})) == Names{"write", "read_json", "read_text", "last"});
    CHECK(names_of(p.to_nodes({"last"})) == Names{"write", "read_text", "last"});
    CHECK(names_of(p.to_nodes({"read_text"})) == Names{"write", "read_text"});
}

TEST_CASE("transcoding.scheduler.reader_waits_for_the_writer") {
    Pipeline p({node("both", {"x@json", "x@text"}, {"y"}), node("text", {"x@text"}, {"z"}),
                node("write", {}, {"x@json"})});
    Scheduler s(p, {}, false);
    auto name = [&](std::optional<std::size_t> i) { return i ? p.nodes()[*i].name : std::string(); };
    CHECK(name(s.next()) == "write");
    CHECK(name(s.next()).empty());
    s.succeeded(*p.node_index("write"));
    CHECK(name(s.next()) == "both");
    CHECK(name(s.next()) == "text");
    CHECK(name(s.next()).empty());
}

}  // namespace transcoding_test_cases
