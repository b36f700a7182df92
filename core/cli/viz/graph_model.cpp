#include "viz/graph_model.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string_view>

#include "catalog/catalog.hpp"
#include "model/transcoding.hpp"
#include "viz/graph_text.hpp"

namespace kiln::core::viz {
namespace {
constexpr std::size_t npos = static_cast<std::size_t>(-1);
}  // namespace

Graph build_graph(const Pipeline& p, const GraphOptions& o) {
    Graph g;
    std::set<std::string> namespaces;
    for (const Node& n : p.nodes()) {
        std::string_view ns = n.namespace_;
        while (!ns.empty()) {
            namespaces.emplace(ns);
            const auto dot = ns.rfind('.');
            ns = dot == std::string_view::npos ? std::string_view() : ns.substr(0, dot);
        }
    }
    g.groups.push_back("");
    g.groups.insert(g.groups.end(), namespaces.begin(), namespaces.end());
    // Sorted, so a group's index is its rank in g.groups.
    auto group_of_name = [&](std::string_view ns) -> std::size_t {
        auto it = std::lower_bound(g.groups.begin() + 1, g.groups.end(), ns,
                                   [](const std::string& a, std::string_view b) { return a < b; });
        return it != g.groups.end() && *it == ns ? static_cast<std::size_t>(it - g.groups.begin()) : 0;
    };
    // The deepest namespace that prefixes `name` before a dot (a.b.c: a.b, then a).
    auto deepest_namespace = [&](std::string_view name) -> std::size_t {
        if (g.groups.size() == 1) return 0;
        for (auto dot = name.rfind('.'); dot != std::string_view::npos && dot > 0; dot = name.rfind('.', dot - 1))
            if (std::size_t grp = group_of_name(name.substr(0, dot))) return grp;
        return 0;
    };
    g.group_parent.assign(g.groups.size(), 0);
    for (std::size_t k = 1; k < g.groups.size(); ++k) g.group_parent[k] = deepest_namespace(g.groups[k]);

    const auto& names = p.dataset_names();
    std::vector<std::size_t> dataset_item(names.size(), npos);
    std::vector<std::size_t> seen_by(names.size(), npos);  // the node that last added an edge with it
    std::map<std::string_view, std::size_t> transcoded_item;  // underlying name -> item
    auto dataset = [&](std::uint32_t id) -> std::size_t {
        if (dataset_item[id] != npos) return dataset_item[id];
        const std::string& name = names[id];
        if (is_transcoded(name)) {
            // Every form of one dataset is one item, as Kedro-Viz draws it.
            auto [it, fresh] = transcoded_item.emplace(underlying_dataset(name), g.items.size());
            if (!fresh) {
                Item& shared = g.items[it->second];
                shared.forms.push_back(id);
                if (o.catalog.count(name)) shared.kind = Kind::persisted;
                return dataset_item[id] = it->second;
            }
        }
        Item item;
        item.index = id;
        if (is_parameter_name(name)) {
            if (!o.show_parameters) return npos;
            item.kind = Kind::parameter;
        } else {
            item.kind = o.catalog.count(name) ? Kind::persisted : Kind::memory;
            item.group = deepest_namespace(name);
        }
        if (is_transcoded(name)) item.forms.push_back(id);
        item.id = "d" + std::to_string(g.dataset_count++);
        dataset_item[id] = g.items.size();
        g.items.push_back(std::move(item));
        return dataset_item[id];
    };
    for (std::size_t i = 0; i < p.size(); ++i) {
        const Node& n = p.nodes()[i];
        std::vector<std::size_t> inputs;
        for (std::uint32_t id : n.input_ids) {
            if (seen_by[id] == i) continue;  // a node reading one dataset twice gets one edge
            seen_by[id] = i;
            if (std::size_t d = dataset(id); d != npos) inputs.push_back(d);
        }
        Item item;
        item.kind = Kind::node;
        item.index = i;
        item.id = "n" + std::to_string(i);
        item.group = group_of_name(n.namespace_);
        const std::size_t self = g.items.size();
        g.items.push_back(std::move(item));
        ++g.node_count;
        for (std::size_t d : inputs) g.edges.emplace_back(d, self);
        for (std::uint32_t id : n.output_ids)
            if (std::size_t d = dataset(id); d != npos) g.edges.emplace_back(self, d);
    }
    return g;
}

Labels labels_of(const Pipeline& p, const GraphOptions& o, const Item& item) {
    Labels l;
    if (item.kind == Kind::node) {
        const Node& n = p.nodes()[item.index];
        l.name = n.name;
        if (n.func) l.detail = n.func->qualified_name;
        if (!n.tags.empty()) l.tags = "[" + join(n.tags, ", ") + "]";
    } else if (!item.forms.empty()) {
        l.name = std::string(underlying_dataset(p.dataset_names()[item.index]));
        // Each form with its type: "@json kiln.JsonDataset, @text kiln.TextDataset".
        std::vector<std::string> forms;
        for (std::size_t form : item.forms) {
            const std::string& name = p.dataset_names()[form];
            auto type = o.catalog.find(name);
            forms.push_back(name.substr(l.name.size()) + (type == o.catalog.end() ? "" : " " + type->second));
        }
        l.detail = join(forms, ", ");
    } else {
        l.name = p.dataset_names()[item.index];
        if (item.kind == Kind::persisted) l.detail = o.catalog.at(l.name);
    }
    return l;
}

Tree group_tree(const Graph& g) {
    Tree t;
    t.members.resize(g.groups.size());
    t.children.resize(g.groups.size());
    for (std::size_t k = 0; k < g.items.size(); ++k) t.members[g.items[k].group].push_back(k);
    for (std::size_t k = 1; k < g.groups.size(); ++k) t.children[g.group_parent[k]].push_back(k);
    return t;
}

}  // namespace kiln::core::viz
