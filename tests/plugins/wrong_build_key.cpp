// A plugin built with settings that change type layouts (as told by its build key).
#include <cstdlib>
#include <kiln/abi.hpp>
#include <nlohmann/json.hpp>

namespace {
const char* must_not_run(kiln::Registrar&) noexcept { std::abort(); }
const kiln::PluginDescriptor descriptor{sizeof(kiln::PluginDescriptor), kiln::abi_major, kiln::abi_minor,
                                        "clang99/cxx11abi0/json2.0/asan/stldebug", "wrong_build_key", "1.0",
                                        &must_not_run, {}};
}  // namespace

extern "C" __attribute__((visibility("default"))) const kiln::PluginDescriptor* kiln_plugin_entry() noexcept {
    return &descriptor;
}
