// A node taking a type with no codec: the first error must be the SDK's static_assert
// naming the type, not the concept failures of everything that uses it.
#include <kiln/sdk.hpp>

struct Unencodable {
    int x = 0;
};

double area(const Unencodable& u, double scale) { return u.x * scale; }

KILN_PLUGIN(compile_fail) { reg.node("area", &area); }
