// Internal to the engine: happens-before marks for ThreadSanitizer.
//
// Debian's libtbb is not instrumented, so TSan cannot see that a
// parallel_for body or a task_group task starts after what its spawner did
// and ends before the spawner's wait returns: it reports those hand-offs as
// races (scripts/sanitize.sh). The engine marks them itself with a release
// where work is handed over and an acquire where it is taken up, on one
// address per hand-off. Without -fsanitize=thread these are empty.
#pragma once

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace cascade::runtime {

inline void tsan_release([[maybe_unused]] const void* sync) {
#if defined(__SANITIZE_THREAD__)
  __tsan_release(const_cast<void*>(sync));
#endif
}
inline void tsan_acquire([[maybe_unused]] const void* sync) {
#if defined(__SANITIZE_THREAD__)
  __tsan_acquire(const_cast<void*>(sync));
#endif
}

}  // namespace cascade::runtime
