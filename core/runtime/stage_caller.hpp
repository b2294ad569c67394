// Internal to the engine: calls one stage of one turn — the plugin
// instances and their host API, the fast and general paths, deadlines,
// concurrency caps, injected outputs and the error policy (skip, fail,
// fallback).
//
// exec() is the one entry for a stage of a turn. The common case (one
// input present, no timeout, no concurrency cap, nothing unusual about the
// turn) is a direct call into the plugin, inline; everything else goes
// through exec_general() (stage_caller.cpp). A stage with a deadline runs
// on a watchdog thread so the worker can stop waiting at the deadline.
//
// Lifecycle: built by the engine after its CompiledPlan: the constructor
// creates and opens one plugin instance per stage (throws CascadeError
// R001/R002 naming the stage, after closing what was opened) and attaches
// them to the plan; close() or the destructor closes and destroys them,
// waiting a while for calls abandoned at their deadline (see close()).
// Threading: exec() and the batch helpers from any worker, concurrently
// for different turns (and different stages of one turn); a stage's
// process() never runs on more threads at once than its cap. cancel() from
// any thread. anchor_clock() only between batches (no turn in flight).
#pragma once

#include <cascade/core/engine.hpp>

#include "runtime/compiled_plan.hpp"
#include "runtime/limiter.hpp"
#include "runtime/tsc_clock.hpp"
#include "runtime/turn_state.hpp"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace cascade::isolation {
class ProcessStage;
}

namespace cascade::runtime {

class StageCaller {
 public:
  // `record_runs`: every stage run gets its status, worker and times (a
  // trace reads them); otherwise a stage that runs ok leaves its run as it
  // was (see StageRun). `timing`: read the clock at stage boundaries.
  StageCaller(CompiledPlan& plan, bool record_runs, bool timing);
  ~StageCaller();
  StageCaller(const StageCaller&) = delete;
  StageCaller& operator=(const StageCaller&) = delete;

  // Closes and destroys every instance now (the destructor then has
  // nothing left to close). False when calls abandoned at their deadline
  // still run after a short wait: their instances stay open, and this
  // caller and its plan must outlive them (the calls point into both).
  [[nodiscard]] bool close() { return close_all(instances_.size()); }

  void cancel() noexcept { cancel_.store(true); }
  [[nodiscard]] bool cancelled() const noexcept { return cancel_.load(std::memory_order_relaxed); }
  [[nodiscard]] bool record_runs() const { return record_runs_; }
  [[nodiscard]] bool timing() const { return timing_; }
  // Steady-clock nanoseconds for stage and turn times; 0 when not timing.
  [[nodiscard]] int64_t clock_now() const { return timing_ ? clock_.now() : 0; }
  void anchor_clock() {
    if (timing_) clock_.anchor();
  }

  // Executes stage s of turn t. `clock`: the last clock reading of this
  // task (a fused chain reads the clock once per stage boundary: one
  // stage's end is the next one's start).
  void exec(TurnState& t, uint32_t s, uint32_t worker, int64_t& clock) {
    const StageRt& stage = plan_.stages[s];
    CallCtx& ctx = t.ctxs[s];
    StageRun& run = *ctx.run;
    if (record_runs_) {
      run.worker = worker;
      run.start = clock;
    }
    for (uint32_t i = 0; i < stage.n_out; ++i) clear(ctx.out[i]);
    if (!stage.simple) return exec_general(t, s, clock);
    const cascade_payload* in = ctx.in;
    if (t.unusual || t.failed.load(std::memory_order_relaxed) || cancelled() ||
        (stage.required0 && in->type == CASCADE_PAYLOAD_NONE))
      return exec_general(t, s, clock);
    const cascade_status st = stage.process(stage.instance, reinterpret_cast<cascade_context*>(&ctx), in, 1);
    if (st != CASCADE_OK) {
      run.ran = true;
      return after_error(t, s, st, in, clock);
    }
    clock = clock_now();
    if (record_runs_) {
      run.ran = true;
      run.status = trace::StageStatus::Ok;
      run.end = clock;
    }
  }

  // Every case exec() does not take: cancellation, turn budget, a failed
  // turn, injected outputs, missing inputs, several inputs, timeouts, caps.
  void exec_general(TurnState& t, uint32_t s, int64_t& clock);

  // Stage s returned `st` != OK: record it, clear its outputs, apply its
  // error policy. `in`: the inputs it was given (a fallback gets them too).
  void after_error(TurnState& t, uint32_t s, cascade_status st, const cascade_payload* in, int64_t& clock);

  // After a batch call: an output a plugin stored itself must have its
  // port's declared type (emit() and forward() check it in the host API; a
  // C plugin writing its entry directly is checked here).
  cascade_status check_outputs(uint32_t s, const cascade_payload* out, StageRun& run) const;

 private:
  friend struct CallCtx;  // log, param, stop_requested read the plan and the cancel flag

  // `turn_in`: the turn's input through its TurnState (host->turn).
  cascade_status call(uint32_t s, const cascade_payload* in, uint32_t n_in, cascade_payload* out, std::string* owned,
                      StageRun& run, int64_t turn_deadline, const TurnInput* const* turn_in);
  cascade_status call_timed(uint32_t s, const cascade_payload* in, uint32_t n_in, cascade_payload* out,
                            std::string* owned, StageRun& run, int64_t deadline, const TurnInput* turn);
  bool inject(TurnState& t, uint32_t s, StageRun& run);
  int gather(const TurnState& t, const StageRt& stage, cascade_payload* in) const;
  void open_all();
  bool close_all(size_t count);  // see close()

  CompiledPlan& plan_;
  cascade_host_api host_{};
  std::vector<void*> instances_;
  // Stages with isolation = "process": their instance is one of these.
  std::vector<std::unique_ptr<isolation::ProcessStage>> isolated_;
  std::vector<std::unique_ptr<Limiter>> limiters_;  // per stage; null: no cap
  std::atomic<bool> cancel_{false};
  std::atomic<int> timed_in_flight_{0};
  const bool record_runs_;
  const bool timing_;
  // The hand-made clock (tsc_clock.hpp) for per-stage timings: kept for
  // the rows "clock reads only, 1 thread" and "tracing in memory, 1 thread"
  // of cascade-bench (steady_clock there costs far more than 10%).
  TscClock clock_;
};

}  // namespace cascade::runtime
