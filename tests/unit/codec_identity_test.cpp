// The layout fingerprint behind a type's identity across plugins: it changes with the name
// and size of the type and of every type it is built from, and the registry refuses two
// plugins whose fingerprints for one name differ.
#include <doctest/doctest.h>

#include "kiln/sdk.hpp"
#include "plugins/registry.hpp"
#include "test_support.hpp"

using kiln::detail::layout_fingerprint;

namespace {
// One type name, two layouts: what a stale plugin and a fresh one would each compile.
struct Flat {
    double x = 0, y = 0;
};
struct Deep {
    double x = 0, y = 0, z = 0;
};
struct Segment {
    Flat a, b;
};
}  // namespace

template <>
struct kiln::codec<Flat> {
    static constexpr std::string_view name = "identity.Pt";
    static void encode(const Flat& p, kiln::Encoder& out) { out.put(p); }
    static Flat decode(kiln::Decoder& in) { return in.get<Flat>(); }
};
template <>
struct kiln::codec<Deep> {
    static constexpr std::string_view name = "identity.Pt";
    static void encode(const Deep& p, kiln::Encoder& out) { out.put(p); }
    static Deep decode(kiln::Decoder& in) { return in.get<Deep>(); }
};
template <>
struct kiln::codec<Segment> {
    static constexpr std::string_view name = "identity.Segment";
    using built_from = std::tuple<Flat, Flat>;
    static void encode(const Segment& s, kiln::Encoder& out) { out.put(s); }
    static Segment decode(kiln::Decoder& in) { return in.get<Segment>(); }
};

// Computed at compile time.
static_assert(layout_fingerprint<std::vector<Flat>>() != layout_fingerprint<std::vector<Deep>>());
static_assert(layout_fingerprint<Flat>() != layout_fingerprint<Deep>());

TEST_CASE("codec_identity.fingerprint_covers_what_a_type_is_built_from") {
    CHECK(kiln::type_ops<std::vector<Flat>>().name == kiln::type_ops<std::vector<Deep>>().name);
    CHECK(kiln::type_ops<std::vector<Flat>>().size == kiln::type_ops<std::vector<Deep>>().size);
    CHECK(kiln::type_ops<std::vector<Flat>>().layout != kiln::type_ops<std::vector<Deep>>().layout);
    CHECK(kiln::type_ops<std::vector<std::vector<Flat>>>().layout !=
          kiln::type_ops<std::vector<std::vector<Deep>>>().layout);
    CHECK(kiln::type_ops<kiln::Tensor<float>>().layout != kiln::type_ops<kiln::Tensor<double>>().layout);
    // A user codec's built_from counts: Segment's fingerprint is not just its name and size.
    CHECK(layout_fingerprint<Segment>() != kiln::detail::fingerprint_word(
                                               kiln::detail::fingerprint_text(0xcbf29ce484222325ull, "identity.Segment"),
                                               sizeof(Segment)));
    // The same type always gets the same fingerprint (it is compared across plugins).
    CHECK(kiln::type_ops<std::vector<Flat>>().layout == layout_fingerprint<std::vector<Flat>>());
}

TEST_CASE("codec_identity.registry_refuses_a_nested_mismatch") {
    kiln::core::Registry r;
    r.add_builtin("fresh", "1", [](kiln::Registrar& reg) { reg.type<std::vector<Flat>>(); });
    const auto msg = kiln::test::error_of(
        [&] { r.add_builtin("stale", "1", [](kiln::Registrar& reg) { reg.type<std::vector<Deep>>(); }); });
    CHECK(msg.find("value type 'vector<identity.Pt>' means different things in <built-in fresh> and <built-in "
                   "stale>: the types it is built from differ") != std::string::npos);
    CHECK(msg.find("Rebuild the plugin that was built against an old version of the type") != std::string::npos);
    // The same layout again is welcome.
    CHECK(kiln::test::error_of([&] {
              r.add_builtin("again", "1", [](kiln::Registrar& reg) { reg.type<std::vector<Flat>>(); });
          }) == "");
}
