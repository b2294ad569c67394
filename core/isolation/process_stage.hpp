// Internal to the engine: a stage whose plugin runs in worker processes
// (isolation = "process" in the pipeline config). The stage caller treats
// it as the stage's plugin instance: ProcessStage::process and
// ::process_batch stand in for the plugin's entries, send the turns to a
// worker (core/isolation/worker_main.cpp) and write what comes back
// through the turn's context, as the plugin would have.
//
// What a misbehaving plugin costs here:
// - a worker that dies during a call (signal, exit(), out of memory, CPU
//   limit) costs the turns of that call, recorded as `crashed` with how it
//   ended; the worker restarts, after a back-off that doubles with each
//   crash in a row (restart_backoff_ms, capped at 100x) and resets on a
//   call that returns;
// - quarantine_after crashes within quarantine_window_s quarantine the
//   stage for the rest of the run: its turns fail at once (UNAVAILABLE,
//   with the reason), under the stage's error policy;
// - a worker whose bytes break the protocol (its plugin wrote on the
//   worker's socket: a bad header, a length that lies, a cut frame) is
//   killed: the turns of that call are `crashed`, worker_end says
//   "protocol error: ...", and it restarts as after a crash;
// - a call still running at its deadline: the worker is killed (a hung
//   plugin holds no thread and no exit), the turn records `timeout`;
// - a cancelled run: the workers of calls in flight are killed.
//
// Lifecycle: constructed by the stage caller in place of create/open: it
// starts one worker and throws CascadeError (R050 no worker, R001/R002 the
// plugin's create/open failed in it) naming the stage; more workers start
// when calls overlap, up to `workers`. The destructor ends every worker
// (each closes its instance). Lives as long as the engine.
// Threading: process/process_batch from any number of threads at once;
// each call holds one worker for its duration.
#pragma once

#include <cascade/abi/cascade_abi.h>
#include <cascade/core/plan.hpp>

#include <atomic>
#include <memory>
#include <vector>

namespace cascade::isolation {

class ProcessStage {
 public:
  // `cancel`: the engine's cancel flag (a call in flight is abandoned when
  // it is set); outlives the stage.
  ProcessStage(const StagePlan& stage, const std::vector<uint32_t>& out_types, const std::atomic<bool>& cancel);
  ~ProcessStage();
  ProcessStage(const ProcessStage&) = delete;
  ProcessStage& operator=(const ProcessStage&) = delete;

  // The plugin entries the stage caller calls instead of the plugin's;
  // `instance` is the ProcessStage, contexts are the engine's CallCtx.
  static cascade_status process(void* instance, cascade_context* ctx, const cascade_payload* in, uint32_t n_in);
  static cascade_status process_batch(void* instance, const cascade_batch* batch);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cascade::isolation
