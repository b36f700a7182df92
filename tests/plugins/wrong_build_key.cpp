// A plugin built with settings that change type layouts (as told by its build key).
#include <cstdlib>
#include <kiln/detail/abi.hpp>
#include <nlohmann/json.hpp>

namespace {
const char* must_not_run(kiln::Registrar&) noexcept { std::abort(); }
const kiln::detail::PluginDescriptor descriptor{sizeof(kiln::detail::PluginDescriptor),
                                                kiln::detail::abi_major,
                                                kiln::detail::abi_minor,
                                                "clang99/cxx11abi0/json2.0/asan/stldebug",
                                                "wrong_build_key",
                                                "1.0",
                                                &must_not_run,
                                                {}};
}  // namespace

extern "C" __attribute__((visibility("default"))) const kiln::detail::PluginDescriptor* kiln_plugin_entry() noexcept {
    return &descriptor;
}
