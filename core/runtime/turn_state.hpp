// Internal to the engine: the per-turn state it reuses across batches, and
// the context a plugin's host calls receive. Not installed, not public.
#pragma once

#include <cascade/abi/cascade_abi.h>
#include <cascade/core/engine.hpp>
#include <cascade/trace/event.hpp>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace cascade {
namespace runtime {

// A turn's slots: one per stage output port, plus the turn's input. A slot
// is a cascade_payload (`vals`, contiguous, so a stage's outputs are an
// array a batch call writes straight into) and the bytes it owns when a
// plugin emitted new ones (`owned`, same index; keeps its capacity across
// turns). A value either points into its `owned` string or aliases bytes
// that outlive the turn's processing (an upstream slot or the input).
inline constexpr cascade_payload kNone{sizeof(cascade_payload), CASCADE_PAYLOAD_NONE, nullptr, 0, 0};
inline void clear(cascade_payload& v) { v = kNone; }
// `dst` becomes a copy of `src` whose bytes live in `store`.
inline void assign_copy(cascade_payload& dst, std::string& store, const cascade_payload& src) {
  dst = src;
  store.assign(static_cast<const char*>(src.data), static_cast<size_t>(src.size));
  dst.data = store.data();
}

// What one stage did in one turn (becomes a trace StageEvent).
// The fields every turn writes come first and side by side (status and
// ran, start and end), so a reset or a batch's bookkeeping is a few stores.
// Who reads them: the trace, and the outcome (only the run of the stage
// that failed the turn). So without a trace, a stage that runs ok (exec(),
// or a batch call in exec_many) leaves its run as it was.
// Lifecycle: owned by a pooled TurnState; reset when its turn begins
// (without a trace, only if dirty: the rest are read only where written).
// Threading: written by the one task running its stage (a timed call's
// thread writes a private StageRun, taken over after it returns).
struct StageRun {
  trace::StageStatus status = trace::StageStatus::Skipped;
  bool ran = false;
  // Set (by mark()) by every writer of the fields from `code` on (host
  // feature calls, exec's general path, error handling): a clean run
  // resets in 3 stores.
  bool dirty = false;
  uint32_t worker = 0;
  // The turn's flag that some run of it is dirty (TurnState::runs_dirty),
  // set with `dirty`; points at a dummy in a TimedCall's private run.
  // Atomic: parallel branches of one turn mark their runs concurrently.
  std::atomic<bool>* turn_dirty = nullptr;
  int64_t start = 0, end = 0;  // steady clock ns (0 when tracing is off)
  uint32_t code = 0;
  bool transient = false;
  bool has_conf = false;
  double conf = 0;
  std::string message;
  std::vector<std::pair<std::string, double>> nbest;
  std::vector<std::pair<std::string, double>> feats;
  std::vector<std::pair<std::string, std::string>> tfeats;

