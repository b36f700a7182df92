// Long lists in messages (a dependency cycle, an include loop, a key path): the first and
// last steps, with a count of the rest between, so a message stays readable however long
// the list is.
#pragma once

#include <cstddef>
#include <string>

namespace kiln::core {

// step(i) for i in [0, count), concatenated; when count > head + tail + 1, only the first
// `head` and the last `tail` steps, with gap(hidden) in place of the others.
template <class Step, class Gap>
std::string elided_list(std::size_t count, std::size_t head, std::size_t tail, Step step, Gap gap) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
        if (count > head + tail + 1 && i == head) {
            out += gap(count - head - tail);
            i = count - tail - 1;
            continue;
        }
        out += step(i);
    }
    return out;
}

}  // namespace kiln::core
