// Pipeline construction: validation, dataset interning and Kedro's layered toposort.
// Linear in nodes + edges apart from sorting each layer by name: a pipeline of a hundred
// thousand nodes builds in a few passes over its nodes (Kedro's is quadratic in places).
#include "model/pipeline.hpp"

#include "model/parameter_names.hpp"
#include "model/transcoding.hpp"
#include "text/elided_list.hpp"
#include "text/join.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <string_view>
#include <unordered_map>

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

// Also for a transcoded form of the output ("x@text" read, "x@json" written): Kedro's rule.
[[noreturn]] void throw_reads_own_output(const Node& node, const std::string& dataset) {
    std::string same;
    if (is_transcoded(dataset)) {
        for (const std::string& out : node.outputs)
            if (is_transcoded(out) && underlying_dataset(out) == underlying_dataset(dataset) && out != dataset)
                same = " (a form of its output '" + out + "')";
    }
    throw PipelineError("node " + label(node) + " reads its own output '" + dataset + "'" + same +
                        ": a node cannot have the same dataset as input and output");
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

// Where messages say which node uses a dataset: "node 'a' (f)", the first one naming it.
std::string first_user(const std::vector<Node>& nodes, const std::string& dataset) {
    for (const Node& node : nodes)
        if (std::find(node.inputs.begin(), node.inputs.end(), dataset) != node.inputs.end() ||
            std::find(node.outputs.begin(), node.outputs.end(), dataset) != node.outputs.end())
            return "node " + label(node);
    return "no node";
}

// Every form of each underlying dataset, in order of first mention, for messages.
std::map<std::string, std::vector<std::string>> forms_by_underlying(const std::vector<std::string>& names,
                                                                   const std::vector<std::uint32_t>& group,
                                                                   const std::vector<char>& wanted) {
    std::map<std::string, std::vector<std::string>> forms;
    for (std::size_t id = 0; id < names.size(); ++id)
        if (wanted[group[id]] && is_transcoded(names[id]))
            forms[std::string(underlying_dataset(names[id]))].push_back(names[id]);
    return forms;
}

[[noreturn]] void throw_mixed_use(const std::map<std::string, std::vector<std::string>>& mixed) {
    std::string msg = "These datasets are used with transcoding ('name@format') and also without it:";
    std::size_t shown = 0;
    for (const auto& [name, forms] : mixed) {
        if (++shown > max_listed) break;
        msg += "\n  - '" + name + "', also used as " + quoted_join(forms);
    }
    if (mixed.size() > max_listed) msg += "\n  ... and " + std::to_string(mixed.size() - max_listed) + " more";
    throw PipelineError(msg + "\nA transcoded dataset is named with its format wherever it is used: add the format "
                              "to the plain uses, or give the plain dataset another name.");
}

// underlying dataset -> its writers, as (node, the form it writes)
using TranscodedWriters = std::map<std::string, std::vector<std::pair<std::size_t, std::string>>>;

[[noreturn]] void throw_transcoded_producers(const std::vector<Node>& nodes, const TranscodedWriters& clashes) {
    std::string msg = "A dataset can be written by only one node, but:";
    std::size_t shown = 0;
    for (const auto& [name, writers] : clashes) {
        if (++shown > max_listed) break;
        msg += "\n  - the transcoded dataset '" + name + "' is written by ";
        for (std::size_t k = 0; k < writers.size(); ++k)
            msg += (k == 0 ? "" : k + 1 == writers.size() ? " and " : ", ") + std::string("node ") +
                   label(nodes[writers[k].first]) + " as '" + writers[k].second + "'";
    }
    if (clashes.size() > max_listed) msg += "\n  ... and " + std::to_string(clashes.size() - max_listed) + " more";
    throw PipelineError(msg + "\nThe forms 'name@format' of one dataset are that one dataset: let a single node write "
                              "it, in one form, and the others read it in theirs.");
}

// Pass 1b, only when a name has the transcoding separator: groups the forms of each
// underlying dataset, refuses a name with two separators, an underlying name also used
// plainly, and a dataset written (in any forms) by more than one node or twice by one,
// then gives every form its group's producer. Returns each dataset's group (the id of its
// first form), or nothing when no name is transcoded: the common case pays one scan.
std::vector<std::uint32_t> group_transcoded(const std::vector<Node>& nodes, const std::vector<std::string>& names,
                                            DatasetFacts& facts) {
    const std::size_t d = names.size();
    bool any = false;
    std::vector<std::string> too_many;
    for (const std::string& name : names) {
        if (name.find(transcoding_separator) == std::string::npos) continue;
        if (transcoding_separators(name) > 1) too_many.push_back(name);
        any = any || is_transcoded(name);
    }
    if (!too_many.empty()) {
        std::string listed;
        for (std::size_t k = 0; k < too_many.size() && k < max_listed; ++k)
            listed += "\n  - '" + too_many[k] + "' (" + first_user(nodes, too_many[k]) + ")";
        if (too_many.size() > max_listed)
            listed += "\n  ... and " + std::to_string(too_many.size() - max_listed) + " more";
        throw PipelineError(std::string("A dataset name may contain '") + transcoding_separator +
                            "' at most once (it separates a transcoded dataset from its format, as in "
                            "'name@format'), but these have more:" + listed);
    }
    if (!any) return {};

    std::vector<std::uint32_t> group(d);
    std::unordered_map<std::string_view, std::uint32_t> group_of_name;
    group_of_name.reserve(d);
    std::vector<char> plain(d, 0), transcoded(d, 0);
    for (std::uint32_t id = 0; id < d; ++id) {
        group[id] = group_of_name.emplace(underlying_dataset(names[id]), id).first->second;
        (is_transcoded(names[id]) ? transcoded : plain)[group[id]] = 1;
    }
    std::vector<char> mixed(d, 0);
    bool any_mixed = false;
    for (std::size_t g = 0; g < d; ++g) any_mixed |= (mixed[g] = plain[g] && transcoded[g]) != 0;
    if (any_mixed) throw_mixed_use(forms_by_underlying(names, group, mixed));

    std::vector<std::size_t> group_producer(d, npos);
    std::vector<std::uint32_t> written_as(d, 0);
    TranscodedWriters clashes;
    for (std::uint32_t id = 0; id < d; ++id) {
        const std::size_t writer = facts.producer[id];
        if (writer == npos) continue;
        const std::uint32_t g = group[id];
        if (group_producer[g] == npos) {
            group_producer[g] = writer;
            written_as[g] = id;
            continue;
        }
        auto& list = clashes[std::string(underlying_dataset(names[id]))];
        if (list.empty()) list.emplace_back(group_producer[g], names[written_as[g]]);
        list.emplace_back(writer, names[id]);
    }
    if (!clashes.empty()) throw_transcoded_producers(nodes, clashes);
    for (std::uint32_t id = 0; id < d; ++id) facts.producer[id] = group_producer[group[id]];
    return group;
}

// Each underlying dataset's readers in node order, readers[start[g]] up to
// readers[start[g + 1]] for its group g, and each node's in-degree: how many of the
// datasets it reads have a producer.
struct Readers {
    std::vector<std::size_t> start, readers, indegree;
};

// Pass 2: a node reading its own output; input types; readers and in-degrees. A dataset
// has one type: its producer's, or for a free input its first reader's; free parameters
// are exempt, each reader converting the JSON to its own type.
Readers check_inputs(const std::vector<Node>& nodes, const std::vector<std::string>& dataset_names,
                     const std::vector<std::uint32_t>& underlying, DatasetFacts& facts) {
    const std::size_t n = nodes.size(), d = dataset_names.size();
    auto& [producer, type, typed_by] = facts;
    Readers r{std::vector<std::size_t>(d + 1, 0), {}, std::vector<std::size_t>(n, 0)};
    auto& [start, readers, indegree] = r;
    std::vector<std::size_t> last_reader(d, npos);
    auto group_of = [&](std::uint32_t id) { return underlying.empty() ? id : underlying[id]; };
    for (std::size_t i = 0; i < n; ++i) {
        const Node& node = nodes[i];
        const NodeSpec* spec = spec_of(node);
        for (std::size_t k = 0; k < node.input_ids.size(); ++k) {
            const std::uint32_t id = node.input_ids[k];
            if (producer[id] == i) throw_reads_own_output(node, dataset_names[id]);
            const std::uint32_t g = group_of(id);
            if (last_reader[g] != i) {  // a node reading a dataset twice (or two forms of it) is one reader
                last_reader[g] = i;
                ++start[g + 1];
                if (producer[id] != npos) ++indegree[i];
            }
            if (!spec) continue;
            const TypeOps* wanted = spec->inputs[k];
            const bool is_free = producer[id] == npos;
            if (!wanted || (is_free && is_parameter_name(dataset_names[id]))) continue;
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
        for (std::uint32_t id : nodes[i].input_ids) {
            const std::uint32_t g = group_of(id);
            if (fill[g] == start[g] || readers[fill[g] - 1] != i) readers[fill[g]++] = i;
        }
    return r;
}

// Kahn's algorithm a layer at a time, each layer by full name: Kedro's order. Appends the
// start of each layer to `layer_starts`; the in-degrees left above zero are the nodes in
// or downstream of a cycle, which the order then leaves out.
std::vector<std::size_t> layered_order(const std::vector<Node>& nodes, const std::vector<std::uint32_t>& underlying,
                                       Readers& r, std::vector<std::size_t>& layer_starts) {
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
            for (std::uint32_t id : nodes[order[pos]].output_ids) {
                const std::uint32_t g = underlying.empty() ? id : underlying[id];
                for (std::size_t k = start[g]; k < start[g + 1]; ++k)
                    if (--indegree[readers[k]] == 0) order.push_back(readers[k]);
            }
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
    underlying_ = group_transcoded(nodes, dataset_names_, facts);
    Readers readers = check_inputs(nodes, dataset_names_, underlying_, facts);
    const std::vector<std::size_t> order = layered_order(nodes, underlying_, readers, layer_starts_);
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
        // Every form of a transcoded dataset gets its group's readers.
        const std::uint32_t g = underlying_id(static_cast<std::uint32_t>(id));
        auto& list = consumers_[id];
        list.reserve(start[g + 1] - start[g]);
        for (std::size_t r = start[g]; r < start[g + 1]; ++r) list.push_back(new_index[readers[r]]);
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

std::vector<std::uint32_t> Pipeline::transcoded_forms(std::string_view name) const {
    std::vector<std::uint32_t> forms;
    if (underlying_.empty()) return forms;
    for (std::uint32_t id = 0; id < dataset_names_.size(); ++id)
        if (is_transcoded(dataset_names_[id]) && underlying_dataset(dataset_names_[id]) == name) forms.push_back(id);
    return forms;
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
