// Calls exit(0) in its register block: kiln must not end with success having run nothing.
#include <cstdlib>
#include <kiln/sdk.hpp>

KILN_PLUGIN(exit_register) { std::exit(0); }
