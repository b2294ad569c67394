// The stage caller (see stage_caller.hpp). The shape of the work:
//   1. open: one instance per stage, through the host API table shared
//      with the SDK's test harness (sdk/detail/host_api.hpp);
//   2. exec_general: a stage exec() does not run on its fast path —
//      cancellation, a failed turn, injected outputs, inputs gathered;
//   3. call / call_timed: process() inline, or on the watchdog pool when
//      the stage or the turn has a deadline;
//   4. after_error: the stage's error policy (skip, fail, fallback).
#include "runtime/stage_caller.hpp"

#include <cascade/sdk/detail/host_api.hpp>

#include "isolation/process_stage.hpp"
#include "runtime/watchdog_pool.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace cascade::runtime {

using trace::StageStatus;

// ------------------------------------------------ the host API's Call, cold half
void CallCtx::log(cascade_log_level level, const char* msg) {
  const auto lvl = static_cast<spdlog::level::level_enum>(std::min<int>(level, spdlog::level::err));
  spdlog::log(lvl, "[{}] {}", caller->plan_.plan.stages[stage].id, msg);
}
bool CallCtx::param(const char* name, const char** value, size_t* len) {
  const auto& sp = caller->plan_.plan.stages[stage];
  if (auto it = sp.params.find(name); it != sp.params.end()) {
    *value = it->second.c_str();
    *len = it->second.size();
    return true;
  }
  if (const ParamInfo* p = sp.plugin->info.param(name); p != nullptr) {
    *value = p->default_value.c_str();
    *len = p->default_value.size();
    return true;
  }
  return false;
}
bool CallCtx::stop_requested() {
  return caller->cancelled() || (deadline_ns != INT64_MAX && steady_ns() >= deadline_ns);
}
int64_t CallCtx::remaining_ns() { return deadline_ns == INT64_MAX ? INT64_MAX : deadline_ns - steady_ns(); }

namespace {

void set_status(StageRun& run, cascade_status st) {
  run.status = st == CASCADE_OK               ? StageStatus::Ok
               : run.crashed                  ? StageStatus::Crashed
               : st == CASCADE_ERR_DEADLINE   ? StageStatus::Timeout
               : st == CASCADE_ERR_CANCELLED  ? StageStatus::Cancelled
                                              : StageStatus::Error;
  if (st != CASCADE_OK && run.code == 0) run.code = static_cast<uint32_t>(st);
  if (st != CASCADE_OK && run.message.empty()) run.message = "process() returned status " + std::to_string(st);
}

std::string budget_text(uint32_t timeout_ms) {
  return timeout_ms > 0 ? " of " + std::to_string(timeout_ms) + " ms" : std::string(" (turn budget)");
}

}  // namespace

// ------------------------------------------------------------ set-up
StageCaller::StageCaller(CompiledPlan& plan, bool record_runs, bool timing)
    : plan_(plan), host_(sdk::detail::host_api_table<CallCtx>()), record_runs_(record_runs), timing_(timing) {
  limiters_.resize(plan_.stages.size());
  for (size_t s = 0; s < plan_.stages.size(); ++s)
    if (plan_.stages[s].concurrency != 0) limiters_[s] = std::make_unique<Limiter>(plan_.stages[s].concurrency);
  open_all();
  plan_.attach_instances(instances_);
}

StageCaller::~StageCaller() { (void)close_all(instances_.size()); }

void StageCaller::open_all() {
  const auto& stages = plan_.plan.stages;
  instances_.assign(stages.size(), nullptr);
  isolated_.resize(stages.size());
  for (uint32_t s = 0; s < stages.size(); ++s) {
    if (stages[s].isolation == Isolation::Process) {
      try {
        isolated_[s] = std::make_unique<isolation::ProcessStage>(stages[s], plan_.stages[s].out_types, cancel_);
      } catch (...) {
        close_all(s);
        throw;
      }
      instances_[s] = isolated_[s].get();
      continue;
    }
    const auto* d = stages[s].plugin->descriptor;
    CallCtx ctx{};
    std::string open_error;
    ctx.caller = this;
    ctx.stage = s;
    ctx.open_error = &open_error;
    void* inst = nullptr;
    const auto what = [&] { return "stage '" + stages[s].id + "' (plugin " + stages[s].plugin->info.name + "): "; };
    if (d->create(&host_, reinterpret_cast<cascade_context*>(&ctx), &inst) != CASCADE_OK) {
      close_all(s);
      throw CascadeError("R001", what() + "create failed: " + open_error);
    }
    instances_[s] = inst;
    if (d->open != nullptr && d->open(inst, reinterpret_cast<cascade_context*>(&ctx)) != CASCADE_OK) {
      d->destroy(inst);
      instances_[s] = nullptr;
      close_all(s);
      throw CascadeError("R002", what() + "open failed: " + open_error);
    }
  }
}

