// Step 2 of the walkthrough: a runner plugin. ShuffleRunner runs the nodes one at a time
// in a random order that still respects every dependency, so a pipeline that secretly
// relies on the order nodes happen to run in (a node reading a file another node writes
// without declaring it) fails here instead of in production. KILN_SHUFFLE_SEED fixes the
// order; the seed used is printed so a failing order can be replayed.
#include <kiln/runner.hpp>
#include <kiln/sdk.hpp>
#include <kiln/version.hpp>

#include <cstdlib>
#include <random>

namespace {

class ShuffleRunner final : public kiln::Runner {
public:
    void run(kiln::RunContext& ctx) override {
        const std::size_t n = ctx.node_count();
        const char* fixed = std::getenv("KILN_SHUFFLE_SEED");
        const unsigned seed = fixed ? static_cast<unsigned>(std::strtoul(fixed, nullptr, 10)) : std::random_device{}();
        kiln::log::info("ShuffleRunner: seed " + std::to_string(seed) + " (KILN_SHUFFLE_SEED=" +
                        std::to_string(seed) + " replays this order)");
        std::mt19937 random(seed);

        // Kahn's algorithm, taking a random ready node each time.
        std::vector<std::size_t> waiting(n);
        std::vector<std::vector<std::size_t>> dependents(n);
        std::vector<std::size_t> ready;
        for (std::size_t i = 0; i < n; ++i) {
            waiting[i] = ctx.dependencies(i).size();
            for (std::size_t d : ctx.dependencies(i)) dependents[d].push_back(i);
            if (waiting[i] == 0) ready.push_back(i);
        }
        while (!ready.empty() && !ctx.stop_requested()) {
            std::size_t pick = std::uniform_int_distribution<std::size_t>(0, ready.size() - 1)(random);
            std::size_t node = ready[pick];
            ready.erase(ready.begin() + static_cast<std::ptrdiff_t>(pick));
            std::string error;
            if (!ctx.run_node(node, 0, &error)) {
                if (!ctx.settings().keep_going) return;  // the host reports the failure
                continue;                                // its dependents never become ready
            }
            for (std::size_t d : dependents[node])
                if (--waiting[d] == 0) ready.push_back(d);
        }
    }
};

}  // namespace

KILN_PLUGIN_VERSIONED(shuffle, KILN_VERSION_STRING) {
    reg.runner<ShuffleRunner>("ShuffleRunner", {.doc = "one node at a time, in a random order that respects dependencies"});
}
