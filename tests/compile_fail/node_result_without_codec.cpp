// A node returning a type with no codec (as the second of two results): the first error
// must be the SDK's static_assert naming the type.
#include <kiln/sdk.hpp>
#include <tuple>

struct Unencodable {
    int x = 0;
};

KILN_PLUGIN(compile_fail) {
    reg.node("split", [](double v) { return std::tuple<double, Unencodable>{v, Unencodable{}}; });
}
