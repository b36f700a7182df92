#include "npy_header.hpp"

#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string_view>

namespace kiln::datasets {

namespace {

constexpr std::string_view npy_magic = "\x93NUMPY";

// Just enough of Python's literal syntax for the header dict: quoted strings, True/False,
// and tuples of non-negative integers.
class DictReader {
public:
    explicit DictReader(std::string_view text) : text_(text) {}

    NpyHeader read() {
        NpyHeader h;
        bool has_descr = false, has_order = false, has_shape = false;
        expect('{');
        while (true) {
            skip_space();
            if (peek() == '}') break;
            std::string key = read_string();
            expect(':');
            skip_space();
            if (key == "descr") {
                if (peek() == '[')
                    throw std::invalid_argument(
                        "structured dtypes (a list of fields) are not supported; save a "
                        "plain numeric array");
                h.descr = read_string();
                has_descr = true;
            } else if (key == "fortran_order") {
                h.fortran_order = read_bool();
                has_order = true;
            } else if (key == "shape") {
                h.shape = read_shape();
                has_shape = true;
            } else {
                throw std::invalid_argument("unexpected key '" + key + "' in the header");
            }
            skip_space();
            if (peek() == ',') {
                ++pos_;
            } else if (peek() != '}') {
                throw std::invalid_argument(std::string("expected ',' or '}' in the header at '") + rest() + "'");
            }
        }
        if (!has_descr || !has_order || !has_shape)
            throw std::invalid_argument("the header lacks one of 'descr', 'fortran_order' and 'shape'");
        return h;
    }

private:
    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
    std::string rest() const { return std::string(text_.substr(pos_, 20)); }
    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t')) ++pos_;
    }
    void expect(char c) {
        skip_space();
        if (peek() != c)
            throw std::invalid_argument(std::string("expected '") + c + "' in the header at '" + rest() + "'");
        ++pos_;
    }
    std::string read_string() {
        skip_space();
        char quote = peek();
        if (quote != '\'' && quote != '"')
            throw std::invalid_argument("expected a quoted string in the header at '" + rest() + "'");
        std::size_t end = text_.find(quote, pos_ + 1);
        if (end == std::string_view::npos) throw std::invalid_argument("unterminated string in the header");
        std::string s(text_.substr(pos_ + 1, end - pos_ - 1));
        pos_ = end + 1;
        return s;
    }
    bool read_bool() {
        if (text_.substr(pos_, 4) == "True") {
            pos_ += 4;
            return true;
        }
        if (text_.substr(pos_, 5) == "False") {
            pos_ += 5;
            return false;
        }
        throw std::invalid_argument("expected True or False in the header at '" + rest() + "'");
    }
    std::vector<std::size_t> read_shape() {
        std::vector<std::size_t> shape;
        expect('(');
        while (true) {
            skip_space();
            if (peek() == ')') break;
            shape.push_back(read_dimension());
            skip_space();
            if (peek() == ',') {
                ++pos_;
            } else if (peek() != ')') {
                throw std::invalid_argument("expected ',' or ')' in the shape at '" + rest() + "'");
            }
            if (shape.size() > 32) throw std::invalid_argument("the shape has more than 32 dimensions");
        }
        ++pos_;
        return shape;
    }
    std::size_t read_dimension() {
        if (peek() < '0' || peek() > '9')
            throw std::invalid_argument("expected a non-negative integer in the shape at '" + rest() + "'");
        std::size_t v = 0;
        while (peek() >= '0' && peek() <= '9') {
            std::size_t digit = static_cast<std::size_t>(peek() - '0');
            if (v > (std::numeric_limits<std::size_t>::max() - digit) / 10)
                throw std::invalid_argument("a dimension of the shape is too large");
            v = v * 10 + digit;
            ++pos_;
        }
        if (peek() == 'L') ++pos_;  // Python 2 wrote long integers as 3L
        return v;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace

NpyHeader parse_npy_header(std::span<const std::byte> file) {
    auto byte_at = [&](std::size_t i) { return static_cast<unsigned char>(file[i]); };
    if (file.size() < 10 || std::memcmp(file.data(), npy_magic.data(), npy_magic.size()) != 0)
        throw std::invalid_argument("not a .npy file (it does not start with \"\\x93NUMPY\")");
    unsigned major = byte_at(6), minor = byte_at(7);
    std::size_t length = 0, start = 0;
    if (major == 1) {
        length = byte_at(8) | (std::size_t{byte_at(9)} << 8);
        start = 10;
    } else if (major == 2 || major == 3) {
        if (file.size() < 12) throw std::invalid_argument("the file is truncated inside the header");
        for (int i = 3; i >= 0; --i) length = (length << 8) | byte_at(8 + static_cast<std::size_t>(i));
        start = 12;
    } else {
        throw std::invalid_argument("unsupported .npy format version " + std::to_string(major) + "." +
                                    std::to_string(minor) + " (Kiln reads 1.0 to 3.0)");
    }
    if (length > file.size() - start) throw std::invalid_argument("the file is truncated inside the header");
    std::string_view text(reinterpret_cast<const char*>(file.data()) + start, length);
    NpyHeader h = DictReader(text).read();
    h.data_offset = start + length;
    return h;
}

std::string format_npy_shape(const std::vector<std::size_t>& shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    if (shape.size() == 1) s += ",";  // a Python 1-tuple
    return s + ")";
}

std::string format_npy_header(const std::string& descr, const std::vector<std::size_t>& shape) {
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + format_npy_shape(shape) + ", }";
    constexpr std::size_t prefix = 10;             // magic, version, u16 length
    std::size_t total = prefix + dict.size() + 1;  // + the closing newline
    total = (total + 63) / 64 * 64;
    std::size_t length = total - prefix;
    dict.resize(length - 1, ' ');
    dict += '\n';

    std::string header(npy_magic);
    header += '\x01';
    header += '\x00';
    header += static_cast<char>(length & 0xff);
    header += static_cast<char>((length >> 8) & 0xff);
    return header + dict;
}

}  // namespace kiln::datasets
