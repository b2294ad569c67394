// Internal to the engine: the clock of per-stage timings.
//
// Why not steady_clock: a trace reads the clock at every stage boundary,
// and in this project's VM steady_clock::now() costs ~24 ns while rdtsc
// costs ~10 ns (docs/performance.md): the clock alone was most of a trace
// record. Where the CPU has an invariant TSC (cpuid 0x80000007 EDX bit 8)
// the clock reads it and converts ticks to steady-clock nanoseconds;
// elsewhere it reads steady_clock.
//
// Lifecycle: one TscClock per engine. The first one measures the tick
// rate against steady_clock over 2 ms (once per process); anchor() is
// called by its engine between batches (no reads in flight): it re-pins
// tick 0 to a steady_clock reading and refines the ticks-per-ns ratio
// over the whole time since that first measurement, so the conversion
// error stays within a batch's length, not the run's.
// Threading: now() is safe from any thread; anchor() must not run
// concurrently with now() on the SAME clock (engines do not share one).
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

// Offset that turns steady_clock readings into Unix-epoch nanoseconds,
// measured once per process so the hot path reads one clock only.
inline int64_t epoch_offset_ns() {
  static const int64_t off =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count() -
      steady_ns();
  return off;
}

class TscClock {
 public:
  TscClock() { anchor(); }

  // Nanoseconds on the steady_clock time line.
  [[nodiscard]] int64_t now() const {
#ifdef CASCADE_HAVE_RDTSC
    if (base().use_tsc) {
      const auto dt = static_cast<int64_t>(__rdtsc() - anchor_tsc_);
      return anchor_ns_ + static_cast<int64_t>(static_cast<double>(dt) * ns_per_tick_);
    }
#endif
    return steady_ns();
  }
  void anchor() {
#ifdef CASCADE_HAVE_RDTSC
    const Base& b = base();
    if (!b.use_tsc) return;
    const uint64_t tsc = __rdtsc();
    const int64_t ns = steady_ns();
    ns_per_tick_ = ns - b.first_ns > 10'000'000  // refine over >= 10 ms of history
                       ? static_cast<double>(ns - b.first_ns) / static_cast<double>(tsc - b.first_tsc)
                       : b.ns_per_tick;
    anchor_tsc_ = tsc;
    anchor_ns_ = ns;
#endif
  }
  [[nodiscard]] static bool uses_tsc() { return base().use_tsc; }

 private:
  // Measured once per process (thread-safe static initialisation).
  struct Base {
    bool use_tsc = false;
    uint64_t first_tsc = 0;
    int64_t first_ns = 0;
    double ns_per_tick = 1.0;
    Base() {
#ifdef CASCADE_HAVE_RDTSC
      unsigned a = 0, b = 0, c = 0, d = 0;
      use_tsc = __get_cpuid(0x80000007u, &a, &b, &c, &d) != 0 && (d & (1u << 8)) != 0;
      if (!use_tsc) return;
      first_tsc = __rdtsc();
      first_ns = steady_ns();
      int64_t ns = first_ns;
      while (ns - first_ns < 2'000'000) ns = steady_ns();
      ns_per_tick = static_cast<double>(ns - first_ns) / static_cast<double>(__rdtsc() - first_tsc);
#endif
    }
  };
  static const Base& base() {
    static const Base b;
    return b;
  }
  uint64_t anchor_tsc_ = 0;
  int64_t anchor_ns_ = 0;
  double ns_per_tick_ = 1.0;
};

}  // namespace cascade::runtime
