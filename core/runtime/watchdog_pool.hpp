// Internal: the threads that run stage calls which have a deadline, so the
// scheduler's worker can stop waiting when the deadline passes.
//
// Why a pool that grows: a call abandoned at its deadline may never
// return (a plugin stuck in a syscall); its thread is lost to the pool
// until it does. So when every thread is busy, submit() starts a new one
// instead of queueing behind a stuck call. Idle threads beyond `keep`
// exit after a while.
// Lifecycle: destroyed at process exit only (the engine outlives no pool
// user); threads are detached and hold no engine state of their own.
// Threading: submit() from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace cascade::runtime {

class WatchdogPool {
 public:
  static WatchdogPool& instance() {
    static auto* pool = new WatchdogPool();  // never destroyed: threads may outlive main()
    return *pool;
  }

  void submit(std::function<void()> job) {
    std::unique_lock lock(m_);
    jobs_.push_back(std::move(job));
    if (idle_ == 0) {
      ++threads_;
      std::thread([this] { loop(); }).detach();
    } else {
      cv_.notify_one();
    }
  }

 private:
  void loop() {
    std::unique_lock lock(m_);
    for (;;) {
      ++idle_;
      const bool got = cv_.wait_for(lock, std::chrono::seconds(30), [&] { return !jobs_.empty(); });
      --idle_;
      if (!got) {
        if (threads_ > kKeep) {
          --threads_;
          return;
        }
        continue;
      }
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  static constexpr int kKeep = 2;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  int idle_ = 0;
  int threads_ = 0;
};

}  // namespace cascade::runtime
