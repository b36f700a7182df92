#include "journal/run_record.hpp"

#include "config/json_file.hpp"
#include "config/redaction.hpp"
#include "kiln/error.hpp"
#include "kiln/file_io.hpp"

namespace kiln::core {
namespace fs = std::filesystem;

nlohmann::json RunRecord::to_json() const {
    return {{"format", "kiln-run-record/1"}, {"run_id", run_id}, {"status", status},   {"pipeline", pipeline},
            {"nodes", nodes},                {"done", done},       {"failed_node", failed_node}, {"error", error}};
}

RunRecord RunRecord::from_json(const nlohmann::json& j, const std::string& file) {
    try {
        if (j.value("format", "") != "kiln-run-record/1") throw std::invalid_argument("unknown format");
        RunRecord r;
        r.run_id = j.at("run_id").get<std::string>();
        r.status = j.at("status").get<std::string>();
        r.pipeline = j.at("pipeline").get<std::string>();
        r.nodes = j.at("nodes").get<std::vector<std::string>>();
        r.done = j.at("done").get<std::vector<std::string>>();
        r.failed_node = j.value("failed_node", "");
        r.error = j.value("error", "");
        return r;
    } catch (const std::exception& e) {
        throw ConfigError(file + ": not a valid kiln run record (" + e.what() +
                          "); delete it and run the pipeline without --resume");
    }
}

fs::path run_record_path(const fs::path& project_dir) { return project_dir / ".kiln" / "last_run.json"; }

void write_run_record(const fs::path& project_dir, const RunRecord& record) {
    // A node's error may hold any bytes (Latin-1 from a file): shown as U+FFFD, the record is still written.
    const auto text = redact(record.to_json().dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    write_file_atomic(run_record_path(project_dir), text + "\n");
}

std::optional<RunRecord> read_run_record(const fs::path& project_dir) {
    fs::path file = run_record_path(project_dir);
    std::error_code ec;
    if (!fs::exists(file, ec)) return std::nullopt;
    return RunRecord::from_json(read_json_file(file), file.string());
}

}  // namespace kiln::core
