#include "commands/new_command.hpp"

#include <array>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <regex>
#include <string_view>
#include <system_error>

namespace fs = std::filesystem;

namespace {

// The project's files. "@NAME@" stands for the plugin name.
struct Template {
    const char* path;
    const char* what;  // shown in the list of created files
    std::string_view text;
};

constexpr std::string_view cmake_lists = R"kiln(# The @NAME@ plugin for Kiln. Build with
#   cmake -S . -B build && cmake --build build
# adding -DCMAKE_PREFIX_PATH=<Kiln's install prefix> when Kiln is not installed in a
# standard place.
cmake_minimum_required(VERSION 3.25)
project(@NAME@ LANGUAGES CXX)

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()

find_package(Kiln REQUIRED)

# Writes plugins/@NAME@.so into this project: `kiln run --project .` loads plugins/ by itself.
kiln_add_plugin(@NAME@ SOURCES src/@NAME@.cpp OUTPUT_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}/plugins" PRECOMPILE_SDK)
)kiln";

constexpr std::string_view plugin_source = R"kiln(// The @NAME@ plugin: node functions, wired into a pipeline by pipelines.json.
//
//   numbers ─ parse_numbers ─ values ─ summarize ─ summary
//                     params:threshold ─┘
//
// A node is a plain C++ function: its parameters are the node's inputs, its return value
// the output. Kiln moves values between nodes and datasets with codecs, built in for bool,
// the fixed-width integers, float, double, std::string, std::vector of those,
// nlohmann::json and kiln::Tensor<T>; see kiln/codec.hpp to add a type of your own.
// Nodes may run concurrently (kiln run --runner ThreadRunner): keep them free of
// shared mutable state.
#include <algorithm>
#include <cstdint>
#include <kiln/sdk.hpp>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// One number per line; blank lines and lines starting with '#' are skipped. The input is
// a kiln.TextDataset (catalog.json), which hands a file over as its lines.
std::vector<double> parse_numbers(const std::vector<std::string>& lines) {
    const char* blank = " \t\r";
    std::vector<double> values;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        std::size_t start = line.find_first_not_of(blank);
        if (start == std::string::npos || line[start] == '#') continue;
        std::size_t used = 0;
        try {
            values.push_back(std::stod(line.substr(start), &used));
        } catch (const std::exception&) {
            used = 0;
        }
        // A node fails by throwing: kiln stops the run and reports the node and this message.
        if (used == 0 || line.find_first_not_of(blank, start + used) != std::string::npos)
            throw std::invalid_argument("line " + std::to_string(i + 1) + " is not a number: '" + line + "'");
    }
    // Logs go through kiln's logger (kiln run -q hides them).
    kiln::log::info("parse_numbers: " + std::to_string(values.size()) + " numbers");
    return values;
}

// Count, sum, mean, smallest and largest value, and how many exceed `threshold`
// (params:threshold in pipelines.json: the value from parameters.json).
nlohmann::json summarize(const std::vector<double>& values, double threshold) {
    if (values.empty()) throw std::invalid_argument("there are no numbers to summarize");
    double sum = 0;
    std::int64_t above = 0;
    for (double v : values) {
        sum += v;
        if (v > threshold) ++above;
    }
    auto [lowest, highest] = std::minmax_element(values.begin(), values.end());
    return {{"count", values.size()},
            {"sum", sum},
            {"mean", sum / static_cast<double>(values.size())},
            {"min", *lowest},
            {"max", *highest},
            {"above_threshold", above}};
}

}  // namespace

// Declares what the plugin provides. Its name qualifies the nodes: "@NAME@.summarize".
KILN_PLUGIN_VERSIONED(@NAME@, "0.1.0") {
    reg.node("parse_numbers", &parse_numbers, {.doc = "lines of text -> numbers"});
    // .args names the parameters so pipelines.json can map inputs by name.
    reg.node("summarize", &summarize, {.args = {"values", "threshold"}, .doc = "count, sum, mean, min, max"});
}
)kiln";

