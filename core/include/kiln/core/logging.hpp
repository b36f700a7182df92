// Host logging set-up (spdlog). Plugins log through kiln::Logger, which lands here.
#pragma once

namespace kiln::core {

enum class Verbosity { quiet, normal, verbose };

// Sets spdlog's pattern and level: quiet = warnings and errors, normal = info,
// verbose = debug. Log lines go to stderr; stdout is kept for command output.
void configure_logging(Verbosity verbosity);

}  // namespace kiln::core
