// The engine: runs turns through a plan on oneTBB. TBB headers stay here.
//
// The orchestrator of the runtime's pieces (each header states its
// lifecycle and threading):
//   compiled_plan  the plan resolved once into slots and successor lists;
//   stage_caller   plugin instances, host API, one stage of one turn
//                  (fast and general paths, deadlines, error policy);
//   turn_pool      the turn states reused across batches;
//   micro_batch    a group of turns run stage by stage;
//   turn_recorder  finished turns into the trace (only it knows the format).
//
// Why it is shaped this way (measured in docs/performance.md):
// - Many turns in flight come from a parallel_for over the batch; each
//   turn's stages run FUSED in one task, in topological order, because
//   scheduling each stage as its own task costs 5-30x a no-op stage.
// - Only when the plan has real fan-out do the branches of one turn run as
//   separate tasks (a task_group per turn), joined by per-turn counters.
#include <cascade/core/engine.hpp>

#include "runtime/compiled_plan.hpp"
#include "runtime/micro_batch.hpp"
#include "runtime/stage_caller.hpp"
#include "runtime/tsan.hpp"
#include "runtime/turn_pool.hpp"
#include "runtime/turn_recorder.hpp"
#include "runtime/turn_state.hpp"

#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace cascade {
namespace rt = runtime;
using trace::StageStatus;

namespace {

uint32_t worker_index() {
  const int i = oneapi::tbb::this_task_arena::current_thread_index();
  return i < 0 ? 0u : static_cast<uint32_t>(i);
}

}  // namespace

struct Engine::Impl {
  // The plan and the stage caller, apart from the rest: a call abandoned
  // at its deadline that still runs when the engine ends reads them (its
  // context points at its stage and at the caller; on return it releases
  // its stage's limiter and counts itself out). Such a call may never
  // return, so the engine does not wait for it: it leaves these two
  // allocated, as it leaves the instance the call runs in unclosed
  // (StageCaller::close). ThreadSanitizer caught the engine freeing them
  // under such a call.
  struct Core {
    rt::CompiledPlan plan;
    rt::StageCaller caller;
    Core(PipelinePlan p, const EngineOptions& o)
        : plan(std::move(p)),
          caller(plan, /*record_runs=*/o.trace != nullptr, /*timing=*/o.trace != nullptr || o.measure_latency) {}
  };
  struct CoreDeleter {
    void operator()(Core* c) const {
      if (c->caller.close()) {
        delete c;
        return;
      }
      // Kept reachable, so leak checkers agree it is kept on purpose.
      static std::mutex m;
      static auto* kept = new std::vector<Core*>();
      std::lock_guard lock(m);
      kept->push_back(c);
    }
  };

  EngineOptions options;
  std::unique_ptr<Core, CoreDeleter> core;  // destroyed last: everything below refers to it
  rt::CompiledPlan& plan;
  rt::StageCaller& caller;
  rt::TurnPool pool;
  rt::MicroBatchRunner batches;
  std::unique_ptr<rt::TurnRecorder> recorder;  // null: tracing off
  std::unique_ptr<oneapi::tbb::task_arena> arena;
  uint32_t micro_batch = 1;  // options.micro_batch, at least 1
  // Turns of the batch being run whose progress turn_progress() may read:
  // set after the pool has grown, cleared when the batch has ended.
  std::atomic<size_t> live_turns{0};
  // Per stage "stage 'x' (plugin y)", for running_stage(). Never freed: a
  // call abandoned at its deadline may crash after the engine is gone, and
  // its thread's RunningStage still points here.
  const char* const* labels = nullptr;

  Impl(PipelinePlan p, EngineOptions o)
      : options(o),
        core(new Core(std::move(p), o)),
        plan(core->plan),
        caller(core->caller),
        pool(plan, caller),
        batches(plan, caller, pool),
        arena(std::make_unique<oneapi::tbb::task_arena>(static_cast<int>(std::max(1u, o.threads)))),
        micro_batch(std::max(1u, o.micro_batch)) {
    if (o.trace != nullptr) recorder = std::make_unique<rt::TurnRecorder>(*o.trace, plan);
    std::vector<std::string> names;
    for (const auto& sp : plan.plan.stages) names.push_back("stage '" + sp.id + "' (plugin " + sp.plugin->info.name + ")");
    labels = intern_labels(std::move(names));
  }