constexpr std::string_view pipelines_json = R"kiln({
  "pipelines": {
    "summary": {
      "nodes": [
        {"name": "parse_numbers", "func": "@NAME@.parse_numbers", "inputs": "numbers", "outputs": "values"},
        {"name": "summarize", "func": "@NAME@.summarize",
         "inputs": {"values": "values", "threshold": "params:threshold"}, "outputs": "summary"}
      ]
    }
  }
}
)kiln";

constexpr std::string_view catalog_json = R"kiln({
  "numbers": {"type": "kiln.TextDataset", "filepath": "data/01_raw/numbers.txt"},
  "summary": {"type": "kiln.JsonDataset", "filepath": "data/08_reporting/summary.json"}
}
)kiln";

constexpr std::string_view parameters_json = R"kiln({
  "threshold": 10
}
)kiln";

constexpr std::string_view numbers_txt = R"kiln(# One number per line; blank lines and lines starting with '#' are skipped.
3
14
15
9.5

26
)kiln";

constexpr std::string_view readme = R"kiln(# @NAME@

A Kiln project: the plugin `@NAME@` with two nodes, and a pipeline that runs them.

    numbers ─ parse_numbers ─ values ─ summarize ─ summary
                      params:threshold ─┘

## Build and run

```sh
cmake -S . -B build        # add -DCMAKE_PREFIX_PATH=<Kiln's install prefix> if CMake does not find Kiln
cmake --build build        # writes plugins/@NAME@.so
kiln run --project .       # reads data/01_raw/numbers.txt, writes data/08_reporting/summary.json
kiln plugins --project .   # what the plugins provide, with the nodes' types
```

`kiln run --params threshold=20` overrides a parameter; `kiln run --help` lists the rest.

## Files

| file | what it holds |
|---|---|
| `src/@NAME@.cpp` | the node functions, and `KILN_PLUGIN(...)` that declares them |
| `CMakeLists.txt` | builds the plugin with `kiln_add_plugin()` into `plugins/`, where `kiln run` finds it |
| `pipelines.json` | the pipeline: which nodes run, and the datasets each reads and writes |
| `catalog.json` | datasets kept in files; any other dataset lives in memory during the run |
| `parameters.json` | values the nodes read as `params:NAME` |
| `data/` | the input (`01_raw/`) and what the run writes (`08_reporting/`) |

To add a node: write a function in `src/@NAME@.cpp`, declare it with `reg.node(...)`,
rebuild, and add it to `pipelines.json`.
)kiln";

constexpr std::string_view gitignore = R"kiln(# Build outputs and what `kiln run` writes; the input data is kept.
/build/
/plugins/
/.kiln/
/data/08_reporting/
# Secrets and each developer's own configuration stay out of version control.
credentials.json
/conf/local/
)kiln";

// Same order as printed.
constexpr std::array<Template, 8> templates{{
    {"CMakeLists.txt", "builds plugins/@NAME@.so with find_package(Kiln) and kiln_add_plugin()", cmake_lists},
    {"src/@NAME@.cpp", "the plugin: nodes parse_numbers and summarize", plugin_source},
    {"pipelines.json", "the pipeline wiring the two nodes", pipelines_json},
    {"catalog.json", "the datasets kept in files", catalog_json},
    {"parameters.json", "parameters the nodes read", parameters_json},
    {"data/01_raw/numbers.txt", "the input", numbers_txt},
    {"README.md", "how to build, run and extend it", readme},
    {".gitignore", "build outputs and run results", gitignore},
}};

std::string substitute(std::string_view text, const std::string& name) {
    std::string out(text);
    const std::string_view key = "@NAME@";
    for (auto pos = out.find(key); pos != std::string::npos; pos = out.find(key, pos + name.size()))
        out.replace(pos, key.size(), name);
    return out;
}

