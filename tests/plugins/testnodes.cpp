// Node functions for the unit and end-to-end tests: arithmetic, several outputs, no
// inputs, failures of each kind, and a user type with its own codec.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cctype>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <kiln/dataset.hpp>
#include <kiln/file_io.hpp>
#include <kiln/partitions.hpp>
#include <kiln/sdk.hpp>
#include <nlohmann/json.hpp>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <unistd.h>

namespace {

struct Point {
    double x = 0, y = 0;
};

double add(double a, double b) { return a + b; }
double neg(double a) { return -a; }
double mul(double a, double b) { return a * b; }
double identity(double a) { return a; }
double seed() { return 1.0; }
std::int64_t count_words(const std::vector<std::string>& words) { return static_cast<std::int64_t>(words.size()); }
std::vector<std::string> split_words(const std::string& text) {
    std::vector<std::string> words;
    std::string w;
    for (char c : text) {
        if (c == ' ' || c == '\n') {
            if (!w.empty()) words.push_back(std::move(w));
            w.clear();
        } else {
            w += c;
        }
    }
    if (!w.empty()) words.push_back(w);
    return words;
}
// Partitions (kiln.PartitionedDataset) and maps.
std::map<std::string, std::int64_t> partition_sizes(const kiln::Partitions<std::string>& parts) {
    std::map<std::string, std::int64_t> sizes;
    for (const auto& part : parts) sizes[part.id()] = static_cast<std::int64_t>(part.load()->size());
    return sizes;
}
// Reads the partition `id` only: the others may be unreadable.
std::string one_partition(const kiln::Partitions<std::string>& parts, const std::string& id) { return *parts.load(id); }
// Each partition upper-cased when it is saved, one at a time.
kiln::Partitions<std::string> upper_partitions(const kiln::Partitions<std::string>& parts) {
    kiln::Partitions<std::string> out;
    for (const auto& part : parts)
        out.add_lazy(part.id(), [part] {
            std::string text = *part.load();
            for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            return text;
        });
    return out;
}
// Words grouped by their first letter, a line each: {"a": "apple\nant\n", ...}.
std::map<std::string, std::string> by_first_letter(const std::vector<std::string>& words) {
    std::map<std::string, std::string> groups;
    for (const auto& w : words)
        if (!w.empty()) groups[w.substr(0, 1)] += w + "\n";
    return groups;
}
std::int64_t map_total(const std::map<std::string, std::int64_t>& m) {
    std::int64_t total = 0;
    for (const auto& [_, v] : m) total += v;
    return total;
}
// {"min": ..., "max": ..., "mean": ...}: a map result split by key.
std::map<std::string, double> stats(const std::vector<double>& v) {
    if (v.empty()) return {};
    return {{"min", *std::min_element(v.begin(), v.end())},
            {"max", *std::max_element(v.begin(), v.end())},
            {"mean", std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size())}};
}
// Partitions named by the text of each line, whatever it holds ("../x", "/etc/y").
std::map<std::string, std::string> partitions_named(const std::vector<std::string>& names) {
    std::map<std::string, std::string> out;
    for (const auto& n : names) out[n] = "data";
    return out;
}

