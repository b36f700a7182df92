#include "run/transcoded_storage.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include "model/transcoding.hpp"
#include "text/join.hpp"

namespace kiln::core {

std::string transcoded_forms_in_memory(const Pipeline& pipeline, const DataCatalog& catalog) {
    if (!pipeline.has_transcoding()) return {};
    const auto& names = pipeline.dataset_names();
    std::map<std::string, std::vector<std::uint32_t>> forms;  // underlying name -> its forms, by id
    for (std::uint32_t id = 0; id < names.size(); ++id)
        if (is_transcoded(names[id])) forms[std::string(underlying_dataset(names[id]))].push_back(id);

    std::string lines;
    for (const auto& [underlying, ids] : forms) {
        const std::size_t writer = pipeline.producer_of(ids.front());
        if (ids.size() < 2 || writer == Pipeline::npos) continue;  // nothing passes between forms
        std::vector<std::string> problems, written, read, all;
        for (std::uint32_t id : ids) {
            const std::string& name = names[id];
            all.push_back(name);
            const auto& outputs = pipeline.nodes()[writer].output_ids;
            (std::find(outputs.begin(), outputs.end(), id) != outputs.end() ? written : read).push_back(name);
            if (!catalog.contains(name))
                problems.push_back("'" + name + "' has no catalog entry and no dataset pattern matches it");
            else if (catalog.is_memory(name))
                problems.push_back("'" + name + "' is a kiln.MemoryDataset");
        }
        if (problems.empty()) continue;
        std::sort(all.begin(), all.end());
        lines += "\n  - '" + underlying + "' is written as " + quoted_join(written) + " by node '" +
                 pipeline.nodes()[writer].name + "'" + (read.empty() ? "" : " and read as " + quoted_join(read)) +
                 ", but " + join(problems, "; ") + ". Declare " + quoted_join(all) +
                 " in catalog.json with the same filepath, each with the dataset type for its format.";
    }
    if (lines.empty()) return {};
    return "transcoded dataset(s) cannot pass from node to node in memory: the forms 'name@format' of one dataset "
           "share their data through storage:" + lines;
}

}  // namespace kiln::core
