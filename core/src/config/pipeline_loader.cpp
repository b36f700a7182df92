// pipelines.json -> named Pipelines. Every message starts with the file and names the
// pipeline and the node (index in "nodes" and name), so a user can go straight to it.
#include "config/pipeline_loader.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "config/modular_pipeline.hpp"
#include "config/pipeline_json.hpp"
#include "model/split_outputs.hpp"
#include "kiln/error.hpp"
#include "text/join.hpp"
#include "text/name_text.hpp"

namespace kiln::core {
namespace {

using nlohmann::json;

constexpr const char* shape_example =
    "{\"pipelines\": {\"__default__\": {\"nodes\": [{\"func\": \"myplugin.add\", \"inputs\": [\"a\", \"b\"], "
    "\"outputs\": \"c\"}]}}}";
const std::vector<std::string> node_keys = {"func", "inputs", "outputs", "name", "namespace", "tags", "resources"};
const std::vector<std::string> pipeline_keys = {"nodes", "pipelines"};

std::string count_given(std::size_t n) {
    return n == 0 ? "none is given" : std::to_string(n) + (n == 1 ? " is given" : " are given");
}

// Parses one entry of a pipeline's "nodes". Messages name the node by `name_`, which is
// filled as soon as the name is known (given, defaulted, then namespaced).
class NodeReader {
public:
    NodeReader(const json& j, const std::string& file, const std::string& pipeline, std::size_t index,
               const FunctionResolver& resolve)
        : j_(j), file_(file), pipeline_(pipeline), index_(index), resolve_(resolve) {}

    Node read() {
        if (!j_.is_object())
            fail("a node must be an object such as {\"func\": \"myplugin.add\", \"inputs\": [\"a\", \"b\"], "
                 "\"outputs\": \"c\"}, not " + kind_of(j_));
        if (auto it = j_.find("name"); it != j_.end() && it->is_string()) name_ = it->get<std::string>();
        check_keys();
        Node node;
        node.func = resolve_function();
        node.inputs = read_inputs(*node.func);
        if (splits_by_key(*node.func)) {
            std::vector<std::string> keys;
            node.outputs = read_split_outputs(*node.func, keys);
            node.own_func = split_by_key(*node.func, std::move(keys));
            node.func = node.own_func.get();
        } else {
            node.outputs = read_outputs(*node.func);
        }
        check_signature(node);
        node.name = read_name(node);
        if (auto it = j_.find("namespace"); it != j_.end() && !it->is_null()) {
            if (!it->is_string() || !is_valid_name(it->get<std::string>()))
                fail("\"namespace\" must be a string of letters, digits, '_', '-' and '.', not " + it->dump());
            node.namespace_ = it->get<std::string>();
            node.name = node.namespace_ + "." + node.name;
            name_ = node.name;
        }
        node.tags = read_tags();
        node.resources = read_resources();
        node.origin = file_ + ": pipeline '" + pipeline_ + "'";
        return node;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw ConfigError(file_ + ": pipeline '" + pipeline_ + "', nodes[" + std::to_string(index_) + "] " +
                          (name_.empty() ? "(unnamed)" : "'" + name_ + "'") + ": " + what);
    }

    void check_keys() const {
        for (const auto& [key, value] : j_.items()) {
            if (std::find(node_keys.begin(), node_keys.end(), key) != node_keys.end()) continue;
            fail("unknown key \"" + key + "\"" + did_you_mean(key, node_keys) + "; a node takes " +
                 quoted_join(node_keys, "\""));
        }
    }

    // Dataset names end up in logs and on terminals, where an ANSI escape would act.
    void check_dataset_name(const std::string& name) const {
        if (has_control_character(name))
            fail("the dataset name " + escaped(name) +
                 " holds a control character (a line break, a tab or an ANSI escape); name datasets with printable "
                 "characters");
    }

