// Projects and checks several end-to-end test files share (each was written out in three
// or four of them before).
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "kiln_process.hpp"
#include "project_builder.hpp"

namespace kiln::test {

// first: seed() -> a;  second: neg(a) -> b, both in memory unless the catalog says otherwise.
inline void two_node_project(Project& p) {
    p.pipelines(R"({"pipelines": {"__default__": {"nodes": [
        {"name": "first", "func": "testnodes.seed", "outputs": "a"},
        {"name": "second", "func": "testnodes.neg", "inputs": "a", "outputs": "b"}
    ]}}})");
}

// Runner options for a test that runs once in process and once across worker processes
// (where values cross process boundaries encoded).
inline const std::vector<std::vector<std::string>>& in_process_and_parallel() {
    static const std::vector<std::vector<std::string>> runners = {{}, {"--runner", "ParallelRunner", "--max-workers", "2"}};
    return runners;
}

// The number a JsonDataset file of the project holds; fails the test when it holds none.
inline double number_in(const Project& p, const std::string& file) {
    const nlohmann::json j = p.json_file(file);
    REQUIRE_MESSAGE(j.is_number(), file << " holds " << j.dump());
    return j.get<double>();
}

// The test plugins with extension points (runners, hooks, datasets: tests/plugins/testext.cpp).
inline const std::string ext_plugins = test_plugins("ext");

// kiln run on the project with the extension plugins as well as the good ones.
inline KilnResult run_ext(const Project& p, std::vector<std::string> args = {},
                          const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {"--plugin-path", ext_plugins});
    return p.run(args, env);
}

}  // namespace kiln::test
