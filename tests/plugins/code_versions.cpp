// One plugin, "codever", built three times (CODE_VARIANT 1, 2, 3) as if rebuilt after
// edits: `changed` has no declared version, so any rebuild makes it stale; `pinned`
// declares version "1" (variant 3: "2"), so a rebuild keeps it current until the bump;
// `notify` is always_run. tests/e2e/incremental_test.cpp swaps the files.
#include <kiln/sdk.hpp>

#ifndef CODE_VARIANT
#error "build with -DCODE_VARIANT=1, 2 or 3"
#endif

namespace {
double changed(double x) { return x + CODE_VARIANT; }
double pinned(double x) { return 2 * x; }
double notify(double x) { return x; }
}  // namespace

KILN_PLUGIN(codever) {
    reg.node("changed", &changed);
    reg.node("pinned", &pinned, {.version = CODE_VARIANT == 3 ? "2" : "1"});
    reg.node("notify", &notify, {.always_run = true});
}
