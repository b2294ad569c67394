// Internal: caps how many threads run one stage's process() at once
// (the plugin's declared max_concurrency, or the stage's own cap).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace cascade::runtime {

class Limiter {
 public:
  explicit Limiter(uint32_t max) : max_(max) {}
  void acquire() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return active_ < max_; });
    ++active_;
  }
  // False if `deadline_ns` (steady clock) passed first.
  bool acquire_until(int64_t deadline_ns) {
    std::unique_lock lock(m_);
    const auto until = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(deadline_ns));
    if (!cv_.wait_until(lock, until, [&] { return active_ < max_; })) return false;
    ++active_;
    return true;
  }
  void release() {
    {
      std::lock_guard lock(m_);
      --active_;
    }
    cv_.notify_one();
  }

 private:
  const uint32_t max_;
  uint32_t active_ = 0;
  std::mutex m_;
  std::condition_variable cv_;
};

}  // namespace cascade::runtime
