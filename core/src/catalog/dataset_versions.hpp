// Versions of a versioned dataset (Kedro's `versioned: true`): the file of entry
// {"filepath": "data/model.json", "versioned": true} lives at
// data/model.json/<version>/model.json, where <version> is the UTC time of the run that
// saved it in Kedro's format, "2026-11-23T03.45.21.123Z". Versions sort by name, oldest
// first, so "the latest" is the greatest name.
//
//     reserve_save_version({"/p/data/model.json"}, now)  // "2026-11-23T03.45.21.123Z", folder made
//     existing_versions("/p/data/model.json", "model.json")  // the versions that hold the file
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kiln::core {

// What one versioned dataset uses in a run; an empty string: none.
struct DatasetVersion {
    std::string load;  // the version its nodes read
    std::string save;  // the version its nodes write (a node reading it later reads this one)
    // The version its file is at in this run: the saved one when it is saved.
    const std::string& used() const { return save.empty() ? load : save; }
    bool operator==(const DatasetVersion&) const = default;
};

// `at` in Kedro's version format, milliseconds truncated: "YYYY-MM-DDThh.mm.ss.sssZ".
std::string version_timestamp(std::chrono::system_clock::time_point at);

// The time a version name stands for; nullopt when the name is not in the format.
std::optional<std::chrono::system_clock::time_point> parse_version_timestamp(const std::string& name);

// The versions under `versions_dir` (the entry's filepath) whose folder holds `file_name`
// (the filepath's last component), oldest first. Folders whose name is not a version are
// ignored. Empty when the folder does not exist.
std::vector<std::string> existing_versions(const std::filesystem::path& versions_dir, const std::string& file_name);

// The newest of existing_versions, or nullopt.
std::optional<std::string> latest_version(const std::filesystem::path& versions_dir, const std::string& file_name);

// Picks the save version of a run and creates its folder in each of `versions_dirs`
// (their parents as needed). Each version folder is made with one mkdir, which fails when
// it exists: a run that got the same millisecond as another, or one whose clock is behind
// a version already there, takes the next free millisecond instead, so two runs never
// share a version. Throws kiln::DatasetError when a folder cannot be made.
std::string reserve_save_version(const std::vector<std::filesystem::path>& versions_dirs,
                                 std::chrono::system_clock::time_point now);

}  // namespace kiln::core
