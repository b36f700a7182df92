// Kedro's pipeline(pipe, namespace=, inputs=, outputs=, parameters=, tags=) for
// pipelines.json: the same renaming rules, in the same order, and the same refusals, with
// messages that name the file, the pipeline and the dataset.
#include "config/modular_pipeline.hpp"

#include <algorithm>
#include <set>

#include "config/pipeline_json.hpp"
#include "config/pipeline_loader.hpp"
#include "kiln/error.hpp"
#include "text/join.hpp"
#include "text/name_text.hpp"

namespace kiln::core {
namespace {

using nlohmann::json;

const std::vector<std::string> reuse_keys = {"pipeline", "namespace", "inputs", "outputs", "parameters", "tags"};

bool is_parameter(const std::string& name) { return name == "parameters" || name.starts_with("params:"); }

// A transcoded name "x@fmt" is dataset "x" read or written in format "fmt"; a renaming of
// "x" applies to every format of it, as in Kedro.
std::string base_of(const std::string& name) { return name.substr(0, name.find('@')); }

// Up to ten names, then how many more: a pipeline may use thousands of datasets.
std::string listed(const std::vector<std::string>& names) {
    if (names.empty()) return "none";
    constexpr std::size_t most = 10;
    if (names.size() <= most) return quoted_join(names);
    std::vector<std::string> head(names.begin(), names.begin() + most);
    return quoted_join(head) + " and " + std::to_string(names.size() - most) + " more";
}

class ReuseReader {
public:
    ReuseReader(const json& j, const std::string& where) : j_(j), where_(where) {}

    ModularPipeline read(const std::string& user) {
        if (!j_.is_object())
            fail("an entry of \"pipelines\" is a pipeline name or an object such as {\"pipeline\": \"cook\", "
                 "\"namespace\": \"lunch\"}, not " + kind_of(j_));
        ModularPipeline out;
        out.user = user;
        auto it = j_.find("pipeline");
        if (it == j_.end() || !it->is_string() || it->get<std::string>().empty())
            fail("\"pipeline\" must name the pipeline to reuse, e.g. {\"pipeline\": \"cook\", \"namespace\": "
                 "\"lunch\"}" + (it == j_.end() ? std::string(", but it is missing") : ", not " + it->dump()));
        out.pipeline = it->get<std::string>();
        if (auto ns = j_.find("namespace"); ns != j_.end() && !ns->is_null()) {
            if (!ns->is_string() || !is_valid_name(ns->get<std::string>()))
                fail("\"namespace\" must be a string of letters, digits, '_', '-' and '.', not " + ns->dump());
            out.namespace_ = ns->get<std::string>();
        }
        out.where = where_ + " (pipeline '" + out.pipeline + "'" +
                    (out.namespace_.empty() ? "" : " under namespace '" + out.namespace_ + "'") + ")";
        where_ = out.where;
        for (const auto& [key, value] : j_.items())
            if (std::find(reuse_keys.begin(), reuse_keys.end(), key) == reuse_keys.end())
                fail("unknown key \"" + key + "\"" + did_you_mean(key, reuse_keys) + "; a reused pipeline takes " +
                     quoted_join(reuse_keys, "\""));
        out.inputs = read_mapping("inputs");
        out.outputs = read_mapping("outputs");
        for (const auto& [name, new_name] : read_mapping("parameters")) {
            if (name == "parameters") {
                if (new_name != name)
                    fail("\"parameters\" maps the whole \"parameters\" to '" + new_name +
                         "', but it can only be kept as it is (list it) or left to be renamed");
                out.parameters.emplace(name, name);
                continue;
            }
            auto with_prefix = [](const std::string& n) { return n.starts_with("params:") ? n : "params:" + n; };
            out.parameters.emplace(with_prefix(name), with_prefix(new_name));
        }
        out.tags = read_tags();
        return out;
    }

private:
    [[noreturn]] void fail(const std::string& what) const { throw ConfigError(where_ + ": " + what); }

    void check_name(const char* field, const json& name) const {
        if (!name.is_string() || name.get<std::string>().empty())
            fail(std::string("\"") + field + "\" must hold dataset names (non-empty strings), but it has " +
                 name.dump());
        if (has_control_character(name.get<std::string>()))
            fail(std::string("\"") + field + "\" holds the name " + escaped(name.get<std::string>()) +
                 " with a control character (a line break, a tab or an ANSI escape); use printable characters");
    }

