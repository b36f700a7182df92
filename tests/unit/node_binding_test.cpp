// How plain C++ functions become node specs: derived input/output types and invoke().
#include <doctest/doctest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <kiln/detail/node_binding.hpp>

namespace node_binding_test_cases {

namespace {

double add(double a, double b) { return a + b; }
std::int64_t count_words(const std::vector<std::string>& words) { return static_cast<std::int64_t>(words.size()); }
std::tuple<double, std::string> split(const std::string& s, std::int32_t n) { return {n * 0.5, s + "!"}; }
void sink(const std::string&) {}
std::vector<double> make_range() { return {0, 1, 2}; }
double checked_sqrt(double x) {
    if (x < 0) throw std::domain_error("negative input " + std::to_string(x));
    return x;
}
double noexcept_twice(double x) noexcept { return 2 * x; }

std::vector<std::string> names(const std::vector<const kiln::TypeOps*>& types) {
    std::vector<std::string> out;
    for (const auto* t : types) out.emplace_back(t->name);
    return out;
}

// Calls spec.invoke with the given inputs; returns the outputs, or throws with the error.
std::vector<kiln::Value> call(const kiln::detail::NodeSpec& spec, std::vector<kiln::Value> inputs) {
    std::vector<kiln::Value> outputs(spec.outputs.size());
    std::string error;
    if (!spec.invoke(spec.callable.get(), inputs.data(), outputs.data(), &error)) throw std::runtime_error(error);
    return outputs;
}

}  // namespace

TEST_CASE("node_binding.free_function") {
    auto spec = kiln::detail::make_node_spec("add", &add, {});
    CHECK(spec.name == "add");
    CHECK(names(spec.inputs) == std::vector<std::string>{"f64", "f64"});
    CHECK(names(spec.outputs) == std::vector<std::string>{"f64"});
    auto out = call(spec, {kiln::Value::make(1.5), kiln::Value::make(2.0)});
    REQUIRE(out.size() == 1);
    CHECK(out[0].get<double>() == 3.5);
    CHECK(out[0].type() == &kiln::type_ops<double>());
}

TEST_CASE("node_binding.function_by_name_and_noexcept") {
    auto spec = kiln::detail::make_node_spec("count", count_words, {});  // decays to a pointer
    CHECK(names(spec.inputs) == std::vector<std::string>{"vector<string>"});
    CHECK(names(spec.outputs) == std::vector<std::string>{"i64"});
    auto out = call(spec, {kiln::Value::make(std::vector<std::string>{"a", "b", "c"})});
    CHECK(out[0].get<std::int64_t>() == 3);

    auto twice = kiln::detail::make_node_spec("twice", &noexcept_twice, {});
    CHECK(names(twice.inputs) == std::vector<std::string>{"f64"});
    CHECK(call(twice, {kiln::Value::make(4.0)})[0].get<double>() == 8.0);
}

TEST_CASE("node_binding.lambda") {
    double factor = 3;  // captured: the spec owns a copy of the lambda
    auto scale = [factor](const std::vector<double>& v) {
        std::vector<double> r;
        for (double x : v) r.push_back(x * factor);
        return r;
    };
    auto spec = kiln::detail::make_node_spec("scale", scale, {.args = {"values"}, .doc = "scales"});
    factor = 100;
    CHECK(names(spec.inputs) == std::vector<std::string>{"vector<f64>"});
    CHECK(names(spec.outputs) == std::vector<std::string>{"vector<f64>"});
    CHECK(spec.options.args == std::vector<std::string>{"values"});
    CHECK(spec.options.doc == "scales");
    auto out = call(spec, {kiln::Value::make(std::vector<double>{1, 2})});
    CHECK(out[0].get<std::vector<double>>() == std::vector<double>{3, 6});

    auto noexcept_lambda = kiln::detail::make_node_spec("neg", [](std::int32_t x) noexcept { return -x; }, {});
    CHECK(names(noexcept_lambda.outputs) == std::vector<std::string>{"i32"});
    CHECK(call(noexcept_lambda, {kiln::Value::make(std::int32_t{5})})[0].get<std::int32_t>() == -5);
}

TEST_CASE("node_binding.tuple_return") {
    auto spec = kiln::detail::make_node_spec("split", &split, {});
    CHECK(names(spec.inputs) == std::vector<std::string>{"string", "i32"});
    CHECK(names(spec.outputs) == std::vector<std::string>{"f64", "string"});
    auto out = call(spec, {kiln::Value::make(std::string("hi")), kiln::Value::make(std::int32_t{3})});
    REQUIRE(out.size() == 2);
    CHECK(out[0].get<double>() == 1.5);
    CHECK(out[1].get<std::string>() == "hi!");
}

TEST_CASE("node_binding.void_return") {
    auto spec = kiln::detail::make_node_spec("sink", &sink, {});
    CHECK(names(spec.inputs) == std::vector<std::string>{"string"});
    CHECK(spec.outputs.empty());
    CHECK(call(spec, {kiln::Value::make(std::string("x"))}).empty());

    auto lambda = kiln::detail::make_node_spec("noop", [] {}, {});
    CHECK(lambda.inputs.empty());
    CHECK(lambda.outputs.empty());
    CHECK(call(lambda, {}).empty());
}

TEST_CASE("node_binding.no_inputs") {
    auto spec = kiln::detail::make_node_spec("range", &make_range, {});
    CHECK(spec.inputs.empty());
    CHECK(names(spec.outputs) == std::vector<std::string>{"vector<f64>"});
    CHECK(call(spec, {})[0].get<std::vector<double>>() == std::vector<double>{0, 1, 2});

    auto json = kiln::detail::make_node_spec("config", [] { return nlohmann::json{{"k", 1}}; }, {});
    CHECK(names(json.outputs) == std::vector<std::string>{"json"});
    CHECK(call(json, {})[0].get<nlohmann::json>()["k"] == 1);
}

TEST_CASE("node_binding.const_ref_reads_in_place") {
    // A const reference parameter sees the shared object itself: no copy.
    auto address = [](const std::vector<double>& v) {
        return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(&v));
    };
    auto spec = kiln::detail::make_node_spec("address", address, {});
    auto input = kiln::Value::make(std::vector<double>{1, 2, 3});
    auto out = call(spec, {input});
    CHECK(out[0].get<std::uint64_t>() == reinterpret_cast<std::uintptr_t>(input.raw()));
}

