#include "run/node_event_stream.hpp"

#include "run/run_plan.hpp"

namespace kiln::core {

NodeEventStream::NodeEventStream(std::initializer_list<NodeObserver*> observers) {
    for (NodeObserver* o : observers) add(o);
}

void NodeEventStream::add(NodeObserver* observer) {
    if (!observer) return;
    const unsigned events = observer->listens_to();
    if (events & NodeObserver::node_progress) progress_.push_back(observer);
    if (events & NodeObserver::dataset_io) dataset_io_.push_back(observer);
    if (events & NodeObserver::node_run) node_run_.push_back(observer);
}

void NodeEventStream::before_load(std::size_t node, const std::string& dataset) const {
    for (NodeObserver* o : dataset_io_) o->before_load(node, dataset);
}

void NodeEventStream::after_load(std::size_t node, const std::string& dataset, const Value* data) const {
    for (NodeObserver* o : dataset_io_) o->after_load(node, dataset, data);
}

void NodeEventStream::before_save(std::size_t node, const std::string& dataset, const Value* data) const {
    for (NodeObserver* o : dataset_io_) o->before_save(node, dataset, data);
}

void NodeEventStream::after_save(std::size_t node, const std::string& dataset, const Value* data) const {
    for (NodeObserver* o : dataset_io_) o->after_save(node, dataset, data);
}

void NodeEventStream::before_node(std::size_t node, unsigned worker, std::span<const NamedValue> inputs,
                                  std::vector<InputReplacement>* replacements) const {
    for (NodeObserver* o : node_run_) o->before_node_replacing(node, worker, inputs, replacements);
}

void NodeEventStream::after_node(std::size_t node, unsigned worker, std::span<const NamedValue> inputs,
                                 std::span<const NamedValue> outputs, std::uint64_t max_rss_bytes) const {
    for (NodeObserver* o : node_run_) o->after_node(node, worker, inputs, outputs, max_rss_bytes);
}

void NodeEventStream::node_error(std::size_t node, unsigned worker, std::span<const NamedValue> inputs,
                                 const std::string& error, std::uint64_t max_rss_bytes) const noexcept {
    for (NodeObserver* o : node_run_) o->node_error(node, worker, inputs, error, max_rss_bytes);
}

namespace {
// The datasets of a node that ran elsewhere: names, no values.
std::vector<NamedValue> names_only(const RunPlan& plan, const std::vector<std::uint32_t>& slots) {
    std::vector<NamedValue> named;
    named.reserve(slots.size());
    for (std::uint32_t slot : slots) named.push_back({plan.slot_name(slot), nullptr});
    return named;
}
}  // namespace

void NodeEventStream::remote_before(const RunPlan& plan, std::size_t node, unsigned worker) const {
    if (!wants_execution_events()) return;
    try {
        const auto inputs = names_only(plan, plan.step_inputs(node));
        if (wants_dataset_io())
            for (const auto& in : inputs) {
                before_load(node, std::string(in.name));
                after_load(node, std::string(in.name), nullptr);
            }
        before_node(node, worker, inputs, nullptr);
    } catch (const std::exception& e) {
        remote_error(plan, node, worker, e.what(), 0);
        throw;
    }
}

void NodeEventStream::remote_after(const RunPlan& plan, std::size_t node, unsigned worker,
                                   std::uint64_t max_rss_bytes) const {
    if (!wants_execution_events()) return;
    try {
        const auto inputs = names_only(plan, plan.step_inputs(node));
        const auto outputs = names_only(plan, plan.step_outputs(node));
        after_node(node, worker, inputs, outputs, max_rss_bytes);
        if (wants_dataset_io()) {
            for (const auto& out : outputs) before_save(node, std::string(out.name), nullptr);
            for (const auto& out : outputs) after_save(node, std::string(out.name), nullptr);
        }
    } catch (const std::exception& e) {
        remote_error(plan, node, worker, e.what(), max_rss_bytes);
        throw;
    }
}

void NodeEventStream::remote_error(const RunPlan& plan, std::size_t node, unsigned worker, const std::string& error,
                                   std::uint64_t max_rss_bytes) const noexcept {
    if (!wants_node_run()) return;
    try {
        node_error(node, worker, names_only(plan, plan.step_inputs(node)), error, max_rss_bytes);
    } catch (...) {
        // node_error reports failures itself; only allocation can fail here.
    }
}

}  // namespace kiln::core
