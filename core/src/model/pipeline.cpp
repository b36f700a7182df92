// Pipeline construction: validation, dataset interning and Kedro's layered toposort.
// Linear in nodes + edges apart from sorting each layer by name: a pipeline of a hundred
// thousand nodes builds in a few passes over its nodes (Kedro's is quadratic in places).
#include "model/pipeline.hpp"

#include "text/elided_list.hpp"
#include "text/join.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <string_view>

#include "kiln/error.hpp"

namespace kiln::core {
namespace {

constexpr std::size_t npos = Pipeline::npos;
constexpr std::size_t max_listed = 10;  // longer lists in messages end with "and N more"

// Open-addressing hash table of indices (see Pipeline::node_slots_). It keeps 32 bits of
// each name's hash, so probes rarely touch the names and growing needs no rehashing of
// strings; the load stays at most one half.
namespace slots {

std::uint32_t hash_of(std::string_view name) {
    const std::size_t h = std::hash<std::string_view>{}(name);
    return static_cast<std::uint32_t>(h ^ (static_cast<std::uint64_t>(h) >> 32));
}

std::vector<std::uint64_t> make(std::size_t count) {
    std::size_t capacity = 16;
    while (capacity < 2 * count) capacity <<= 1;
    return std::vector<std::uint64_t>(capacity, 0);
}

void place(std::vector<std::uint64_t>& table, std::uint64_t entry) {
    const std::size_t mask = table.size() - 1;
    for (std::size_t pos = (entry >> 32) & mask;; pos = (pos + 1) & mask)
        if (table[pos] == 0) {
            table[pos] = entry;
            return;
        }
}

// The index stored under `name`, or npos.
template <class NameOf>
std::size_t find(const std::vector<std::uint64_t>& table, std::string_view name, const NameOf& name_of) {
    if (table.empty()) return npos;
    const std::uint32_t hash = hash_of(name);
    const std::size_t mask = table.size() - 1;
    for (std::size_t pos = hash & mask; table[pos] != 0; pos = (pos + 1) & mask) {
        const std::uint64_t entry = table[pos];
        const std::size_t index = static_cast<std::uint32_t>(entry) - 1;
        if ((entry >> 32) == hash && name_of(index) == name) return index;
    }
    return npos;
}

// Stores `index` under `name` unless the name is there already; returns the index stored.
template <class NameOf>
std::size_t insert(std::vector<std::uint64_t>& table, std::size_t& count, std::string_view name, std::size_t index,
                   const NameOf& name_of) {
    if (std::size_t found = find(table, name, name_of); found != npos) return found;
    if (2 * (count + 1) > table.size()) {
        std::vector<std::uint64_t> bigger(table.size() * 2, 0);
        for (std::uint64_t entry : table)
            if (entry != 0) place(bigger, entry);
        table.swap(bigger);
    }
    place(table, (static_cast<std::uint64_t>(hash_of(name)) << 32) | (index + 1));
    ++count;
    return index;
}

}  // namespace slots

bool is_parameter(std::string_view dataset) { return dataset == "parameters" || dataset.starts_with("params:"); }

// Kedro's rule for node names and tags: [A-Za-z0-9_.-]+.
bool is_valid_name(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                        c == '.' || c == '-';
        if (!ok) return false;
    }
    return true;
}

const NodeSpec* spec_of(const Node& node) { return node.func ? node.func->spec : nullptr; }

// "'name' (func)", the way messages name a node.
std::string label(const Node& node) {
    return "'" + node.name + "'" + (node.func ? " (" + node.func->qualified_name + ")" : std::string());
}

std::string count_of(std::size_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

void check_names(Node& node) {
    constexpr const char* allowed = "it may contain only letters, digits, '_', '-' and '.'";
    auto where = [&] { return node.origin.empty() ? std::string() : " (" + node.origin + ")"; };
    if (!is_valid_name(node.name))
        throw PipelineError("'" + node.name + "' is not a valid node name" + where() + ": " + allowed);
    if (node.tags.size() > 1) std::sort(node.tags.begin(), node.tags.end());
    node.tags.erase(std::unique(node.tags.begin(), node.tags.end()), node.tags.end());
    for (const std::string& tag : node.tags)
        if (!is_valid_name(tag))
            throw PipelineError("node '" + node.name + "'" + where() + " has the tag '" + tag +
                                "', which is not a valid tag: " + allowed);
}

void check_arity(const Node& node) {
    const NodeSpec* spec = spec_of(node);
    if (!spec) return;
    auto given = [](std::size_t n) { return std::to_string(n) + (n == 1 ? " is given" : " are given"); };
    if (node.inputs.size() != spec->inputs.size())
        throw PipelineError("node " + label(node) + " takes " + count_of(spec->inputs.size(), "input") +
                            (spec->inputs.empty() ? "" : " (" + type_list(spec->inputs) + ")") + " but " +
                            given(node.inputs.size()));
    if (node.outputs.size() != spec->outputs.size())
        throw PipelineError("node " + label(node) + " returns " + count_of(spec->outputs.size(), "output") +
                            (spec->outputs.empty() ? "" : " (" + type_list(spec->outputs) + ")") + " but " +
                            given(node.outputs.size()));
}

[[noreturn]] void throw_duplicate_names(const std::vector<Node>& nodes,
                                        const std::vector<std::pair<std::size_t, std::size_t>>& clashes) {
    std::map<std::string, std::vector<std::size_t>> groups;  // name -> nodes using it
    for (const auto& [first, again] : clashes) {
        auto& group = groups[nodes[first].name];
        if (group.empty()) group.push_back(first);
        group.push_back(again);
    }
    std::string listed;
    std::size_t shown = 0;
    for (const auto& [name, group] : groups) {
        if (++shown > max_listed) break;
        std::vector<std::string> origins;
        for (std::size_t i : group)
            if (!nodes[i].origin.empty()) origins.push_back(nodes[i].origin);
        std::sort(origins.begin(), origins.end());
        origins.erase(std::unique(origins.begin(), origins.end()), origins.end());
        listed += "\n  - '" + name + "' (" + count_of(group.size(), "node");
        for (std::size_t k = 0; k < origins.size(); ++k) listed += (k == 0 ? ", declared in " : "; ") + origins[k];
        listed += ")";
    }
    if (groups.size() > max_listed) listed += "\n  ... and " + std::to_string(groups.size() - max_listed) + " more";
    throw PipelineError("Pipeline nodes must have unique names, but these names are used more than once:" + listed +
                        "\nGive each node a distinct \"name\" (or put them in different \"namespace\"s).");
}

[[noreturn]] void throw_two_producers(const std::vector<Node>& nodes, const std::vector<std::string>& datasets,
                                      const std::vector<std::pair<std::uint32_t, std::size_t>>& clashes,
                                      const std::vector<std::size_t>& producer) {
    std::map<std::string, std::vector<std::size_t>> groups;  // dataset -> its writers
    for (const auto& [id, again] : clashes) {
        auto& group = groups[datasets[id]];
        if (group.empty()) group.push_back(producer[id]);
        group.push_back(again);
    }
    std::string msg = "A dataset can be written by only one node, but:";
    std::size_t shown = 0;
    for (const auto& [dataset, writers] : groups) {
        if (++shown > max_listed) break;
        msg += "\n  - '" + dataset + "' is an output of nodes ";
        for (std::size_t k = 0; k < writers.size(); ++k)
            msg += (k == 0 ? "" : k + 1 == writers.size() ? " and " : ", ") + label(nodes[writers[k]]);
    }
    if (groups.size() > max_listed) msg += "\n  ... and " + std::to_string(groups.size() - max_listed) + " more";
    throw PipelineError(msg + "\nRename the outputs so that each dataset has a single producer.");
}

[[noreturn]] void throw_type_mismatch(const std::string& dataset, const Node& typed_by, const std::string& have,
                                      bool produced_by_it, bool is_free, const Node& reader, const std::string& want) {
    if (produced_by_it)
        throw PipelineError("Type mismatch on dataset '" + dataset + "': node " + label(typed_by) + " outputs it as '" +
                            have + "', but node " + label(reader) + " reads it as '" + want +
                            "'. A dataset has one type: change one of the two functions, or convert the value "
                            "with a node in between.");
    throw PipelineError("Type mismatch on " + std::string(is_free ? "free input" : "dataset") + " '" + dataset +
                        "': node " + label(typed_by) + " reads it as '" + have + "', but node " + label(reader) +
                        " reads it as '" + want +
                        "'. A dataset loaded from the catalog has one type (only parameters may be read as "
                        "different types): make the two functions agree, or read different datasets.");
}

// One cycle among the nodes Kahn's algorithm could not order, as
// "a -> (x) -> b -> (y) -> a", starting from the node first by name.
std::string describe_cycle(const std::vector<Node>& nodes, const std::vector<std::string>& datasets,
                           const std::vector<std::size_t>& producer, const std::vector<std::size_t>& indegree) {
    // Every unordered node has an unordered producer, so walking producers must loop.
    std::size_t start = npos;
    for (std::size_t i = 0; i < nodes.size(); ++i)
        if (indegree[i] > 0 && (start == npos || nodes[i].name < nodes[start].name)) start = i;
    std::vector<std::size_t> seen_at(nodes.size(), npos);
    std::vector<std::size_t> walk;     // walk[k] reads via[k], produced by walk[k + 1]
    std::vector<std::uint32_t> via;
    std::size_t cur = start;
    while (seen_at[cur] == npos) {
        seen_at[cur] = walk.size();
        walk.push_back(cur);
        for (std::uint32_t id : nodes[cur].input_ids) {
            const std::size_t p = producer[id];
            if (p != npos && indegree[p] > 0) {
                via.push_back(id);
                cur = p;
                break;
            }
        }
    }
    // The loop is walk[s..]; in data-flow order it runs backwards through the walk.
    const std::size_t s = seen_at[cur], m = walk.size() - s;
    std::vector<std::size_t> cycle_nodes;       // in data-flow order
    std::vector<std::uint32_t> cycle_datasets;  // cycle_datasets[t] links node t to node t + 1
    for (std::size_t j = m; j-- > 0;) {
        cycle_nodes.push_back(walk[s + j]);
        cycle_datasets.push_back(j > 0 ? via[s + j - 1] : via[s + m - 1]);
    }
    std::size_t first = 0;
    for (std::size_t t = 1; t < m; ++t)
        if (nodes[cycle_nodes[t]].name < nodes[cycle_nodes[first]].name) first = t;
    // A long loop keeps its first and last steps: the message must stay readable.
    const std::string out = elided_list(
        m, 4, 2,
        [&](std::size_t t) {
            const std::size_t k = (first + t) % m;
            return nodes[cycle_nodes[k]].name + " -> (" + datasets[cycle_datasets[k]] + ") -> ";
        },
        [](std::size_t hidden) { return "... " + std::to_string(hidden) + " more nodes ... -> "; });
    return out + nodes[cycle_nodes[first]].name;
}

// What the first pass learns about each dataset, by id.
struct DatasetFacts {
    std::vector<std::size_t> producer;
    std::vector<const TypeOps*> type;  // the dataset's type, once a typed node set it
    std::vector<std::size_t> typed_by;
};

// Pass 1: checks each node's names and arity, interns its datasets (ids in order of first
// mention) and records producers and their output types. Duplicate node names and
// datasets with two producers are reported all at once.
DatasetFacts intern_nodes(std::vector<Node>& nodes, std::vector<std::uint64_t>& node_slots,
                          std::vector<std::uint64_t>& dataset_slots, std::vector<std::string>& dataset_names) {
    const std::size_t n = nodes.size();
    auto node_name = [&](std::size_t i) -> const std::string& { return nodes[i].name; };
    auto dataset_name = [&](std::size_t id) -> const std::string& { return dataset_names[id]; };
    std::size_t node_count = 0, dataset_count = 0;
    DatasetFacts facts;
    std::vector<std::pair<std::size_t, std::size_t>> name_clashes;
    std::vector<std::pair<std::uint32_t, std::size_t>> producer_clashes;
    auto intern = [&](const std::string& dataset) {
        const std::size_t id = slots::insert(dataset_slots, dataset_count, dataset, dataset_names.size(), dataset_name);
        if (id == dataset_names.size()) {
            if (id > 0xFFFFFFFEu) throw PipelineError("a pipeline holds at most 4294967295 datasets");
            dataset_names.push_back(dataset);
            facts.producer.push_back(npos);
            facts.type.push_back(nullptr);
            facts.typed_by.push_back(npos);
        }
        return static_cast<std::uint32_t>(id);
    };
    for (std::size_t i = 0; i < n; ++i) {
        Node& node = nodes[i];
        check_names(node);
        check_arity(node);
        if (std::size_t first = slots::insert(node_slots, node_count, node.name, i, node_name); first != i)
            name_clashes.emplace_back(first, i);
        node.input_ids.clear();
        node.output_ids.clear();
        node.input_ids.reserve(node.inputs.size());
        node.output_ids.reserve(node.outputs.size());
        for (const auto& d : node.inputs) node.input_ids.push_back(intern(d));
        const NodeSpec* spec = spec_of(node);
        for (std::size_t k = 0; k < node.outputs.size(); ++k) {
            const std::uint32_t id = intern(node.outputs[k]);
            node.output_ids.push_back(id);
            if (facts.producer[id] == i)
                throw PipelineError("node " + label(node) + " lists the output '" + node.outputs[k] +
                                    "' more than once: each output needs its own dataset name");
            if (facts.producer[id] != npos) {
                producer_clashes.emplace_back(id, i);
                continue;
            }
            facts.producer[id] = i;
            if (spec) {
                facts.type[id] = spec->outputs[k];
                facts.typed_by[id] = i;
            }
        }
    }
    if (!name_clashes.empty()) throw_duplicate_names(nodes, name_clashes);
    if (!producer_clashes.empty()) throw_two_producers(nodes, dataset_names, producer_clashes, facts.producer);
    return facts;
}

// Each dataset's readers in node order, readers[start[id]] up to readers[start[id + 1]],
// and each node's in-degree: how many of its inputs have a producer.
struct Readers {
    std::vector<std::size_t> start, readers, indegree;
};

// Pass 2: a node reading its own output; input types; readers and in-degrees. A dataset
// has one type: its producer's, or for a free input its first reader's; free parameters
// are exempt, each reader converting the JSON to its own type.
Readers check_inputs(const std::vector<Node>& nodes, const std::vector<std::string>& dataset_names,
                     DatasetFacts& facts) {
    const std::size_t n = nodes.size(), d = dataset_names.size();
    auto& [producer, type, typed_by] = facts;
    Readers r{std::vector<std::size_t>(d + 1, 0), {}, std::vector<std::size_t>(n, 0)};
    auto& [start, readers, indegree] = r;
    std::vector<std::size_t> last_reader(d, npos);
    for (std::size_t i = 0; i < n; ++i) {
        const Node& node = nodes[i];
        const NodeSpec* spec = spec_of(node);
        for (std::size_t k = 0; k < node.input_ids.size(); ++k) {
            const std::uint32_t id = node.input_ids[k];
            if (producer[id] == i)
                throw PipelineError("node " + label(node) + " reads its own output '" + dataset_names[id] +
                                    "': a node cannot have the same dataset as input and output");
            if (last_reader[id] != i) {  // a node reading a dataset twice is one reader
                last_reader[id] = i;
                ++start[id + 1];
                if (producer[id] != npos) ++indegree[i];
            }
            if (!spec) continue;
            const TypeOps* wanted = spec->inputs[k];
            const bool is_free = producer[id] == npos;
            if (!wanted || (is_free && is_parameter(dataset_names[id]))) continue;
            if (!type[id]) {
                type[id] = wanted;
                typed_by[id] = i;
            } else if (type[id]->name != wanted->name) {
                throw_type_mismatch(dataset_names[id], nodes[typed_by[id]], std::string(type[id]->name),
                                    typed_by[id] == producer[id], is_free, node, std::string(wanted->name));
            }
        }
    }
    for (std::size_t id = 0; id < d; ++id) start[id + 1] += start[id];
    readers.resize(start[d]);
    std::vector<std::size_t> fill(start.begin(), start.end() - 1);
    for (std::size_t i = 0; i < n; ++i)
        for (std::uint32_t id : nodes[i].input_ids)
            if (fill[id] == start[id] || readers[fill[id] - 1] != i) readers[fill[id]++] = i;
    return r;
}

// Kahn's algorithm a layer at a time, each layer by full name: Kedro's order. Appends the
// start of each layer to `layer_starts`; the in-degrees left above zero are the nodes in
// or downstream of a cycle, which the order then leaves out.
std::vector<std::size_t> layered_order(const std::vector<Node>& nodes, Readers& r,
                                       std::vector<std::size_t>& layer_starts) {
    const std::size_t n = nodes.size();
    auto& [start, readers, indegree] = r;
    std::vector<std::size_t> order;
    order.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        if (indegree[i] == 0) order.push_back(i);
    for (std::size_t begin = 0; begin < order.size();) {
        const std::size_t end = order.size();
        if (end - begin > 1)
            std::sort(order.begin() + static_cast<std::ptrdiff_t>(begin),
                      order.begin() + static_cast<std::ptrdiff_t>(end),
                      [&](std::size_t a, std::size_t b) { return nodes[a].name < nodes[b].name; });
        layer_starts.push_back(begin);
        for (std::size_t pos = begin; pos < end; ++pos)
            for (std::uint32_t id : nodes[order[pos]].output_ids)
                for (std::size_t k = start[id]; k < start[id + 1]; ++k)
                    if (--indegree[readers[k]] == 0) order.push_back(readers[k]);
        begin = end;
    }
    return order;
}

}  // namespace

std::string type_list(const std::vector<const TypeOps*>& types) {
    return join(types, ", ", [](const TypeOps* t) { return std::string(t ? t->name : "?"); });
}

std::string Node::describe() const {
    auto list = [](const std::vector<std::string>& names) {
        if (names.empty()) return std::string("None");
        return "[" + join(names, ";") + "]";
    };
    return name + ": " + (func ? func->qualified_name : std::string("<unbound>")) + "(" + list(inputs) + ") -> " +
           list(outputs);
}

Pipeline::Pipeline(std::vector<Node> nodes) {
    const std::size_t n = nodes.size();
    if (n >= 0xFFFFFFFFu) throw PipelineError("a pipeline holds at most 4294967294 nodes");
    node_slots_ = slots::make(n);
    dataset_slots_ = slots::make(n + 1);  // a chain has n + 1 datasets; grows when there are more
    DatasetFacts facts = intern_nodes(nodes, node_slots_, dataset_slots_, dataset_names_);
    Readers readers = check_inputs(nodes, dataset_names_, facts);
    const std::vector<std::size_t> order = layered_order(nodes, readers, layer_starts_);
    if (order.size() < n)
        throw PipelineError("The pipeline has a dependency cycle: " +
                            describe_cycle(nodes, dataset_names_, facts.producer, readers.indegree) + " (" +
                            count_of(n - order.size(), "node") +
                            " are in or downstream of a cycle). A node cannot depend, directly or through "
                            "other nodes, on its own output: give one of these datasets a new name.");
    if (n > 0) layer_starts_.push_back(n);
    take_in_order(nodes, order, facts.producer, readers.start, readers.readers);
}

// Moves the nodes here in topological order and renumbers producers, readers and the
// node slots to match.
void Pipeline::take_in_order(std::vector<Node>& nodes, const std::vector<std::size_t>& order,
                             const std::vector<std::size_t>& producer, const std::vector<std::size_t>& start,
                             const std::vector<std::size_t>& readers) {
    const std::size_t n = nodes.size(), d = dataset_names_.size();
    std::vector<std::size_t> new_index(n);
    for (std::size_t pos = 0; pos < n; ++pos) new_index[order[pos]] = pos;
    nodes_.reserve(n);
    for (std::size_t pos = 0; pos < n; ++pos) nodes_.push_back(std::move(nodes[order[pos]]));
    producer_.resize(d, npos);
    consumers_.resize(d);
    for (std::size_t id = 0; id < d; ++id) {
        if (producer[id] != npos) producer_[id] = new_index[producer[id]];
        auto& list = consumers_[id];
        list.reserve(start[id + 1] - start[id]);
        for (std::size_t r = start[id]; r < start[id + 1]; ++r) list.push_back(new_index[readers[r]]);
        std::sort(list.begin(), list.end());
    }
    for (std::uint64_t& entry : node_slots_)
        if (entry != 0) {
            const std::size_t old = static_cast<std::uint32_t>(entry) - 1;
            entry = (entry & 0xFFFFFFFF00000000ull) | (new_index[old] + 1);
        }
}

std::optional<std::uint32_t> Pipeline::dataset_id(const std::string& name) const {
    const std::size_t id =
        slots::find(dataset_slots_, name, [&](std::size_t i) -> const std::string& { return dataset_names_[i]; });
    if (id == npos) return std::nullopt;
    return static_cast<std::uint32_t>(id);
}

std::optional<std::size_t> Pipeline::node_index(const std::string& name) const {
    const std::size_t index =
        slots::find(node_slots_, name, [&](std::size_t i) -> const std::string& { return nodes_[i].name; });
    if (index == npos) return std::nullopt;
    return index;
}

std::vector<std::string> Pipeline::inputs() const {
    std::vector<std::string> out;
    for (std::uint32_t id = 0; id < dataset_names_.size(); ++id)
        if (is_free_input(id)) out.push_back(dataset_names_[id]);
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> Pipeline::outputs() const {
    std::vector<std::string> out;
    for (std::uint32_t id = 0; id < dataset_names_.size(); ++id)
        if (is_free_output(id)) out.push_back(dataset_names_[id]);
    std::sort(out.begin(), out.end());
    return out;
}

Pipeline Pipeline::subset(const std::vector<std::size_t>& node_indices) const {
    std::vector<char> keep(nodes_.size(), 0);
    for (std::size_t index : node_indices) {
        if (index >= nodes_.size())
            throw PipelineError("node index " + std::to_string(index) + " is out of range: the pipeline has " +
                                count_of(nodes_.size(), "node"));
        keep[index] = 1;
    }
    std::vector<Node> picked;
    picked.reserve(node_indices.size());
    for (std::size_t i = 0; i < nodes_.size(); ++i)
        if (keep[i]) picked.push_back(nodes_[i]);
    return Pipeline(std::move(picked));
}

namespace {
bool same_node(const Node& a, const Node& b) {
    const bool same_func = a.func == b.func || (a.func && b.func && a.func->qualified_name == b.func->qualified_name);
    return same_func && a.name == b.name && a.namespace_ == b.namespace_ && a.inputs == b.inputs &&
           a.outputs == b.outputs && a.tags == b.tags && a.resources == b.resources;
}
}  // namespace

Pipeline operator+(const Pipeline& a, const Pipeline& b) {
    std::vector<Node> nodes = a.nodes_;
    nodes.reserve(a.size() + b.size());
    for (const Node& node : b.nodes_) {
        // The same node in both is kept once; a different node under a taken name stays,
        // so that the constructor reports the clash.
        auto index = a.node_index(node.name);
        if (!index || !same_node(a.nodes_[*index], node)) nodes.push_back(node);
    }
    return Pipeline(std::move(nodes));
}

}  // namespace kiln::core