    // A name, a list of names (kept as they are) or an object renaming them.
    std::map<std::string, std::string> read_mapping(const char* field) const {
        std::map<std::string, std::string> out;
        auto it = j_.find(field);
        if (it == j_.end() || it->is_null()) return out;
        if (it->is_string() || it->is_array()) {
            const json list = it->is_string() ? json::array({*it}) : *it;
            for (const json& name : list) {
                check_name(field, name);
                out.emplace(name.get<std::string>(), name.get<std::string>());
            }
        } else if (it->is_object()) {
            for (const auto& [name, new_name] : it->items()) {
                check_name(field, name);
                check_name(field, new_name);
                out.emplace(name, new_name.get<std::string>());
            }
        } else {
            fail(std::string("\"") + field + "\" must be a list of names to keep or an object renaming them, e.g. " +
                 "{\"raw\": \"lunch_raw\"}, not " + kind_of(*it));
        }
        return out;
    }

    std::vector<std::string> read_tags() const {
        std::vector<std::string> tags;
        auto it = j_.find("tags");
        if (it == j_.end() || it->is_null()) return tags;
        const json list = it->is_string() ? json::array({*it}) : *it;
        if (!list.is_array()) fail("\"tags\" must be a tag or a list of tags, not " + kind_of(*it));
        for (const json& t : list) {
            if (!t.is_string() || !is_valid_name(t.get<std::string>()))
                fail("tag " + t.dump() + " is not valid: a tag is a string of letters, digits, '_', '-' and '.'");
            tags.push_back(t.get<std::string>());
        }
        return tags;
    }

    const json& j_;
    std::string where_;
};

// What the reused pipeline offers to rename, for the checks and their hints.
struct Offered {
    std::set<std::string> datasets;      // every name it uses (transcoding stripped)
    std::set<std::string> free_inputs;   // read, never produced (stripped)
    std::vector<std::string> free_data;  // free inputs that are not parameters
    std::vector<std::string> produced;   // outputs of its nodes
    std::vector<std::string> parameters;
};

Offered offered_by(const Pipeline& pipe) {
    Offered o;
    for (const std::string& name : pipe.dataset_names()) o.datasets.insert(base_of(name));
    for (const std::string& name : pipe.inputs()) {
        o.free_inputs.insert(base_of(name));
        if (is_parameter(name)) o.parameters.push_back(name);
        else o.free_data.push_back(name);
    }
    for (std::uint32_t id = 0; id < pipe.dataset_names().size(); ++id)
        if (!pipe.is_free_input(id)) o.produced.push_back(pipe.dataset_names()[id]);
    std::sort(o.produced.begin(), o.produced.end());
    return o;
}

// Kedro's refusals, in its order: names the pipeline does not have, then parameters under
// "inputs", inputs that are not free, outputs that are free inputs.
void check_mapping(const ModularPipeline& reuse, const Offered& o) {
    const std::string pipe = "pipeline '" + reuse.pipeline + "'";
    auto fail = [&](const std::string& what) { throw ConfigError(reuse.where + ": " + what); };
    auto unknown_in = [&](const std::map<std::string, std::string>& mapping, bool strip) {
        std::vector<std::string> unknown;
        for (const auto& [name, new_name] : mapping)
            if (!o.datasets.count(strip ? base_of(name) : name)) unknown.push_back(name);
        return unknown;
    };
    auto names = [](const std::vector<std::string>& unknown) {
        return std::string(unknown.size() == 1 ? "'" + unknown.front() + "'" : quoted_join(unknown));
    };
    auto hint = [](const std::vector<std::string>& unknown, const std::vector<std::string>& known) {
        return unknown.size() == 1 ? did_you_mean(unknown.front(), known) : std::string();
    };
    if (auto unknown = unknown_in(reuse.inputs, true); !unknown.empty())
        fail("\"inputs\" names " + names(unknown) + ", which " + pipe + " does not use" +
             hint(unknown, o.free_data) + "; its free inputs: " + listed(o.free_data));
    if (auto unknown = unknown_in(reuse.outputs, true); !unknown.empty())
        fail("\"outputs\" names " + names(unknown) + ", which " + pipe + " does not use" +
             hint(unknown, o.produced) + "; its nodes produce: " + listed(o.produced));
    if (auto unknown = unknown_in(reuse.parameters, false); !unknown.empty())
        fail("\"parameters\" names " + names(unknown) + ", which no node of " + pipe + " reads" +
             hint(unknown, o.parameters) + "; it reads: " + listed(o.parameters));
    for (const auto& [name, new_name] : reuse.inputs)
        if (is_parameter(base_of(name)))
            fail("\"inputs\" names the parameter '" + name +
                 "': give parameters under \"parameters\", e.g. \"parameters\": {\"" + name + "\": \"params:...\"}");
    for (const auto& [name, new_name] : reuse.inputs)
        if (!o.free_inputs.count(base_of(name)))
            fail("\"inputs\" names '" + name + "', which a node of " + pipe +
                 " produces: \"inputs\" may name only its free inputs (" + listed(o.free_data) +
                 "); to rename a dataset it produces, list it under \"outputs\"");
    for (const auto& [name, new_name] : reuse.outputs)
        if (o.free_inputs.count(base_of(name)))
            fail("\"outputs\" names '" + name + "', a free input of " + pipe +
                 " that none of its nodes produces: \"outputs\" may name only datasets its nodes produce (" +
                 listed(o.produced) + "); to rename a free input, list it under \"inputs\"");
}

// Kedro's renaming rules, the first that applies: a renamed name; the whole "parameters";
// a transcoded name whose dataset is renamed; a parameter, prefixed after "params:";
// any other name, prefixed.
class Renamer {
public:
    explicit Renamer(const ModularPipeline& reuse) : namespace_(reuse.namespace_) {
        // As Kedro's {**inputs, **outputs, **parameters}: a later one wins.
        for (const auto* part : {&reuse.inputs, &reuse.outputs, &reuse.parameters})
            for (const auto& [name, new_name] : *part) mapping_[name] = new_name;
    }

