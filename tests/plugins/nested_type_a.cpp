// With nested_type_b: two plugins naming one type 'nested.Pt' with different layouts. The
// type is only ever passed inside a std::vector, so the names and sizes of the vectors
// agree; kiln must still refuse the pair (the fingerprint covers the element type).
#include <kiln/sdk.hpp>

namespace {
struct Pt {
    double x = 0, y = 0;
};
std::vector<Pt> make_points() { return {{1, 2}, {3, 4}}; }
}  // namespace

template <>
struct kiln::codec<Pt> {
    static constexpr std::string_view name = "nested.Pt";
    static void encode(const Pt& p, kiln::Encoder& out) { out.put(p); }
    static Pt decode(kiln::Decoder& in) { return in.get<Pt>(); }
};

KILN_PLUGIN(nested_type_a) { reg.node("make_points", &make_points); }
