// Host logging set-up (spdlog). Plugins log through kiln::Logger, which lands here.
#pragma once

namespace kiln::core {

enum class Verbosity { quiet, normal, verbose };

// Sets spdlog's pattern and level: quiet = warnings and errors, normal = info,
// verbose = debug. Log lines go to stderr; stdout is kept for command output. They are
// written through StatusLine::standard_error() (progress_line.hpp), so they scroll above
// a progress line when one is shown, and a forked child can log safely.
void configure_logging(Verbosity verbosity);

}  // namespace kiln::core
