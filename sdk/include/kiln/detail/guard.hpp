// Runs plugin code where no exception may escape (every function the host calls through
// a pointer or a handle): the exception becomes a message instead.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <exception>
#include <string>

namespace kiln::detail {

// True when f returned; false with *error (if given) set to what it threw.
template <class F>
bool guard(std::string* error, F&& f) noexcept {
    try {
        f();
        return true;
    } catch (const std::exception& e) {
        if (error) *error = e.what();
    } catch (...) {
        if (error) *error = "unknown exception";
    }
    return false;
}

}  // namespace kiln::detail
