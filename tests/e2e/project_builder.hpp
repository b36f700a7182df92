// A small Kiln project in a temporary directory, for end-to-end tests: write its
// pipelines.json / catalog.json / parameters.json, run the real kiln on it with the test
// plugins, and read back the JSON run report and the files it wrote.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kiln_process.hpp"
#include "test_support.hpp"

namespace kiln::test {

class Project {
public:
    Project() = default;

    const std::filesystem::path& path() const { return dir_.path(); }
    std::string dir() const { return dir_.path().string(); }
    std::filesystem::path operator/(const std::string& name) const { return dir_ / name; }

    // Each writer takes the file's exact text, so tests can also write malformed JSON.
    Project& pipelines(const std::string& text) { return write("pipelines.json", text); }
    Project& catalog(const std::string& text) { return write("catalog.json", text); }
    Project& parameters(const std::string& text) { return write("parameters.json", text); }
    Project& write(const std::string& name, const std::string& text) {
        dir_.write(name, text);
        return *this;
    }

    std::string report_path() const { return (dir_ / "report.json").string(); }

    // `kiln run --project DIR --plugin-path <good test plugins> --report DIR/report.json ARGS...`.
    // The report of an earlier run is removed first, so report() never shows a stale one.
    KilnResult run(const std::vector<std::string>& args = {}, const std::vector<std::string>& env = {}) const {
        std::error_code ec;
        std::filesystem::remove(dir_ / "report.json", ec);
        std::vector<std::string> all = {"run", "--project", dir(), "--plugin-path", test_plugins("good"),
                                        "--report", report_path()};
        all.insert(all.end(), args.begin(), args.end());
        return run_kiln(all, env);
    }

    // `kiln run --project DIR ARGS...` with nothing else added (no plugin path, no report).
    KilnResult run_bare(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) const {
        std::vector<std::string> all = {"run", "--project", dir()};
        all.insert(all.end(), args.begin(), args.end());
        return run_kiln(all, env);
    }

    bool has_report() const { return std::filesystem::exists(dir_ / "report.json"); }

    // The report of the last run(); null when there is none or it is not JSON.
    nlohmann::json report() const {
        if (!has_report()) return nullptr;
        return nlohmann::json::parse(read_text(dir_ / "report.json"), nullptr, false);
    }

    // Names of the nodes the report says ran, in run order.
    std::vector<std::string> ran_nodes() const {
        std::vector<std::string> names;
        auto rep = report();
        if (!rep.is_object() || !rep.contains("nodes")) return {"<no report>"};
        for (const auto& n : rep["nodes"]) names.push_back(n.value("name", "<unnamed>"));
        return names;
    }

    // The report's skipped nodes: name -> reason.
    std::map<std::string, std::string> skipped() const {
        std::map<std::string, std::string> out;
        auto rep = report();
        if (!rep.is_object() || !rep.contains("skipped")) return out;
        for (const auto& s : rep["skipped"]) out[s.value("name", "")] = s.value("reason", "");
        return out;
    }

    bool exists(const std::string& name) const { return std::filesystem::exists(dir_ / name); }

    // The JSON in a file of the project (null when absent or invalid).
    nlohmann::json json_file(const std::string& name) const {
        if (!exists(name)) return nullptr;
        return nlohmann::json::parse(read_text(dir_ / name), nullptr, false);
    }

    // Files anywhere under the project whose name contains `part`.
    std::vector<std::string> files_containing(const std::string& part) const {
        std::vector<std::string> out;
        for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path()))
            if (e.path().filename().string().find(part) != std::string::npos) out.push_back(e.path().string());
        return out;
    }

private:
    TempDir dir_;
};

using Names = std::vector<std::string>;

}  // namespace kiln::test
