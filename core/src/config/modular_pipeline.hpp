// Kedro's modular pipelines in pipelines.json: one pipeline reused under a namespace, with
// some of its datasets and parameters renamed.
//
//     "meals": {"pipelines": [
//         {"pipeline": "cook", "namespace": "lunch", "inputs": {"raw": "lunch_raw"},
//          "outputs": ["dish"], "parameters": {"params:salt": "params:lunch_salt"}, "tags": ["noon"]}
//     ]}
//
// Every dataset of "cook" becomes "lunch.<name>" and every parameter "params:lunch.<name>",
// except those named under "inputs", "outputs" or "parameters" (a list keeps the names, an
// object renames them) and the whole "parameters". Node names get the prefix, node
// namespaces compose ("lunch" over "prep" is "lunch.prep"), tags are added. As in Kedro,
// "inputs" may name only free inputs of the pipeline, "outputs" only datasets its nodes
// produce, and "parameters" only parameters its nodes read.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/pipeline.hpp"

namespace kiln::core {

// One reuse as pipelines.json declares it, the names as given: "inputs" and "outputs" map
// old names to new ones (a listed name maps to itself), "parameters" the same with the
// "params:" prefix added where it was left out.
struct ModularPipeline {
    std::string pipeline;
    std::string namespace_;  // "" for none
    std::map<std::string, std::string> inputs;
    std::map<std::string, std::string> outputs;
    std::map<std::string, std::string> parameters;
    std::vector<std::string> tags;
    std::string where;  // how messages name it: "pipelines.json: pipeline 'meals', pipelines[0] (reusing 'cook')"
    std::string user;   // the pipeline reusing it, for the nodes' origin
};

// Reads an object of a pipeline's "pipelines" list. `where` starts every message. Throws
// kiln::ConfigError for an unknown key, a missing "pipeline", or a value of the wrong shape.
ModularPipeline read_modular_pipeline(const nlohmann::json& entry, const std::string& where, const std::string& user);

// The nodes of `pipe`, each renamed as `reuse` says: datasets, parameters, name, namespace,
// tags. A node's default name ("<func>__<hash>") is computed again from its new datasets,
// as Kedro names an unnamed node after its datasets. Throws kiln::ConfigError naming the
// file, the pipeline and the dataset for a name `pipe` does not have (with close matches),
// an input that is not free, an output no node produces, or a parameter under "inputs".
std::vector<Node> apply_modular_pipeline(const Pipeline& pipe, const ModularPipeline& reuse);

}  // namespace kiln::core