  // The crash-message labels of a plan, kept for the process's life (a
  // thread abandoned at a deadline may name its stage after the engine is
  // gone) and shared by engines of equal plans, so that many engines (the
  // oracle's replays) do not grow them; reachable, so leak checkers agree.
  static const char* const* intern_labels(std::vector<std::string> names) {
    struct Labels {
      std::vector<std::string> names;
      std::vector<const char*> table;
    };
    static std::mutex m;
    static auto* all = new std::map<std::vector<std::string>, std::unique_ptr<Labels>>();
    std::lock_guard lock(m);
    auto& entry = (*all)[names];
    if (!entry) {
      entry = std::make_unique<Labels>();
      entry->names = std::move(names);
      for (const auto& n : entry->names) entry->table.push_back(n.c_str());
    }
    return entry->table.data();
  }

  // The stage this thread runs, named for crash messages while `t` runs
  // (saved and restored: a thread waiting for a turn's branches may run
  // another turn's tasks meanwhile).
  [[nodiscard]] rt::RunningStage running(const rt::TurnState& t) const {
    return rt::RunningStage{&t.progress, labels, plan.stage_count()};
  }

  // Stage-major micro-batches (many()) instead of one turn at a time (one()).
  [[nodiscard]] bool batched() const { return micro_batch > 1 && !plan.parallel_branches; }

  // Without a trace only dirty runs are reset (see StageRun).
  void begin(rt::TurnState& t, const TurnInput& in) {
    t.reset(in, plan.standby_slots, /*reset_runs=*/recorder != nullptr);
    t.start = caller.clock_now();
    t.deadline =
        options.turn_timeout_ms > 0 ? rt::steady_ns() + int64_t{options.turn_timeout_ms} * 1'000'000 : INT64_MAX;
    t.unusual = !in.injected.empty() || t.deadline != INT64_MAX;
  }

  // After run_turn() or refuse(), which set t.end.
  void finish(rt::TurnState& t, TurnOutcome& o) {
    // Reset field by field: the strings keep their capacity across turns.
    o.status = trace::TurnStatus::Ok;
    o.failed_stage.clear();
    o.error_code.clear();
    o.error.clear();
    o.result_type = 0;
    o.start_ns = caller.timing() ? t.start + rt::epoch_offset_ns() : 0;
    o.end_ns = caller.timing() ? t.end + rt::epoch_offset_ns() : 0;
    if (t.failed_stage >= 0) {
      const auto& r = t.runs[static_cast<size_t>(t.failed_stage)];
      const bool cancelled = t.cancelled || r.status == StageStatus::Cancelled;
      o.status = cancelled ? trace::TurnStatus::Cancelled : trace::TurnStatus::Failed;
      o.failed_stage = plan.plan.stages[static_cast<size_t>(t.failed_stage)].id;
      o.error_code = cancelled ? "R011" : (r.status == StageStatus::Timeout ? "R010" : "R012");
      o.error = r.message;
    }
    const Binding& result = plan.plan.result;
    if (result.kind == Binding::Kind::StageOutput) {
      const cascade_payload& v = t.vals[plan.stages[result.stage].slot_base + result.port];
      o.result_type = v.type;
      // Most turns' results are as long as the last one's in this outcome:
      // copying over the bytes skips a general assign (kept for the row
      // "micro-batched, off, 1 thread" of cascade-bench).
      if (v.size > 0 && o.result.size() == v.size)
        std::memcpy(o.result.data(), v.data, static_cast<size_t>(v.size));
      else
        o.result.assign(static_cast<const char*>(v.data), static_cast<size_t>(v.size));
    } else {
      o.result.clear();
    }
  }

