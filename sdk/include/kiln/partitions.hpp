// kiln::Partitions<T>: a folder of files as kiln.PartitionedDataset hands it to a node (Kedro's
// dict of partition id to load function). The ids are known at once; a partition's file is
// read only when the node asks for it, so a folder larger than memory can be walked.
//
//     std::int64_t count_words(const kiln::Partitions<std::string>& days) {
//         std::int64_t n = 0;
//         for (const auto& day : days)       // in id order: "2024-01-01", "2024-01-02", ...
//             n += words(*day.load());       // reads that one file now; freed when dropped
//         return n;
//     }
//
// Returned by a node, each partition is saved as one file. A partition added with
// add_lazy is made only when it is saved, and dropped right after, so one partition at a
// time is in memory (Kedro's lazy saving):
//
//     kiln::Partitions<std::string> by_day(const std::vector<std::string>& lines) {
//         kiln::Partitions<std::string> out;
//         for (const auto& day : days_in(lines))
//             out.add_lazy(day, [&lines, day] { return lines_of(lines, day); });
//         return out;
//     }
//
// A node may take or return a std::map<std::string, T> from a PartitionedDataset instead:
// the same files, loaded all at once.
//
// Ids are the files' paths below the folder, '/' between folders, without the dataset's
// "filename_suffix". Passed between processes (ParallelRunner), a Partitions is encoded
// whole: every partition is loaded then.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "kiln/codec.hpp"
#include "kiln/detail/keyed_values.hpp"
#include "kiln/detail/type_ops.hpp"
#include "kiln/error.hpp"

namespace kiln {

template <class T>
class Partitions;

namespace detail {
template <class T>
struct keyed_traits<Partitions<T>>;
}

template <class T>
class Partitions {
public:
    // One partition: its id, and its value at hand or read when asked.
    class Partition {
    public:
        const std::string& id() const { return entry_.key; }
        // True when the value is in memory (added with add(), or passed between nodes), so
        // load() reads nothing.
        bool in_memory() const { return entry_.object != nullptr; }
        // The value: the one in memory, or made now (a file read, an add_lazy function
        // called) each time this is called. Throws kiln::DatasetError naming the partition.
        std::shared_ptr<const T> load() const {
            try {
                return detail::keyed_entry_object<T>(entry_);
            } catch (const Error&) {
                throw;
            } catch (const std::exception& e) {
                // The host's message names the partition already; a node's add_lazy function's does not.
                const std::string named = "partition '" + entry_.key + "'";
                const std::string what = e.what();
                throw DatasetError(what.find(named) == std::string::npos ? named + ": " + what : what);
            }
        }

    private:
        friend class Partitions;
        friend struct detail::keyed_traits<Partitions>;
        explicit Partition(detail::KeyedEntry entry) : entry_(std::move(entry)) {}
        detail::KeyedEntry entry_;
    };

    Partitions() = default;
    // Every value at hand.
    explicit Partitions(std::map<std::string, T> values) {
        parts_.reserve(values.size());
        for (auto& [id, value] : values) {
            check_id(id);
            parts_.push_back(Partition(at_hand(id, std::move(value))));
        }
    }

    // Adds a partition whose value is at hand. Throws std::invalid_argument for an empty id
    // or one given twice.
    void add(std::string id, T value) { insert(at_hand(std::move(id), std::move(value))); }
    // Adds a partition made by `make` only when it is loaded or saved.
    void add_lazy(std::string id, std::function<T()> make) {
        if (!make) throw std::invalid_argument("partition '" + id + "' is added with no function to make it");
        insert({std::move(id), nullptr, nullptr, std::make_shared<const Maker>(std::move(make))});
    }

    std::size_t size() const { return parts_.size(); }
    bool empty() const { return parts_.empty(); }
    bool contains(std::string_view id) const { return find(id) != parts_.end(); }
    // The partition `id`; throws kiln::DatasetError naming the ids there are.
    const Partition& at(std::string_view id) const {
        auto it = find(id);
        if (it == parts_.end()) throw DatasetError("no partition '" + std::string(id) + "'; there are " + id_list());
        return *it;
    }
    std::shared_ptr<const T> load(std::string_view id) const { return at(id).load(); }
    std::vector<std::string> ids() const {
        std::vector<std::string> out;
        out.reserve(parts_.size());
        for (const Partition& p : parts_) out.push_back(p.id());
        return out;
    }
    // Every partition loaded, for data that fits in memory.
    std::map<std::string, T> load_all() const {
        std::map<std::string, T> out;
        for (const Partition& p : parts_) out.emplace(p.id(), *p.load());
        return out;
    }

    auto begin() const { return parts_.cbegin(); }
    auto end() const { return parts_.cend(); }

private:
    friend struct detail::keyed_traits<Partitions>;

