// A descriptor whose struct_size says it lacks fields every descriptor of this ABI major
// has (here: as if it ended after the version fields): the host must say so, and call
// nothing in it.
#include <cstddef>
#include <cstdlib>
#include <kiln/detail/abi.hpp>
#include <nlohmann/json.hpp>

namespace {
const char* must_not_run(kiln::Registrar&) noexcept { std::abort(); }
const kiln::detail::PluginDescriptor descriptor{offsetof(kiln::detail::PluginDescriptor, build_key),
                                                kiln::detail::abi_major,
                                                kiln::detail::abi_minor,
                                                KILN_BUILD_KEY,
                                                "short_descriptor",
                                                "1.0",
                                                &must_not_run,
                                                {}};
}  // namespace

extern "C" __attribute__((visibility("default"))) const kiln::detail::PluginDescriptor* kiln_plugin_entry() noexcept {
    return &descriptor;
}
