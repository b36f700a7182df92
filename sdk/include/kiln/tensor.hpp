// kiln::Tensor<T>: a flat, row-major numeric array with a shape. The type to use for
// numeric arrays that cross datasets (kiln.NpyDataset reads and writes it as .npy).
//
//     kiln::Tensor<double> t({2, 3});   // 2 x 3, zero-filled
//     t.at({1, 2}) = 4.0;
//     double sum = std::accumulate(t.begin(), t.end(), 0.0);
//
// Copies are deep; pass `const kiln::Tensor<T>&` to nodes to avoid them.
#pragma once

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <numeric>
#include <stdexcept>
#include <string>
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

    const std::vector<std::size_t>& shape() const { return shape_; }
    std::size_t rank() const { return shape_.size(); }
    std::size_t size() const { return data_.size(); }

    T* data() { return data_.data(); }
    const T* data() const { return data_.data(); }
    T* begin() { return data_.data(); }
    T* end() { return data_.data() + data_.size(); }
    const T* begin() const { return data_.data(); }
    const T* end() const { return data_.data() + data_.size(); }
    T& operator[](std::size_t i) { return data_[i]; }
    const T& operator[](std::size_t i) const { return data_[i]; }

    // Element at a multi-index, bounds-checked.
    T& at(std::initializer_list<std::size_t> index) { return data_[offset(index)]; }
    const T& at(std::initializer_list<std::size_t> index) const { return data_[offset(index)]; }

    friend bool operator==(const Tensor& a, const Tensor& b) = default;

private:
    static std::size_t element_count(const std::vector<std::size_t>& shape) {
        return std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
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

    std::vector<std::size_t> shape_;
    std::vector<T> data_;
};

}  // namespace kiln
