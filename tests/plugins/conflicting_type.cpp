// Declares a codec named like testnodes' Point but with another layout: two plugins may
// not give one type name two meanings.
#include <kiln/sdk.hpp>

namespace {
struct Point3 {
    double x = 0, y = 0, z = 0;
};
}  // namespace

template <>
struct kiln::codec<Point3> {
    static constexpr std::string_view name = "testnodes.Point";
    static void encode(const Point3& p, kiln::Encoder& out) { out.put(p); }
    static Point3 decode(kiln::Decoder& in) { return in.get<Point3>(); }
};

KILN_PLUGIN(conflicting_type) { reg.type<Point3>(); }
