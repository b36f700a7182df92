#include "kiln/core/plugin_runner.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <mutex>
#include <optional>
#include <spdlog/spdlog.h>

#include "kiln/core/remote_node_events.hpp"
#include "kiln/core/run_guard.hpp"
#include "kiln/core/scheduler.hpp"
#include "kiln/core/run_views.hpp"
#include "kiln/error.hpp"

namespace kiln::core {

namespace {

enum NodeState : std::uint8_t { pending, running, done, failed };

class HostRunContext final : public RunContext {
public:
    HostRunContext(RunPlan& plan, RunObserver* observer, const RunnerOptions& options, std::string runner)
        : plan_(plan), observer_(observer), runner_(std::move(runner)), catalog_(plan),
          views_(make_node_views(plan.pipeline())), states_(plan.size()) {
        settings_.run_id = plan.run_id();
        settings_.max_workers = options.max_workers.value_or(0);
        settings_.is_async = options.is_async;
        settings_.keep_going = options.keep_going;
        const Pipeline& p = plan.pipeline();
        dependencies_.resize(p.size());
        for (std::size_t i = 0; i < p.size(); ++i) {
            auto& deps = dependencies_[i];
            for (std::uint32_t d : p.nodes()[i].input_ids)
                if (std::size_t producer = p.producer_of(d); producer < p.size()) deps.push_back(producer);
            std::sort(deps.begin(), deps.end());
            deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
        }
        for (auto& s : states_) s.store(pending, std::memory_order_relaxed);
    }

    std::size_t node_count() const noexcept override { return views_.size(); }
    NodeView node(std::size_t i) const noexcept override { return i < views_.size() ? views_[i] : NodeView{}; }
    std::span<const std::size_t> dependencies(std::size_t i) const noexcept override {
        if (i >= dependencies_.size()) return {};
        return dependencies_[i];
    }
    const CatalogView& catalog() const noexcept override { return catalog_; }
    const RunSettings& settings() const noexcept override { return settings_; }
    bool stop_requested() const noexcept override { return interrupt_signal() != 0; }

    bool run_node(std::size_t i, unsigned worker, std::string* error) noexcept override {
        try {
            if (!claim(i, error)) return false;
            if (observer_) observer_->node_started(i, worker);
            try {
                plan_.execute(i, worker);
            } catch (const std::exception& e) {
                record(i, e.what(), worker);
                if (error) *error = e.what();
                return false;
            }
            succeeded(i, worker);
            return true;
        } catch (const std::exception& e) {  // e.g. out of memory while reporting
            if (error) *error = e.what();
            return false;
        }
    }

    const Value* value(std::string_view dataset) const noexcept override {
        auto slot = memory_slot(dataset);
        if (!slot) return nullptr;
        const Value& v = plan_.slot_value(*slot);
        return v.empty() ? nullptr : &v;
    }

    bool set_value(std::string_view dataset, Value value) noexcept override {
        auto slot = memory_slot(dataset);
        if (!slot) return false;
        if (!value.empty() && value.type_name() != plan_.slot_type(*slot)->name) return false;
        plan_.set_slot_value(*slot, std::move(value));
        return true;
    }

    const TypeOps* value_type(std::string_view dataset) const noexcept override {
        try {
            auto id = plan_.pipeline().dataset_id(std::string(dataset));
            if (!id || plan_.dataset_slot(*id) == UINT32_MAX) return nullptr;
            return plan_.slot_type(plan_.dataset_slot(*id));
        } catch (...) {
            return nullptr;
        }
    }

    bool run_delegated(std::size_t i, unsigned worker, std::string* error) noexcept override {
        if (i >= views_.size()) return refuse(error, "asked to run node " + std::to_string(i) + " of a pipeline of " +
                                                         std::to_string(views_.size()) + " nodes");
        try {
            plan_.execute(i, worker);  // the scheduling process keeps the node's state
            return true;
        } catch (const std::exception& e) {
            if (error) *error = e.what();
            return false;
        }
    }

