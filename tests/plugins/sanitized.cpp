// Built with -fsanitize=address (see CMakeLists.txt): it needs libasan, which must be the
// first library of a process. A kiln built without AddressSanitizer refuses it before
// dlopen (which would abort); a kiln built with it loads it.
#include <kiln/sdk.hpp>

namespace {
double twice(double x) { return 2 * x; }
}  // namespace

KILN_PLUGIN(sanitized) { reg.node("twice", &twice); }
