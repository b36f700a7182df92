// Kedro's dict outputs for a function that returns a dict: a node whose function returns
// one std::map<std::string, T> (or kiln::Partitions<T>) may give "outputs" as an object,
// {"min": "lowest", "max": "highest"}, and each key's value is saved to its dataset.
//
// The node is bound to a node function made here: the plugin's, with one output of type T
// per key, whose call splits the map. The keys must be exactly those the map holds, as in
// Kedro; the node fails otherwise, naming the keys that differ.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/pipeline.hpp"

namespace kiln::core {

// The function `fn` with its one keyed result split into `keys`, in that order. `fn` must
// have keyed_result set (the registry sets it). The result shares nothing mutable with `fn`.
std::shared_ptr<const NodeFunction> split_by_key(const NodeFunction& fn, std::vector<std::string> keys);

}  // namespace kiln::core