    bool remote_started(std::size_t i, unsigned worker, std::string* error) noexcept override {
        try {
            if (!claim(i, error)) return false;
            if (observer_) observer_->node_started(i, worker);
            if (NodeEvents* events = plan_.events()) {
                try {
                    fire_remote_before(*events, plan_, i, worker);
                } catch (const std::exception& e) {
                    fire_remote_error(*events, plan_, i, worker, e.what(), 0);
                    record(i, e.what(), worker);
                    if (error) *error = e.what();
                    return false;
                }
            }
            return true;
        } catch (const std::exception& e) {
            if (error) *error = e.what();
            return false;
        }
    }

    bool remote_finished(std::size_t i, unsigned worker, const std::string* failure,
                         std::uint64_t max_rss) noexcept override {
        try {
            if (i >= views_.size() || states_[i].load() != running) return false;
            NodeEvents* events = plan_.events();
            if (failure) {
                if (events) fire_remote_error(*events, plan_, i, worker, *failure, max_rss);
                record(i, *failure, worker);
                return false;
            }
            if (events) {
                try {
                    fire_remote_after(*events, plan_, i, worker, max_rss);
                } catch (const std::exception& e) {
                    fire_remote_error(*events, plan_, i, worker, e.what(), max_rss);
                    record(i, e.what(), worker);
                    return false;
                }
            }
            succeeded(i, worker);
            return true;
        } catch (...) {
            return false;  // only allocation can fail here; the node stays "running" and the run fails
        }
    }

    // A node the runner started (run_node or remote_started) and never finished.
    std::optional<std::size_t> unfinished() const {
        for (std::size_t i = 0; i < states_.size(); ++i)
            if (states_[i].load() == running) return i;
        return std::nullopt;
    }

    RunOutcome outcome() {
        RunOutcome o;
        o.done.resize(states_.size());
        for (std::size_t i = 0; i < states_.size(); ++i) o.done[i] = states_[i].load() == done ? 1 : 0;
        std::lock_guard lock(mutex_);
        o.failures = failures_;
        return o;
    }

private:
    // Node i may start: it exists, has not started, its dependencies completed, and the
    // run goes on. Otherwise the refusal is recorded (naming the runner) and false returned.
    bool claim(std::size_t i, std::string* error) {
        if (i >= views_.size()) return refuse(error, "asked to run node " + std::to_string(i) + " of a pipeline of " +
                                                         std::to_string(views_.size()) + " nodes");
        const std::string& name = plan_.pipeline().nodes()[i].name;
        std::uint8_t expected = pending;
        if (!states_[i].compare_exchange_strong(expected, running))
            return refuse(error, "ran node '" + name + "' twice", i);
        for (std::size_t d : dependencies_[i])
            if (states_[d].load(std::memory_order_acquire) != done)
                return refuse(error, "started node '" + name + "' before its dependency '" +
                                         plan_.pipeline().nodes()[d].name + "' completed", i);
        if (interrupt_signal()) return refuse(error, "started node '" + name + "' after the run was interrupted", i);
        return true;
    }

    void succeeded(std::size_t i, unsigned worker) {
        plan_.release_after(i);
        states_[i].store(done, std::memory_order_release);
        if (observer_) observer_->node_finished(i, worker, nullptr);
        const std::size_t completed = completed_.fetch_add(1, std::memory_order_relaxed) + 1;
        if (spdlog::should_log(spdlog::level::info)) {
            spdlog::info("Completed node: {}", plan_.pipeline().nodes()[i].name);
            spdlog::info("Completed {} out of {} tasks", completed, views_.size());
        }
    }

    std::optional<std::uint32_t> memory_slot(std::string_view dataset) const noexcept {
        try {
            auto id = plan_.pipeline().dataset_id(std::string(dataset));
            if (!id) return std::nullopt;
            std::uint32_t slot = plan_.dataset_slot(*id);
            if (slot == UINT32_MAX || plan_.slot_kind(slot) != RunPlan::SlotKind::memory) return std::nullopt;
            return slot;
        } catch (...) {
            return std::nullopt;
        }
    }

