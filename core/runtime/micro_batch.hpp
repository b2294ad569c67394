// Internal to the engine: runs a micro-batch of turns stage by stage
// (EngineOptions::micro_batch > 1, pipelines without fan-out): each stage
// runs for every turn of the group before the next stage starts, through
// one process_batch() call (ABI 1.2) for every turn the stage caller would
// run on its fast path, and through StageCaller::exec() one at a time for
// the rest (a failed turn, a missing input, a stage without a batch entry,
// a timeout or a concurrency cap).
//
// Lifecycle: built by the engine with its pool; lives as long as the engine.
// Threading: run() from any worker, concurrently for disjoint micro-batches
// (each with its own MicroBatch scratch, one per worker thread).
#pragma once

#include "runtime/compiled_plan.hpp"
#include "runtime/turn_pool.hpp"
#include "runtime/turn_state.hpp"

#include <atomic>
#include <vector>

namespace cascade::runtime {

class StageCaller;

// One micro-batch being run: the engine fills live, first, n_live, dense.
struct MicroBatch {
  std::vector<TurnState*> live;  // its turns being run (not refused)
  size_t first = 0;              // pool index of its first turn
  size_t n_live = 0;
  // Every turn is live and usual (no injected outputs, no turn budget)
  // and none has had an error yet: a batch call passes the pool's stage
  // columns from `first` as they are.
  bool dense = true;
  // The stage the group is in, for the run loop's watchdog (each turn's
  // TurnState::progress says kTurnInGroup and points here).
  std::atomic<int32_t> stage{-1};
  // Otherwise the call's arrays are compacted here.
  std::vector<TurnState*> turns;
  std::vector<cascade_context*> ctxs;
  std::vector<const cascade_payload*> ins;
  std::vector<cascade_payload*> outs;
  std::vector<StageRun*> runs;
  std::vector<cascade_status> status;
  void size(size_t n);
};

class MicroBatchRunner {
 public:
  MicroBatchRunner(const CompiledPlan& plan, StageCaller& caller, const TurnPool& pool)
      : plan_(plan), caller_(caller), pool_(pool) {}

  // Every stage, in order, for the batch's live turns. `clock`: as
  // StageCaller::exec()'s, carried across the turns.
  void run(MicroBatch& b, uint32_t worker, int64_t& clock);

 private:
  void exec_many(MicroBatch& b, uint32_t s, uint32_t worker, int64_t& clock);
  void after_batch(MicroBatch& b, uint32_t s, TurnState* t, cascade_status st, const cascade_payload* in,
                   const cascade_payload* out, uint32_t worker, int64_t start, int64_t clock);

  const CompiledPlan& plan_;
  StageCaller& caller_;
  const TurnPool& pool_;
};

}  // namespace cascade::runtime
