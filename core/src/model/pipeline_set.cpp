#include "model/pipeline_set.hpp"

#include "text/elided_list.hpp"

#include <algorithm>
#include <stdexcept>
#include <string_view>

#include "kiln/error.hpp"
#include "text/join.hpp"

namespace kiln::core {
namespace {

constexpr const char* default_pipeline = "__default__";

}  // namespace

PipelineSet::PipelineSet(std::string file, std::vector<std::string> names, std::vector<Declared> declared)
    : file_(std::move(file)), names_(std::move(names)), declared_(std::move(declared)) {
    for (std::size_t p = 0; p < names_.size(); ++p) {
        index_.emplace(names_[p], p);
        labels_.push_back("pipeline '" + names_[p] + "'");
    }
    check_includes();
    if (!index_.count(default_pipeline) && !names_.empty()) {
        // Every pipeline the file defines, but those it reuses renamed: a pipeline written
        // to be reused reads datasets only its reuses provide.
        std::set<std::string> reused;
        for (const Declared& d : declared_)
            for (const Reuse& r : d.reuses) reused.insert(r.pipeline);
        std::vector<std::string> all;
        for (const std::string& name : names_)
            if (!reused.count(name)) all.push_back(name);
        declared_.push_back({{}, all});
        labels_.emplace_back(reused.empty() ? "pipeline '__default__' (every pipeline together, as the file defines no "
                                              "\"__default__\")"
                                            : "pipeline '__default__' (every pipeline but those reused by others, as "
                                              "the file defines no \"__default__\")");
        index_.emplace(default_pipeline, names_.size());
        names_.emplace_back(default_pipeline);
    }
    built_.resize(names_.size());
    expanded_.resize(names_.size());
    for (std::size_t p = 0; p < names_.size(); ++p) expanded_[p].resize(declared_[p].reuses.size());

    // A pipeline no other includes holds every node of those it includes, so a problem in
    // any pipeline shows in one of these; building them alone checks the whole file.
    const std::vector<char> included = this->included();
    try {
        for (std::size_t p = 0; p < names_.size(); ++p)
            if (!included[p]) built_[p] = std::make_unique<Pipeline>(build(p));
    } catch (const PipelineError& e) {
        report_smallest_failing(e);
    }
}

std::vector<char> PipelineSet::included() const {
    std::vector<char> out(names_.size(), 0);
    for (const Declared& d : declared_)
        for (const std::string& name : d.includes) out[index_.at(name)] = 1;
    return out;
}

std::size_t PipelineSet::dependency_count(std::size_t p) const {
    return declared_[p].includes.size() + declared_[p].reuses.size();
}

const std::string& PipelineSet::dependency(std::size_t p, std::size_t k) const {
    const Declared& d = declared_[p];
    return k < d.includes.size() ? d.includes[k] : d.reuses[k - d.includes.size()].pipeline;
}

const std::vector<Node>& PipelineSet::expanded(std::size_t p, std::size_t reuse) const {
    auto& slot = expanded_[p][reuse];
    if (!slot) {
        const Reuse& r = declared_[p].reuses[reuse];
        slot = r.expand(at(r.pipeline));
    }
    return *slot;
}

const Node& PipelineSet::node_at(const NodeRef& ref) const {
    const auto& [p, part, k] = ref;
    return part == 0 ? declared_[p].nodes[k] : expanded(p, part - 1)[k];
}

std::set<std::string> PipelineSet::dataset_names() const {
    std::set<std::string> out;
    const std::vector<char> included = this->included();
    for (std::size_t p = 0; p < names_.size(); ++p)
        if (!included[p]) {
            const auto& names = at(names_[p]).dataset_names();
            out.insert(names.begin(), names.end());
        }
    return out;
}

const Pipeline& PipelineSet::at(const std::string& name) const {
    auto it = index_.find(name);
    if (it == index_.end()) throw std::out_of_range("no pipeline named '" + name + "'");
    auto& slot = built_[it->second];
    if (!slot) slot = std::make_unique<Pipeline>(build(it->second));
    return *slot;
}

std::vector<std::string> PipelineSet::names() const {
    std::vector<std::string> out = names_;
    std::sort(out.begin(), out.end());
    return out;
}

// Depth-first over the includes, with an explicit stack: a chain of 20,000 pipelines
// each including the next must not overflow the call stack.
void PipelineSet::check_includes() const {
    enum class State : char { todo, visiting, done };
    std::vector<State> state(names_.size(), State::todo);
    std::vector<std::pair<std::size_t, std::size_t>> stack;  // (pipeline, its next include)
    for (std::size_t root = 0; root < names_.size(); ++root) {
        if (state[root] != State::todo) continue;
        state[root] = State::visiting;
        stack.emplace_back(root, 0);
        while (!stack.empty()) {
            auto& [p, next] = stack.back();
            if (next == dependency_count(p)) {
                state[p] = State::done;
                stack.pop_back();
                continue;
            }
            const char* verb = next < declared_[p].includes.size() ? "' includes pipeline '" : "' reuses pipeline '";
            const std::string& include = dependency(p, next++);
            auto it = index_.find(include);
            if (it == index_.end()) {
                auto matches = close_matches(include, names_);
                throw ConfigError(file_ + ": pipeline '" + names_[p] + verb + include +
                                  "', which the file does not define" +
                                  (matches.empty() ? "" : " (did you mean " + quoted_join(matches) + "?)") +
                                  "; defined: " + quoted_join(names_));
            }
            const std::size_t q = it->second;
            if (state[q] == State::visiting) {
                auto from = std::find_if(stack.begin(), stack.end(), [&](const auto& f) { return f.first == q; });
                const auto length = static_cast<std::size_t>(stack.end() - from);
                const std::string chain = elided_list(
                    length, 4, 2,
                    [&](std::size_t k) { return "'" + names_[from[static_cast<std::ptrdiff_t>(k)].first] + "' -> "; },
                    [](std::size_t hidden) { return "... " + std::to_string(hidden) + " more pipelines ... -> "; });
                throw ConfigError(file_ + ": pipelines include each other in a loop: " + chain + "'" + names_[q] +
                                  "'; a pipeline cannot include itself, directly or through others");
            }
            if (state[q] == State::todo) {
                state[q] = State::visiting;
                stack.emplace_back(q, 0);
            }
        }
    }
}

std::vector<PipelineSet::NodeRef> PipelineSet::closure(std::size_t p) const {
    std::vector<char> seen(names_.size(), 0);
    std::vector<std::size_t> todo{p};
    seen[p] = 1;
    std::vector<NodeRef> refs;
    while (!todo.empty()) {
        const std::size_t q = todo.back();
        todo.pop_back();
        for (std::size_t k = 0; k < declared_[q].nodes.size(); ++k) refs.emplace_back(q, 0, k);
        for (std::size_t r = 0; r < declared_[q].reuses.size(); ++r)
            for (std::size_t k = 0; k < expanded(q, r).size(); ++k) refs.emplace_back(q, r + 1, k);
        for (const std::string& include : declared_[q].includes) {
            const std::size_t r = index_.at(include);
            if (!seen[r]) {
                seen[r] = 1;
                todo.push_back(r);
            }
        }
    }
    std::sort(refs.begin(), refs.end());  // declaration order, whatever the include order
    return refs;
}

// Two declarations of the same node (same name and definition) are one node; a different
// node under a taken name is kept, for Pipeline to report the clash.
Pipeline PipelineSet::build(std::size_t p) const { return build(p, closure(p)); }

Pipeline PipelineSet::build(std::size_t p, const std::vector<NodeRef>& refs) const {
    const auto identical = [](const Node& a, const Node& b) {
        return a.func == b.func && a.name == b.name && a.namespace_ == b.namespace_ && a.inputs == b.inputs &&
               a.outputs == b.outputs && a.tags == b.tags && a.resources == b.resources;
    };
    std::vector<Node> nodes;
    std::unordered_map<std::string_view, const Node*> seen;
    seen.reserve(refs.size());
    for (const NodeRef& ref : refs) {
        const Node& node = node_at(ref);
        auto [it, added] = seen.try_emplace(node.name, &node);
        if (!added && identical(*it->second, node)) continue;
        nodes.push_back(node);
    }
    try {
        return Pipeline(std::move(nodes));
    } catch (const PipelineError& e) {
        throw PipelineError(file_ + ": " + labels_[p] + ": " + e.what());
    }
}

// Only when the file has a problem: builds every pipeline, included ones first, so the
// message names the smallest pipeline that has it. That costs the sum of every closure,
// so past a budget (a long chain of includes) the problem is reported as first `found`.
void PipelineSet::report_smallest_failing(const PipelineError& found) const {
    constexpr std::size_t budget = 2'000'000;  // nodes copied, about a second
    std::size_t spent = 0;
    std::vector<char> done(names_.size(), 0);
    std::vector<std::pair<std::size_t, std::size_t>> stack;
    for (std::size_t root = 0; root < names_.size(); ++root) {
        if (done[root]) continue;
        done[root] = 1;
        stack.emplace_back(root, 0);
        while (!stack.empty()) {
            auto& [p, next] = stack.back();
            if (next < dependency_count(p)) {
                const std::size_t q = index_.at(dependency(p, next++));
                if (!done[q]) {
                    done[q] = 1;
                    stack.emplace_back(q, 0);
                }
                continue;
            }
            const std::vector<NodeRef> refs = closure(p);
            spent += refs.size();
            if (spent > budget) throw found;
            build(p, refs);  // throws for the first pipeline with the problem
            stack.pop_back();
        }
    }
    throw found;  // not expected: the pipeline that failed was built again above
}

}  // namespace kiln::core
