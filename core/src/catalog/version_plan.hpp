// The versions a run's versioned datasets use, decided once when the plan is built, so
// that every runner (and every worker process) reads and writes the same files:
//   - a dataset a node of the run saves: the run's save version, one for the whole run,
//     reserved on disk (catalog/dataset_versions.hpp); a node reading it later in the run
//     reads that version;
//   - a dataset the run only reads: the version --load-versions pins, else the latest.
// A resumed run takes the versions its journal recorded: it completes that version set.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "catalog/dataset_versions.hpp"
#include "model/pipeline.hpp"

namespace kiln::core {

struct RunVersions {
    std::string save_version;                         // empty: the run saves no versioned dataset
    std::map<std::string, DatasetVersion> datasets;  // by dataset name

    bool empty() const { return datasets.empty(); }
    // {"save_version": "...", "datasets": {"model": {"load": "...", "save": "..."}}} (the journal
    // and the worker snapshot); "load"/"save" absent when none.
    nlohmann::json to_json() const;
    // Reads to_json()'s form; throws kiln::ConfigError naming `where` when it is not.
    static RunVersions from_json(const nlohmann::json& j, const std::string& where);
    // The run report's form: {"model": {"load": "..." or null, "save": "..." or null}}.
    nlohmann::json report_json() const;
};

// "--load-versions" items "name:VERSION" (already split at commas) as name -> version; a
// later item for the same name wins. Throws kiln::ConfigError for an item without a name
// or a version.
std::map<std::string, std::string> parse_load_versions(const std::vector<std::string>& items);

// Refuses (kiln::ConfigError) a pinned dataset the catalog lacks, one that is not
// versioned, and a version that does not exist, listing what exists.
void check_load_versions(const DataCatalog& catalog, const std::map<std::string, std::string>& pins);

// The versions of every versioned dataset `to_run` reads or writes. Those `earlier`
// decided (a resumed run's) keep theirs, and the save version of `earlier`, when set, is
// the run's; otherwise a new one is reserved from `now`. Throws kiln::ConfigError for a
// dataset only read that has no version yet, or one pinned that the run saves.
RunVersions choose_versions(const DataCatalog& catalog, const Pipeline& to_run,
                            const std::map<std::string, std::string>& pins, RunVersions earlier,
                            std::chrono::system_clock::time_point now);

}  // namespace kiln::core