  void mark() {
    dirty = true;
    turn_dirty->store(true, std::memory_order_relaxed);
  }
  void reset() {
    status = trace::StageStatus::Skipped;
    ran = false;
    start = end = 0;
    if (!dirty) [[likely]]
      return;
    dirty = false;
    code = 0;
    transient = false;
    message.clear();
    has_conf = false;
    nbest.clear();
    feats.clear();
    tfeats.clear();
  }
  // Takes what a plugin reported into a private StageRun (timed calls).
  void take_features(StageRun& o) {
    mark();
    code = o.code;
    transient = o.transient;
    message = std::move(o.message);
    has_conf = o.has_conf;
    conf = o.conf;
    nbest = std::move(o.nbest);
    feats = std::move(o.feats);
    tfeats = std::move(o.tfeats);
  }
};

// What the hot path needs of a stage, flat, without chasing the plan.
struct StageRt {
  cascade_status (*process)(void*, cascade_context*, const cascade_payload*, uint32_t) = nullptr;
  void* instance = nullptr;
  uint32_t n_in = 0, n_out = 0, slot_base = 0;
  const Binding* inputs = nullptr;
  // The fast path of exec(): one input, read from slot in_slot (an
  // upstream output or the turn input); no timeout, no concurrency limit.
  bool simple = false;
  bool required0 = false;  // that one input is required
  // ABI 1.2: the plugin's batch entry (null: process() once a turn), and
  // whether every output port is declared `any` (nothing to check after a
  // batch call).
  cascade_status (*process_batch)(void*, const cascade_batch*) = nullptr;
  bool outputs_any = true;
  bool standby = false;    // a fallback-only stage (runs only for another)
  int32_t in_slot = -1;
  uint32_t decl = trace::kNotDeclared;  // its trace::Writer::declare() handle
  // Per declared port (inputs, then outputs), the slot it reads or writes,
  // or trace::kNoPayload: trace::StageDecl::frame_ports, fixed per plan.
  std::vector<uint32_t> port_slots;
  std::vector<uint8_t> optional;     // per input port
  std::vector<uint32_t> out_types;   // per output port
};

// The cascade_context behind every host call.
struct CallCtx {
  struct Engine::Impl* eng = nullptr;
  const StageRt* h = nullptr;  // null during create/open/close
  uint32_t stage = 0;
  StageRun* run = nullptr;         // null outside process()
  cascade_payload* out = nullptr;  // the stage's output slots; null outside process()
  std::string* owned = nullptr;    // their owned bytes
  const cascade_payload* inputs = nullptr;
  uint32_t n_inputs = 0;
  int64_t deadline_ns = INT64_MAX;
  std::string* open_error = nullptr;  // set_error outside process() (create/open/close)
};

struct TurnState {
  // What every turn reads or writes comes first: one cache line.
  const TurnInput* in = nullptr;
  int64_t start = 0, end = 0, deadline = INT64_MAX;
  int32_t failed_stage = -1;
  std::atomic<bool> failed{false};
  bool unusual = false;  // injected outputs or a turn deadline: exec() takes its general path
  bool cancelled = false;
  std::atomic<bool> runs_dirty{false};  // some run is dirty (StageRun::mark)
  // The slots (see clear() above): every stage output, then the turn input
  // (so a stage reads its input from a slot, whichever it is). Sized once,
  // by Engine::Impl::grow_pool.
  std::vector<cascade_payload> vals;
  std::vector<StageRun> runs;
  std::vector<std::string> owned;
  // Per stage, the context of exec()'s fast path, built once (slots and
  // runs never move after the first reset): a call fills nothing.
  std::vector<CallCtx> ctxs;
  std::unique_ptr<std::atomic<uint32_t>[]> pending;  // parallel branches only
  // record_frame()'s turn frame and the arrays behind its spans, sized with
  // `ctxs` and reused: the constant fields (digest, input index) are set once.
  trace::TurnFrame frame;
  std::vector<trace::FrameStage> frame_stages;
  std::vector<trace::PayloadView> frame_payloads;

  // For the next turn. `standby_slots`: output slots of fallback-only
  // stages, which exec() never clears (every other stage clears its own
  // outputs when it runs). `reset_runs`: every run (a trace reads them
  // all); otherwise only the runs an earlier turn dirtied (see StageRun).
  void reset(const TurnInput& input, const std::vector<uint32_t>& standby_slots, bool reset_runs) {
    in = &input;
    vals.back() = cascade_payload{sizeof(cascade_payload), input.payload_type, input.payload.data(),
                                  input.payload.size(), input.sample_rate};
    for (uint32_t i : standby_slots) clear(vals[i]);
    if (reset_runs) {
      for (auto& r : runs) r.reset();
    } else if (runs_dirty.load(std::memory_order_relaxed)) {  // only what an earlier turn dirtied; the rest is overwritten as it runs
      for (auto& r : runs)
        if (r.dirty) r.reset();
    }
    runs_dirty.store(false, std::memory_order_relaxed);
    failed.store(false, std::memory_order_relaxed);
    failed_stage = -1;
    cancelled = false;
  }
  // The first failure ends the turn; parallel branches race for it.
  void fail(uint32_t stage, const StageRun&, bool was_cancelled) {
    bool expected = false;
    if (failed.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
      failed_stage = static_cast<int32_t>(stage);
      cancelled = was_cancelled;
    }
  }
};


// A call that may outlive the worker's wait: it owns copies of its inputs
// and its own output slots; the engine copies results out if it finishes
// in time, and otherwise abandons it (the thread frees it on return).
struct TimedCall {
  TimedCall(const cascade_payload* in, uint32_t n, size_t n_out)
      : vals(n_out, kNone), owned(n_out) {
    run.turn_dirty = &run_dirty;
    store.reserve(n);
    inputs.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      store.emplace_back(static_cast<const char*>(in[i].data), static_cast<size_t>(in[i].size));
      cascade_payload p = in[i];
      p.data = store.back().data();
      inputs.push_back(p);
    }
  }
  std::vector<std::string> store;
  std::vector<cascade_payload> inputs;
  std::vector<cascade_payload> vals;  // its own output slots
  std::vector<std::string> owned;
  std::atomic<bool> run_dirty{false};  // run.turn_dirty's target
  StageRun run;
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  bool abandoned = false;
  cascade_status status = CASCADE_OK;
};

}  // namespace runtime
}  // namespace cascade
