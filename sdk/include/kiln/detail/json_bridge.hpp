// The host's JSON conversion of the SDK's standard value types (detail::host_json_type).
// Their TypeOps::to_json/from_json forward here instead of instantiating nlohmann::json's
// conversion code in every file that uses the type: that code is compiled once, in the
// host. A plugin receives the host's bridge when it registers (Registrar, ABI 1.4); the
// host's own image installs it when kiln's core library starts.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace kiln {
struct TypeOps;
}

namespace kiln::detail {

// Implemented by the host; never throws. `type` names the value's type: the host finds its
// own conversion by the name and refuses a size or layout fingerprint that differs.
class JsonBridge {
public:
    virtual bool to_json(const TypeOps& type, const void* object, nlohmann::json* out,
                         std::string* error) const noexcept = 0;
    virtual std::shared_ptr<const void> from_json(const TypeOps& type, const nlohmann::json& in,
                                                  std::string* error) const noexcept = 0;

protected:
    ~JsonBridge() = default;
};

// One per image (plugins have hidden visibility): set by the plugin entry point before
// registration, and in the host by its core library.
inline const JsonBridge*& json_bridge_slot() noexcept {
    static const JsonBridge* bridge = nullptr;
    return bridge;
}

}  // namespace kiln::detail
