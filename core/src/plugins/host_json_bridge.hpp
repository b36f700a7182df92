// The host's side of the SDK's JsonBridge: the JSON conversion of the standard value types
// (detail::host_json_type), compiled once here instead of in every plugin file. Plugins
// receive it through the Registrar; this image's own TypeOps reach it through the slot,
// which host_json_bridge.cpp fills when the program starts.
#pragma once

#include "kiln/detail/json_bridge.hpp"

namespace kiln::core {
const detail::JsonBridge& host_json_bridge() noexcept;
}
