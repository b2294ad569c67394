// cascade/core/engine.hpp — executes turns through a PipelinePlan on oneTBB.
//
// Lifecycle: Engine(plan, options) creates and opens one plugin instance
//   per stage (throws CascadeError R001/R002 naming the stage on failure,
//   after closing what was opened); run_batch() any number of times;
//   the destructor closes and destroys every instance.
// Threading: run_batch() is called by ONE thread at a time; inside, turns
//   run concurrently on a task arena of `threads` workers, and parallel
//   branches of one turn run in parallel (or, with micro_batch > 1 in a
//   pipeline without fan-out, groups of turns run stage by stage). A stage's process() never runs
//   on more threads at once than its plugin's max_concurrency (or the
//   stage's own cap). cancel() may be called from any thread (a signal
//   handler thread included: it only stores an atomic). turn_progress()
//   may be called from any thread while run_batch() runs on another (the
//   run loop's watchdog and bounded shutdown); running_stage() from a
//   signal handler.
#pragma once

#include <cascade/core/plan.hpp>
#include <cascade/trace/event.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace cascade {
namespace trace {
class Writer;
}

// A stage output given instead of computed (replay: recorded outputs,
// the oracle: gold annotations). A stage with any injected output is NOT
// executed for that turn; its other outputs stay missing.
struct InjectedOutput {
  uint32_t stage = 0;  // index into PipelinePlan::stages
  uint32_t port = 0;   // output port index
  uint32_t type = 0;   // cascade_payload_type
  uint32_t sample_rate = 0;
  std::string bytes;
  std::string origin;  // recorded in the trace as text feature "injected" ("trace", "gold")
};

// One turn's input, owned by the caller for the duration of run_batch().
struct TurnInput {
  std::string dialogue_id;
  std::string user_id;
  uint32_t turn_index = 0;
  uint64_t turn_seq = 0;  // unique within a run, increasing
  std::string timestamp;
  uint32_t payload_type = 0;  // cascade_payload_type
  std::string payload;        // text bytes, or PCM16 little-endian mono
  uint32_t sample_rate = 0;
  std::string gold_json;      // gold annotations per stage, or empty
  std::vector<InjectedOutput> injected;  // usually empty
  // A problem found while reading the input (bad WAV, ...): the turn is
  // recorded as failed with this code and message, not executed.
  std::string input_error_code;
  std::string input_error;
};

// What became of one turn.
struct TurnOutcome {
  trace::TurnStatus status = trace::TurnStatus::Ok;
  std::string failed_stage;  // first stage whose failure ended the turn
  std::string error_code;
  std::string error;
  uint32_t result_type = 0;  // cascade_payload_type of the result, 0 if none
  std::string result;        // the result payload's bytes
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  std::string result_json() const;  // not used on the hot path
  // The result as the trace's turn record keeps it (TurnEvent::result_json):
  // a JSON result as it is, a text result as a JSON string (encoded into
  // `scratch`, which the view then points into), else empty.
  std::string_view result_for_trace(std::string& scratch) const;
};

struct EngineOptions {
  uint32_t threads = 1;
  trace::Writer* trace = nullptr;  // not owned; nullptr: tracing off
  uint32_t turn_timeout_ms = 0;    // whole-turn budget; 0 = none
  // Read the clock per turn for TurnOutcome latencies even without a
  // trace (a trace always reads it: one read per stage boundary).
  bool measure_latency = true;
  // Turns a stage runs back to back before the next stage starts
  // (stage-major micro-batches; pipelines without fan-out only). 1: each
  // turn runs through all its stages in one go. Above 1, a plugin that
  // offers process_batch (ABI 1.2) is called once for up to this many
  // turns, which cuts the per-call cost; a turn's latency then includes its
  // batch-mates' work at every stage, and its stage times in the trace are
  // those of the batch call.
  uint32_t micro_batch = 1;
};

class Engine {
 public:
  Engine(PipelinePlan plan, EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs every turn of the batch to completion (or timeout/cancellation)
  // and fills `out` (same size as `in`). Writes trace records if tracing.
  void run_batch(std::span<const TurnInput> in, std::span<TurnOutcome> out);

  // Where turn i of the batch being run is: kTurnWaiting (not started),
  // a stage index (into plan().stages: the stage it runs; with parallel
  // branches, the last one started), kTurnFinishing (its outcome and trace
  // records are being written), kTurnDone (out[i] is filled and its
  // records are written: a load that sees it also sees them). Outside
  // run_batch(), kTurnWaiting. Costs the engine one relaxed store per stage.
  static constexpr int32_t kTurnWaiting = -1;
  static constexpr int32_t kTurnFinishing = -2;
  static constexpr int32_t kTurnDone = -3;
  [[nodiscard]] int32_t turn_progress(size_t i) const noexcept;

  // "stage 'x' (plugin y)" if the calling thread is inside a stage call of
  // some engine (a deadline's watchdog thread included), else nullptr.
  // Async-signal-safe (loads only): for fatal-signal and exit handlers
  // that name the plugin that took the process down.
  [[nodiscard]] static const char* running_stage() noexcept;

  // Cancels the turns in flight and every later one.
  void cancel() noexcept;
  [[nodiscard]] bool cancelled() const noexcept;
  [[nodiscard]] const PipelinePlan& plan() const noexcept;

  struct Impl;  // core/runtime/engine.cpp; named here for the runtime's internals only

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cascade
