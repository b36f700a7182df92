// The control case: with codecs for every type, the same kind of file compiles, so the
// failures of its siblings come from the missing codec and not from the test set-up.
#include <kiln/sdk.hpp>
#include <string>
#include <tuple>
#include <vector>

double area(const std::vector<double>& sides, double scale) { return sides.at(0) * sides.at(1) * scale; }

KILN_PLUGIN(compile_fail) {
    reg.node("area", &area);
    reg.node("split", [](double v) { return std::tuple<double, std::string>{v, "x"}; });
}
