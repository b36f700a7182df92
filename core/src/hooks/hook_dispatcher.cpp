#include "hooks/hook_dispatcher.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include "kiln/error.hpp"
#include "model/pipeline.hpp"
#include "run/run_views.hpp"

namespace kiln::core {

namespace {
constexpr std::uint32_t bit(HookPoint p) { return 1u << static_cast<unsigned>(p); }
constexpr std::uint32_t dataset_points = bit(HookPoint::before_dataset_loaded) | bit(HookPoint::after_dataset_loaded) |
                                         bit(HookPoint::before_dataset_saved) | bit(HookPoint::after_dataset_saved);
// The points each ABI minor has: a hook of an older plugin never hears of newer ones.
constexpr std::uint32_t points_before_1_5 = bit(HookPoint::after_context_created) - 1;
constexpr std::uint32_t points_of_minor(std::uint32_t minor) { return minor >= 5 ? ~0u : points_before_1_5; }
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
        case HookPoint::after_context_created: return "after_context_created";
        case HookPoint::after_catalog_created: return "after_catalog_created";
    }
    return "?";
}
}  // namespace

std::uint64_t max_rss_bytes() noexcept {
    struct rusage usage {};
    if (::getrusage(RUSAGE_SELF, &usage) != 0) return 0;
    return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

HookDispatcher::HookDispatcher(std::vector<EnabledHook> hooks) {
    for (auto& h : hooks) {
        std::uint32_t points = h.handle->points() & points_of_minor(h.plugin_abi_minor);
        points_ |= points;
        hooks_.push_back(Hook{std::move(h), points});
    }
    if (points_ & dataset_points) listens_to_ |= dataset_io;
    if (points_ & node_points) listens_to_ |= node_run;
}

HookDispatcher::HookDispatcher(std::vector<EnabledHook> hooks, const RunPlan& plan, const CatalogView& catalog)
    : HookDispatcher(std::move(hooks)) {
    bind(plan, catalog);
}

void HookDispatcher::bind(const RunPlan& plan, const CatalogView& catalog) {
    plan_ = &plan;
    catalog_ = &catalog;
    views_ = make_node_views(plan.pipeline());
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
    info.catalog = catalog_;
    info.run_id = plan_->run_id();
    info.is_async = plan_->is_async();
    info.worker = worker;
    info.max_rss_bytes = max_rss;
    return info;
}

std::string HookDispatcher::after_context_created(const ContextInfo& context) {
    HookEvent e = event_at(HookPoint::after_context_created);
    e.context = &context;
    return fire(e);
}

std::string HookDispatcher::after_catalog_created(const CatalogInfo& catalog) {
    HookEvent e = event_at(HookPoint::after_catalog_created);
    e.catalog = &catalog;
    return fire(e);
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
    before_node_replacing(node, worker, inputs, nullptr);
}

// Hook by hook, so that a bad replacement names the hook that gave it. As with every point,
// all hooks are called and the first failure fails the node; every hook sees the loaded
// inputs, as Kedro gives each the same dict.
void HookDispatcher::before_node_replacing(std::size_t node, unsigned worker, std::span<const NamedValue> inputs,
                                           std::vector<InputReplacement>* replacements) {
    NodeRunInfo info = node_run_info(node, worker, inputs, {}, 0);
    HookEvent e = event_at(HookPoint::before_node_run);
    e.node_run = &info;
    std::string failure;
    for (const Hook& h : hooks_) {
        if (!(h.points & bit(HookPoint::before_node_run))) continue;
        std::vector<InputReplacement> given;
        info.replacements = h.enabled.plugin_abi_minor >= 5 ? &given : nullptr;
        std::string error;
        if (!h.enabled.handle->fire(e, &error)) {
            if (failure.empty())
                failure = "hook " + h.enabled.name + " (" + h.enabled.plugin_file + ") failed in before_node_run: " + error;
            continue;
        }
        if (given.empty()) continue;
        std::string problem = replacement_problem(h, node, given, replacements == nullptr);
        if (!problem.empty()) {
            if (failure.empty()) failure = std::move(problem);
            continue;
        }
        for (auto& r : given) replacements->push_back(std::move(r));
    }
    if (!failure.empty()) throw NodeError("node '" + std::string(views_[node].name) + "': " + failure);
}

std::string HookDispatcher::replacement_problem(const Hook& hook, std::size_t node,
                                                const std::vector<InputReplacement>& given, bool remote) const {
    const std::string hook_name = "hook " + hook.enabled.name + " (" + hook.enabled.plugin_file + ")";
    if (remote)
        return hook_name + " replaced input '" + given.front().dataset +
               "' in before_node_run, but this runner runs the node in another process, which cannot receive "
               "replaced inputs; use SequentialRunner or ThreadRunner with this hook";
    const std::vector<std::uint32_t>& slots = plan_->step_inputs(node);
    const NodeSpec& spec = *plan_->pipeline().nodes()[node].func->spec;
    for (const InputReplacement& r : given) {
        const std::string what = hook_name + " replaced input '" + r.dataset + "' in before_node_run";
        std::size_t k = 0;
        while (k < slots.size() && plan_->slot_name(slots[k]) != r.dataset) ++k;
        if (k == slots.size()) {
            std::string names;
            for (std::uint32_t slot : slots) names += (names.empty() ? "'" : ", '") + plan_->slot_name(slot) + "'";
            return what + ", but it is not an input of the node (its inputs: " +
                   (names.empty() ? std::string("none") : names) + ")";
        }
        const TypeOps* want = spec.inputs[k];
        if (r.value.empty()) return what + " with an empty value; the node reads '" + std::string(want->name) + "'";
        if (r.value.type() != want && r.value.type_name() != want->name)
            return what + " with a '" + std::string(r.value.type_name()) + "' value, but the node reads '" +
                   std::string(want->name) + "'";
    }
    return {};
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
