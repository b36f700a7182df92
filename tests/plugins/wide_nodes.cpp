// Nodes with 100,000 inputs or outputs, for the wide-node tests: the SDK's function
// binding is fixed-arity, so these are declared through the plain NodeSpec API (kiln/detail/). One
// `spread` and one `gather` make a 100,000-way fan-out and fan-in in two nodes (a
// pipeline of 100,000 producer nodes would test the scheduler, not the messages).
#include <cstdint>
#include <kiln/sdk.hpp>
#include <memory>
#include <string>

namespace {

constexpr std::size_t width = 100'000;

// spread_100k() -> (0, 1, ..., width-1), one int64 per output.
bool spread(const void*, const kiln::Value*, kiln::Value* out, std::string* error) noexcept {
    return kiln::detail::guard(error, [&] {
        for (std::size_t i = 0; i < width; ++i) out[i] = kiln::Value::make<std::int64_t>(static_cast<std::int64_t>(i));
    });
}

// gather_100k(x0, ..., x[width-1]) -> their sum.
bool gather(const void*, const kiln::Value* in, kiln::Value* out, std::string* error) noexcept {
    return kiln::detail::guard(error, [&] {
        std::int64_t total = 0;
        for (std::size_t i = 0; i < width; ++i) total += in[i].get<std::int64_t>();
        out[0] = kiln::Value::make<std::int64_t>(total);
    });
}

kiln::detail::NodeSpec wide_node(std::string name, std::size_t inputs, std::size_t outputs, kiln::detail::NodeInvoke invoke,
                         std::string doc) {
    kiln::detail::NodeSpec spec;
    spec.name = std::move(name);
    spec.inputs.assign(inputs, &kiln::type_ops<std::int64_t>());
    spec.outputs.assign(outputs, &kiln::type_ops<std::int64_t>());
    spec.options.doc = std::move(doc);
    spec.callable = std::make_shared<int>(0);  // nothing to own; never null
    spec.invoke = invoke;
    return spec;
}

}  // namespace

KILN_PLUGIN_VERSIONED(wide_nodes, "1.0.0") {
    kiln::detail::RegistrarAccess::add_node(reg, wide_node("spread_100k", 0, width, &spread, "100,000 int outputs: 0, 1, 2, ..."));
    kiln::detail::RegistrarAccess::add_node(reg, wide_node("gather_100k", width, 1, &gather, "the sum of 100,000 int inputs"));
}
