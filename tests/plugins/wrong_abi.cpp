// A plugin that claims a future ABI major version: the host must refuse it before
// calling its register function.
#include <cstdlib>
#include <kiln/detail/abi.hpp>
#include <nlohmann/json.hpp>

namespace {
const char* must_not_run(kiln::Registrar&) noexcept { std::abort(); }
const kiln::detail::PluginDescriptor descriptor{sizeof(kiln::detail::PluginDescriptor), kiln::detail::abi_major + 98, 0,
                                                KILN_BUILD_KEY, "wrong_abi", "1.0", &must_not_run, {}};
}  // namespace

extern "C" __attribute__((visibility("default"))) const kiln::detail::PluginDescriptor* kiln_plugin_entry() noexcept {
    return &descriptor;
}
