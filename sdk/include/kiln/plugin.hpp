// KILN_PLUGIN(name) { ... } defines a plugin: its one exported entry point and the body of
// its register function. `reg` is the kiln::Registrar.
//
//     KILN_PLUGIN(wordcount) {
//         reg.node("tokenize", &tokenize);
//     }
//
// KILN_PLUGIN_VERSIONED(name, "1.2.0") does the same with a version string. The name must
// be a C identifier; it qualifies everything the plugin declares ("wordcount.tokenize").
// Exceptions thrown in the block are caught and reported by the host with the plugin's
// file name.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <exception>
#include <string>

#include "kiln/detail/abi.hpp"
#include "kiln/registrar.hpp"

namespace kiln::detail {
template <void (*Body)(Registrar&)>
const char* register_shim(Registrar& reg) noexcept {
    static std::string message;
    plugin_logger() = &reg.logger();
    json_bridge_slot() = &RegistrarAccess::json_bridge(reg);
    try {
        Body(reg);
        return nullptr;
    } catch (const std::exception& e) {
        message = e.what();
    } catch (...) {
        message = "unknown exception";
    }
    return message.c_str();
}
}  // namespace kiln::detail

#define KILN_PLUGIN_VERSIONED(NAME, VERSION)                                                                 \
    static void kiln_detail_register_body(::kiln::Registrar& reg);                                           \
    extern "C" __attribute__((visibility("default"))) const ::kiln::detail::PluginDescriptor*                \
    kiln_plugin_entry() noexcept {                                                                           \
        static const ::kiln::detail::PluginDescriptor descriptor{                                            \
            sizeof(::kiln::detail::PluginDescriptor), ::kiln::detail::abi_major, ::kiln::detail::abi_minor,  \
            KILN_BUILD_KEY, #NAME, VERSION, &::kiln::detail::register_shim<&kiln_detail_register_body>, {}}; \
        return &descriptor;                                                                                  \
    }                                                                                                        \
    static void kiln_detail_register_body([[maybe_unused]] ::kiln::Registrar& reg)

#define KILN_PLUGIN(NAME) KILN_PLUGIN_VERSIONED(NAME, "0.0.0")