  // Unreadable input: recorded as a failed turn, nothing executed.
  void refuse(rt::TurnState& t, TurnOutcome& o) {
    t.end = caller.clock_now();
    for (auto& r : t.runs) {
      r.mark();
      r.status = StageStatus::Skipped;
      r.message = "not run: " + t.in->input_error;
    }
    finish(t, o);
    o.status = trace::TurnStatus::Failed;
    o.error_code = t.in->input_error_code;
    o.error = t.in->input_error;
  }

  // Runs the turn's stages; sets t.end.
  void run_turn(rt::TurnState& t, uint32_t worker) {
    if (!plan.parallel_branches) {
      int64_t clock = t.start;
      for (const uint32_t s : plan.order) {
        t.progress.store(static_cast<int32_t>(s), std::memory_order_relaxed);
        caller.exec(t, s, worker, clock);
      }
      t.end = clock;  // the last clock read, at the end of the last stage: one read fewer a turn
      return;
    }
    run_dag_turn(t);
  }

  // A turn with parallel branches: s runs, then whichever successors it
  // made ready, the first inline (a linear run stays in one task), the
  // others as new tasks of the turn's task_group.
  void run_dag_turn(rt::TurnState& t) {
    for (uint32_t s = 0; s < plan.stage_count(); ++s)
      t.pending[s].store(plan.predecessor_count[s], std::memory_order_relaxed);
    oneapi::tbb::task_group tasks;
    std::function<void(uint32_t)> node;
    // A new task for stage s (tsan_*: see tsan.hpp; the task acquires
    // before it touches `node`).
    auto spawn = [&](uint32_t s) {
      rt::tsan_release(&t);
      tasks.run([&node, &t, s] {
        rt::tsan_acquire(&t);
        node(s);
      });
    };
    node = [&](uint32_t s) {
      int64_t clock = caller.clock_now();
      const uint32_t worker = worker_index();
      const rt::RunningStage outer = rt::tl_running_stage;
      rt::tl_running_stage = running(t);
      for (;;) {
        t.progress.store(static_cast<int32_t>(s), std::memory_order_relaxed);
        caller.exec(t, s, worker, clock);
        int next = -1;
        for (uint32_t successor : plan.successors[s]) {
          if (t.pending[successor].fetch_sub(1, std::memory_order_acq_rel) != 1) continue;
          if (next < 0) next = static_cast<int>(successor);
          else spawn(successor);
        }
        if (next < 0) break;
        s = static_cast<uint32_t>(next);
      }
      rt::tl_running_stage = outer;
      rt::tsan_release(&t);
    };
    for (size_t i = 1; i < plan.roots.size(); ++i) spawn(plan.roots[i]);
    if (!plan.roots.empty()) node(plan.roots[0]);
    tasks.wait();
    rt::tsan_acquire(&t);
    t.end = caller.clock_now();
  }

  void one(const TurnInput& in, rt::TurnState& t, TurnOutcome& o, uint32_t worker) {
    begin(t, in);
    if (!in.input_error_code.empty()) {
      t.progress.store(rt::kTurnFinishing, std::memory_order_relaxed);
      refuse(t, o);
    } else {
      const rt::RunningStage outer = rt::tl_running_stage;
      rt::tl_running_stage = running(t);
      run_turn(t, worker);
      rt::tl_running_stage = outer;
      t.progress.store(rt::kTurnFinishing, std::memory_order_relaxed);
      finish(t, o);
    }
    if (recorder) recorder->record(t, o, worker);
    t.progress.store(rt::kTurnDone, std::memory_order_release);
  }

