#include "run/node_observer.hpp"

namespace kiln::core {

// Every event is a no-op unless overridden: an observer implements only what it listens to.
void NodeObserver::node_started(std::size_t, unsigned) {}
void NodeObserver::node_finished(std::size_t, unsigned, const NodeFailure*) {}
void NodeObserver::before_load(std::size_t, const std::string&) {}
void NodeObserver::after_load(std::size_t, const std::string&, const Value*) {}
void NodeObserver::before_save(std::size_t, const std::string&, const Value*) {}
void NodeObserver::after_save(std::size_t, const std::string&, const Value*) {}
void NodeObserver::before_node(std::size_t, unsigned, std::span<const NamedValue>) {}
void NodeObserver::before_node_replacing(std::size_t node, unsigned worker, std::span<const NamedValue> inputs,
                                         std::vector<InputReplacement>*) {
    before_node(node, worker, inputs);
}
void NodeObserver::after_node(std::size_t, unsigned, std::span<const NamedValue>, std::span<const NamedValue>,
                              std::uint64_t) {}
void NodeObserver::node_error(std::size_t, unsigned, std::span<const NamedValue>, const std::string&,
                              std::uint64_t) noexcept {}

}  // namespace kiln::core