    const NodeFunction* resolve_function() const {
        auto it = j_.find("func");
        if (it == j_.end())
            fail("no \"func\": every node names its node function, e.g. \"func\": \"myplugin.add\"");
        if (!it->is_string() || it->get<std::string>().empty())
            fail("\"func\" must be the name of a node function, e.g. \"myplugin.add\", not " + it->dump());
        const std::string name = it->get<std::string>();
        std::string hint;
        const NodeFunction* fn = resolve_(name, hint);
        if (!fn) fail("unknown node function '" + name + "'" + (hint.empty() ? "" : ": " + hint));
        return fn;
    }

    // A string, a list, or null/absent for none.
    std::vector<std::string> read_datasets(const char* field) const {
        auto it = j_.find(field);
        if (it == j_.end() || it->is_null()) return {};
        std::vector<std::string> out;
        auto add = [&](const json& d) {
            if (!d.is_string() || d.get<std::string>().empty())
                fail(std::string("\"") + field + "\" must hold dataset names (non-empty strings), but it has " +
                     d.dump());
            check_dataset_name(d.get<std::string>());
            out.push_back(d.get<std::string>());
        };
        if (it->is_string()) {
            add(*it);
        } else if (it->is_array()) {
            for (const json& d : *it) add(d);
        } else {
            fail(std::string("\"") + field + "\" must be a dataset name or a list of them" +
                 (std::string(field) == "inputs" ? " (or an object mapping parameter names to datasets)"
                                                 : " (or an object mapping the names of the values it returns to datasets)") +
                 ", not " + kind_of(*it));
        }
        return out;
    }

    // The dataset an object form of "inputs" or "outputs" maps a name to; `mapping` says
    // which, e.g. "\"outputs\" maps 'high'".
    std::string mapped_dataset(const std::string& mapping, const json& dataset) const {
        if (!dataset.is_string() || dataset.get<std::string>().empty())
            fail(mapping + " to " + dataset.dump() + ", but it must map to a dataset name (a non-empty string)");
        check_dataset_name(dataset.get<std::string>());
        return dataset.get<std::string>();
    }

    // Kedro's dict outputs for a function that returns a dict: "outputs" is an object and
    // the function returns one map (or Partitions), which it names nothing of.
    bool splits_by_key(const NodeFunction& fn) const {
        auto it = j_.find("outputs");
        return it != j_.end() && it->is_object() && fn.output_names.empty() && fn.keyed_result;
    }

    // {"key": "dataset"}: the keys in the order JSON objects keep (sorted), their datasets.
    std::vector<std::string> read_split_outputs(const NodeFunction& fn, std::vector<std::string>& keys) const {
        const json& outputs = j_.at("outputs");
        if (outputs.empty())
            fail("\"outputs\" maps no key of the '" + std::string(fn.keyed_result->name) + "' that '" +
                 fn.qualified_name + "' returns to a dataset; name the keys, e.g. {\"min\": \"lowest\"}, or give "
                 "one dataset for the whole map");
        std::vector<std::string> datasets;
        for (const auto& [key, dataset] : outputs.items()) {
            datasets.push_back(mapped_dataset("\"outputs\" maps the key '" + key + "'", dataset));
            keys.push_back(key);
        }
        return datasets;
    }

