// What the dataset unit tests share: a temporary folder, dataset configs as the host
// builds them, raw file access, round trips and exception messages.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unistd.h>

#include <kiln/dataset.hpp>
#include <kiln/file_io.hpp>

#include "binary_dataset.hpp"
#include "csv_dataset.hpp"
#include "json_dataset.hpp"
#include "npy_dataset.hpp"
#include "test_support.hpp"
#include "text_dataset.hpp"

using kiln::test::contains;

namespace fs = std::filesystem;
using kiln::DatasetConfig;
using kiln::Value;
using nlohmann::json;
using namespace kiln::datasets;

namespace dataset_test {

using kiln::test::TempDir;

inline DatasetConfig make_config(const TempDir& dir, const std::string& type, json args, const kiln::TypeOps* value_type) {
    DatasetConfig c;
    c.name = "ds";
    c.type = "kiln." + type;
    c.args = std::move(args);
    c.project_dir = dir.path();
    c.value_type = value_type;
    c.run_id = "test-run";
    return c;
}

template <class T>
DatasetConfig typed(const TempDir& dir, const std::string& type, const std::string& file, json extra = json::object()) {
    extra["filepath"] = file;
    return make_config(dir, type, std::move(extra), &kiln::type_ops<T>());
}

inline DatasetConfig untyped(const TempDir& dir, const std::string& type, const std::string& file,
                      json extra = json::object()) {
    extra["filepath"] = file;
    return make_config(dir, type, std::move(extra), nullptr);
}

inline void write_raw(const fs::path& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_raw(const fs::path& path) { return kiln::read_file_text(path); }

// Saves `v` through a new dataset D of value type T, loads it back through another one.
template <class D, class T>
T round_trip(const TempDir& dir, const std::string& file, const T& v, json extra = json::object()) {
    auto config = typed<T>(dir, D::class_name, file, extra);
    D(config).save(Value::make(v));
    Value loaded = D(config).load();
    REQUIRE(loaded.type_name() == kiln::codec<T>::name);
    return loaded.get<T>();
}

// The message of the exception `f` throws as E (empty, and a failed check, when none).
template <class E, class F>
std::string message_of(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    } catch (const std::exception& e) {
        FAIL_CHECK("threw another exception type: " << e.what());
        return "";
    }
    FAIL_CHECK("did not throw");
    return "";
}

inline doctest::Contains has(const std::string& part) { return doctest::Contains(part.c_str()); }

// Dataset classes with their names, for round_trip<>(); plugin type names are "kiln." + name.
#define KILN_TEST_NAMED(D)                            \
    struct D##T : D {                                 \
        using D::D;                                   \
        static constexpr const char* class_name = #D; \
    };
KILN_TEST_NAMED(JsonDataset)
KILN_TEST_NAMED(TextDataset)
KILN_TEST_NAMED(BinaryDataset)
KILN_TEST_NAMED(NpyDataset)
KILN_TEST_NAMED(CsvDataset)
#undef KILN_TEST_NAMED
}  // namespace dataset_test