bool StageCaller::close_all(size_t count) {
  // A stage abandoned at its deadline may still be inside process():
  // give it a moment (one that never returns must not hold the exit for
  // long), and never close an instance under its feet.
  for (int i = 0; i < 100 && timed_in_flight_.load() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (timed_in_flight_.load() > 0) {
    spdlog::warn("{} abandoned stage call(s) still running at shutdown: their instances are not closed",
                 timed_in_flight_.load());
    return false;
  }
  for (size_t s = 0; s < count && s < instances_.size(); ++s) {
    if (instances_[s] == nullptr) continue;
    if (isolated_[s]) {  // its workers close their instances
      isolated_[s].reset();
      instances_[s] = nullptr;
      continue;
    }
    const auto* d = plan_.plan.stages[s].plugin->descriptor;
    CallCtx ctx{};
    std::string close_error;
    ctx.caller = this;
    ctx.stage = static_cast<uint32_t>(s);
    ctx.open_error = &close_error;
    if (d->close != nullptr && d->close(instances_[s], reinterpret_cast<cascade_context*>(&ctx)) != CASCADE_OK)
      spdlog::warn("stage '{}': close failed: {}", plan_.plan.stages[s].id, close_error);
    d->destroy(instances_[s]);
    instances_[s] = nullptr;
  }
  return true;
}

// ------------------------------------------------------------ calls
cascade_status StageCaller::call(uint32_t s, const cascade_payload* in, uint32_t n_in, cascade_payload* out,
                                 std::string* owned, StageRun& run, int64_t turn_deadline,
                                 const TurnInput* const* turn_in) {
  const auto& sp = plan_.plan.stages[s];
  int64_t deadline = turn_deadline;
  if (sp.timeout_ms > 0) deadline = std::min(deadline, steady_ns() + int64_t{sp.timeout_ms} * 1'000'000);
  // A stage in worker processes keeps its own deadline (it kills the
  // worker): no watchdog thread needed.
  if (deadline != INT64_MAX && sp.isolation != Isolation::Process)
    return call_timed(s, in, n_in, out, owned, run, deadline, *turn_in);
  Limiter* lim = limiters_[s].get();
  if (lim != nullptr && deadline == INT64_MAX) lim->acquire();
  if (lim != nullptr && deadline != INT64_MAX && !lim->acquire_until(deadline)) {
    run.code = CASCADE_ERR_DEADLINE;
    run.message = "deadline passed while waiting for a free instance of '" + sp.id + "'";
    return CASCADE_ERR_DEADLINE;
  }
  const StageRt& stage = plan_.stages[s];
  CallCtx ctx{this, &stage, s, &run, out, owned, in, n_in, deadline, nullptr, turn_in};
  const cascade_status st = stage.process(stage.instance, reinterpret_cast<cascade_context*>(&ctx), in, n_in);
  if (lim != nullptr) lim->release();
  return st;
}

// A call that may be abandoned at its deadline, run on the watchdog pool.
// Everything the plugin touches lives in a shared TimedCall, so an
// abandoned call that returns later writes only into memory it co-owns.
cascade_status StageCaller::call_timed(uint32_t s, const cascade_payload* in, uint32_t n_in, cascade_payload* out,
                                       std::string* owned, StageRun& run, int64_t deadline, const TurnInput* turn) {
  const auto& sp = plan_.plan.stages[s];
  auto tc = std::make_shared<TimedCall>(in, n_in, sp.plugin->info.outputs.size(), turn);
  Limiter* lim = limiters_[s].get();
  if (lim != nullptr && !lim->acquire_until(deadline)) {
    run.code = CASCADE_ERR_DEADLINE;
    run.message = "deadline passed while waiting for a free instance of '" + sp.id + "'";
    return CASCADE_ERR_DEADLINE;
  }
  timed_in_flight_.fetch_add(1);
  WatchdogPool::instance().submit([this, s, tc, lim, deadline] {
    CallCtx ctx{};
    ctx.caller = this;
    ctx.stage_rt = &plan_.stages[s];
    ctx.stage = s;
    ctx.run = &tc->run;
    ctx.out = tc->vals.data();
    ctx.owned = tc->owned.data();
    ctx.in = tc->inputs.data();
    ctx.n_in = static_cast<uint32_t>(tc->inputs.size());
    ctx.deadline_ns = deadline;
    ctx.turn_in = &tc->identity_ptr;
    const StageRt& stage = plan_.stages[s];
    const cascade_status st = stage.process(stage.instance, reinterpret_cast<cascade_context*>(&ctx), ctx.in, ctx.n_in);
    if (lim != nullptr) lim->release();
    {
      std::lock_guard lock(tc->m);
      tc->status = st;
      tc->done = true;
    }
    tc->cv.notify_all();
    timed_in_flight_.fetch_sub(1);
  });

  std::unique_lock lock(tc->m);
  const auto until = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(deadline));
  if (!tc->cv.wait_until(lock, until, [&] { return tc->done; })) {
    tc->abandoned = true;
    run.code = CASCADE_ERR_DEADLINE;
    run.message = "stage '" + sp.id + "' still running at its deadline" + budget_text(sp.timeout_ms) +
                  "; the call was abandoned";
    return CASCADE_ERR_DEADLINE;
  }
  // Copy out: the slots may alias the TimedCall's input copies.
  for (size_t i = 0; i < tc->vals.size(); ++i) assign_copy(out[i], owned[i], tc->vals[i]);
  run.take_features(tc->run);
  // A plugin that polled should_stop() and gave up because its deadline
  // passed has timed out, whichever side noticed first.
  if (tc->status == CASCADE_ERR_CANCELLED && !cancel_.load() && steady_ns() >= deadline) {
    run.code = CASCADE_ERR_DEADLINE;
    run.message = "stage '" + sp.id + "' stopped at its deadline" + budget_text(sp.timeout_ms) +
                  (run.message.empty() ? std::string() : ": " + run.message);
    return CASCADE_ERR_DEADLINE;
  }
  return tc->status;
}