    // Kedro's dict outputs: {"value name": "dataset"}, by the names the function declares
    // in NodeOptions::outputs, every one mapped; or a name, a list, or none.
    std::vector<std::string> read_outputs(const NodeFunction& fn) const {
        auto it = j_.find("outputs");
        if (it == j_.end() || !it->is_object()) return read_datasets("outputs");
        const std::vector<std::string>& names = fn.output_names;
        const std::size_t returned = fn.spec ? fn.spec->outputs.size() : names.size();
        if (names.empty()) {
            std::string placeholders;
            for (std::size_t k = 0; k < returned; ++k)
                placeholders += (k ? ", \"" : "\"") + std::string("value") + std::to_string(k + 1) + "\"";
            fail("\"outputs\" maps names to datasets, but '" + fn.qualified_name +
                 "' names none of the values it returns: give \"outputs\" as a list in the order it returns them, "
                 "or name them where the plugin registers it: reg.node(\"" +
                 (fn.spec ? fn.spec->name : fn.qualified_name) + "\", ..., {.outputs = {" + placeholders + "}})");
        }
        std::string expected;
        for (std::size_t k = 0; k < names.size(); ++k) {
            expected += (k ? ", " : "") + names[k];
            if (fn.spec && k < fn.spec->outputs.size() && fn.spec->outputs[k])
                expected += " (" + std::string(fn.spec->outputs[k]->name) + ")";
        }
        std::vector<std::string> out(names.size());
        std::vector<std::string> unknown;
        for (const auto& [name, dataset] : it->items()) {
            auto pos = std::find(names.begin(), names.end(), name);
            if (pos == names.end()) {
                unknown.push_back(name);
                continue;
            }
            out[static_cast<std::size_t>(pos - names.begin())] = mapped_dataset("\"outputs\" maps '" + name + "'", dataset);
        }
        if (!unknown.empty())
            fail("\"outputs\" names " + std::string(unknown.size() == 1 ? "a value" : "values") + " that '" +
                 fn.qualified_name + "' does not return: " + quoted_join(unknown) +
                 (unknown.size() == 1 ? did_you_mean(unknown.front(), names) : "") + "; it returns " + expected);
        std::vector<std::string> missing;
        for (std::size_t k = 0; k < names.size(); ++k)
            if (out[k].empty()) missing.push_back(names[k]);
        if (!missing.empty())
            fail("\"outputs\" gives no dataset for " + std::string(missing.size() == 1 ? "the value " : "the values ") +
                 quoted_join(missing) + " that '" + fn.qualified_name + "' returns; it returns " + expected +
                 " (every value it returns is saved somewhere)");
        return out;
    }

    std::vector<std::string> read_inputs(const NodeFunction& fn) const {
        auto it = j_.find("inputs");
        if (it == j_.end() || !it->is_object()) return read_datasets("inputs");
        const NodeSpec* spec = fn.spec;
        const std::vector<std::string> args = spec ? spec->options.args : std::vector<std::string>{};
        if (args.empty()) {
            std::string placeholders;
            for (std::size_t k = 0; spec && k < spec->inputs.size(); ++k)
                placeholders += (k ? ", \"" : "\"") + std::string("param") + std::to_string(k + 1) + "\"";
            fail("\"inputs\" maps parameter names to datasets, but '" + fn.qualified_name +
                 "' declares no parameter names: give \"inputs\" as a list in parameter order, or declare the "
                 "names where the plugin registers it: reg.node(\"" + (spec ? spec->name : fn.qualified_name) +
                 "\", ..., {.args = {" + placeholders + "}})");
        }
        std::string expected;
        for (std::size_t k = 0; k < args.size(); ++k) {
            expected += (k ? ", " : "") + args[k];
            if (spec && k < spec->inputs.size() && spec->inputs[k])
                expected += " (" + std::string(spec->inputs[k]->name) + ")";
        }
        std::vector<std::string> out(args.size());
        std::vector<std::string> unknown;
        for (const auto& [param, dataset] : it->items()) {
            auto pos = std::find(args.begin(), args.end(), param);
            if (pos == args.end()) {
                unknown.push_back(param);
                continue;
            }
            out[static_cast<std::size_t>(pos - args.begin())] =
                mapped_dataset("\"inputs\" maps parameter '" + param + "'", dataset);
        }
        if (!unknown.empty())
            fail("\"inputs\" names " + std::string(unknown.size() == 1 ? "a parameter" : "parameters") + " that '" +
                 fn.qualified_name + "' does not have: " + quoted_join(unknown) +
                 (unknown.size() == 1 ? did_you_mean(unknown.front(), args) : "") + "; its parameters are " +
                 expected);
        std::vector<std::string> missing;
        for (std::size_t k = 0; k < args.size(); ++k)
            if (out[k].empty()) missing.push_back(args[k]);
        if (!missing.empty())
            fail("\"inputs\" gives no dataset for " + std::string(missing.size() == 1 ? "parameter " : "parameters ") +
                 quoted_join(missing) + " of '" + fn.qualified_name + "'; its parameters are " + expected);
        return out;
    }

