#include "run/run_plan.hpp"

#include <algorithm>
#include <future>
#include <map>
#include <spdlog/spdlog.h>

#include "config/redaction.hpp"
#include "kiln/error.hpp"
#include "run/node_event_stream.hpp"
#include "run/run_guard.hpp"
#include "run/transcoded_storage.hpp"
#include "text/join.hpp"

namespace kiln::core {

namespace {

const TypeOps* input_type(const Node& n, std::size_t pos) { return n.func->spec->inputs[pos]; }
const TypeOps* output_type(const Node& n, std::size_t pos) { return n.func->spec->outputs[pos]; }

// Small fixed buffers cover almost every node, so running one allocates nothing.
constexpr std::size_t inline_values = 8;

// Waits for every concurrent load/save, then reports the first failure: no task is left
// running against a node that has already failed.
void wait_all(std::vector<std::future<void>>& pending) {
    std::exception_ptr first;
    for (auto& f : pending) {
        try {
            f.get();
        } catch (...) {
            if (!first) first = std::current_exception();
        }
    }
    if (first) std::rethrow_exception(first);
}

}  // namespace

RunPlan::RunPlan(const Pipeline& pipeline, DataCatalog& catalog, std::string run_id)
    : pipeline_(pipeline), catalog_(catalog), run_id_(std::move(run_id)) {
    const auto& names = pipeline.dataset_names();
    const auto& nodes = pipeline.nodes();
    for (const Node& n : nodes) {
        if (!n.func || !n.func->spec)
            throw RunnerError("node '" + n.name + "' is not bound to a node function");
        if (n.inputs.size() != n.func->spec->inputs.size() || n.outputs.size() != n.func->spec->outputs.size())
            throw RunnerError("node '" + n.name + "' does not match the signature of " + n.func->qualified_name);
    }

    // One slot per dataset, plus one per extra type a parameter is read as.
    struct ParamKey {
        std::uint32_t dataset;
        std::string_view type;
        bool operator<(const ParamKey& o) const { return dataset != o.dataset ? dataset < o.dataset : type < o.type; }
    };
    std::map<ParamKey, std::uint32_t> param_slots;
    std::vector<std::uint32_t> dataset_slot(names.size(), UINT32_MAX);
    std::vector<std::pair<std::uint32_t, const TypeOps*>> slot_sources;  // (dataset, type) per slot
    slot_sources.reserve(names.size());

    steps_.resize(nodes.size());
    std::vector<std::string> errors;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const Node& n = nodes[i];
        Step& s = steps_[i];
        s.node = &n;
        s.in.resize(n.input_ids.size());
        for (std::size_t k = 0; k < n.input_ids.size(); ++k) {
            std::uint32_t d = n.input_ids[k];
            if (is_parameter_name(names[d])) {
                auto [it, fresh] = param_slots.emplace(ParamKey{d, input_type(n, k)->name},
                                                      static_cast<std::uint32_t>(slot_sources.size()));
                if (fresh) slot_sources.emplace_back(d, input_type(n, k));
                s.in[k] = it->second;
                if (dataset_slot[d] == UINT32_MAX) dataset_slot[d] = it->second;
                continue;
            }
            if (dataset_slot[d] == UINT32_MAX) {
                dataset_slot[d] = static_cast<std::uint32_t>(slot_sources.size());
                slot_sources.emplace_back(d, input_type(n, k));
            }
            s.in[k] = dataset_slot[d];
        }
        s.out.resize(n.output_ids.size());
        for (std::size_t k = 0; k < n.output_ids.size(); ++k) {
            std::uint32_t d = n.output_ids[k];
            if (dataset_slot[d] == UINT32_MAX) {
                dataset_slot[d] = static_cast<std::uint32_t>(slot_sources.size());
                slot_sources.emplace_back(d, output_type(n, k));
            } else {
                slot_sources[dataset_slot[d]].second = output_type(n, k);  // the producer's type rules
            }
            s.out[k] = dataset_slot[d];
        }
    }

    slot_count_ = slot_sources.size();
    slots_ = std::make_unique<Slot[]>(slot_count_);
    std::vector<std::string> missing;
    for (std::size_t sl = 0; sl < slot_count_; ++sl) {
        auto [d, type] = slot_sources[sl];
        Slot& slot = slots_[sl];
        slot.name = names[d];
        slot.type = type;
        try {
            if (is_parameter_name(slot.name)) {
                slot.value = catalog.parameter(slot.name, *type);
                slot.keep = true;
            } else if (catalog.is_memory(slot.name)) {
                // A declared MemoryDataset: an in-memory value like any other, which a free
                // input must have preset.
                slot.value = catalog.memory_preset(slot.name, *type);
                slot.keep = pipeline.is_free_input(d) || pipeline.is_free_output(d);
                if (pipeline.is_free_input(d) && slot.value.empty())
                    missing.push_back("'" + slot.name + "' (a kiln.MemoryDataset with no \"data\", and no node produces it)");
            } else if (catalog.contains(slot.name)) {
                slot.dataset = &catalog.dataset(slot.name, type, run_id_);
                slot.keep = pipeline.is_free_input(d) || pipeline.is_free_output(d);
            } else if (pipeline.is_free_input(d)) {
                const std::string readers = join(pipeline.consumers_of(d), ", ",
                                                 [&](std::size_t c) { return "'" + nodes[c].name + "'"; });
                missing.push_back("'" + slot.name + "' (read by " + readers + ")");
            } else {
                slot.keep = pipeline.is_free_output(d);
            }
        } catch (const Error& e) {
            errors.push_back(e.what());
        }
    }
    try {
        if (std::string refused = transcoded_forms_in_memory(pipeline, catalog); !refused.empty())
            errors.insert(errors.begin(), refused);
    } catch (const Error& e) {
        errors.push_back(e.what());
    }
    total_reads_.assign(slot_count_, 0);
    for (const Step& s : steps_)
        for (std::uint32_t sl : s.in) ++total_reads_[sl];
    for (std::size_t sl = 0; sl < slot_count_; ++sl) slots_[sl].pending_reads.store(total_reads_[sl], std::memory_order_relaxed);
    dataset_slot_ = std::move(dataset_slot);

