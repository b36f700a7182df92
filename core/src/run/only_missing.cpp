#include <algorithm>
#include <spdlog/spdlog.h>

#include "run/run_selection.hpp"
#include "run/upstream_walk.hpp"

namespace kiln::core {

namespace {
const TypeOps* value_type_of(const Pipeline& p, std::uint32_t d) {
    std::size_t producer = p.producer_of(d);
    if (producer != Pipeline::npos) {
        const Node& n = p.nodes()[producer];
        for (std::size_t k = 0; k < n.output_ids.size(); ++k)
            if (n.output_ids[k] == d) return n.func ? n.func->spec->outputs[k] : nullptr;
    }
    for (std::size_t c : p.consumers_of(d)) {
        const Node& n = p.nodes()[c];
        for (std::size_t k = 0; k < n.input_ids.size(); ++k)
            if (n.input_ids[k] == d) return n.func ? n.func->spec->inputs[k] : nullptr;
    }
    return nullptr;
}

// Whether a dataset's value is available without running its producer: persisted in
// the catalog and present. Memory datasets never are.
bool persisted_and_present(const Pipeline& p, std::uint32_t d, DataCatalog& catalog, const std::string& run_id) {
    const std::string& name = p.dataset_names()[d];
    if (is_parameter_name(name)) return true;
    if (!catalog.persists(name)) return false;
    // A versioned dataset with no version chosen yet is present when any version holds
    // its file: a run would load the latest.
    if (catalog.is_versioned(name) && !catalog.version_of(name)) {
        const auto file = catalog.versioned_file(name);
        const bool any = latest_version(file.versions_dir, file.file_name).has_value();
        spdlog::debug("Checking whether a version of {} exists: {}", name, any ? "yes" : "no");
        return any;
    }
    bool present = catalog.dataset(name, value_type_of(p, d), run_id).exists();
    spdlog::debug("Checking whether {} exists: {}", name, present ? "yes" : "no");
    return present;
}

}  // namespace

std::vector<std::size_t> select_missing_outputs(const Pipeline& pipeline, DataCatalog& catalog,
                                                const std::string& run_id, std::vector<std::string>& skipped) {
    const auto& nodes = pipeline.nodes();
    std::vector<char> runs(nodes.size(), 0);
    // Cache: each dataset's presence is checked at most once.
    std::vector<signed char> present(pipeline.dataset_names().size(), -1);
    auto available = [&](std::uint32_t d) {
        if (present[d] < 0) present[d] = persisted_and_present(pipeline, d, catalog, run_id) ? 1 : 0;
        return present[d] == 1;
    };
    for (std::size_t i = nodes.size(); i-- > 0;) {
        const Node& n = nodes[i];
        if (n.output_ids.empty()) {
            spdlog::debug("Node '{}' must run: it has no outputs", n.name);
            runs[i] = 1;
            continue;
        }
        for (std::uint32_t d : n.output_ids) {
            const std::string& name = pipeline.dataset_names()[d];
            if (catalog.persists(name) && !available(d)) {
                spdlog::debug("Node '{}' must run: its output '{}' is missing", n.name, name);
                runs[i] = 1;
                break;
            }
            bool needed = false;
            for (std::size_t c : pipeline.consumers_of(d))
                if (runs[c] && !available(d)) {
                    spdlog::debug("Node '{}' must run: it produces '{}' needed by running node '{}'", n.name, name,
                                  nodes[c].name);
                    needed = true;
                    break;
                }
            if (needed) {
                runs[i] = 1;
                break;
            }
        }
    }
    std::vector<std::size_t> selected;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (runs[i]) selected.push_back(i);
        else skipped.push_back(nodes[i].name);
    }
    std::sort(skipped.begin(), skipped.end());
    return selected;
}

std::vector<std::size_t> nodes_to_resume(const Pipeline& pipeline, const std::vector<char>& done, DataCatalog& catalog,
                                         const std::string& run_id) {
    // Cache: a dataset read by several nodes is checked once.
    std::vector<signed char> present(pipeline.dataset_names().size(), -1);
    const std::vector<char> runs = mark_upstream(pipeline, done, [&](std::uint32_t d) {
        if (present[d] < 0) present[d] = persisted_and_present(pipeline, d, catalog, run_id) ? 1 : 0;
        return present[d] == 0;
    });
    std::vector<std::size_t> selected;
    for (std::size_t i = 0; i < runs.size(); ++i)
        if (runs[i]) selected.push_back(i);
    return selected;
}

}  // namespace kiln::core