std::tuple<double, double> min_max(const std::vector<double>& v) {
    if (v.empty()) throw std::invalid_argument("min_max of an empty vector");
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    return {*lo, *hi};
}
std::vector<double> range(std::int64_t n) {
    std::vector<double> v(static_cast<std::size_t>(n));
    std::iota(v.begin(), v.end(), 0.0);
    return v;
}
double sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }
std::string greet(const std::string& name) { return "hello " + name; }
nlohmann::json summary(double total, std::int64_t n) { return {{"total", total}, {"n", n}}; }
// A JSON null when asked: Kiln refuses null outputs, as Kedro refuses to save None.
nlohmann::json value_or_null(bool give_null) { return give_null ? nlohmann::json(nullptr) : nlohmann::json{{"ok", true}}; }
// JSON as a dataset loaded it (CsvDataset rows, say), passed on unchanged.
nlohmann::json unchanged_json(const nlohmann::json& j) { return j; }
double fail(double) { throw std::runtime_error("deliberate failure"); }
double fail_unknown(double) { throw 42; }
double fail_if(double x, bool fail) {
    if (fail) throw std::runtime_error("asked to fail");
    return x;
}
double crash_segv(double) {
    std::raise(SIGSEGV);
    return 0;
}
double crash_abort(double) { std::abort(); }
double crash_exit(double) { std::exit(7); }
// Recursion that never ends (as far as the compiler knows): overflows the thread's stack.
volatile bool keep_recursing = true;
[[gnu::noinline]] double overflow(double x) {
    volatile char frame[4096];
    frame[0] = static_cast<char>(x);
    if (!keep_recursing) return frame[0];
    return overflow(x + 1) + frame[1];
}
// Fails as TESTNODES_FAIL says (throw, segv, abort, exit, exit0, overflow,
// overflow_off_main), else returns x + 1: a
// failure that goes away without touching the project, to test --resume.
double unreliable(double x) {
    const char* how = std::getenv("TESTNODES_FAIL");
    const std::string mode = how ? how : "";
    if (mode == "throw") throw std::runtime_error("asked to fail by TESTNODES_FAIL");
    if (mode == "segv") std::raise(SIGSEGV);
    if (mode == "abort") std::abort();
    if (mode == "exit") std::exit(7);
    if (mode == "exit0") std::exit(0);
    if (mode == "overflow") return overflow(x);
    // Overflows on any thread but the main one, where it takes its time and succeeds:
    // a crash on one of a runner's own threads, whatever the order the nodes start in.
    if (mode == "overflow_off_main") {
        if (::gettid() != ::getpid()) return overflow(x);
        std::this_thread::sleep_for(std::chrono::seconds(2));
    }
    return x + 1;
}
double sleep_ms(double ms) {
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms));
    return ms;
}
double spin(double iterations) {
    // CPU-bound work the optimiser cannot remove.
    volatile double acc = 0;
    for (std::int64_t i = 0; i < static_cast<std::int64_t>(iterations); ++i) acc = acc + 1e-9 * static_cast<double>(i % 7);
    return acc;
}
void sink(double v) { kiln::log::info("sink received " + std::to_string(v)); }
Point make_point(double x, double y) { return {x, y}; }
double point_norm(const Point& p) { return std::sqrt(p.x * p.x + p.y * p.y); }
kiln::Tensor<double> ones(std::int64_t rows, std::int64_t cols) {
    kiln::Tensor<double> t({static_cast<std::size_t>(rows), static_cast<std::size_t>(cols)});
    std::fill(t.begin(), t.end(), 1.0);
    return t;
}
double tensor_sum(const kiln::Tensor<double>& t) { return std::accumulate(t.begin(), t.end(), 0.0); }

}  // namespace

template <>
struct kiln::codec<Point> {
    static constexpr std::string_view name = "testnodes.Point";
    static void encode(const Point& p, kiln::Encoder& out) {
        out.put(p.x);
        out.put(p.y);
    }
    static Point decode(kiln::Decoder& in) {
        Point p;
        p.x = in.get<double>();
        p.y = in.get<double>();
        return p;
    }
    static nlohmann::json to_json(const Point& p) { return {{"x", p.x}, {"y", p.y}}; }
    static Point from_json(const nlohmann::json& j) { return {j.at("x").get<double>(), j.at("y").get<double>()}; }
};

// A value that only makes sense in its own process (like a handle): process-local.
struct Handle {
    std::int64_t id = 0;
};
template <>
struct kiln::codec<Handle> {
    static constexpr std::string_view name = "testnodes.Handle";
    static constexpr bool process_local = true;
    static void encode(const Handle& h, kiln::Encoder& out) { out.put(h.id); }
    static Handle decode(kiln::Decoder& in) { return {in.get<std::int64_t>()}; }
};

