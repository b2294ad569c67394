// Internal to the engine: the clock of per-stage timings.
//
// Why not steady_clock: a trace reads the clock at every stage boundary,
// and in this project's VM steady_clock::now() costs ~24 ns while rdtsc
// costs ~10 ns (docs/performance.md): the clock alone was most of a trace
// record. Where the CPU has an invariant TSC (cpuid 0x80000007 EDX bit 8)
// the clock reads it and converts ticks to steady-clock nanoseconds;
// elsewhere it reads steady_clock.
//
// Lifecycle: one process-wide instance (TscClock::get()). anchor() is
// called by the engine between batches (single thread, no reads in
// flight): it re-pins tick 0 to a steady_clock reading and refines the
// ticks-per-ns ratio over the whole time since the first anchor, so the
// conversion error stays within a batch's length, not the run's.
// Threading: now() is safe from any thread; anchor() is not concurrent
// with now().
#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>
#define CASCADE_HAVE_RDTSC 1
#endif

namespace cascade::runtime {

inline int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class TscClock {
 public:
  static TscClock& get() {
    static TscClock c;
    return c;
  }
  // Nanoseconds on the steady_clock time line.
  [[nodiscard]] int64_t now() const {
#ifdef CASCADE_HAVE_RDTSC
    if (use_tsc_) {
      const auto dt = static_cast<int64_t>(__rdtsc() - anchor_tsc_);
      return anchor_ns_ + static_cast<int64_t>(static_cast<double>(dt) * ns_per_tick_);
    }
#endif
    return steady_ns();
  }
  void anchor() {
#ifdef CASCADE_HAVE_RDTSC
    if (!use_tsc_) return;
    const uint64_t tsc = __rdtsc();
    const int64_t ns = steady_ns();
    if (ns - first_ns_ > 10'000'000)  // refine over >= 10 ms of history
      ns_per_tick_ = static_cast<double>(ns - first_ns_) / static_cast<double>(tsc - first_tsc_);
    anchor_tsc_ = tsc;
    anchor_ns_ = ns;
#endif
  }
  [[nodiscard]] bool uses_tsc() const { return use_tsc_; }

 private:
  TscClock() {
#ifdef CASCADE_HAVE_RDTSC
    unsigned a = 0, b = 0, c = 0, d = 0;
    use_tsc_ = __get_cpuid(0x80000007u, &a, &b, &c, &d) != 0 && (d & (1u << 8)) != 0;
    if (!use_tsc_) return;
    // A first ratio over 2 ms; anchor() refines it as the run goes on.
    first_tsc_ = __rdtsc();
    first_ns_ = steady_ns();
    int64_t ns = first_ns_;
    while (ns - first_ns_ < 2'000'000) ns = steady_ns();
    const uint64_t tsc = __rdtsc();
    ns_per_tick_ = static_cast<double>(ns - first_ns_) / static_cast<double>(tsc - first_tsc_);
    anchor_tsc_ = tsc;
    anchor_ns_ = ns;
#endif
  }
  bool use_tsc_ = false;
  uint64_t first_tsc_ = 0, anchor_tsc_ = 0;
  int64_t first_ns_ = 0, anchor_ns_ = 0;
  double ns_per_tick_ = 1.0;
};

}  // namespace cascade::runtime
