// Runs fn(i) for every i in [0, count) on up to 8 threads, the caller's among them, in
// chunks of `grain`; small counts run on the caller's thread alone. Once every thread has
// stopped, the first exception thrown is rethrown. Incremental decisions over 100,000-node
// pipelines use it to read the store and look at every file on all cores.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln::core {

template <class Fn>
void parallel_for(std::size_t count, Fn&& fn, std::size_t grain = 64) {
    const std::size_t threads =
        std::min<std::size_t>({std::max(1u, std::thread::hardware_concurrency()), 8, (count + grain - 1) / grain});
    if (threads <= 1) {
        for (std::size_t i = 0; i < count; ++i) fn(i);
        return;
    }
    std::atomic<std::size_t> next{0};
    std::mutex error_mutex;
    std::exception_ptr error;
    auto work = [&] {
        for (std::size_t begin; (begin = next.fetch_add(grain)) < count;)
            for (std::size_t i = begin; i < std::min(begin + grain, count); ++i) try {
                    fn(i);
                } catch (...) {
                    std::lock_guard lock(error_mutex);
                    if (!error) error = std::current_exception();
                }
    };
    std::vector<std::thread> pool;
    pool.reserve(threads - 1);
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (std::thread& t : pool) t.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace kiln::core
