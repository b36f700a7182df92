// A node file compiles from <kiln/sdk.hpp> alone, without the JSON header or <filesystem>:
// what keeps a plugin author's edit-build loop short. Nodes pass strings, vectors,
// tensors, maps, partitions and a user codec; the file must compile and see neither header.
#include <kiln/partitions.hpp>
#include <kiln/sdk.hpp>

#ifdef INCLUDE_NLOHMANN_JSON_HPP_
#error "kiln/sdk.hpp includes <nlohmann/json.hpp>: node files pay for the whole JSON header again"
#endif
#ifdef _GLIBCXX_FILESYSTEM
#error "kiln/sdk.hpp includes <filesystem>"
#endif

struct Point {
    double x, y;
};
template <>
struct kiln::codec<Point> {
    static constexpr std::string_view name = "compile_fail.Point";
    static void encode(const Point& p, kiln::Encoder& out) { out.put(p.x), out.put(p.y); }
    static Point decode(kiln::Decoder& in) { return {in.get<double>(), in.get<double>()}; }
};

std::vector<std::string> words(const std::string& text) { return {text}; }
kiln::Tensor<double> grid(std::int64_t n) { return kiln::Tensor<double>({static_cast<std::size_t>(n)}); }
Point middle(const Point& a, const Point& b) { return {(a.x + b.x) / 2, (a.y + b.y) / 2}; }
std::map<std::string, std::int64_t> sizes(const kiln::Partitions<std::string>& parts) {
    std::map<std::string, std::int64_t> out;
    for (const auto& p : parts) out[p.id()] = static_cast<std::int64_t>(p.load()->size());
    return out;
}
kiln::Partitions<std::vector<double>> halves(const std::map<std::string, std::vector<double>>& m) {
    return kiln::Partitions<std::vector<double>>(m);
}

KILN_PLUGIN(compile_fail) {
    reg.node("words", &words);
    reg.node("grid", &grid, {.version = "1"});
    reg.node("middle", &middle, {.args = {"a", "b"}});
    reg.node("sizes", &sizes);
    reg.node("halves", &halves);
    reg.type<Point>();
}