    // A request the contract forbids: the node (if any) fails, naming the runner.
    bool refuse(std::string* error, const std::string& what, std::size_t node = SIZE_MAX) {
        std::string message = "runner " + runner_ + " " + what;
        if (error) *error = message;
        if (node != SIZE_MAX) {
            record(node, message, 0);
        } else {
            std::lock_guard lock(mutex_);
            contract_errors_.push_back(message);
        }
        return false;
    }
    void record(std::size_t node, const std::string& message, unsigned worker) {
        NodeFailure failure{node, message};
        {
            std::lock_guard lock(mutex_);
            failures_.push_back(failure);
        }
        if (states_[node].load() == running) states_[node].store(failed);
        if (observer_) observer_->node_finished(node, worker, &failure);
    }

public:
    const std::vector<std::string>& contract_errors() const { return contract_errors_; }

private:
    std::vector<std::string> contract_errors_;
    RunPlan& plan_;
    RunObserver* observer_;
    std::string runner_;
    PlanCatalogView catalog_;
    std::vector<NodeView> views_;
    std::vector<std::vector<std::size_t>> dependencies_;
    std::vector<std::atomic<std::uint8_t>> states_;
    std::atomic<std::size_t> completed_{0};
    RunSettings settings_;
    std::mutex mutex_;
    std::vector<NodeFailure> failures_;
};

}  // namespace

PluginRunner::PluginRunner(const RunnerType& type, RunnerOptions options) : type_(type), options_(std::move(options)) {
    if (options_.max_workers && *options_.max_workers < 1)
        throw RunnerError("max_workers should be positive (got " + std::to_string(*options_.max_workers) + ")");
    std::string error;
    handle_ = type.spec.create(&error);
    if (!handle_)
        throw PluginError("runner " + type.qualified_name + " (" + type.plugin_file + ") could not be created: " +
                          (error.empty() ? std::string("the plugin returned nothing") : error));
}

std::unique_ptr<DatasetHandle> PluginRunner::default_dataset(const DatasetConfig& config) {
    std::string error;
    auto handle = handle_->create_default_dataset(config, &error);
    if (!error.empty())
        throw ConfigError("runner " + type_.qualified_name + " (" + type_.plugin_file +
                          ") failed to create the default dataset for '" + config.name + "': " + error);
    return handle;
}

RunOutcome PluginRunner::run(RunPlan& plan, RunObserver* observer) {
    plan.set_async(options_.is_async);
    if (options_.is_async) spdlog::info("Asynchronous mode is enabled for loading and saving data.");
    // Needs above the --resources caps are refused as under the built-in runners (the
    // plugin decides the concurrency; the host only validates).
    const Scheduler validated(plan.pipeline(), options_.resources, options_.keep_going);
    InterruptScope interrupts;  // Ctrl-C asks the plugin to stop (stop_requested) instead of killing kiln
    HostRunContext context(plan, observer, options_, type_.qualified_name);
    std::string error;
    const bool ok = handle_->run(context, &error);
    RunOutcome outcome = context.outcome();
    if (!ok)
        outcome.runner_error = "runner " + type_.qualified_name + " (" + type_.plugin_file + ") failed: " +
                               (error.empty() ? std::string("unknown error") : error);
    else if (!context.contract_errors().empty())
        outcome.runner_error = context.contract_errors().front();
    else if (auto node = context.unfinished(); node && !interrupt_signal())
        outcome.runner_error = "runner " + type_.qualified_name + " returned while node '" +
                               plan.pipeline().nodes()[*node].name + "' had not finished";
    else if (int sig = interrupt_signal())
        outcome.runner_error = "interrupted (signal " + std::to_string(sig) + ")";
    return outcome;
}

}  // namespace kiln::core
