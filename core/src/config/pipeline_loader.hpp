// Reads pipelines.json: named pipelines of nodes, composed from one another.
//
//     {
//       "pipelines": {
//         "prep":   {"nodes": [{"func": "wc.tokenize", "inputs": ["text", "params:min_len"],
//                               "outputs": "words", "name": "tokenize", "tags": ["prep"]}]},
//         "report": {"nodes": [...]},
//         "__default__": {"pipelines": ["prep", "report"]}
//       }
//     }
//
// A node: "func" (qualified node function, or unqualified when unique), "inputs" (a
// string, a list in parameter order, or an object mapping parameter names to datasets),
// "outputs" (a string or a list), optional "name" (default "<func>__<hash8>", like
// Kedro), "tags", "namespace" (prefixes the name), "resources". A pipeline entry may list
// "pipelines" it includes besides its own "nodes": a name includes that pipeline as it is;
// an object such as {"pipeline": "cook", "namespace": "lunch", "inputs": {"raw": "lunch_raw"}}
// reuses it renamed, as Kedro's modular pipelines do (config/modular_pipeline.hpp).
// Without "__default__", the default is every pipeline together, but those that another
// reuses renamed.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "model/pipeline.hpp"
#include "model/pipeline_set.hpp"

namespace kiln::core {

// Resolves a function name from a pipeline file; returns nullptr when unknown and then
// fills `hint` with what to tell the user (close matches, loaded plugins).
using FunctionResolver = std::function<const NodeFunction*(const std::string& name, std::string& hint)>;

// Throws kiln::ConfigError (file, pipeline and node named) or kiln::PipelineError.
PipelineSet load_pipelines(const nlohmann::json& document, const std::string& file, const FunctionResolver& resolve);

// Kedro-style default node name: "<function>__<8 hex digits of a hash of func|inputs|outputs>".
std::string default_node_name(const std::string& func, const std::vector<std::string>& inputs,
                              const std::vector<std::string>& outputs);

}  // namespace kiln::core
