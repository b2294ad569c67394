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

// One output port's value for one turn. Either owns its bytes or aliases
// bytes that outlive the turn's processing (an upstream slot or the input).
struct Slot {
  uint32_t type = CASCADE_PAYLOAD_NONE;
  uint32_t rate = 0;
  const void* data = nullptr;
  uint64_t size = 0;
  std::string owned;  // keeps its capacity across turns

  void clear() {
    type = CASCADE_PAYLOAD_NONE;
    rate = 0;
    data = nullptr;
    size = 0;
  }
  void alias(const Slot& o) {
    type = o.type;
    rate = o.rate;
    data = o.data;
    size = o.size;
  }
  void assign_copy(const Slot& o) {
    type = o.type;
    rate = o.rate;
    owned.assign(static_cast<const char*>(o.data), static_cast<size_t>(o.size));
    data = owned.data();
    size = o.size;
  }
};

// What one stage did in one turn (becomes a trace StageEvent).
struct StageRun {
  trace::StageStatus status = trace::StageStatus::Skipped;
  bool ran = false;
  uint32_t code = 0;
  bool transient = false;
  std::string message;
  int64_t start = 0, end = 0;  // steady clock ns (0 when tracing is off)
  uint32_t worker = 0;
  bool has_conf = false;
  double conf = 0;
  std::vector<std::pair<std::string, double>> nbest;
  std::vector<std::pair<std::string, double>> feats;
  std::vector<std::pair<std::string, std::string>> tfeats;

  void reset() {
    status = trace::StageStatus::Skipped;
    ran = false;
    code = 0;
    transient = false;
    message.clear();
    start = end = 0;
    has_conf = false;
    if (!nbest.empty()) nbest.clear();
    if (!feats.empty()) feats.clear();
    if (!tfeats.empty()) tfeats.clear();
  }
  // Takes what a plugin reported into a private StageRun (timed calls).
  void take_features(StageRun& o) {
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

struct TurnState {
  const TurnInput* in = nullptr;
  std::vector<Slot> slots;
  std::vector<StageRun> runs;
  std::unique_ptr<std::atomic<uint32_t>[]> pending;  // parallel branches only
  size_t pending_n = 0;
  std::atomic<bool> failed{false};
  int32_t failed_stage = -1;
  bool cancelled = false;
  int64_t start = 0, end = 0, deadline = INT64_MAX;

  void reset(const TurnInput& input, size_t n_stages, size_t n_slots) {
    in = &input;
    if (slots.size() != n_slots) slots.resize(n_slots);
    for (auto& s : slots) s.clear();
    if (runs.size() != n_stages) runs.resize(n_stages);
    for (auto& r : runs) r.reset();
    if (pending_n != n_stages) {
      pending = std::make_unique<std::atomic<uint32_t>[]>(n_stages);
      pending_n = n_stages;
    }
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


// The cascade_context behind every host call.
struct CallCtx {
  struct Engine::Impl* eng = nullptr;
  uint32_t stage = 0;
  StageRun* run = nullptr;  // null outside process()
  Slot* out = nullptr;      // null outside process()
  const cascade_payload* inputs = nullptr;
  uint32_t n_inputs = 0;
  const uint32_t* out_types = nullptr;  // declared output payload types
  uint32_t n_outputs = 0;
  int64_t deadline_ns = INT64_MAX;
  std::string* open_error = nullptr;  // set_error outside process() (create/open/close)
};

// A call that may outlive the worker's wait: it owns copies of its inputs
// and its own output slots; the engine copies results out if it finishes
// in time, and otherwise abandons it (the thread frees it on return).
struct TimedCall {
  TimedCall(const cascade_payload* in, uint32_t n, size_t n_out) : slots(n_out) {
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
  std::vector<Slot> slots;
  StageRun run;
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  bool abandoned = false;
  cascade_status status = CASCADE_OK;
};

}  // namespace runtime
}  // namespace cascade
