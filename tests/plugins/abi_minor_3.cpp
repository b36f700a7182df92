// A plugin as the SDK of ABI 1.3 made it: it never asks the host for the JSON bridge
// (Registrar::json_bridge_impl came in 1.4), and its TypeOps convert standard types to
// JSON with the plugin's own code. The host must still convert its values (docs/abi.md).
#include <kiln/sdk.hpp>
#include <nlohmann/json.hpp>

namespace {
bool own_to_json(const void* object, nlohmann::json* out, std::string* error) noexcept {
    return kiln::detail::guard(error, [&] { *out = kiln::codec<double>::to_json(*static_cast<const double*>(object)); });
}
std::shared_ptr<const void> own_from_json(const nlohmann::json& in, std::string* error) noexcept {
    std::shared_ptr<const void> result;
    kiln::detail::guard(error, [&] { result = std::make_shared<const double>(kiln::codec<double>::from_json(in)); });
    return result;
}
// f64 as a 1.3 plugin described it: the same name, size and layout, JSON in the plugin.
constexpr kiln::TypeOps f64_of_1_3 = [] {
    kiln::TypeOps ops = kiln::detail::type_ops_impl<double>::ops;
    ops.to_json = &own_to_json;
    ops.from_json = &own_from_json;
    return ops;
}();

// The register function of a 1.3 plugin: it installs the logger, nothing newer.
const char* register_as_1_3(kiln::Registrar& reg) noexcept {
    kiln::detail::plugin_logger() = &reg.logger();
    auto spec = kiln::detail::make_node_spec("half", [](double x) { return x / 2; }, {});
    spec.inputs = {&f64_of_1_3};
    kiln::detail::RegistrarAccess::add_node(reg, std::move(spec));
    return nullptr;
}
const kiln::detail::PluginDescriptor descriptor{
    sizeof(kiln::detail::PluginDescriptor), kiln::detail::abi_major, 3, KILN_BUILD_KEY, "abi_minor_3", "1.3",
    &register_as_1_3, {}};
}  // namespace

extern "C" __attribute__((visibility("default"))) const kiln::detail::PluginDescriptor* kiln_plugin_entry() noexcept {
    return &descriptor;
}
