// Step 3 of the walkthrough: a hook plugin. SlowNodes warns about every node that takes
// longer than a limit and lists the slowest nodes when the run ends. Its options come from
// settings.json: {"hooks": [{"name": "slow_nodes.SlowNodes", "options": {"limit_s": 0.5}}]}.
// Hooks may be called from several threads at once (ThreadRunner), hence the mutex.
#include <kiln/hooks.hpp>
#include <kiln/sdk.hpp>
#include <kiln/version.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <sstream>

namespace {

class SlowNodes final : public kiln::Hooks {
public:
    explicit SlowNodes(const kiln::HookConfig& config) : limit_s_(config.options.value("limit_s", 1.0)) {
        if (limit_s_ < 0) throw kiln::ConfigError("slow_nodes.SlowNodes: \"limit_s\" must not be negative");
    }

    void before_node_run(const kiln::NodeRunInfo& run) override {
        std::lock_guard lock(mutex_);
        started_[std::string(run.node.name)] = std::chrono::steady_clock::now();
    }

    void after_node_run(const kiln::NodeRunInfo& run) override {
        std::lock_guard lock(mutex_);
        const std::string name(run.node.name);
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_[name]).count();
        took_.emplace_back(seconds, name);
        if (seconds > limit_s_)
            kiln::log::warn("slow node: " + name + " took " + std::to_string(seconds) + " s (limit " +
                            std::to_string(limit_s_) + " s)");
    }

    void after_pipeline_run(const kiln::PipelineRunInfo&, std::span<const kiln::NamedValue>) override {
        std::lock_guard lock(mutex_);
        std::sort(took_.rbegin(), took_.rend());
        std::ostringstream out;
        out << "slowest nodes:";
        for (std::size_t i = 0; i < took_.size() && i < 3; ++i)
            out << " " << took_[i].second << " (" << static_cast<int>(took_[i].first * 1e6) << " us)";
        kiln::log::info(out.str());
    }

private:
    double limit_s_;
    std::mutex mutex_;
    std::map<std::string, std::chrono::steady_clock::time_point> started_;
    std::vector<std::pair<double, std::string>> took_;
};

}  // namespace

KILN_PLUGIN_VERSIONED(slow_nodes, KILN_VERSION_STRING) {
    reg.hooks<SlowNodes>("SlowNodes", {.doc = "warns about nodes slower than options.limit_s; lists the slowest"});
}