// Gathers a stage's inputs from the turn into `in` (stage.n_in entries).
// Returns the index of a required input that is missing, or -1.
int StageCaller::gather(const TurnState& t, const StageRt& stage, cascade_payload* in) const {
  for (uint32_t i = 0; i < stage.n_in; ++i) {
    plan_.payload_of(t.vals.data(), stage.inputs[i], in[i]);
    if (in[i].type == CASCADE_PAYLOAD_NONE && stage.optional[i] == 0) return static_cast<int>(i);
  }
  return -1;
}

// Replay and the oracle: a stage whose outputs are given is not run.
bool StageCaller::inject(TurnState& t, uint32_t s, StageRun& run) {
  bool any = false;
  for (const auto& io : t.in->injected) {
    if (io.stage != s || io.port >= plan_.stages[s].n_out) continue;
    cascade_payload& v = t.vals[plan_.stages[s].slot_base + io.port];
    v.type = io.type;
    v.sample_rate = io.sample_rate;
    v.data = io.bytes.data();
    v.size = io.bytes.size();
    if (!any) run.tfeats.emplace_back("injected", io.origin);
    any = true;
  }
  if (any) {
    run.status = StageStatus::Ok;
    run.ran = true;
  }
  return any;
}

// ------------------------------------------------------------ paths
void StageCaller::exec_general(TurnState& t, uint32_t s, int64_t& clock) {
  const auto& sp = plan_.plan.stages[s];
  StageRun& run = t.runs[s];
  run.mark();  // this path may write messages, codes, injected features
  auto finish = [&] { clock = run.end = clock_now(); };

  if (cancelled() || (t.deadline != INT64_MAX && steady_ns() >= t.deadline)) {
    run.status = StageStatus::Cancelled;
    run.message = cancel_.load() ? "run cancelled" : "turn budget exhausted before this stage";
    t.fail(s, run, /*was_cancelled=*/true);
    return finish();
  }
  if (t.failed.load(std::memory_order_acquire)) {
    run.status = StageStatus::Skipped;
    run.message = "not run: the turn failed";
    return finish();
  }
  if (!t.in->injected.empty() && inject(t, s, run)) return finish();
  const StageRt& stage = plan_.stages[s];
  // Inputs live on the stack for the usual few ports.
  thread_local std::vector<cascade_payload> many;
  cascade_payload small[8];
  if (stage.n_in > 8) many.resize(stage.n_in);
  cascade_payload* buf = stage.n_in > 8 ? many.data() : small;
  if (const int missing = gather(t, stage, buf); missing >= 0) {
    run.status = StageStatus::Skipped;
    run.message = "not run: required input '" + sp.plugin->info.inputs[static_cast<size_t>(missing)].name + "' is missing";
    return finish();
  }
  const cascade_status st =
      call(s, buf, stage.n_in, &t.vals[stage.slot_base], &t.owned[stage.slot_base], run, t.deadline, &t.in);
  run.ran = true;
  if (st != CASCADE_OK) return after_error(t, s, st, buf, clock);
  run.status = StageStatus::Ok;
  finish();
}

