// Internal to the engine: writes finished turns into a trace — the only
// part of the engine that knows the trace format.
//
// A plain turn (every stage that was due ran ok, reporting at most a
// confidence) becomes ONE turn frame: the turn's slots once, each stage a
// declared handle, two times and a worker. Any other turn becomes one
// stage record per stage, then the turn record. Stages are declared to the
// writer once (names, ports, which slot each port sees), when the recorder
// is built.
//
// Lifecycle: built by the engine after its stage caller when tracing is
// on; reserve() before a batch (frames for pool entries [0, turns)); lives
// as long as the engine. The writer outlives it.
// Threading: record() from any worker, concurrently for different turns
// (each writes only its pool entry's frame); reserve() only between batches.
#pragma once

#include <cascade/core/engine.hpp>
#include <cascade/trace/event.hpp>

#include "runtime/compiled_plan.hpp"
#include "runtime/turn_state.hpp"

#include <vector>

namespace cascade {
namespace trace {
class Writer;
}
namespace runtime {

class TurnRecorder {
 public:
  TurnRecorder(trace::Writer& writer, const CompiledPlan& plan);

  void reserve(size_t turns);
  // A finished turn (its slots unchanged until this returns) and its outcome.
  void record(const TurnState& t, const TurnOutcome& o, uint32_t worker);

 private:
  // A turn frame and the arrays behind its spans, reused per pool entry:
  // the constant fields (digest, input index) are set once.
  struct Frame {
    trace::TurnFrame frame;
    std::vector<trace::FrameStage> stages;
    std::vector<trace::PayloadView> payloads;
  };
  bool record_frame(const TurnState& t, const TurnOutcome& o, uint32_t worker);
  void record_stages(const TurnState& t, const TurnOutcome& o, uint32_t worker);

  trace::Writer& writer_;
  const CompiledPlan& plan_;
  std::vector<uint32_t> decls_;  // per stage, its trace::Writer::declare() handle
  std::vector<Frame> frames_;    // per pool entry
};

}  // namespace runtime
}  // namespace cascade