namespace {
Handle open_handle(double x) { return {static_cast<std::int64_t>(x)}; }
double use_handle(const Handle& h) { return static_cast<double>(h.id); }

// An in-process store standing in for a dataset that cannot be shared across processes
// (a live connection, a GUI): single-process.
class LocalDataset : public kiln::Dataset {
public:
    explicit LocalDataset(const kiln::DatasetConfig& config) { config.require_type<double>(); }
    kiln::Value load() override {
        if (value_.empty()) throw kiln::DatasetError("nothing saved yet");
        return value_;
    }
    void save(const kiln::Value& v) override { value_ = v; }
    bool exists() const override { return !value_.empty(); }
    std::string describe() const override { return "LocalDataset()"; }

private:
    kiln::Value value_;
};

// A JSON number file whose save stands in for a long kiln::write_file_atomic (a big file on
// a slow disk): it creates the temporary file that function would,
// `<file>.kiln-tmp-<pid>-<n>`, with part of the bytes, holds it for "pause_ms", then
// writes the rest and renames it over the file. Tests interrupt or kill a run inside it.
class SlowSaveDataset : public kiln::Dataset {
public:
    explicit SlowSaveDataset(const kiln::DatasetConfig& config)
        : path_(config.path_arg("filepath")), pause_ms_(config.args.value("pause_ms", 0.0)) {
        config.require_type<double>();
    }
    kiln::Value load() override { return kiln::Value::make(std::stod(kiln::read_file_text(path_))); }
    void save(const kiln::Value& v) override {
        static std::atomic<unsigned> counter{0};
        std::filesystem::path tmp = path_;
        tmp += ".kiln-tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
        std::filesystem::create_directories(path_.parent_path());
        const std::string text = nlohmann::json(v.get<double>()).dump() + "\n";
        {
            std::ofstream out(tmp, std::ios::binary);
            out << text.substr(0, text.size() / 2) << std::flush;
            std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(pause_ms_));
            out << text.substr(text.size() / 2);
            if (!out.flush()) throw kiln::DatasetError("cannot write " + tmp.string());
        }
        std::filesystem::rename(tmp, path_);
    }
    bool exists() const override { return std::filesystem::exists(path_); }
    std::string describe() const override { return "SlowSaveDataset(" + path_.string() + ")"; }

private:
    std::filesystem::path path_;
    double pause_ms_;
};

// A JSON number in a scratch file that nothing may rely on after the run (as a cache
// folder wiped between jobs would be): it declares that it does not persist.
class ScratchDataset : public kiln::Dataset {
public:
    static constexpr bool persists = false;
    explicit ScratchDataset(const kiln::DatasetConfig& config) : path_(config.path_arg("filepath")) {
        config.require_type<double>();
    }
    kiln::Value load() override { return kiln::Value::make(std::stod(kiln::read_file_text(path_))); }
    void save(const kiln::Value& v) override {
        kiln::write_file_atomic(path_, nlohmann::json(v.get<double>()).dump() + "\n");
    }
    bool exists() const override { return std::filesystem::exists(path_); }
    std::string describe() const override { return "ScratchDataset(" + path_.string() + ")"; }

private:
    std::filesystem::path path_;
};
}  // namespace

KILN_PLUGIN_VERSIONED(testnodes, "1.0.0") {
    reg.node("add", &add, {.args = {"a", "b"}, .doc = "a + b"});
    reg.node("neg", &neg);
    reg.node("mul", &mul, {.args = {"a", "b"}});
    reg.node("identity", &identity);
    reg.node("seed", &seed);
    reg.node("count_words", &count_words);
    reg.node("split_words", &split_words);
    reg.node("min_max", &min_max);
    reg.node("spread", &min_max, {.outputs = {"low", "high"}});  // for dict-form "outputs"
    reg.node("partition_sizes", &partition_sizes);
    reg.node("one_partition", &one_partition);
    reg.node("upper_partitions", &upper_partitions);
    reg.node("by_first_letter", &by_first_letter);
    reg.node("map_total", &map_total);
    reg.node("stats", &stats);
    reg.node("partitions_named", &partitions_named);
    reg.node("range", &range);
    reg.node("sum", &sum);
    reg.node("greet", &greet);
    reg.node("summary", &summary, {.args = {"total", "n"}});
    reg.node("value_or_null", &value_or_null);
    reg.node("unchanged_json", &unchanged_json);
    reg.node("fail", &fail);
    reg.node("fail_unknown", &fail_unknown);
    reg.node("fail_if", &fail_if, {.args = {"x", "fail"}});
    reg.node("crash_segv", &crash_segv);
    reg.node("crash_abort", &crash_abort);
    reg.node("crash_exit", &crash_exit);
    reg.node("unreliable", &unreliable);
    reg.node("sleep_ms", &sleep_ms);
    reg.node("spin", &spin);
    reg.node("sink", &sink);
    reg.node("make_point", &make_point);
    reg.node("point_norm", &point_norm);
    reg.node("ones", &ones);
    reg.node("tensor_sum", &tensor_sum);
    reg.node("concat", [](const std::string& a, const std::string& b) { return a + b; });
    reg.node("open_handle", &open_handle);
    reg.node("use_handle", &use_handle);
    reg.dataset<LocalDataset>("LocalDataset", {.single_process = true, .doc = "in-process only"});
    reg.dataset<ScratchDataset>("ScratchDataset", {.doc = "a JSON number in a scratch file: does not persist"});
    reg.dataset<SlowSaveDataset>("SlowSaveDataset", {.doc = "a JSON number saved slowly (pause_ms) through a temporary file"});
    reg.type<Point>();
}
