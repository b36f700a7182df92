// What defines a run, kept in its journal so that `kiln run --resume` continues the same
// run: the invocation (pipeline, filters, runner and its options, --params, plugin paths,
// KILN_* environment) and a fingerprint of the project (its configuration files and the
// plugin binaries loaded), to refuse a resume when the project changed since.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "session/session.hpp"

namespace kiln::core {

// The options that define a run, as JSON. Plugin paths are made absolute.
nlohmann::json invocation_to_json(const SessionOptions& options, const std::string& pipeline_name);

// `options` with the recorded invocation put back (what the user typed for --project,
// --report, --trace and logging stays). Sets or clears the KILN_* environment variables
// to what they were. Throws kiln::ConfigError naming `file` for a malformed invocation.
SessionOptions replay_invocation(const nlohmann::json& invocation, SessionOptions options, const std::string& file);

// A shell command (every argument quoted as needed) that runs this invocation again, with
// `extra` arguments appended as they are (quote them yourself).
std::string invocation_command(const nlohmann::json& invocation, const std::string& kiln_exe,
                               const std::filesystem::path& project, const std::vector<std::string>& extra);

// Content hashes of the project's configuration files (its own pipelines.json,
// catalog.json, parameters.json and settings.json, and `conf_files`, relative to it or
// absolute) and size/mtime of every plugin binary loaded.
nlohmann::json project_fingerprint(const std::filesystem::path& project, const Registry& registry,
                                   const std::vector<std::string>& conf_files = {});

// What differs between two fingerprints, one line each ("parameters.json changed").
std::vector<std::string> fingerprint_changes(const nlohmann::json& then, const nlohmann::json& now);

// Quotes one argument for a POSIX shell when it needs it.
std::string shell_quote(const std::string& arg);

}  // namespace kiln::core