    void check_signature(const Node& node) const {
        const NodeSpec* spec = node.func->spec;
        if (!spec) return;
        const std::string& fn = node.func->qualified_name;
        if (node.inputs.size() != spec->inputs.size()) {
            const std::size_t n = spec->inputs.size();
            fail("'" + fn + "' takes " +
                 (n == 0 ? std::string("no inputs")
                         : std::to_string(n) + (n == 1 ? " input (" : " inputs (") + type_list(spec->inputs) + ")") +
                 " but " + count_given(node.inputs.size()));
        }
        if (node.outputs.size() != spec->outputs.size()) {
            const std::size_t n = spec->outputs.size();
            fail("'" + fn + "' returns " +
                 (n == 0 ? std::string("nothing (void)")
                         : std::to_string(n) + (n == 1 ? " output (" : " outputs (") + type_list(spec->outputs) + ")") +
                 " but " + count_given(node.outputs.size()) + " in \"outputs\"");
        }
        if (spec->inputs.empty() && spec->outputs.empty())
            fail("'" + fn + "' takes no inputs and returns nothing, so this node would read and write no "
                 "dataset: a node needs at least one input or output");
    }

    std::string read_name(const Node& node) {
        auto it = j_.find("name");
        if (it == j_.end() || it->is_null()) {
            name_ = default_node_name(node.func->qualified_name, node.inputs, node.outputs);
            return name_;
        }
        if (!it->is_string()) fail("\"name\" must be a string, not " + kind_of(*it));
        if (!is_valid_name(name_))
            fail("'" + name_ + "' is not a valid node name: it may contain only letters, digits, '_', '-' and '.'");
        return name_;
    }

    std::vector<std::string> read_tags() const {
        auto it = j_.find("tags");
        if (it == j_.end() || it->is_null()) return {};
        std::vector<std::string> tags;
        auto add = [&](const json& t) {
            if (!t.is_string() || !is_valid_name(t.get<std::string>()))
                fail("tag " + t.dump() + " is not valid: a tag is a string of letters, digits, '_', '-' and '.'");
            tags.push_back(t.get<std::string>());
        };
        if (it->is_string()) {
            add(*it);
        } else if (it->is_array()) {
            for (const json& t : *it) add(t);
        } else {
            fail("\"tags\" must be a tag or a list of tags, not " + kind_of(*it));
        }
        std::sort(tags.begin(), tags.end());
        tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
        return tags;
    }

    json read_resources() const {
        auto it = j_.find("resources");
        if (it == j_.end() || it->is_null()) return nullptr;
        if (!it->is_object())
            fail("\"resources\" must be an object of numbers such as {\"gpu\": 1}, not " + kind_of(*it));
        for (const auto& [key, value] : it->items())
            if (!value.is_number())
                fail("resource \"" + key + "\" must be a number, not " + value.dump() +
                     " (\"resources\" is an object of numbers such as {\"gpu\": 1})");
        return *it;
    }

