// The binary contract between the kiln host and a plugin (the rules for changing it are in
// docs/abi.md).
//
// A plugin exports exactly one symbol, `kiln_plugin_entry`, returning a pointer to a
// PluginDescriptor. The host reads the descriptor and checks the ABI version and the
// build key *before* calling any other plugin code. Plugin authors never write this by
// hand: the KILN_PLUGIN macro (kiln/plugin.hpp) defines it.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <cstddef>
#include <cstdint>

namespace kiln {
class Registrar;
}

namespace kiln::detail {

// Bump the major version when a change breaks existing plugins (layout or semantics of
// anything in sdk/); bump the minor version when adding something old plugins can ignore.
// docs/abi.md says which change is which.
inline constexpr std::uint32_t abi_major = 1;
inline constexpr std::uint32_t abi_minor = 8;  // 1.1: runners and hooks; 1.2: ReadySet, resource caps;
                                               // 1.3: TypeOps::layout (codec identity of nested types);
                                               // 1.4: Registrar::json_bridge_impl (the host's JSON of
                                               // standard types); 1.5: hook points
                                               // after_context_created, after_catalog_created,
                                               // NodeRunInfo::replacements; 1.6:
                                               // Registrar::set_node_traits (a node's
                                               // version and always_run); 1.7:
                                               // NodeTraits::output_names (dict outputs); 1.8:
                                               // TypeOps::element, to_keyed, from_keyed (maps
                                               // and kiln::Partitions)

// Symbol every plugin exports (extern "C").
inline constexpr const char* plugin_entry_symbol = "kiln_plugin_entry";

// Plain data only: the host must be able to read it whatever else differs.
struct PluginDescriptor {
    std::uint32_t struct_size;  // sizeof(PluginDescriptor) as the plugin saw it
    std::uint32_t abi_major;
    std::uint32_t abi_minor;
    const char* build_key;  // KILN_BUILD_KEY as the plugin saw it
    const char* name;       // qualifies everything the plugin registers: "name.item"
    const char* version;    // the plugin's own version, free-form
    // Declares the plugin's nodes, dataset types, runners and hooks. Returns nullptr on
    // success, or a message that stays valid until the next call. Never throws.
    const char* (*register_fn)(Registrar& registrar) noexcept;
    void* reserved[4];  // room to grow without changing the layout
};

}  // namespace kiln::detail

// Compiler and library settings that change the layout of std:: types, nlohmann::json
// and our own classes. Host and plugin must agree on all of them.
#define KILN_DETAIL_STR2(x) #x
#define KILN_DETAIL_STR(x) KILN_DETAIL_STR2(x)
#if defined(__SANITIZE_ADDRESS__)
#define KILN_DETAIL_ASAN "asan"
#else
#define KILN_DETAIL_ASAN "noasan"
#endif
#if defined(_GLIBCXX_DEBUG)
#define KILN_DETAIL_STLDEBUG "stldebug"
#else
#define KILN_DETAIL_STLDEBUG "stlrelease"
#endif
#define KILN_BUILD_KEY                                                                 \
    "gcc" KILN_DETAIL_STR(__GNUC__) "/cxx11abi" KILN_DETAIL_STR(_GLIBCXX_USE_CXX11_ABI) \
    "/json" KILN_DETAIL_STR(NLOHMANN_JSON_VERSION_MAJOR) "." KILN_DETAIL_STR(         \
        NLOHMANN_JSON_VERSION_MINOR) "/" KILN_DETAIL_ASAN "/" KILN_DETAIL_STLDEBUG

extern "C" {
using kiln_plugin_entry_fn = const kiln::detail::PluginDescriptor*() noexcept;
}