    if (!missing.empty()) {
        std::string list;
        for (const auto& m : missing) list += "\n  - " + m;
        errors.insert(errors.begin(), "pipeline input(s) not found in the catalog:" + list +
                                          "\n  Add them to catalog.json, define them in parameters.json (as "
                                          "params:NAME), or add the nodes that produce them to the pipeline.");
    }
    if (!errors.empty()) {
        std::string message = errors.front();
        for (std::size_t e = 1; e < errors.size(); ++e) message += "\n" + errors[e];
        throw ConfigError(message);
    }
}

void RunPlan::load_inputs(std::size_t i, const Step& s, Value* in, const NodeEventStream* events) {
    const Node& n = *s.node;
    const NodeSpec& spec = *n.func->spec;
    auto load_one = [&](std::size_t k) {
        Slot& slot = slots_[s.in[k]];
        if (events) events->before_load(i, slot.name);
        try {
            in[k] = slot.dataset->load();
        } catch (const Error& e) {
            throw NodeError("node '" + n.name + "': " + e.what());
        }
        const TypeOps* want = spec.inputs[k];
        if (in[k].type() != want && in[k].type_name() != want->name)
            throw NodeError("node '" + n.name + "': dataset '" + slot.name + "' loaded a '" +
                            std::string(in[k].type_name()) + "' value but the node reads '" + std::string(want->name) +
                            "'");
        if (events) events->after_load(i, slot.name, &in[k]);
    };
    std::vector<std::future<void>> pending;
    for (std::size_t k = 0; k < s.in.size(); ++k) {
        Slot& slot = slots_[s.in[k]];
        if (slot.dataset) {
            if (async_) pending.push_back(std::async(std::launch::async, load_one, k));
            else load_one(k);
        } else {
            if (events) events->before_load(i, slot.name);
            in[k] = slot.value;
            if (in[k].empty()) [[unlikely]]
                throw NodeError("node '" + n.name + "': input '" + slot.name + "' has no value (it was not produced)");
            if (events) events->after_load(i, slot.name, &in[k]);
        }
    }
    wait_all(pending);
}

void RunPlan::save_outputs(std::size_t i, const Step& s, Value* out, const NodeEventStream* events) {
    const Node& n = *s.node;
    // As Kedro: "Saving 'None' to a 'Dataset' is not allowed", in memory or persisted, under
    // every runner. Checked before anything is saved, so a node's outputs are all or none.
    for (std::size_t k = 0; k < s.out.size(); ++k)
        if (out[k].empty() || (out[k].holds<nlohmann::json>() && out[k].get<nlohmann::json>().is_null())) [[unlikely]]
            throw NodeError("node '" + n.name + "' (" + n.func->qualified_name + ") returned null for output '" +
                            slots_[s.out[k]].name + "': Saving 'None' to a 'Dataset' is not allowed");
    auto save_one = [&](std::size_t k) {
        Slot& slot = slots_[s.out[k]];
        try {
            slot.dataset->save(out[k]);
        } catch (const Error& e) {
            throw NodeError("node '" + n.name + "': " + e.what());
        }
        if (events) events->after_save(i, slot.name, &out[k]);
    };
    // Kedro fires every before_dataset_saved first, then the saves.
    if (events)
        for (std::size_t k = 0; k < s.out.size(); ++k) events->before_save(i, slots_[s.out[k]].name, &out[k]);
    std::vector<std::future<void>> pending;
    for (std::size_t k = 0; k < s.out.size(); ++k) {
        Slot& slot = slots_[s.out[k]];
        if (slot.dataset) {
            if (async_) pending.push_back(std::async(std::launch::async, save_one, k));
            else save_one(k);
        } else if (events) {
            slot.value = out[k];  // the hook below still sees it
            events->after_save(i, slot.name, &slot.value);
        } else {
            slot.value = std::move(out[k]);
        }
    }
    wait_all(pending);
}

