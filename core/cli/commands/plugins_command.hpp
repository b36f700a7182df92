// `kiln plugins`: what the loaded plugins provide, with typed node signatures.
#pragma once

#include <string>
#include <vector>

#include "session/session.hpp"

int print_plugins(const kiln::core::SessionOptions& options, const std::vector<std::string>& runner_names);
