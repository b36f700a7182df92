#include "model/split_outputs.hpp"

#include <algorithm>
#include <set>

#include "kiln/detail/guard.hpp"
#include "kiln/error.hpp"
#include "text/join.hpp"

namespace kiln::core {
namespace {

using kiln::detail::KeyedEntry;
using kiln::detail::KeyedValues;

// What the split function owns: the plugin's spec it calls, and the keys it keeps.
struct Splitter {
    NodeSpec spec;  // the split function's own: one output per key
    const NodeSpec* inner = nullptr;
    const TypeOps* keyed = nullptr;
    std::vector<std::string> keys;
    NodeFunction function;
};

// Calls the plugin's function into one value, then hands out each key's value (shared
// with the map: no copy).
bool split_invoke(const void* callable, const Value* inputs, Value* outputs, std::string* error) noexcept {
    const Splitter& s = *static_cast<const Splitter*>(callable);
    Value whole;
    if (!s.inner->invoke(s.inner->callable.get(), inputs, &whole, error)) return false;
    return kiln::detail::guard(error, [&] {
        KeyedValues entries;
        std::string why;
        if (whole.empty() || !s.keyed->to_keyed(whole.shared(), &entries, &why))
            throw NodeError("cannot split the '" + std::string(s.keyed->name) + "' it returned: " +
                            (why.empty() ? "it returned no value" : why));
        std::vector<std::string> returned, missing, extra;
        for (const KeyedEntry& e : entries) returned.push_back(e.key);
        for (const std::string& k : s.keys)
            if (!std::binary_search(returned.begin(), returned.end(), k)) missing.push_back(k);
        const std::set<std::string> wanted(s.keys.begin(), s.keys.end());
        for (const std::string& k : returned)
            if (!wanted.count(k)) extra.push_back(k);
        if (!missing.empty() || !extra.empty())
            throw NodeError("the keys of the map it returned (" + (returned.empty() ? "none" : quoted_join(returned)) +
                            ") are not those \"outputs\" names (" + quoted_join(s.keys) + ")" +
                            (missing.empty() ? "" : "; missing: " + quoted_join(missing)) +
                            (extra.empty() ? "" : "; not saved anywhere: " + quoted_join(extra)));
        for (std::size_t i = 0; i < s.keys.size(); ++i) {
            auto it = std::lower_bound(entries.begin(), entries.end(), s.keys[i],
                                       [](const KeyedEntry& e, const std::string& k) { return e.key < k; });
            std::shared_ptr<const void> object = kiln::detail::entry_object(*it, &why);  // a lazy one is made now
            if (!object) throw NodeError("cannot make the value of key '" + it->key + "': " + why);
            outputs[i] = kiln::detail::value_from_raw(std::move(object), it->type ? it->type : s.keyed->element);
        }
    });
}

}  // namespace

std::shared_ptr<const NodeFunction> split_by_key(const NodeFunction& fn, std::vector<std::string> keys) {
    auto s = std::make_shared<Splitter>();
    s->inner = fn.spec;
    s->keyed = fn.keyed_result;
    s->keys = std::move(keys);
    s->spec.name = fn.spec->name;
    s->spec.inputs = fn.spec->inputs;
    s->spec.outputs.assign(s->keys.size(), fn.keyed_result->element);
    s->spec.options = fn.spec->options;
    s->spec.invoke = &split_invoke;
    s->function = fn;
    s->function.spec = &s->spec;
    s->function.output_names = s->keys;
    s->function.keyed_result = nullptr;
    // The spec's callable is the splitter itself, not owned (that would be a cycle): whoever
    // holds the returned function holds the splitter.
    s->spec.callable = std::shared_ptr<const void>(std::shared_ptr<const void>(), s.get());
    return std::shared_ptr<const NodeFunction>(s, &s->function);
}

}  // namespace kiln::core
