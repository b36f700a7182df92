// DryRunner: `kiln run --runner DryRunner` lists what a run would do, in order, and runs
// nothing: each node with its function, inputs and outputs and where they live, and
// whether the data the run starts from exists (missing data fails the dry run).
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <kiln/runner.hpp>
#include <kiln/sdk.hpp>
#include <kiln/version.hpp>

namespace {

std::string describe_datasets(const kiln::CatalogView& catalog, std::span<const std::string> names) {
    if (names.empty()) return "-";
    std::string s;
    for (const auto& name : names) {
        if (!s.empty()) s += ", ";
        s += name + " [" + catalog.describe(name) + "]";
    }
    return s;
}

class DryRunner final : public kiln::Runner {
public:
    void run(kiln::RunContext& ctx) override {
        const kiln::CatalogView& catalog = ctx.catalog();
        std::ostringstream out;
        const std::size_t n = ctx.node_count();
        out << "Dry run: " << n << " node" << (n == 1 ? "" : "s") << " would run, in this order (nothing is run):\n";
        std::set<std::string> produced, read_first;
        for (std::size_t i = 0; i < n; ++i) {
            kiln::NodeView node = ctx.node(i);
            out << "  " << i + 1 << ". " << node.name << " (" << node.function << ")\n";
            out << "       inputs:  " << describe_datasets(catalog, node.inputs) << "\n";
            out << "       outputs: " << describe_datasets(catalog, node.outputs) << "\n";
            for (const auto& in : node.inputs)
                if (!produced.count(in)) read_first.insert(in);
            produced.insert(node.outputs.begin(), node.outputs.end());
        }
        // The data the run starts from: a dry run's most useful check. Missing data fails
        // the dry run (kiln exits non-zero), so it works as a pre-flight check in CI.
        std::vector<std::string> missing;
        for (const auto& name : read_first) {
            if (!catalog.is_persisted(name)) continue;
            const bool exists = catalog.exists(name);
            if (!exists) missing.push_back(name + " [" + catalog.describe(name) + "]");
            out << "  input " << name << ": " << (exists ? "exists" : "MISSING") << "\n";
        }
        if (!missing.empty()) out << "  " << missing.size() << " input(s) missing: a real run would fail when loading them.\n";
        std::cout << out.str() << std::flush;
        if (!missing.empty()) {
            std::string list;
            for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
            throw std::runtime_error("dry run found " + std::to_string(missing.size()) +
                                     " missing input(s) the run needs: " + list +
                                     "; create them, or run the nodes that produce them first");
        }
    }
};

}  // namespace

KILN_PLUGIN_VERSIONED(dryrun, KILN_VERSION_STRING) {
    reg.runner<DryRunner>("DryRunner", {.doc = "lists the nodes a run would execute, in order, and runs nothing"});
}
