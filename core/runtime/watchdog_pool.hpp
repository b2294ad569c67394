// Internal: the threads that run stage calls which have a deadline, so the
// scheduler's worker can stop waiting when the deadline passes.
//
// Why a pool that grows: a call abandoned at its deadline may never
// return (a plugin stuck in a syscall); its thread is lost to the pool
// until it does. So when every thread is busy, submit() starts a new one
// instead of queueing behind a stuck call. Idle threads beyond `keep`
// exit after a while.
// A job runs under the submitting thread's RunningStage (turn_state.hpp),
// fixed to the stage it was in at submit(): a call that crashes the
// process, even long after it was abandoned, is named by the CLI.
//
// Lifecycle: never destroyed (threads may outlive main()); threads are
// detached and hold no engine state of their own. A thread stuck in a
// call that never returns does not hold the process at exit: nothing
// joins it.
// Threading: submit() from any thread.
#pragma once

#include "runtime/turn_state.hpp"

#include <atomic>
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
    const RunningStage& from = tl_running_stage;
    const int32_t stage = from.progress != nullptr ? from.progress->load(std::memory_order_relaxed) : -1;
    std::unique_lock lock(m_);
    jobs_.push_back(Job{std::move(job), from.labels, from.n_labels, stage});
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
      Job job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      const std::atomic<int32_t> stage{job.stage};
      tl_running_stage = RunningStage{&stage, job.labels, job.n_labels};
      job.run();
      tl_running_stage = RunningStage{};
      lock.lock();
    }
  }

  struct Job {
    std::function<void()> run;
    const char* const* labels = nullptr;  // the submitter's RunningStage, fixed to its stage
    uint32_t n_labels = 0;
    int32_t stage = -1;
  };

  static constexpr int kKeep = 2;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  int idle_ = 0;
  int threads_ = 0;
};

}  // namespace cascade::runtime