TEST_CASE("node_binding.by_value_gets_a_copy") {
    // A by-value parameter is the node's own copy: changing it leaves the shared input alone.
    auto append = [](std::vector<double> v) {
        v.push_back(9);
        return v;
    };
    auto spec = kiln::detail::make_node_spec("append", append, {});
    CHECK(names(spec.inputs) == std::vector<std::string>{"vector<f64>"});
    auto input = kiln::Value::make(std::vector<double>{1});
    auto out = call(spec, {input});
    CHECK(out[0].get<std::vector<double>>() == std::vector<double>{1, 9});
    CHECK(input.get<std::vector<double>>() == std::vector<double>{1});
    CHECK(out[0].raw() != input.raw());
}

TEST_CASE("node_binding.const_by_value_and_const_ref_same_type") {
    auto by_value = kiln::detail::make_node_spec("a", [](const std::string s) { return s.size(); }, {});
    auto by_ref = kiln::detail::make_node_spec("b", [](const std::string& s) { return s.size(); }, {});
    CHECK(by_value.inputs == by_ref.inputs);
    CHECK(names(by_value.outputs) == std::vector<std::string>{"u64"});
}

TEST_CASE("node_binding.exception_becomes_error") {
    auto spec = kiln::detail::make_node_spec("sqrt", &checked_sqrt, {});
    std::vector<kiln::Value> in{kiln::Value::make(-4.0)};
    std::vector<kiln::Value> out(1);
    std::string error;
    CHECK_FALSE(spec.invoke(spec.callable.get(), in.data(), out.data(), &error));
    CHECK(error.find("negative input -4") != std::string::npos);
    CHECK(out[0].empty());

    auto odd = kiln::detail::make_node_spec("odd", [](double) -> double { throw 42; }, {});
    error.clear();
    CHECK_FALSE(odd.invoke(odd.callable.get(), in.data(), out.data(), &error));
    CHECK(error == "unknown exception");
    CHECK_FALSE(odd.invoke(odd.callable.get(), in.data(), out.data(), nullptr));  // no error slot: still no throw
}

TEST_CASE("node_binding.input_type_mismatch") {
    auto spec = kiln::detail::make_node_spec("add", &add, {});
    std::vector<kiln::Value> in{kiln::Value::make(1.0), kiln::Value::make(std::string("two"))};
    std::vector<kiln::Value> out(1);
    std::string error;
    CHECK_FALSE(spec.invoke(spec.callable.get(), in.data(), out.data(), &error));
    CHECK(error.find("'string'") != std::string::npos);
    CHECK(error.find("'f64'") != std::string::npos);
    CHECK(out[0].empty());

    std::vector<kiln::Value> empty_in{kiln::Value::make(1.0), kiln::Value()};
    CHECK_FALSE(spec.invoke(spec.callable.get(), empty_in.data(), out.data(), &error));
    CHECK(error.find("<empty>") != std::string::npos);
}

TEST_CASE("node_binding.value_type_identity_by_name") {
    // Two TypeOps with the same name are the same type (how values cross plugins).
    kiln::TypeOps other = kiln::type_ops<double>();
    auto v = kiln::detail::value_from_raw(std::make_shared<const double>(2.5), &other);
    CHECK(v.holds<double>());
    CHECK(v.get<double>() == 2.5);
    CHECK_FALSE(v.holds<float>());
    CHECK_THROWS_WITH_AS(v.get<float>(), "value of type 'f64' read as 'f32'", kiln::TypeError);
}

}  // namespace node_binding_test_cases
