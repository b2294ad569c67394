// Internal to the engine: the per-turn state it reuses across batches, and
// the context a plugin's host calls receive. Not installed, not public.
//
// Lifecycle: TurnStates are owned by the TurnPool (turn_pool.hpp), shaped
// once when the pool grows and reset when a turn begins on one.
// Threading: a turn's state is touched by the task running that turn (and,
// in a turn with parallel branches, by the tasks of its branches, each
// writing only its own stages' slots and runs); see each type below.
#pragma once

#include <cascade/abi/cascade_abi.h>
#include <cascade/core/engine.hpp>
#include <cascade/sdk/detail/host_api.hpp>
#include <cascade/trace/event.hpp>

#include "runtime/compiled_plan.hpp"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
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
  // The call failed because the stage's worker process died (isolation =
  // "process"): the error status becomes StageStatus::Crashed.
  bool crashed = false;
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
    if (!dirty)
      return;
    dirty = false;
    code = 0;
    transient = false;
    crashed = false;
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
    crashed = o.crashed;
    message = std::move(o.message);
    has_conf = o.has_conf;
    conf = o.conf;
    nbest = std::move(o.nbest);
    feats = std::move(o.feats);
    tfeats = std::move(o.tfeats);
  }
};

class StageCaller;

// The cascade_context behind every host call: the `Call` of the host API
// (sdk/detail/host_api.hpp), which makes the checks; these members say
// where a checked call lands. In a pooled TurnState, one per stage, built
// once (TurnPool::grow); a call with a deadline or several inputs builds
// its own.
struct CallCtx {
  StageCaller* caller = nullptr;
  const StageRt* stage_rt = nullptr;  // null during create/open/close
  uint32_t stage = 0;
  StageRun* run = nullptr;         // null outside process()
  cascade_payload* out = nullptr;  // the stage's output slots; null outside process()
  std::string* owned = nullptr;    // their owned bytes
  const cascade_payload* in = nullptr;
  uint32_t n_in = 0;
  int64_t deadline_ns = INT64_MAX;
  std::string* open_error = nullptr;  // set_error outside process() (create/open/close)
  // The turn's input, through its TurnState's `in` (set anew each turn, so
  // a pooled context needs no update): host->turn reads its identity.
  const TurnInput* const* turn_in = nullptr;

  [[nodiscard]] bool in_process() const { return out != nullptr; }
  [[nodiscard]] sdk::detail::TurnIdentity turn() const {
    if (turn_in == nullptr || *turn_in == nullptr) return {};
    const TurnInput& t = **turn_in;
    return {t.dialogue_id, t.user_id, t.turn_index, t.turn_seq};
  }
  [[nodiscard]] uint32_t n_outputs() const { return stage_rt->n_out; }
  [[nodiscard]] uint32_t output_type(uint32_t port) const { return stage_rt->out_types[port]; }
  [[nodiscard]] uint32_t n_inputs() const { return n_in; }
  [[nodiscard]] const cascade_payload* inputs() const { return in; }
  void store(uint32_t port, const cascade_payload& p, bool forwarded) {
    cascade_payload& v = out[port];
    if (forwarded) {
      v = p;
      return;
    }
    v.type = p.type;
    v.sample_rate = p.sample_rate;
    v.size = p.size;
    // Emitting an input is free too: inputs outlive the turn's processing.
    for (uint32_t i = 0; i < n_in; ++i) {
      if (in[i].data == p.data && in[i].size == p.size && p.size != 0) {
        v.data = p.data;
        return;
      }
    }
    owned[port].assign(static_cast<const char*>(p.data), static_cast<size_t>(p.size));
    v.data = owned[port].data();
  }
  void error(cascade_status code, bool transient, const char* msg) {
    if (run == nullptr) {
      if (open_error != nullptr) *open_error = msg;
      return;
    }
    run->mark();
    run->code = static_cast<uint32_t>(code);
    run->transient = transient;
    run->message = msg;
  }
  void confidence(double v) {
    run->mark();
    run->has_conf = true;
    run->conf = v;
  }
  void nbest(std::string_view text, double score) {
    run->mark();
    run->nbest.emplace_back(std::string(text), score);
  }
  void feature(const char* key, double v) {
    run->mark();
    run->feats.emplace_back(key, v);
  }
  void feature_text(const char* key, std::string_view v) {
    run->mark();
    run->tfeats.emplace_back(key, std::string(v));
  }
  // In stage_caller.cpp (they need the plan or the caller's cancel flag).
  void log(cascade_log_level level, const char* msg);
  bool param(const char* name, const char** value, size_t* len);
  bool stop_requested();
  int64_t remaining_ns();
};