// Why `name` cannot be a plugin name, or "" when it can.
std::string name_problem(const std::string& name) {
    static const std::regex identifier("[A-Za-z_][A-Za-z0-9_]*");
    if (!std::regex_match(name, identifier))
        return "plugin name '" + name + "' is not a C identifier: use letters, digits and underscores, not starting "
               "with a digit (e.g. my_nodes); it names the plugin, its nodes (NAME.node) and NAME.so";
    if (name == "kiln") return "plugin name 'kiln' is taken by the dataset types kiln ships; choose another name";
    // CMake refuses these as target names, and the plugin's target is NAME.
    for (const char* reserved : {"all", "clean", "help", "install", "test", "package", "package_source",
                                 "edit_cache", "rebuild_cache", "preinstall"})
        if (name == reserved)
            return "plugin name '" + name + "' is reserved by CMake (it would name the plugin's build target); "
                   "choose another name, e.g. " + name + "_nodes";
    return {};
}

// How to call the kiln that is running: "kiln" when that is what PATH finds, else its path.
std::string kiln_command(const fs::path& exe) {
    std::error_code ec;
    const char* path = std::getenv("PATH");
    std::string_view dirs = path ? path : "";
    while (!dirs.empty()) {
        auto colon = dirs.find(':');
        fs::path candidate = fs::path(dirs.substr(0, colon)) / "kiln";
        if (fs::equivalent(candidate, exe, ec)) return "kiln";
        if (fs::exists(candidate, ec)) break;  // another kiln comes first on PATH
        dirs = colon == std::string_view::npos ? std::string_view{} : dirs.substr(colon + 1);
    }
    return exe.string();
}

void write_file(const fs::path& file, const std::string& text) {
    fs::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out << text;
    out.close();
    if (!out) throw fs::filesystem_error("cannot write", file, std::make_error_code(std::errc::io_error));
}

}  // namespace

int create_plugin_project(const std::string& name, const fs::path& parent_dir) {
    if (auto problem = name_problem(name); !problem.empty()) {
        std::cerr << "kiln: error: " << problem << "\n";
        return 2;
    }
    const fs::path dir = (parent_dir / name).lexically_normal();
    std::error_code ec;
    if (fs::exists(fs::symlink_status(dir, ec))) {
        std::cerr << "kiln: error: " << dir.string() << " already exists; kiln new never overwrites files: choose "
                  << "another name, or another parent folder with --dir\n";
        return 2;
    }
    bool created = false;
    try {
        if (!dir.parent_path().empty()) fs::create_directories(dir.parent_path());
        created = fs::create_directory(dir);  // false: it appeared since the check above
        if (!created) throw fs::filesystem_error("already exists", dir, std::make_error_code(std::errc::file_exists));
        for (const auto& t : templates) write_file(dir / substitute(t.path, name), substitute(t.text, name));
    } catch (const std::exception& e) {
        if (created) fs::remove_all(dir, ec);  // all or nothing
        std::cerr << "kiln: error: could not create the plugin project " << dir.string() << ": " << e.what() << "\n";
        return 2;
    }

    std::cout << "Created the plugin project " << dir.string() << "/:\n";
    for (const auto& t : templates) {
        std::string path = substitute(t.path, name);
        std::cout << "  " << path << std::string(path.size() < 25 ? 25 - path.size() : 1, ' ')
                  << substitute(t.what, name) << "\n";
    }

    // The commands that build and run it, with this kiln's install prefix when CMake would
    // not look there by itself.
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    const fs::path prefix = exe.parent_path().parent_path();
    std::string prefix_option, note;
    if (!ec && fs::is_directory(prefix / "lib" / "kiln" / "plugins", ec)) {
        if (prefix != "/usr" && prefix != "/usr/local") prefix_option = " -DCMAKE_PREFIX_PATH=" + prefix.string();
    } else if (!exe.empty()) {
        note = "This kiln runs from its build folder; find_package(Kiln) needs it installed first:\n  cmake --install " +
               prefix.string() + " --prefix <dir>   then configure with -DCMAKE_PREFIX_PATH=<dir>\n";
    }
    std::cout << "\nNext:\n"
              << "  cd " << dir.string() << "\n"
              << "  cmake -S . -B build" << prefix_option << "\n"
              << "  cmake --build build\n"
              << "  " << (exe.empty() ? std::string("kiln") : kiln_command(exe)) << " run --project .\n";
    if (!note.empty()) std::cout << "\n" << note;
    return 0;
}
