#include "run/fork_safe_threads.hpp"

#include <atomic>

namespace kiln::core {

namespace {
std::atomic<std::size_t> fork_safe_threads{0};
}

std::size_t fork_safe_thread_count() noexcept { return fork_safe_threads.load(std::memory_order_acquire); }

ForkSafeThread::ForkSafeThread() noexcept { fork_safe_threads.fetch_add(1, std::memory_order_acq_rel); }

ForkSafeThread::~ForkSafeThread() { fork_safe_threads.fetch_sub(1, std::memory_order_acq_rel); }

}  // namespace kiln::core