void StageCaller::after_error(TurnState& t, uint32_t s, cascade_status st, const cascade_payload* in, int64_t& clock) {
  const auto& sp = plan_.plan.stages[s];
  StageRun& run = t.runs[s];
  run.mark();
  set_status(run, st);
  cascade_payload* out = &t.vals[plan_.stages[s].slot_base];
  for (uint32_t i = 0; i < plan_.stages[s].n_out; ++i) clear(out[i]);
  clock = run.end = clock_now();
  switch (sp.on_error) {
    case ErrorPolicy::Skip:
      return;  // downstream sees missing inputs
    case ErrorPolicy::Fail:
      t.fail(s, run, false);
      return;
    case ErrorPolicy::Fallback: {
      const auto f = static_cast<uint32_t>(sp.fallback);
      const std::vector<int32_t>& inputs_from = plan_.fallback_inputs[s];
      const std::vector<int32_t>& outputs_from = plan_.fallback_outputs[s];
      StageRun& fallback_run = t.runs[f];
      fallback_run.mark();
      fallback_run.worker = run.worker;
      fallback_run.start = run.end;
      std::vector<cascade_payload> fallback_in(inputs_from.size());
      for (size_t i = 0; i < fallback_in.size(); ++i) {
        fallback_in[i] = cascade_payload{};
        fallback_in[i].struct_size = sizeof(cascade_payload);
        if (inputs_from[i] >= 0) fallback_in[i] = in[static_cast<size_t>(inputs_from[i])];
      }
      const uint32_t fallback_base = plan_.stages[f].slot_base;
      cascade_payload* fallback_out = &t.vals[fallback_base];
      const cascade_status fst = call(f, fallback_in.data(), static_cast<uint32_t>(fallback_in.size()), fallback_out,
                                      &t.owned[fallback_base], fallback_run, t.deadline, &t.in);
      set_status(fallback_run, fst);
      fallback_run.ran = true;
      clock = fallback_run.end = clock_now();
      if (fst != CASCADE_OK) {
        t.fail(s, run, false);
        return;
      }
      for (size_t i = 0; i < outputs_from.size(); ++i)
        if (outputs_from[i] >= 0) out[i] = fallback_out[static_cast<size_t>(outputs_from[i])];
      return;
    }
  }
}

cascade_status StageCaller::check_outputs(uint32_t s, const cascade_payload* out, StageRun& run) const {
  const StageRt& stage = plan_.stages[s];
  for (uint32_t o = 0; o < stage.n_out; ++o) {
    const uint32_t declared = stage.out_types[o];
    if (out[o].type == CASCADE_PAYLOAD_NONE || sdk::detail::output_type_ok(declared, out[o].type)) continue;
    const auto& info = plan_.plan.stages[s].plugin->info;
    run.mark();
    run.code = CASCADE_ERR_INVALID_ARGUMENT;
    run.message = sdk::detail::stored_output_refusal(out[o].type, info.outputs[o].name, declared);
    return CASCADE_ERR_INVALID_ARGUMENT;
  }
  return CASCADE_OK;
}

}  // namespace cascade::runtime