inline constexpr int32_t kTurnWaiting = Engine::kTurnWaiting;
inline constexpr int32_t kTurnFinishing = Engine::kTurnFinishing;
inline constexpr int32_t kTurnDone = Engine::kTurnDone;
inline constexpr int32_t kTurnInGroup = -4;  // internal: see TurnState::progress

// The stage the calling thread runs, for the CLI's fatal-signal and exit
// handlers (Engine::running_stage()): set by the engine around a turn (or
// a micro-batch), copied onto the watchdog pool's thread around a timed
// call. Read from a signal handler: plain loads only, and what it points
// to is never freed (RunningStage::labels is leaked on purpose).
struct RunningStage {
  const std::atomic<int32_t>* progress = nullptr;  // a TurnState's: the stage index while it runs one
  const char* const* labels = nullptr;             // per stage: "stage 'x' (plugin y)"
  uint32_t n_labels = 0;
};
inline thread_local RunningStage tl_running_stage;

struct TurnState {
  // What every turn reads or writes comes first: one cache line.
  const TurnInput* in = nullptr;
  int64_t start = 0, end = 0, deadline = INT64_MAX;
  int32_t failed_stage = -1;
  std::atomic<bool> failed{false};
  bool unusual = false;  // injected outputs or a turn deadline: exec() takes its general path
  bool cancelled = false;
  std::atomic<bool> runs_dirty{false};  // some run is dirty (StageRun::mark)
  // Where the turn is, for the run loop's watchdog and bounded shutdown on
  // another thread (Engine::turn_progress): kTurnWaiting, the index of the
  // stage it runs (the one relaxed store per stage the engine pays for
  // it), kTurnFinishing while its outcome and records are written, then
  // kTurnDone (a release store: the outcome and records are complete).
  // In a micro-batch, kTurnInGroup: the group's stage is in `group_stage`
  // (one store per stage for the group, not per turn).
  std::atomic<int32_t> progress{kTurnWaiting};
  const std::atomic<int32_t>* group_stage = nullptr;  // written before progress = kTurnInGroup (release)
  // The slots (see clear() above): every stage output, then the turn input
  // (so a stage reads its input from a slot, whichever it is). Sized once,
  // by TurnPool::grow.
  std::vector<cascade_payload> vals;
  std::vector<StageRun> runs;
  std::vector<std::string> owned;
  // Per stage, the context of exec()'s fast path, built once (slots and
  // runs never move after the first reset): a call fills nothing.
  std::vector<CallCtx> ctxs;
  std::unique_ptr<std::atomic<uint32_t>[]> pending;  // parallel branches only
  uint32_t index = 0;  // in the pool (a TurnRecorder keeps its frame there)

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
  TimedCall(const cascade_payload* in, uint32_t n, size_t n_out, const TurnInput* turn)
      : vals(n_out, kNone), owned(n_out) {
    if (turn != nullptr) {  // the identity only: an abandoned call may outlive the turn
      identity.dialogue_id = turn->dialogue_id;
      identity.user_id = turn->user_id;
      identity.turn_index = turn->turn_index;
      identity.turn_seq = turn->turn_seq;
      identity_ptr = &identity;
    }
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
  TurnInput identity;
  const TurnInput* identity_ptr = nullptr;  // a CallCtx's turn_in points here
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
