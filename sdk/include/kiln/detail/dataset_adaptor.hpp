// The plugin side of a dataset handle (detail/handles.hpp): wraps the author's kiln::Dataset
// and turns its exceptions into messages. Instantiated by Registrar::dataset inside the
// plugin, so every call runs the plugin's own code. Included by kiln/dataset.hpp.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "kiln/dataset.hpp"
#include "kiln/detail/guard.hpp"
#include "kiln/detail/handles.hpp"

namespace kiln::detail {

template <class D>
class DatasetAdaptor final : public DatasetHandle {
public:
    explicit DatasetAdaptor(std::unique_ptr<D> d) : d_(std::move(d)) {}
    bool load(Value* out, std::string* error) noexcept override {
        return guard(error, [&] {
            *out = d_->load();
            if (out->empty()) throw DatasetError("load() returned an empty value");
        });
    }
    bool save(const Value& v, std::string* error) noexcept override {
        return guard(error, [&] { d_->save(v); });
    }
    int exists(std::string* error) noexcept override {
        int r = -1;
        guard(error, [&] { r = d_->exists() ? 1 : 0; });
        return r;
    }
    bool release(std::string* error) noexcept override {
        return guard(error, [&] { d_->release(); });
    }
    std::string describe() const noexcept override {
        std::string s;
        if (!guard(nullptr, [&] { s = d_->describe(); })) s = "<describe() failed>";
        return s;
    }

private:
    std::unique_ptr<D> d_;
};

template <class D>
std::unique_ptr<DatasetHandle> make_dataset(const DatasetConfig& config, std::string* error) noexcept {
    std::unique_ptr<DatasetHandle> handle;
    guard(error, [&] { handle = std::make_unique<DatasetAdaptor<D>>(std::make_unique<D>(config)); });
    return handle;
}

}  // namespace kiln::detail
