// Threads of the host that are safe to fork beside.
//
// Forking a process that runs other threads can deadlock the child: it inherits locks
// those threads held, and no thread exists in it to release them. A thread is fork safe
// when everything it may hold at a fork is either released by a pthread_atfork handler
// or never used in the child (the progress line's ticker, core/cli/terminal/). Such a
// thread counts itself here while it runs, so that the ParallelRunner, which refuses to
// fork a threaded process, can tell it from threads a plugin started:
//
//   if (thread_count() - fork_safe_thread_count() > 1) spawn workers instead of forking
#pragma once

#include <cstddef>

namespace kiln::core {

// Threads of this process known to be fork safe, now. Counted from before the thread
// starts until after it is joined, so a thread that counts /proc/self/task and then
// subtracts this never subtracts a thread that is not fork safe.
std::size_t fork_safe_thread_count() noexcept;

// Counts one fork-safe thread while alive. Make it before starting the thread and
// destroy it after joining it.
class ForkSafeThread {
public:
    ForkSafeThread() noexcept;
    ~ForkSafeThread();
    ForkSafeThread(const ForkSafeThread&) = delete;
    ForkSafeThread& operator=(const ForkSafeThread&) = delete;
};

}  // namespace kiln::core
