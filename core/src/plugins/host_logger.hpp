// The host's implementation of the SDK's Logger, writing to spdlog.
#pragma once

#include "kiln/logger.hpp"

namespace kiln::core {
Logger& host_logger() noexcept;
}