  // Turns [first, last) of a batch as one micro-batch: every stage runs for
  // all of them before the next stage starts.
  void many(std::span<const TurnInput> in, std::span<TurnOutcome> out, size_t first, size_t last, uint32_t worker) {
    thread_local rt::MicroBatch b;
    b.size(last - first);
    b.stage.store(rt::kTurnWaiting, std::memory_order_relaxed);
    b.first = first;
    b.dense = true;
    size_t n = 0;
    for (size_t i = first; i < last; ++i) {
      rt::TurnState& t = pool[i];
      begin(t, in[i]);
      if (!in[i].input_error_code.empty()) {
        t.progress.store(rt::kTurnFinishing, std::memory_order_relaxed);
        refuse(t, out[i]);
        if (recorder) recorder->record(t, out[i], worker);
        t.progress.store(rt::kTurnDone, std::memory_order_release);
        b.dense = false;
        continue;
      }
      b.dense = b.dense && !t.unusual;
      b.live[n++] = &t;
      t.group_stage = &b.stage;
      t.progress.store(rt::kTurnInGroup, std::memory_order_release);
    }
    b.n_live = n;
    int64_t clock = caller.clock_now();
    const rt::RunningStage outer = rt::tl_running_stage;
    rt::tl_running_stage = rt::RunningStage{&b.stage, labels, plan.stage_count()};
    batches.run(b, worker, clock);
    rt::tl_running_stage = outer;
    for (size_t i = first, j = 0; i < last; ++i) {
      rt::TurnState& t = pool[i];
      if (j == n || b.live[j] != &t) continue;  // refused above
      ++j;
      t.progress.store(rt::kTurnFinishing, std::memory_order_relaxed);
      t.end = clock;
      finish(t, out[i]);
      if (recorder) recorder->record(t, out[i], worker);
      t.progress.store(rt::kTurnDone, std::memory_order_release);
    }
  }
};

Engine::Engine(PipelinePlan plan, EngineOptions options) : impl_(std::make_unique<Impl>(std::move(plan), options)) {}
Engine::~Engine() = default;

void Engine::run_batch(std::span<const TurnInput> in, std::span<TurnOutcome> out) {
  Impl& engine = *impl_;
  engine.pool.grow(in.size());
  for (size_t i = 0; i < in.size(); ++i) engine.pool[i].progress.store(rt::kTurnWaiting, std::memory_order_relaxed);
  engine.live_turns.store(in.size(), std::memory_order_release);
  if (engine.recorder) engine.recorder->reserve(in.size());
  engine.caller.anchor_clock();  // no clock reads in flight between batches
  const bool batched = engine.batched();
  const size_t group = engine.micro_batch;
  rt::tsan_release(&engine);  // see tsan.hpp: parallel_for hand-offs (of everything written above)
  engine.arena->execute([&] {
    oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<size_t>(0, in.size(), std::max<size_t>(16, group)),
                              [&](const oneapi::tbb::blocked_range<size_t>& r) {
                                rt::tsan_acquire(&engine);
                                const uint32_t worker = worker_index();
                                if (batched) {
                                  for (size_t i = r.begin(); i < r.end(); i += group)
                                    engine.many(in, out, i, std::min(r.end(), i + group), worker);
                                } else {
                                  for (size_t i = r.begin(); i != r.end(); ++i)
                                    engine.one(in[i], engine.pool[i], out[i], worker);
                                }
                                rt::tsan_release(&engine);
                              });
  });
  rt::tsan_acquire(&engine);
  engine.live_turns.store(0, std::memory_order_release);
}

int32_t Engine::turn_progress(size_t i) const noexcept {
  if (i >= impl_->live_turns.load(std::memory_order_acquire)) return kTurnWaiting;
  const rt::TurnState& t = impl_->pool[i];
  const int32_t p = t.progress.load(std::memory_order_acquire);
  return p == rt::kTurnInGroup ? t.group_stage->load(std::memory_order_relaxed) : p;
}

const char* Engine::running_stage() noexcept {
  const rt::RunningStage& r = rt::tl_running_stage;
  if (r.progress == nullptr || r.labels == nullptr) return nullptr;
  const int32_t s = r.progress->load(std::memory_order_relaxed);
  return s >= 0 && static_cast<uint32_t>(s) < r.n_labels ? r.labels[s] : nullptr;
}

void Engine::cancel() noexcept { impl_->caller.cancel(); }
bool Engine::cancelled() const noexcept { return impl_->caller.cancelled(); }
const PipelinePlan& Engine::plan() const noexcept { return impl_->plan.plan; }

}  // namespace cascade