    class Maker final : public detail::EntryLoader {
    public:
        explicit Maker(std::function<T()> make) : make_(std::move(make)) {}
        std::shared_ptr<const void> load(std::string* error) const noexcept override {
            std::shared_ptr<const void> made;
            detail::guard(error, [&] { made = std::make_shared<const T>(make_()); });
            return made;
        }

    private:
        std::function<T()> make_;
    };

    static detail::KeyedEntry at_hand(std::string id, T value) {
        return {std::move(id), std::make_shared<const T>(std::move(value)), &type_ops<T>(), nullptr};
    }
    static void check_id(const std::string& id) {
        if (id.empty()) throw std::invalid_argument("a partition id is empty");
    }
    typename std::vector<Partition>::const_iterator find(std::string_view id) const {
        auto it = std::lower_bound(parts_.begin(), parts_.end(), id,
                                   [](const Partition& p, std::string_view key) { return p.id() < key; });
        return it != parts_.end() && it->id() == id ? it : parts_.end();
    }
    // Kept in id order; adding in order (the common case) appends.
    void insert(detail::KeyedEntry entry) {
        check_id(entry.key);
        auto it = parts_.empty() || parts_.back().id() < entry.key
                      ? parts_.end()
                      : std::lower_bound(parts_.begin(), parts_.end(), entry.key,
                                         [](const Partition& p, const std::string& key) { return p.id() < key; });
        if (it != parts_.end() && it->id() == entry.key)
            throw std::invalid_argument("partition '" + entry.key + "' is added twice");
        parts_.insert(it, Partition(std::move(entry)));
    }
    std::string id_list() const {
        if (parts_.empty()) return "none";
        std::string out;
        for (std::size_t i = 0; i < parts_.size() && i < 10; ++i) out += (i ? ", '" : "'") + parts_[i].id() + "'";
        if (parts_.size() > 10) out += " and " + std::to_string(parts_.size() - 10) + " more";
        return out;
    }

    std::vector<Partition> parts_;
};

namespace detail {
inline constexpr std::string_view partitions_open = "partitions<";

template <class T>
struct keyed_traits<Partitions<T>> {
    static constexpr bool keyed = true;
    using element = T;
    static void to_keyed(const std::shared_ptr<const void>& object, KeyedValues& out) {
        const auto& parts = *static_cast<const Partitions<T>*>(object.get());
        out.reserve(parts.size());
        for (const auto& p : parts) out.push_back(p.entry_);
    }
    // Entries not at hand stay lazy: their loaders are kept.
    static std::shared_ptr<const void> from_keyed(const KeyedValues& in) {
        auto parts = std::make_shared<Partitions<T>>();
        for (const KeyedEntry& e : in) {
            if (e.object && e.type && e.type->name != codec<T>::name)
                throw std::invalid_argument("partition '" + e.key + "' holds a '" + std::string(e.type->name) +
                                            "', not a '" + std::string(codec<T>::name) + "'");
            if (!e.object && !e.loader)
                throw std::invalid_argument("partition '" + e.key + "' has neither a value nor a way to load one");
            parts->insert(e);
        }
        return parts;
    }
};
}  // namespace detail

// Encoded whole, so every partition is loaded (twice: once to measure, once to write).
template <class T>
    requires requires { codec<T>::name; }
struct codec<Partitions<T>> {
    static constexpr std::string_view name =
        detail::joined<detail::partitions_open, codec<T>::name, detail::close_angle>::value;
    using built_from = std::tuple<T>;
    static void encode(const Partitions<T>& parts, Encoder& out) {
        out.put_size(parts.size());
        for (const auto& p : parts) {
            codec<std::string>::encode(p.id(), out);
            codec<T>::encode(*p.load(), out);
        }
    }
    static Partitions<T> decode(Decoder& in) {
        auto n = in.get_size();
        if (n > in.remaining()) throw std::out_of_range("kiln::Decoder: partition count is corrupt");
        Partitions<T> parts;
        for (std::size_t i = 0; i < n; ++i) {
            std::string id = codec<std::string>::decode(in);
            parts.add(std::move(id), codec<T>::decode(in));
        }
        return parts;
    }
    template <class J = nlohmann::json>
    static J to_json(const Partitions<T>& parts)
        requires HasJson<T>
    {
        auto obj = J::object();
        for (const auto& p : parts) obj[p.id()] = codec<T>::to_json(*p.load());
        return obj;
    }
    template <class J = nlohmann::json>
    static Partitions<T> from_json(const std::type_identity_t<J>& j)
        requires HasJson<T>
    {
        if (!j.is_object()) throw std::invalid_argument("expected an object of partition id to value, got " + j.dump());
        Partitions<T> parts;
        for (auto it = j.begin(); it != j.end(); ++it) parts.add(it.key(), codec<T>::from_json(it.value()));
        return parts;
    }
};

}  // namespace kiln
