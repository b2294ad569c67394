// The micro-batch runner (see micro_batch.hpp).
#include "runtime/micro_batch.hpp"

#include "runtime/stage_caller.hpp"

#include <algorithm>

namespace cascade::runtime {

using trace::StageStatus;

void MicroBatch::size(size_t n) {
  if (live.size() >= n) return;
  live.resize(n);
  turns.resize(n);
  ctxs.resize(n);
  ins.resize(n);
  outs.resize(n);
  runs.resize(n);
  status.resize(n);
}

void MicroBatchRunner::run(MicroBatch& b, uint32_t worker, int64_t& clock) {
  for (const uint32_t s : plan_.order) {
    b.stage.store(static_cast<int32_t>(s), std::memory_order_relaxed);  // where the group is (MicroBatch::stage)
    exec_many(b, s, worker, clock);
  }
}

// Stage s for the batch's live turns.
void MicroBatchRunner::exec_many(MicroBatch& b, uint32_t s, uint32_t worker, int64_t& clock) {
  const StageRt& stage = plan_.stages[s];
  const size_t n_live = b.n_live;
  if (!stage.simple || stage.process_batch == nullptr || caller_.cancelled()) {
    for (size_t i = 0; i < n_live; ++i) caller_.exec(*b.live[i], s, worker, clock);  // (records a cancellation too)
    return;
  }
  const TurnPool::StageColumns& columns = pool_.columns(s);
  cascade_context* const* ctxs = &columns.ctxs[b.first];
  const cascade_payload* const* ins = &columns.inputs[b.first];
  cascade_payload* const* outs = &columns.outputs[b.first];
  TurnState* const* turns = b.live.data();
  // Read from a column, not through each turn's CallCtx: one cache line
  // fewer per turn and stage.
  StageRun* const* runs = &columns.runs[b.first];
  auto k = static_cast<uint32_t>(n_live);
  bool dense = b.dense;
  if (dense && stage.required0)
    for (size_t i = 0; i < n_live && dense; ++i) dense = ins[i]->type != CASCADE_PAYLOAD_NONE;
  if (dense) {
    // One output, the usual case, without the inner loop (kept for the row
    // "micro-batched, off, 1 thread" of cascade-bench).
    if (stage.n_out == 1)
      for (size_t i = 0; i < n_live; ++i) clear(*outs[i]);
    else
      for (size_t i = 0; i < n_live; ++i)
        for (uint32_t o = 0; o < stage.n_out; ++o) clear(outs[i][o]);
  } else {
    k = 0;
    for (size_t i = 0; i < n_live; ++i) {
      TurnState& t = *b.live[i];
      CallCtx& ctx = t.ctxs[s];
      if (t.unusual || t.failed.load(std::memory_order_relaxed) ||
          (stage.required0 && ctx.in->type == CASCADE_PAYLOAD_NONE)) {
        caller_.exec(t, s, worker, clock);
        continue;
      }
      for (uint32_t o = 0; o < stage.n_out; ++o) clear(ctx.out[o]);
      b.turns[k] = &t;
      b.ctxs[k] = reinterpret_cast<cascade_context*>(&ctx);
      b.ins[k] = ctx.in;
      b.outs[k] = ctx.out;
      b.runs[k] = ctx.run;
      ++k;
    }
    if (k == 0) return;
    ctxs = b.ctxs.data();
    ins = b.ins.data();
    outs = b.outs.data();
    turns = b.turns.data();
    runs = b.runs.data();
  }
  cascade_status* const status = b.status.data();
  std::fill_n(status, k, CASCADE_OK);  // the ABI: a plugin writes only its failures
  const cascade_batch call{sizeof(cascade_batch), k, 1, stage.n_out, ctxs, ins, outs, status};
  const int64_t start = clock;
  const cascade_status all = stage.process_batch(stage.instance, &call);
  clock = caller_.clock_now();
  // Locals: the stores below could alias `stage` and `this` for the compiler.
  uint32_t failed = all;
  for (uint32_t j = 0; j < k; ++j) failed |= status[j];  // one pass the compiler vectorises
  const bool check = failed != CASCADE_OK || !stage.outputs_any;
  // A run's status, worker and times are the trace's: without one, a stage
  // that ran ok in a batch leaves its runs untouched (the outcome reads only
  // the run of the stage that failed the turn, which after_batch writes).
  if (caller_.record_runs()) {
    for (uint32_t j = 0; j < k; ++j) {
      StageRun& run = *runs[j];
      run.status = StageStatus::Ok;
      run.ran = true;
      run.worker = worker;
      run.start = start;
      run.end = clock;
    }
  }
  if (check)
    for (uint32_t j = 0; j < k; ++j)
      after_batch(b, s, turns[j], all != CASCADE_OK ? all : status[j], ins[j], outs[j], worker, start, clock);
}

// A batch call's turn that failed (or whose stored outputs need their types
// checked): the error policy, as exec() would apply it.
void MicroBatchRunner::after_batch(MicroBatch& b, uint32_t s, TurnState* t, cascade_status st,
                                   const cascade_payload* in, const cascade_payload* out, uint32_t worker,
                                   int64_t start, int64_t clock) {
  StageRun& run = t->runs[s];
  run.status = StageStatus::Ok;
  run.ran = true;
  run.worker = worker;
  run.start = start;
  run.end = clock;
  if (st == CASCADE_OK && !plan_.stages[s].outputs_any) st = caller_.check_outputs(s, out, run);
  if (st == CASCADE_OK) return;
  b.dense = false;  // this turn may have failed: check every turn from now on
  caller_.after_error(*t, s, st, in, clock);
}

}  // namespace cascade::runtime
