// replay_service.cpp — see replay_service.hpp.
#include "replay_service.hpp"

#include <cascade/core/diagnostic.hpp>

#include <vector>

namespace cascade::analyze {

struct ReplayService::Request {
  const TurnInput* in = nullptr;
  TurnOutcome out;
  bool done = false;
  std::condition_variable finished;
};

ReplayService::ReplayService(const PipelinePlan& plan, uint32_t threads, uint32_t batch)
    : plan_(plan), threads_(threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : threads),
      batch_(batch == 0 ? 1 : batch), dispatcher_([this] { dispatch(); }) {}

ReplayService::~ReplayService() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  dispatcher_.join();
}

TurnOutcome ReplayService::replay(const TurnInput& in) {
  Request r;
  r.in = &in;
  std::unique_lock lock(mu_);
  queue_.push_back(&r);
  wake_.notify_all();
  r.finished.wait(lock, [&] { return r.done; });
  return std::move(r.out);
}

uint64_t ReplayService::replays() const {
  std::lock_guard lock(mu_);
  return replays_;
}
uint64_t ReplayService::batches() const {
  std::lock_guard lock(mu_);
  return batches_;
}

void ReplayService::dispatch() {
  std::vector<Request*> taken;
  std::vector<TurnInput> inputs;
  std::vector<TurnOutcome> outcomes;
  std::string engine_error;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ and nothing left
      taken.clear();
      while (!queue_.empty() && taken.size() < batch_) {
        taken.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    // Inputs are copied: run_batch takes a contiguous span of them.
    inputs.clear();
    for (Request* r : taken) inputs.push_back(*r->in);
    outcomes.assign(inputs.size(), TurnOutcome{});
    if (!engine_ && engine_error.empty()) {
      try {
        EngineOptions eo;
        eo.threads = threads_;
        engine_ = std::make_unique<Engine>(plan_, eo);
      } catch (const std::exception& e) {
        engine_error = e.what();
      }
    }
    if (engine_) {
      engine_->run_batch(inputs, outcomes);
    } else {
      for (auto& o : outcomes) {
        o.status = trace::TurnStatus::Failed;
        o.error_code = "N005";
        o.error = "the replay pipeline could not start: " + engine_error;
      }
    }
    std::lock_guard lock(mu_);
    replays_ += taken.size();
    ++batches_;
    for (size_t i = 0; i < taken.size(); ++i) {
      taken[i]->out = std::move(outcomes[i]);
      taken[i]->done = true;
      taken[i]->finished.notify_all();
    }
  }
}

}  // namespace cascade::analyze
