// `kiln new plugin NAME [--dir PARENT]`: a plugin project ready to build and run.
#pragma once

#include <filesystem>
#include <string>

// Creates PARENT/NAME/ with CMakeLists.txt (find_package(Kiln), kiln_add_plugin() into
// plugins/), src/NAME.cpp (KILN_PLUGIN(NAME) with two nodes), pipelines.json, catalog.json,
// parameters.json, an input file under data/, README.md and .gitignore, then prints what it
// created and the commands that build and run it. PARENT is created when missing.
//
//     create_plugin_project("demo", ".");   // ./demo/...; then `cmake -S demo -B demo/build` ...
//
// NAME must be a C identifier: it names the plugin, its nodes ("demo.summarize") and the
// .so. Never overwrites: an existing PARENT/NAME is refused. Returns the exit code: 0, or 2
// after a message on stderr (bad name, existing folder, a file that cannot be written, in
// which case nothing is left behind).
int create_plugin_project(const std::string& name, const std::filesystem::path& parent_dir);
