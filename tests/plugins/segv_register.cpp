// Writes to read-only memory in its register block: a real SIGSEGV that no sanitizer
// reports first (a null store would be UBSan's in a KILN_SANITIZE build). kiln must name
// this file and stop with an error, not die of the signal.
#include <kiln/sdk.hpp>

namespace {
char* volatile target = const_cast<char*>("read-only");  // volatile: the store stays
}

KILN_PLUGIN(segv_register) { *target = 'x'; }
