// The header of a NumPy .npy file: reading versions 1.0-3.0 and writing version 1.0.
// Format: "\x93NUMPY", major, minor, header length (u16 for 1.x, u32 after), then a
// Python dict literal such as {'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace kiln::datasets {

struct NpyHeader {
    std::string descr;  // e.g. "<f8", "|u1"
    bool fortran_order = false;
    std::vector<std::size_t> shape;
    std::size_t data_offset = 0;  // where the array data starts in the file
};

// Throws std::invalid_argument saying what is wrong with the header.
NpyHeader parse_npy_header(std::span<const std::byte> file);

// The whole header, padded so the data that follows starts at a multiple of 64 bytes.
std::string format_npy_header(const std::string& descr, const std::vector<std::size_t>& shape);

// "(3,)", "(2, 3)", "()": the shape as NumPy prints it.
std::string format_npy_shape(const std::vector<std::size_t>& shape);

}  // namespace kiln::datasets
