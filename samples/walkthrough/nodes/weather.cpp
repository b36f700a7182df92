// Step 1 of the walkthrough: a node plugin. Each function is a node; its parameters are
// the node's inputs and its return value the output. The pipeline (pipelines.json):
//
//   readings (CSV) ─ clean_readings ─ clean ─ station_means ─ means (JSON) ─ warmest_station ─ warmest (text)
//   params:max_abs_celsius ─┘
#include <kiln/sdk.hpp>
#include <kiln/version.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <map>

namespace {

// Drops rows whose temperature is missing or impossible: the kind of cleaning a first node
// of a pipeline does.
nlohmann::json clean_readings(const nlohmann::json& rows, double max_abs_celsius) {
    nlohmann::json kept = nlohmann::json::array();
    for (const auto& row : rows) {
        auto t = row.find("celsius");
        if (t == row.end() || !t->is_number() || std::abs(t->get<double>()) > max_abs_celsius) continue;
        kept.push_back(row);
    }
    kiln::log::info("kept " + std::to_string(kept.size()) + " of " + std::to_string(rows.size()) + " readings");
    return kept;
}

// {"station": mean temperature}
nlohmann::json station_means(const nlohmann::json& rows) {
    std::map<std::string, std::pair<double, int>> sums;
    for (const auto& row : rows) {
        auto& [sum, n] = sums[row.at("station").get<std::string>()];
        sum += row.at("celsius").get<double>();
        ++n;
    }
    nlohmann::json means = nlohmann::json::object();
    for (const auto& [station, s] : sums) means[station] = std::round(s.first / s.second * 100) / 100;
    return means;
}

std::string warmest_station(const nlohmann::json& means) {
    std::string best;
    double best_mean = -1e300;
    for (const auto& [station, mean] : means.items())
        if (mean.get<double>() > best_mean) best = station, best_mean = mean.get<double>();
    if (best.empty()) throw kiln::NodeError("no station has a valid reading");
    return best + "\n";
}

}  // namespace

KILN_PLUGIN_VERSIONED(weather, KILN_VERSION_STRING) {
    reg.node("clean_readings", &clean_readings, {.args = {"rows", "max_abs_celsius"}, .doc = "drops impossible rows"});
    reg.node("station_means", &station_means, {.doc = "mean temperature per station"});
    reg.node("warmest_station", &warmest_station);
}
