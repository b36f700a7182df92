// kiln::Tensor<T>: a flat, row-major numeric array with a shape. The type to use for
// numeric arrays that cross datasets (kiln.NpyDataset reads and writes it as .npy).
//
//     kiln::Tensor<double> t({2, 3});   // 2 x 3, zero-filled
//     t.at({1, 2}) = 4.0;
//     double sum = std::accumulate(t.begin(), t.end(), 0.0);
//
// Copies are deep; pass `const kiln::Tensor<T>&` to nodes to avoid them.
//
// A tensor may also be a read-only view of memory kept alive by an owner (the
// ParallelRunner hands shared-memory values to nodes this way, without a copy). Reading a
// view is free; the first non-const access copies it into memory of its own.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace kiln {

template <class T>
class Tensor {
public:
    // Empty, of shape {0}: the data must always fill the shape (a rank-0 shape means one
    // element), or the tensor would not survive encoding.
    Tensor() : shape_{0} {}
    explicit Tensor(std::vector<std::size_t> shape) : shape_(std::move(shape)), data_(element_count(shape_)) {}
    Tensor(std::vector<std::size_t> shape, std::vector<T> data) : shape_(std::move(shape)), data_(std::move(data)) {
        if (data_.size() != element_count(shape_))
            throw std::invalid_argument("kiln::Tensor: " + std::to_string(data_.size()) +
                                        " elements do not fill the shape");
    }

    // A read-only view of `data` (element_count(shape) elements), valid while `owner` lives.
    static Tensor view(std::vector<std::size_t> shape, const T* data, std::shared_ptr<const void> owner) {
        Tensor t;
        t.shape_ = std::move(shape);
        t.view_ = data;
        t.view_size_ = element_count(t.shape_);
        t.owner_ = std::move(owner);
        return t;
    }

    Tensor(const Tensor& other) : shape_(other.shape_), data_(other.begin(), other.end()) {}
    Tensor(Tensor&& other) noexcept
        : shape_(std::move(other.shape_)),
          data_(std::move(other.data_)),
          view_(std::exchange(other.view_, nullptr)),
          view_size_(std::exchange(other.view_size_, 0)),
          owner_(std::move(other.owner_)) {}
    Tensor& operator=(const Tensor& other) {
        if (this != &other) *this = Tensor(other);
        return *this;
    }
    Tensor& operator=(Tensor&& other) noexcept {
        shape_ = std::move(other.shape_);
        data_ = std::move(other.data_);
        view_ = std::exchange(other.view_, nullptr);
        view_size_ = std::exchange(other.view_size_, 0);
        owner_ = std::move(other.owner_);
        return *this;
    }

    const std::vector<std::size_t>& shape() const { return shape_; }
    std::size_t rank() const { return shape_.size(); }
    std::size_t size() const { return view_ ? view_size_ : data_.size(); }
    bool is_view() const { return view_ != nullptr; }

    T* data() { return own().data(); }
    const T* data() const { return view_ ? view_ : data_.data(); }
    T* begin() { return data(); }
    T* end() { return data() + size(); }
    const T* begin() const { return data(); }
    const T* end() const { return data() + size(); }
    T& operator[](std::size_t i) { return own()[i]; }
    const T& operator[](std::size_t i) const { return data()[i]; }

    // Element at a multi-index, bounds-checked.
    T& at(std::initializer_list<std::size_t> index) { return own()[offset(index)]; }
    const T& at(std::initializer_list<std::size_t> index) const { return data()[offset(index)]; }

    friend bool operator==(const Tensor& a, const Tensor& b) {
        if (a.shape_ != b.shape_) return false;
        for (std::size_t i = 0; i < a.size(); ++i)
            if (!(a[i] == b[i])) return false;
        return true;
    }

private:
    static std::size_t element_count(const std::vector<std::size_t>& shape) {
        std::size_t n = 1;
        for (std::size_t d : shape) n *= d;
        return n;
    }
    std::size_t offset(std::initializer_list<std::size_t> index) const {
        if (index.size() != shape_.size()) throw std::out_of_range("kiln::Tensor: index rank does not match");
        std::size_t off = 0, dim = 0;
        for (std::size_t i : index) {
            if (i >= shape_[dim]) throw std::out_of_range("kiln::Tensor: index out of range");
            off = off * shape_[dim++] + i;
        }
        return off;
    }

    // Copy-on-write for views: the first mutable access takes a private copy.
    std::vector<T>& own() {
        if (view_) {
            data_.assign(view_, view_ + view_size_);
            view_ = nullptr;
            owner_.reset();
        }
        return data_;
    }

    std::vector<std::size_t> shape_;
    std::vector<T> data_;
    const T* view_ = nullptr;
    std::size_t view_size_ = 0;
    std::shared_ptr<const void> owner_;
};

}  // namespace kiln
