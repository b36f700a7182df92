// A plugin built for the ABI major version before this one (as a plugin built before a
// major bump would be): the host must refuse it before calling its register function.
#include <cstdlib>
#include <kiln/detail/abi.hpp>
#include <nlohmann/json.hpp>

namespace {
const char* must_not_run(kiln::Registrar&) noexcept { std::abort(); }
const kiln::detail::PluginDescriptor descriptor{sizeof(kiln::detail::PluginDescriptor),
                                                kiln::detail::abi_major - 1,
                                                9,
                                                KILN_BUILD_KEY,
                                                "older_abi_major",
                                                "1.0",
                                                &must_not_run,
                                                {}};
}  // namespace

extern "C" __attribute__((visibility("default"))) const kiln::detail::PluginDescriptor* kiln_plugin_entry() noexcept {
    return &descriptor;
}
