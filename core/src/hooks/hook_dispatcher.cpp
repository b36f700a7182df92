#include "hooks/hook_dispatcher.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include "kiln/error.hpp"
#include "run/run_views.hpp"

namespace kiln::core {

namespace {
constexpr std::uint32_t bit(HookPoint p) { return 1u << static_cast<unsigned>(p); }
constexpr std::uint32_t dataset_points = bit(HookPoint::before_dataset_loaded) | bit(HookPoint::after_dataset_loaded) |
                                         bit(HookPoint::before_dataset_saved) | bit(HookPoint::after_dataset_saved);
constexpr std::uint32_t node_points =
    bit(HookPoint::before_node_run) | bit(HookPoint::after_node_run) | bit(HookPoint::on_node_error);

HookEvent event_at(HookPoint p) {
    HookEvent e;
    e.point = p;
    return e;
}

const char* point_name(HookPoint p) {
    switch (p) {
        case HookPoint::before_pipeline_run: return "before_pipeline_run";
        case HookPoint::after_pipeline_run: return "after_pipeline_run";
        case HookPoint::on_pipeline_error: return "on_pipeline_error";
        case HookPoint::before_node_run: return "before_node_run";
        case HookPoint::after_node_run: return "after_node_run";
        case HookPoint::on_node_error: return "on_node_error";
        case HookPoint::before_dataset_loaded: return "before_dataset_loaded";
        case HookPoint::after_dataset_loaded: return "after_dataset_loaded";
        case HookPoint::before_dataset_saved: return "before_dataset_saved";
        case HookPoint::after_dataset_saved: return "after_dataset_saved";
    }
    return "?";
}
}  // namespace

std::uint64_t max_rss_bytes() noexcept {
    struct rusage usage {};
    if (::getrusage(RUSAGE_SELF, &usage) != 0) return 0;
    return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

HookDispatcher::HookDispatcher(std::vector<EnabledHook> hooks, const RunPlan& plan, const CatalogView& catalog)
    : plan_(plan), catalog_(catalog), views_(make_node_views(plan.pipeline())) {
    for (auto& h : hooks) {
        std::uint32_t points = h.handle->points();
        points_ |= points;
        hooks_.push_back(Hook{std::move(h), points});
    }
    if (points_ & dataset_points) listens_to_ |= dataset_io;
    if (points_ & node_points) listens_to_ |= node_run;
}

std::string HookDispatcher::fire(const HookEvent& event) noexcept {
    std::string failure;
    for (auto& h : hooks_) {
        if (!(h.points & bit(event.point))) continue;
        std::string error;
        if (h.enabled.handle->fire(event, &error)) continue;
        if (failure.empty())
            failure = "hook " + h.enabled.name + " (" + h.enabled.plugin_file + ") failed in " + point_name(event.point) +
                      ": " + error;
    }
    return failure;
}

void HookDispatcher::fire_or_throw(const HookEvent& event, std::size_t node) {
    std::string failure = fire(event);
    if (!failure.empty()) throw NodeError("node '" + std::string(views_[node].name) + "': " + failure);
}

NodeRunInfo HookDispatcher::node_run_info(std::size_t node, unsigned worker, std::span<const NamedValue> inputs,
                                     std::span<const NamedValue> outputs, std::uint64_t max_rss) const {
    NodeRunInfo info;
    info.node = views_[node];
    info.inputs = inputs;
    info.outputs = outputs;
    info.catalog = &catalog_;
    info.run_id = plan_.run_id();
    info.is_async = plan_.is_async();
    info.worker = worker;
    info.max_rss_bytes = max_rss;
    return info;
}

std::string HookDispatcher::before_pipeline_run(const PipelineRunInfo& run) {
    HookEvent e = event_at(HookPoint::before_pipeline_run);
    e.pipeline = &run;
    return fire(e);
}

std::string HookDispatcher::after_pipeline_run(const PipelineRunInfo& run, std::span<const NamedValue> outputs) {
    HookEvent e = event_at(HookPoint::after_pipeline_run);
    e.pipeline = &run;
    e.outputs = outputs;
    return fire(e);
}

void HookDispatcher::on_pipeline_error(const PipelineRunInfo& run, std::string_view error) noexcept {
    HookEvent e = event_at(HookPoint::on_pipeline_error);
    e.pipeline = &run;
    e.error = error;
    if (std::string failure = fire(e); !failure.empty()) spdlog::error("{}", failure);
}

void HookDispatcher::dataset_event(HookPoint point, std::size_t node, const std::string& dataset, const Value* data) {
    HookEvent e = event_at(point);
    e.node = &views_[node];
    e.dataset = dataset;
    e.data = data;
    fire_or_throw(e, node);
}

void HookDispatcher::before_load(std::size_t node, const std::string& dataset) {
    dataset_event(HookPoint::before_dataset_loaded, node, dataset, nullptr);
}

void HookDispatcher::after_load(std::size_t node, const std::string& dataset, const Value* data) {
    dataset_event(HookPoint::after_dataset_loaded, node, dataset, data);
}

void HookDispatcher::before_save(std::size_t node, const std::string& dataset, const Value* data) {
    dataset_event(HookPoint::before_dataset_saved, node, dataset, data);
}

void HookDispatcher::after_save(std::size_t node, const std::string& dataset, const Value* data) {
    dataset_event(HookPoint::after_dataset_saved, node, dataset, data);
}

void HookDispatcher::before_node(std::size_t node, unsigned worker, std::span<const NamedValue> inputs) {
    NodeRunInfo info = node_run_info(node, worker, inputs, {}, 0);
    HookEvent e = event_at(HookPoint::before_node_run);
    e.node_run = &info;
    fire_or_throw(e, node);
}

void HookDispatcher::after_node(std::size_t node, unsigned worker, std::span<const NamedValue> inputs,
                                std::span<const NamedValue> outputs, std::uint64_t max_rss) {
    NodeRunInfo info = node_run_info(node, worker, inputs, outputs, max_rss ? max_rss : max_rss_bytes());
    HookEvent e = event_at(HookPoint::after_node_run);
    e.node_run = &info;
    fire_or_throw(e, node);
}

void HookDispatcher::node_error(std::size_t node, unsigned worker, std::span<const NamedValue> inputs,
                                const std::string& error, std::uint64_t max_rss) noexcept {
    NodeRunInfo info = node_run_info(node, worker, inputs, {}, max_rss ? max_rss : max_rss_bytes());
    HookEvent e = event_at(HookPoint::on_node_error);
    e.node_run = &info;
    e.error = error;
    if (std::string failure = fire(e); !failure.empty()) spdlog::error("{}", failure);
}

}  // namespace kiln::core
