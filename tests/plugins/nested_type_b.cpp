// nested_type_a's 'nested.Pt' as a stale copy would see it: a third member.
#include <kiln/sdk.hpp>

namespace {
struct Pt {
    double x = 0, y = 0, z = 0;
};
double sum_points(const std::vector<Pt>& points) {
    double s = 0;
    for (const auto& p : points) s += p.x + p.y + p.z;
    return s;
}
}  // namespace

template <>
struct kiln::codec<Pt> {
    static constexpr std::string_view name = "nested.Pt";
    static void encode(const Pt& p, kiln::Encoder& out) { out.put(p); }
    static Pt decode(kiln::Decoder& in) { return in.get<Pt>(); }
};

KILN_PLUGIN(nested_type_b) { reg.node("sum_points", &sum_points); }
