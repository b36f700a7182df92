// The run record: what the last `kiln run` in a project ran and how it ended, kept in
// PROJECT/.kiln/last_run.json so `kiln run --resume` can re-run exactly what is left.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/pipeline.hpp"

namespace kiln::core {

struct RunRecord {
    std::string run_id;
    std::string status;    // "success" or "failed"
    std::string pipeline;  // pipeline name
    std::vector<std::string> nodes;  // the nodes the run was to run, in order
    std::vector<std::string> done;   // those that completed
    std::string failed_node;
    std::string error;

    nlohmann::json to_json() const;
    // Throws kiln::ConfigError naming the file when it is not a run record.
    static RunRecord from_json(const nlohmann::json& j, const std::string& file);
};

std::filesystem::path run_record_path(const std::filesystem::path& project_dir);
void write_run_record(const std::filesystem::path& project_dir, const RunRecord& record);
std::optional<RunRecord> read_run_record(const std::filesystem::path& project_dir);

}  // namespace kiln::core
