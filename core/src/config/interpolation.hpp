// ${...} in configuration strings, with Kedro's resolvers:
//
//     "${globals:paths.raw}"                 a value of globals.json (dotted keys)
//     "${globals:bucket, 'dev-bucket'}"      ... with a default when it is not defined
//     "${runtime_params:alpha, 0.1}"         a value given with --params, or the default
//     "${oc.env:DB_PASSWORD}"                an environment variable (credentials.json only)
//     "\${not_interpolated}"                 the text ${not_interpolated}
//
// A string that is one interpolation takes the value's JSON type ("${globals:n}" is the
// number 3); one inside other text becomes text ("run_${globals:n}" is "run_3"). Defaults
// are JSON when they parse as JSON, else text; a default may itself interpolate. Globals
// may refer to other globals; a cycle is an error.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "config/config_merge.hpp"

namespace kiln::core {

struct InterpolationSources {
    const MergedConfig* globals = nullptr;           // as read: its values may interpolate too
    const nlohmann::json* runtime_params = nullptr;  // --params as a nested object
    bool allow_env = false;                          // ${oc.env:...}: credentials only
};

// Resolves every ${...} in the values of `doc`. Throws kiln::ConfigError naming the file
// and key path (from doc.origins), the reference, and what to do.
void resolve_interpolations(MergedConfig& doc, const InterpolationSources& sources);

// One string; `where` ("FILE: key.path") opens messages.
nlohmann::json resolve_string(const std::string& text, const InterpolationSources& sources, const std::string& where);

}  // namespace kiln::core
