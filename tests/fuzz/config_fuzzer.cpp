// libFuzzer harness over everything `kiln run` reads before a node runs: pipelines.json,
// catalog.json, parameters.json and --params, parsed by the real loaders and bound into a
// real RunPlan (free inputs resolved, parameters converted to node types, dataset entries
// constructed). Nothing is loaded, saved or run.
//
// One input is the four texts separated by "\n%%\n", in that order; a
// missing part is empty ("{}" for the JSON files). A kiln::Error is the expected answer
// to bad input; any other exception escaping, a crash, a leak or undefined behaviour is a
// bug the fuzzer reports.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <kiln/error.hpp>
#include <kiln/sdk.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "binary_dataset.hpp"
#include "catalog/catalog.hpp"
#include "config/json_file.hpp"
#include "config/pipeline_loader.hpp"
#include "csv_dataset.hpp"
#include "json_dataset.hpp"
#include "npy_dataset.hpp"
#include "plugins/registry.hpp"
#include "run/run_plan.hpp"
#include "text_dataset.hpp"

namespace {

// Node functions of the shapes pipelines use: several value types, zero to three inputs.
double seed() { return 1.0; }
double neg(double x) { return -x; }
double add(double a, double b) { return a + b; }
double mix(double a, std::int64_t b, bool c) { return c ? a + static_cast<double>(b) : a; }
std::string greet(const std::string& name) { return "hello " + name; }
std::vector<double> spread(double x, std::int64_t n) { return std::vector<double>(n > 0 && n < 64 ? n : 1, x); }
double total(const std::vector<double>& xs) {
    double s = 0;
    for (double x : xs) s += x;
    return s;
}
std::vector<std::string> words(const std::string& text) { return {text}; }

kiln::core::Registry& registry() {
    static kiln::core::Registry* r = [] {
        auto* reg = new kiln::core::Registry;
        reg->add_builtin("kiln", "fuzz", [](kiln::Registrar& g) {
            using namespace kiln::datasets;
            g.dataset<JsonDataset>("JsonDataset");
            g.dataset<TextDataset>("TextDataset");
            g.dataset<BinaryDataset>("BinaryDataset");
            g.dataset<NpyDataset>("NpyDataset");
            g.dataset<CsvDataset>("CsvDataset");
        });
        reg->add_builtin("fz", "fuzz", [](kiln::Registrar& g) {
            g.node("seed", &seed).node("neg", &neg).node("add", &add).node("mix", &mix);
            g.node("greet", &greet).node("spread", &spread).node("total", &total).node("words", &words);
        });
        return reg;
    }();
    return *r;
}

std::vector<std::string> split_parts(std::string_view input) {
    constexpr std::string_view separator = "\n%%\n";
    std::vector<std::string> parts;
    while (parts.size() < 3) {
        const std::size_t at = input.find(separator);
        if (at == std::string_view::npos) break;
        parts.emplace_back(input.substr(0, at));
        input.remove_prefix(at + separator.size());
    }
    parts.emplace_back(input);
    parts.resize(4);
    return parts;
}

nlohmann::json parse_or_empty(const std::string& text, const std::string& origin) {
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
    return kiln::core::parse_json_text(text, origin);
}

}  // namespace

// The loaders' info and warning lines (a catch-all pattern taking a dataset, an unused
// entry) would flood the output at thousands of inputs a second; their errors still build.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
    spdlog::set_level(spdlog::level::off);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kiln::core;
    const std::vector<std::string> parts = split_parts({reinterpret_cast<const char*>(data), size});
    kiln::core::Registry& reg = registry();
    try {
        FunctionResolver resolver = [&](const std::string& name, std::string& hint) { return reg.find_node(name, hint); };
        auto pipelines = load_pipelines(parse_or_empty(parts[0], "pipelines.json"), "pipelines.json", resolver);
        Parameters parameters(parse_or_empty(parts[2], "parameters.json"), "parameters.json");
        for (auto& [key, value] : parse_params_option(parts[3])) parameters.set(key, std::move(value));
        DataCatalog catalog(DataCatalog::entries_from_json(parse_or_empty(parts[1], "catalog.json"), "catalog.json"),
                            std::move(parameters), "/nonexistent-kiln-fuzz-project", reg, "catalog.json");
        if (!pipelines.contains("__default__")) return 0;
        RunPlan plan(pipelines.at("__default__"), catalog, "fuzz");
    } catch (const kiln::Error&) {
        // The answer to bad input; its message was built, which is what is exercised.
    }
    return 0;
}
