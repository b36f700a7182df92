// A plugin built for an older minor version of this ABI major (1.0): the host loads it
// and reads nothing that minor versions added since (docs/abi.md).
#include <kiln/sdk.hpp>

#include <map>
#include <string>

namespace {
void declare(kiln::Registrar& reg) {
    reg.node("twice", [](double x) { return 2 * x; });
    // Its map type has the keyed operations of 1.8 (this file is built with today's SDK), but
    // a 1.0 plugin's could not: the host must not use them.
    reg.node("keyed", [](double x) { return std::map<std::string, double>{{"x", x}}; });
}
const kiln::detail::PluginDescriptor descriptor{
    sizeof(kiln::detail::PluginDescriptor), kiln::detail::abi_major, 0, KILN_BUILD_KEY, "older_abi_minor", "1.0",
    &kiln::detail::register_shim<&declare>, {}};
}  // namespace

extern "C" __attribute__((visibility("default"))) const kiln::detail::PluginDescriptor* kiln_plugin_entry() noexcept {
    return &descriptor;
}
