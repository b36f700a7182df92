// Options of the types a plugin registers: Registrar::dataset, runner and hooks take them.
//
//     reg.dataset<FrameDataset>("FrameDataset", {.single_process = true, .doc = "..."});
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <string>

namespace kiln {

struct DatasetTypeOptions {
    bool single_process = false;  // cannot be used from ParallelRunner worker processes
    bool thread_safe = false;     // may be loaded/saved from several threads at once
    std::string doc = {};
};

struct RunnerTypeOptions {
    std::string doc = {};
};

struct HookTypeOptions {
    std::string doc = {};
};

}  // namespace kiln
