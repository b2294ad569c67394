// replay_service.hpp — analyzers' counterfactual replays, gathered into
// batches and run by one engine.
//
// Many analyze() calls run at once and each blocks on its replay; one
// dispatcher thread takes whatever replays are waiting (up to `batch`) and
// runs them together through Engine::run_batch, which spreads them over its
// workers. One engine means the pipeline's models are loaded once.
// Lifecycle: the engine (and so every plugin of the pipeline) is created at
//   the first replay; the destructor stops the dispatcher and closes it.
// Threading: replay() may be called from any number of threads at once.
#pragma once

#include <cascade/core/engine.hpp>
#include <cascade/core/plan.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace cascade::analyze {

class ReplayService {
 public:
  ReplayService(const PipelinePlan& plan, uint32_t threads, uint32_t batch);
  ~ReplayService();
  ReplayService(const ReplayService&) = delete;
  ReplayService& operator=(const ReplayService&) = delete;

  // Runs `in` (blocking) and returns what became of it.
  TurnOutcome replay(const TurnInput& in);

  [[nodiscard]] const PipelinePlan& plan() const { return plan_; }
  [[nodiscard]] uint64_t replays() const;
  [[nodiscard]] uint64_t batches() const;

 private:
  struct Request;
  void dispatch();

  const PipelinePlan& plan_;
  const uint32_t threads_, batch_;
  std::unique_ptr<Engine> engine_;  // created by the dispatcher, at the first request
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Request*> queue_;
  bool stop_ = false;
  uint64_t replays_ = 0, batches_ = 0;
  std::thread dispatcher_;
};

}  // namespace cascade::analyze
