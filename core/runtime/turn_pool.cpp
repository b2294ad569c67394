// The turn pool (see turn_pool.hpp).
#include "runtime/turn_pool.hpp"

#include "runtime/stage_caller.hpp"

namespace cascade::runtime {

TurnPool::TurnPool(const CompiledPlan& plan, StageCaller& caller)
    : plan_(plan), caller_(caller), columns_(plan.stage_count()) {}

// Grows the pool to `size` and shapes the new states once: arrays sized,
// per-stage call contexts set (slots and runs never move afterwards),
// entries appended to the stage columns. The states are allocated first,
// side by side, then each kind of array in a pass of its own: turn after
// turn, each kind then lies in one run of memory, in the order the engine
// visits them. This layout pass is kept for the traced rows of cascade-bench
// ("tracing in memory", "tracing on"): with each state's arrays next to it,
// traced turns ran slower in wall time at the same instruction count.
void TurnPool::grow(size_t size) {
  const size_t first = states_.size();
  if (first >= size) return;
  const uint32_t n = plan_.stage_count();
  const size_t slots = plan_.slot_count();  // every stage output, then the turn input
  while (states_.size() < size) {
    states_.push_back(std::make_unique<TurnState>());
    states_.back()->index = static_cast<uint32_t>(states_.size() - 1);
  }
  auto each = [&](auto&& f) {
    for (size_t i = first; i < size; ++i) f(*states_[i]);
  };
  each([&](TurnState& t) { t.vals.assign(slots, kNone); });
  each([&](TurnState& t) {
    t.runs.resize(n);
    for (auto& r : t.runs) r.turn_dirty = &t.runs_dirty;
  });
  each([&](TurnState& t) { t.owned.resize(slots); });
  each([&](TurnState& t) { t.ctxs.resize(n); });
  each([&](TurnState& t) { t.pending = std::make_unique<std::atomic<uint32_t>[]>(n); });
  each([&](TurnState& t) {
    for (uint32_t s = 0; s < n; ++s) {
      const StageRt& stage = plan_.stages[s];
      const cascade_payload* in = stage.in_slot >= 0 ? &t.vals[static_cast<uint32_t>(stage.in_slot)] : nullptr;
      t.ctxs[s] = CallCtx{&caller_, &stage, s, &t.runs[s], &t.vals[stage.slot_base], &t.owned[stage.slot_base], in, 1,
                          INT64_MAX, nullptr, &t.in};
      StageColumns& c = columns_[s];
      c.ctxs.push_back(reinterpret_cast<cascade_context*>(&t.ctxs[s]));
      c.inputs.push_back(in);
      c.outputs.push_back(t.ctxs[s].out);
      c.runs.push_back(&t.runs[s]);
    }
  });
}

}  // namespace cascade::runtime
