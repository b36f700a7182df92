// Second of two plugins named "dup" (see duplicate_name_a.cpp).
#include <kiln/sdk.hpp>

static double two() { return 2; }
KILN_PLUGIN(dup) { reg.node("two", &two); }