// The slow path, with hooks: every failure is reported to on_node_error with the inputs
// loaded so far.
void RunPlan::run_with_events(std::size_t i, unsigned worker, const Step& s, Value* in, Value* out,
                              const NodeEventStream& events) {
    const Node& n = *s.node;
    const NodeSpec& spec = *n.func->spec;
    std::vector<NamedValue> inputs(s.in.size()), outputs(s.out.size());
    for (std::size_t k = 0; k < s.in.size(); ++k) inputs[k] = {slots_[s.in[k]].name, &in[k]};
    for (std::size_t k = 0; k < s.out.size(); ++k) outputs[k] = {slots_[s.out[k]].name, &out[k]};
    const NodeEventStream* dataset_events = events.wants_dataset_io() ? &events : nullptr;
    try {
        load_inputs(i, s, in, dataset_events);
        std::vector<InputReplacement> replaced;  // by before_node_run hooks, already checked
        events.before_node(i, worker, inputs, &replaced);
        for (InputReplacement& r : replaced)
            for (std::size_t k = 0; k < s.in.size(); ++k)
                if (slots_[s.in[k]].name == r.dataset) in[k] = r.value;
        if (spdlog::should_log(spdlog::level::info)) spdlog::info("Running node: {}", n.describe());
        std::string error;
        if (!spec.invoke(spec.callable.get(), in, out, &error)) [[unlikely]]
            throw NodeError("node '" + n.name + "' (" + n.func->qualified_name + ") failed: " + error);
        events.after_node(i, worker, inputs, outputs, 0);
        save_outputs(i, s, out, dataset_events);
    } catch (const std::exception& e) {
        for (auto& v : inputs)
            if (v.value && v.value->empty()) v.value = nullptr;  // not loaded
        events.node_error(i, worker, inputs, redact(e.what()), 0);
        throw;
    }
}

void RunPlan::execute(std::size_t i, unsigned worker, const NodeEventStream* events) {
    const Step& s = steps_[i];
    const Node& n = *s.node;
    const NodeSpec& spec = *n.func->spec;
    const std::size_t n_in = s.in.size(), n_out = s.out.size();

    Value in_inline[inline_values], out_inline[inline_values];
    std::vector<Value> in_heap, out_heap;
    Value* in = in_inline;
    Value* out = out_inline;
    if (n_in > inline_values) in = (in_heap.resize(n_in), in_heap.data());
    if (n_out > inline_values) out = (out_heap.resize(n_out), out_heap.data());

    NodeInFlight in_flight(i);  // a fatal signal or exit() from here on names this node
    if (events && events->wants_execution_events()) return run_with_events(i, worker, s, in, out, *events);
    load_inputs(i, s, in, nullptr);
    if (spdlog::should_log(spdlog::level::info)) spdlog::info("Running node: {}", n.describe());
    std::string error;
    if (!spec.invoke(spec.callable.get(), in, out, &error)) [[unlikely]]
        throw NodeError("node '" + n.name + "' (" + n.func->qualified_name + ") failed: " + error);
    save_outputs(i, s, out, nullptr);
}

RunPlan::SlotKind RunPlan::slot_kind(std::uint32_t slot) const {
    if (slots_[slot].dataset) return SlotKind::persisted;
    if (is_parameter_name(slots_[slot].name)) return SlotKind::parameter;
    return SlotKind::memory;
}

void RunPlan::release_after(std::size_t i) {
    for (std::uint32_t sl : steps_[i].in) {
        Slot& slot = slots_[sl];
        if (slot.pending_reads.fetch_sub(1, std::memory_order_acq_rel) == 1 && !slot.keep) {
            if (slot.dataset) {
                slot.dataset->release();
            } else if (!slot.value.empty()) {  // none here when the node ran in another process
                spdlog::debug("Releasing {}", slot.name);
                slot.value = Value();
            }
        }
    }
}

bool RunPlan::is_persisted(std::uint32_t dataset) const {
    std::uint32_t sl = dataset_slot_[dataset];
    return sl != UINT32_MAX && slots_[sl].dataset != nullptr;
}

const TypeOps* RunPlan::dataset_type(std::string_view dataset) const {
    auto id = pipeline_.dataset_id(std::string(dataset));
    if (!id || dataset_slot_[*id] == UINT32_MAX) return nullptr;
    return slots_[dataset_slot_[*id]].type;
}

std::vector<RunPlan::FreeOutput> RunPlan::free_outputs() const {
    std::vector<FreeOutput> out;
    const auto& names = pipeline_.dataset_names();
    for (std::uint32_t d = 0; d < names.size(); ++d) {
        if (!pipeline_.is_free_output(d)) continue;
        const Slot& slot = slots_[dataset_slot_[d]];
        out.push_back({names[d], slot.value, slot.dataset ? slot.dataset->description() : std::string()});
    }
    std::sort(out.begin(), out.end(), [](const FreeOutput& a, const FreeOutput& b) { return a.name < b.name; });
    return out;
}

std::size_t RunPlan::live_values() const {
    std::size_t n = 0;
    for (std::size_t sl = 0; sl < slot_count_; ++sl)
        if (!slots_[sl].value.empty() && !is_parameter_name(slots_[sl].name)) ++n;
    return n;
}

}  // namespace kiln::core
