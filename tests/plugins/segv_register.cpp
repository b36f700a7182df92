// Dereferences a null pointer in its register block: kiln must name this file and stop
// with an error, not die of SIGSEGV.
#include <kiln/sdk.hpp>

namespace {
int* volatile target = nullptr;  // volatile: the compiler may not drop the store
}

KILN_PLUGIN(segv_register) { *target = 1; }
