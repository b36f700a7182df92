// The host's view of a keyed value: a kiln::Partitions<T> or a std::map<std::string, T>
// seen as its entries in key order, each either an object at hand or a loader that makes
// it when asked. PartitionedDataset builds and reads values through it, and a node's map
// result is split by key through it. Part of the ABI since 1.8 (docs/abi.md).
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <memory>
#include <string>
#include <vector>

namespace kiln {
struct TypeOps;
}

namespace kiln::detail {

// Makes one entry's object when asked (a partition file read now). May be called from any
// thread, any number of times; each call makes the object afresh.
class EntryLoader {
public:
    virtual ~EntryLoader() = default;
    // The object, of the element type; an empty pointer and *error on failure.
    virtual std::shared_ptr<const void> load(std::string* error) const noexcept = 0;
};

struct KeyedEntry {
    std::string key;
    std::shared_ptr<const void> object;          // the value, when at hand
    const TypeOps* type = nullptr;               // the object's type, when at hand
    std::shared_ptr<const EntryLoader> loader;   // otherwise: how to make it
};

using KeyedValues = std::vector<KeyedEntry>;

// The entry's object: the one at hand, or made by its loader now. Empty, with *error set,
// when the loader fails or there is neither.
inline std::shared_ptr<const void> entry_object(const KeyedEntry& e, std::string* error) {
    if (e.object) return e.object;
    if (e.loader) return e.loader->load(error);
    if (error) *error = "entry '" + e.key + "' has neither a value nor a way to load one";
    return nullptr;
}

}  // namespace kiln::detail
