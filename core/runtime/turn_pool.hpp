// Internal to the engine: the turn states it reuses across batches, one per
// turn of the largest batch so far (a batch's turn i runs on entry i).
//
// Besides the states, the pool keeps per stage the columns a batch call
// passes (call contexts, inputs, outputs, runs of every entry, side by
// side), so a micro-batch over entries [i, j) passes its arrays as they
// are, from entry i.
//
// Lifecycle: built by the engine after its stage caller; grow() between
// batches only (it never shrinks, and states never move once made: their
// call contexts point into them). Lives as long as the engine.
// Threading: during a batch, entry i is touched only by the task running
// turn i (see TurnState); the columns are read-only then.
#pragma once

#include "runtime/compiled_plan.hpp"
#include "runtime/turn_state.hpp"

#include <memory>
#include <vector>

namespace cascade::runtime {

class StageCaller;

class TurnPool {
 public:
  // Per stage: pool entry i's call context, input, outputs and run.
  struct StageColumns {
    std::vector<cascade_context*> ctxs;
    std::vector<const cascade_payload*> inputs;
    std::vector<cascade_payload*> outputs;
    std::vector<StageRun*> runs;
  };

  TurnPool(const CompiledPlan& plan, StageCaller& caller);

  void grow(size_t size);
  [[nodiscard]] size_t size() const { return states_.size(); }
  TurnState& operator[](size_t i) { return *states_[i]; }
  [[nodiscard]] const StageColumns& columns(uint32_t stage) const { return columns_[stage]; }

 private:
  const CompiledPlan& plan_;
  StageCaller& caller_;
  std::vector<std::unique_ptr<TurnState>> states_;
  std::vector<StageColumns> columns_;  // per stage
};

}  // namespace cascade::runtime