    const json& j_;
    const std::string& file_;
    const std::string& pipeline_;
    std::size_t index_;
    const FunctionResolver& resolve_;
    std::string name_;  // as given, or the default once computed; "" while unknown
};

PipelineSet::Declared read_pipeline(const json& entry, const std::string& file, const std::string& name,
                       const FunctionResolver& resolve) {
    const std::string where = file + ": pipeline '" + name + "'";
    if (!entry.is_object())
        throw ConfigError(where + " must be an object such as {\"nodes\": [...], \"pipelines\": [...]}, not " +
                          kind_of(entry) +
                          (entry.is_array() ? " (put the list of nodes under \"nodes\")" : std::string()));
    for (const auto& [key, value] : entry.items())
        if (std::find(pipeline_keys.begin(), pipeline_keys.end(), key) == pipeline_keys.end())
            throw ConfigError(where + ": unknown key \"" + key + "\"" + did_you_mean(key, pipeline_keys) +
                              "; a pipeline takes \"nodes\" (a list of nodes) and \"pipelines\" (names of "
                              "pipelines to include)");
    PipelineSet::Declared out;
    if (auto it = entry.find("nodes"); it != entry.end() && !it->is_null()) {
        if (!it->is_array()) throw ConfigError(where + ": \"nodes\" must be a list of nodes, not " + kind_of(*it));
        out.nodes.reserve(it->size());
        for (std::size_t k = 0; k < it->size(); ++k)
            out.nodes.push_back(NodeReader((*it)[k], file, name, k, resolve).read());
    }
    if (auto it = entry.find("pipelines"); it != entry.end() && !it->is_null()) {
        auto bad = [&] {
            return ConfigError(where + ": \"pipelines\" must be a list of pipeline names to include, e.g. "
                                       "[\"prep\", \"report\"], or of pipelines to reuse under a namespace, e.g. "
                                       "{\"pipeline\": \"prep\", \"namespace\": \"lunch\"}; not " + it->dump());
        };
        if (!it->is_array()) throw bad();
        for (std::size_t k = 0; k < it->size(); ++k) {
            const json& include = (*it)[k];
            if (include.is_string()) {
                out.includes.push_back(include.get<std::string>());
            } else if (include.is_object()) {
                ModularPipeline reuse =
                    read_modular_pipeline(include, where + ", pipelines[" + std::to_string(k) + "]", name);
                std::string reused = reuse.pipeline;
                out.reuses.push_back({std::move(reused), [reuse = std::move(reuse)](const Pipeline& pipe) {
                                          return apply_modular_pipeline(pipe, reuse);
                                      }});
            } else {
                throw bad();
            }
        }
    }
    return out;
}

}  // namespace

std::string default_node_name(const std::string& func, const std::vector<std::string>& inputs,
                              const std::vector<std::string>& outputs) {
    // FNV-1a 64 of "func|in1,in2|out1"; the first 8 of its 16 hex digits (like Kedro's
    // sha256[:8]) keep names short and stable across runs and platforms.
    std::uint64_t hash = 14695981039346656037ULL;
    auto feed = [&](std::string_view s) {
        for (unsigned char c : s) {
            hash ^= c;
            hash *= 1099511628211ULL;
        }
    };
    feed(func);
    feed("|");
    for (std::size_t k = 0; k < inputs.size(); ++k) feed(k ? "," + inputs[k] : inputs[k]);
    feed("|");
    for (std::size_t k = 0; k < outputs.size(); ++k) feed(k ? "," + outputs[k] : outputs[k]);
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(hash >> 32));
    const auto dot = func.rfind('.');
    return (dot == std::string::npos ? func : func.substr(dot + 1)) + "__" + hex;
}

PipelineSet load_pipelines(const nlohmann::json& document, const std::string& file, const FunctionResolver& resolve) {
    auto shape_error = [&](const std::string& found) {
        return ConfigError(file + ": a pipelines file is a JSON object with a \"pipelines\" object that maps each "
                                  "pipeline name to its nodes, e.g. " +
                           std::string(shape_example) + "; but " + found);
    };
    if (!document.is_object()) throw shape_error("this file holds " + kind_of(document));
    auto pipelines = document.find("pipelines");
    if (pipelines == document.end()) {
        std::vector<std::string> keys;
        for (const auto& [key, value] : document.items()) keys.push_back(key);
        throw shape_error(keys.empty() ? "the object is empty"
                                       : "it has no \"pipelines\" key (its keys: " + quoted_join(keys, "\"") + ")");
    }
    if (!pipelines->is_object()) throw shape_error("\"pipelines\" is " + kind_of(*pipelines));
    for (const auto& [key, value] : document.items())
        if (key != "pipelines" && key != "$schema")
            throw ConfigError(file + ": unknown top-level key \"" + key +
                              "\"; a pipelines file holds only \"pipelines\" (put nodes inside a pipeline: " +
                              shape_example + ")");

    std::vector<std::string> names;
    std::vector<PipelineSet::Declared> declared;
    for (const auto& [name, entry] : pipelines->items()) {
        if (name.empty()) throw ConfigError(file + ": a pipeline has an empty name; give it a name such as \"etl\"");
        names.push_back(name);
        declared.push_back(read_pipeline(entry, file, name, resolve));
    }
    return PipelineSet(file, std::move(names), std::move(declared));
}

}  // namespace kiln::core
