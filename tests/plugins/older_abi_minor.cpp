// A plugin built for an older minor version of this ABI major (1.0): the host loads it
// and reads nothing that minor versions added since (docs/abi.md).
#include <kiln/sdk.hpp>

namespace {
void declare(kiln::Registrar& reg) {
    reg.node("twice", [](double x) { return 2 * x; });
}
const kiln::detail::PluginDescriptor descriptor{
    sizeof(kiln::detail::PluginDescriptor), kiln::detail::abi_major, 0, KILN_BUILD_KEY, "older_abi_minor", "1.0",
    &kiln::detail::register_shim<&declare>, {}};
}  // namespace

extern "C" __attribute__((visibility("default"))) const kiln::detail::PluginDescriptor* kiln_plugin_entry() noexcept {
    return &descriptor;
}
