#include "commands/standard_output.hpp"

#include <iostream>

#include "kiln/error.hpp"

void flush_standard_output() {
    std::cout << std::flush;
    if (!std::cout) throw kiln::ConfigError("could not write to standard output");
}