    std::string operator()(const std::string& name) const {
        if (auto it = mapping_.find(name); it != mapping_.end()) return it->second;
        if (name == "parameters") return name;
        if (const auto at = name.find('@'); at != std::string::npos)
            if (auto it = mapping_.find(name.substr(0, at)); it != mapping_.end()) return it->second + name.substr(at);
        if (namespace_.empty()) return name;
        if (name.starts_with("params:")) return "params:" + namespace_ + "." + name.substr(7);
        return namespace_ + "." + name;
    }

private:
    std::string namespace_;
    std::map<std::string, std::string> mapping_;
};

}  // namespace

ModularPipeline read_modular_pipeline(const nlohmann::json& entry, const std::string& where, const std::string& user) {
    return ReuseReader(entry, where).read(user);
}

std::vector<Node> apply_modular_pipeline(const Pipeline& pipe, const ModularPipeline& reuse) {
    check_mapping(reuse, offered_by(pipe));
    const Renamer rename(reuse);
    const std::string& outer = reuse.namespace_;
    std::vector<Node> out;
    out.reserve(pipe.size());
    for (const Node& old : pipe.nodes()) {
        Node node;
        node.func = old.func;
        node.resources = old.resources;
        for (const std::string& d : old.inputs) node.inputs.push_back(rename(d));
        for (const std::string& d : old.outputs) node.outputs.push_back(rename(d));
        const std::string prefix = old.namespace_.empty() ? std::string() : old.namespace_ + ".";
        std::string bare = old.name.starts_with(prefix) ? old.name.substr(prefix.size()) : old.name;
        // An unnamed node is named after its function and datasets, so a copy with other
        // datasets gets another name: two reuses without a namespace do not clash.
        if (bare == default_node_name(old.func->qualified_name, old.inputs, old.outputs))
            bare = default_node_name(old.func->qualified_name, node.inputs, node.outputs);
        node.namespace_ = outer.empty() ? old.namespace_ : old.namespace_.empty() ? outer : outer + "." + old.namespace_;
        node.name = node.namespace_.empty() ? bare : node.namespace_ + "." + bare;
        node.tags = old.tags;
        node.tags.insert(node.tags.end(), reuse.tags.begin(), reuse.tags.end());
        std::sort(node.tags.begin(), node.tags.end());
        node.tags.erase(std::unique(node.tags.begin(), node.tags.end()), node.tags.end());
        node.origin = old.origin + ", reused by pipeline '" + reuse.user + "'" +
                      (outer.empty() ? "" : " under namespace '" + outer + "'");
        out.push_back(std::move(node));
    }
    return out;
}

}  // namespace kiln::core
