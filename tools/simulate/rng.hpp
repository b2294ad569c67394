// simulate/rng.hpp — keyed, platform-independent random numbers for the
// simulator.
//
// Every decision of the simulator draws from a generator keyed by WHAT it
// decides (seed, user, day, session, attempt, purpose), never from one
// stream shared by everything: a session then makes the same first request
// whatever the pipeline answered to other sessions, which is what lets a
// baseline run and a rewriter run pair up turn by turn. SplitMix64 and our
// own double/integer mapping, not <random>'s distributions, whose output
// differs between standard libraries.
//
// Lifecycle/threading: a value type; one per decision, on the caller's stack.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace cascade::sim {

class Rng {
 public:
  // The key's parts are hashed in order (FNV-1a over their bytes, with a
  // separator), then mixed.
  Rng(uint64_t seed, std::initializer_list<std::string_view> key) : state_(seed ^ 0x9e3779b97f4a7c15ULL) {
    uint64_t h = 1469598103934665603ULL;
    for (std::string_view part : key) {
      for (unsigned char c : part) h = (h ^ c) * 1099511628211ULL;
      h = (h ^ 0x1fU) * 1099511628211ULL;
    }
    state_ ^= h;
    (void)next();
  }

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform in [0, n); n > 0.
  uint64_t below(uint64_t n) { return next() % n; }
  bool chance(double p) { return uniform() < p; }

 private:
  uint64_t state_;
};

}  // namespace cascade::sim
