// A plugin that needs a minor version of this ABI major that this kiln does not have yet:
// the host must refuse it before calling its register function.
#include <cstdlib>
#include <kiln/detail/abi.hpp>
#include <nlohmann/json.hpp>

namespace {
const char* must_not_run(kiln::Registrar&) noexcept { std::abort(); }
const kiln::detail::PluginDescriptor descriptor{sizeof(kiln::detail::PluginDescriptor),
                                                kiln::detail::abi_major,
                                                kiln::detail::abi_minor + 1,
                                                KILN_BUILD_KEY,
                                                "newer_abi_minor",
                                                "1.0",
                                                &must_not_run,
                                                {}};
}  // namespace

extern "C" __attribute__((visibility("default"))) const kiln::detail::PluginDescriptor* kiln_plugin_entry() noexcept {
    return &descriptor;
}
