// Two plugin files that both call themselves "dup": the host names both files.
#include <kiln/sdk.hpp>

static double one() { return 1; }
KILN_PLUGIN(dup) { reg.node("one", &one); }
