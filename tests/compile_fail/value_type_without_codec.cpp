// A plugin that makes a value type known, wraps a value and reads one, with a type that has
// no codec: the first error must be the SDK's static_assert naming the type, and the only one.
#include <kiln/sdk.hpp>

struct Unencodable {
    int x = 0;
};

double area(const kiln::Value& v) { return v.get<Unencodable>().x; }
kiln::Value wrap() { return kiln::Value::make(Unencodable{}); }

KILN_PLUGIN(compile_fail) { reg.type<Unencodable>(); }
