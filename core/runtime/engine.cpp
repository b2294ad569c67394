// The engine: runs turns through a plan on oneTBB. TBB headers stay here.
//
// Why it is shaped this way (measured in docs/performance.md):
// - Many turns in flight come from a parallel_for over the batch; each
//   turn's stages run FUSED in one task, in topological order, because
//   scheduling each stage as its own task costs 5-30x a no-op stage.
// - Only when the plan has real fan-out do the branches of one turn run as
//   separate tasks (a task_group per turn), joined by per-turn counters.
// - A stage with a deadline runs on a watchdog thread so the worker can
//   stop waiting at the deadline; everything else runs inline.
#include <cascade/core/engine.hpp>
#include <cascade/trace/writer.hpp>

#include "runtime/limiter.hpp"
#include "runtime/tsan.hpp"
#include "runtime/tsc_clock.hpp"
#include "runtime/watchdog_pool.hpp"
#include "runtime/turn_state.hpp"

#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <condition_variable>
#include <functional>
#include <thread>

namespace cascade {
namespace rt = runtime;
using trace::StageStatus;

namespace {

using rt::steady_ns;
// Offset that turns steady_clock readings into Unix-epoch nanoseconds,
// measured once so the hot path reads one clock only.
int64_t epoch_offset() {
  static const int64_t off =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count() -
      steady_ns();
  return off;
}

uint32_t worker_index() {
  const int i = oneapi::tbb::this_task_arena::current_thread_index();
  return i < 0 ? 0u : static_cast<uint32_t>(i);
}

}  // namespace

struct Engine::Impl {
  PipelinePlan plan;
  std::vector<rt::StageRt> hot;
  EngineOptions opt;
  cascade_host_api host{};
  std::vector<void*> instances;
  std::vector<std::unique_ptr<rt::Limiter>> limiters;
  uint32_t n_slots = 0;
  std::vector<std::vector<uint32_t>> succs;  // stage -> successor stages (non-standby)
  std::vector<uint32_t> npred;
  std::vector<uint32_t> roots;
  bool parallel_branches = false;
  // fallback stage input i <- original stage input map[i]; outputs likewise
  std::vector<std::vector<int32_t>> fb_in, fb_out;
  std::atomic<bool> cancel{false};
  std::atomic<int> timed_in_flight{0};
  std::unique_ptr<oneapi::tbb::task_arena> arena;
  std::vector<std::unique_ptr<rt::TurnState>> pool;  // reused across batches
  // Per stage, per pool entry: what a process_batch() call over pool
  // entries [i, j) passes (its arrays start at entry i), built with the pool.
  std::vector<std::vector<cascade_context*>> batch_ctxs;
  std::vector<std::vector<const cascade_payload*>> batch_ins;
  std::vector<std::vector<cascade_payload*>> batch_outs;
  std::vector<std::vector<rt::StageRun*>> batch_runs;  // the bookkeeping after the call
  bool timing = true;  // read clocks (tracing on, or latencies wanted)
  rt::TscClock tsc;  // per-stage timings (anchored between batches)
  std::vector<uint32_t> order;          // non-standby stages, topological order
  std::vector<uint32_t> standby_slots;  // output slots of fallback-only stages
  uint32_t max_ports = 1;               // most input or output ports of a stage
  uint32_t micro_batch = 1;             // opt.micro_batch, at least 1
  // Stage-major micro-batches (many()) instead of one turn at a time (one()).
  [[nodiscard]] bool batched() const { return micro_batch > 1 && !parallel_branches; }

  // ---------------------------------------------------------------- host
  static rt::CallCtx* ctx_of(cascade_context* c) { return reinterpret_cast<rt::CallCtx*>(c); }

  static void h_log(cascade_context* c, cascade_log_level lvl, const char* msg) {
    auto* x = ctx_of(c);
    const auto level = static_cast<spdlog::level::level_enum>(std::min<int>(lvl, spdlog::level::err));
    spdlog::log(level, "[{}] {}", x->eng->plan.stages[x->stage].id, msg != nullptr ? msg : "");
  }
  static int h_get_param(cascade_context* c, const char* name, const char** v, size_t* n) {
    auto* x = ctx_of(c);
    const auto& sp = x->eng->plan.stages[x->stage];
    if (auto it = sp.params.find(name); it != sp.params.end()) {
      *v = it->second.c_str();
      *n = it->second.size();
      return 1;
    }
    if (const ParamInfo* p = sp.plugin->info.param(name); p != nullptr) {
      *v = p->default_value.c_str();
      *n = p->default_value.size();
      return 1;
    }
    return 0;
  }
  static void h_set_error(cascade_context* c, cascade_status code, int transient, const char* msg) {
    auto* x = ctx_of(c);
    if (x->run == nullptr) {
      if (x->open_error != nullptr) *x->open_error = msg != nullptr ? msg : "";
      return;
    }
    x->run->mark();
    x->run->code = static_cast<uint32_t>(code);
    x->run->transient = transient != 0;
    x->run->message = msg != nullptr ? msg : "";
  }
  static cascade_status h_emit(cascade_context* c, uint32_t port, const cascade_payload* p) {
    auto* x = ctx_of(c);
    if (x->out == nullptr || p == nullptr) return CASCADE_ERR_UNSUPPORTED;  // outside process()
    if (port >= x->h->n_out) return CASCADE_ERR_INVALID_ARGUMENT;
    const uint32_t declared = x->h->out_types[port];
    if (declared != CASCADE_PAYLOAD_ANY && p->type != declared) return CASCADE_ERR_INVALID_ARGUMENT;
    cascade_payload& v = x->out[port];
    v.type = p->type;
    v.sample_rate = CASCADE_HAS_FIELD(p, cascade_payload, sample_rate) ? p->sample_rate : 0;
    v.size = p->size;
    // Forwarding an input is free: inputs outlive the turn's processing.
    for (uint32_t i = 0; i < x->n_inputs; ++i) {
      if (x->inputs[i].data == p->data && x->inputs[i].size == p->size && p->size != 0) {
        v.data = p->data;
        return CASCADE_OK;
      }
    }
    std::string& owned = x->owned[port];
    owned.assign(static_cast<const char*>(p->data), static_cast<size_t>(p->size));
    v.data = owned.data();
    return CASCADE_OK;
  }
  // ABI 1.1: a pass-through without the copy detection emit() needs.
  static cascade_status h_forward(cascade_context* c, uint32_t port, uint32_t in_port) {
    auto* x = ctx_of(c);
    if (x->out == nullptr) [[unlikely]]
      return CASCADE_ERR_UNSUPPORTED;  // outside process()
    if (port >= x->h->n_out || in_port >= x->n_inputs) [[unlikely]]
      return CASCADE_ERR_INVALID_ARGUMENT;
    const cascade_payload& p = x->inputs[in_port];
    const uint32_t declared = x->h->out_types[port];
    if (declared != CASCADE_PAYLOAD_ANY && p.type != declared) [[unlikely]]
      return CASCADE_ERR_INVALID_ARGUMENT;
    x->out[port] = p;
    return CASCADE_OK;
  }
  static void h_confidence(cascade_context* c, double v) {
    if (auto* r = ctx_of(c)->run) {
      r->mark();
      r->has_conf = true;
      r->conf = v;
    }
  }
  static void h_nbest(cascade_context* c, const char* t, size_t n, double score) {
    if (auto* r = ctx_of(c)->run) {
      r->mark();
      r->nbest.emplace_back(std::string(t, n), score);
    }
  }
  static void h_feature(cascade_context* c, const char* k, double v) {
    if (auto* r = ctx_of(c)->run) {
      r->mark();
      r->feats.emplace_back(k, v);
    }
  }
  static void h_feature_text(cascade_context* c, const char* k, const char* v, size_t n) {
    if (auto* r = ctx_of(c)->run) {
      r->mark();
      r->tfeats.emplace_back(k, std::string(v, n));
    }
  }
  static int h_should_stop(cascade_context* c) {
    auto* x = ctx_of(c);
    if (x->eng->cancel.load(std::memory_order_relaxed)) return 1;
    return x->deadline_ns != INT64_MAX && steady_ns() >= x->deadline_ns ? 1 : 0;
  }
  static int64_t h_remaining(cascade_context* c) {
    auto* x = ctx_of(c);
    return x->deadline_ns == INT64_MAX ? INT64_MAX : x->deadline_ns - steady_ns();
  }

  // ------------------------------------------------------------ set-up
  Impl(PipelinePlan p, EngineOptions o) : plan(std::move(p)), opt(o) {
    host.struct_size = sizeof host;
    host.abi_major = CASCADE_ABI_MAJOR;
    host.abi_minor = CASCADE_ABI_MINOR;
    host.log = &h_log;
    host.get_param = &h_get_param;
    host.set_error = &h_set_error;
    host.emit = &h_emit;
    host.report_confidence = &h_confidence;
    host.report_nbest = &h_nbest;
    host.report_feature = &h_feature;
    host.report_feature_text = &h_feature_text;
    host.should_stop = &h_should_stop;
    host.remaining_ns = &h_remaining;
    host.forward = &h_forward;

    const auto n = static_cast<uint32_t>(plan.stages.size());
    hot.resize(n);
    succs.resize(n);
    npred.assign(n, 0);
    fb_in.resize(n);
    fb_out.resize(n);
    for (uint32_t s = 0; s < n; ++s) {
      hot[s].slot_base = n_slots;  // first output slot of stage s
      n_slots += static_cast<uint32_t>(plan.stages[s].plugin->info.outputs.size());
    }
    for (uint32_t s = 0; s < n; ++s) {
      const auto& sp = plan.stages[s];
      if (sp.standby) continue;
      std::vector<uint32_t> preds;
      for (const auto& b : sp.inputs)
        if (b.kind == Binding::Kind::StageOutput && std::find(preds.begin(), preds.end(), b.stage) == preds.end())
          preds.push_back(b.stage);
      npred[s] = static_cast<uint32_t>(preds.size());
      for (auto pr : preds) succs[pr].push_back(s);
      if (preds.empty()) roots.push_back(s);
      if (sp.on_error == ErrorPolicy::Fallback && sp.fallback >= 0) {
        const auto& a = sp.plugin->info;
        const auto& f = plan.stages[static_cast<size_t>(sp.fallback)].plugin->info;
        for (const auto& in : f.inputs) {
          int32_t idx = -1;
          for (size_t i = 0; i < a.inputs.size(); ++i)
            if (a.inputs[i].name == in.name) idx = static_cast<int32_t>(i);
          fb_in[s].push_back(idx);
        }
        for (const auto& out : a.outputs) {
          int32_t idx = -1;
          for (size_t i = 0; i < f.outputs.size(); ++i)
            if (f.outputs[i].name == out.name) idx = static_cast<int32_t>(i);
          fb_out[s].push_back(idx);
        }
      }
    }
    // Branches run in parallel only where some stage feeds two or more.
    for (const auto& v : succs) parallel_branches = parallel_branches || v.size() > 1;
    if (roots.size() > 1) parallel_branches = true;

    batch_ctxs.resize(n);
    batch_ins.resize(n);
    batch_outs.resize(n);
    batch_runs.resize(n);
    limiters.resize(n);
    for (uint32_t s = 0; s < n; ++s) {
      uint32_t cap = plan.stages[s].plugin->info.max_concurrency;
      const uint32_t own = plan.stages[s].concurrency;
      if (own != 0 && (cap == 0 || own < cap)) cap = own;
      if (cap != 0) limiters[s] = std::make_unique<rt::Limiter>(cap);
    }
    arena = std::make_unique<oneapi::tbb::task_arena>(static_cast<int>(std::max(1u, opt.threads)));
    timing = opt.trace != nullptr || opt.measure_latency;
    micro_batch = std::max(1u, opt.micro_batch);
    open_all();
    std::vector<std::string_view> in_names, out_names;
    for (uint32_t s = 0; s < n; ++s) {
      const auto& sp = plan.stages[s];
      rt::StageRt& h = hot[s];
      h.process = sp.plugin->descriptor->process;
      h.instance = instances[s];
      h.n_in = static_cast<uint32_t>(sp.inputs.size());
      h.n_out = static_cast<uint32_t>(sp.plugin->info.outputs.size());
      h.inputs = plan.stages[s].inputs.data();
      for (const auto& p : sp.plugin->info.inputs) h.optional.push_back(p.optional ? 1 : 0);
      for (const auto& p : sp.plugin->info.outputs) h.out_types.push_back(p.type);
      max_ports = std::max({max_ports, h.n_in, h.n_out});
      // A turn frame's payload table is the turn's slots: the port -> slot
      // map is fixed for the plan, and the writer learns it once.
      for (const auto& b : sp.inputs)
        h.port_slots.push_back(b.kind == Binding::Kind::StageOutput ? hot[b.stage].slot_base + b.port
                               : b.kind == Binding::Kind::TurnInput ? n_slots  // the input slot
                                                                    : trace::kNoPayload);
      for (uint32_t i = 0; i < h.n_out; ++i) h.port_slots.push_back(h.slot_base + i);
      if (opt.trace != nullptr) {
        in_names.clear();
        out_names.clear();
        for (const auto& p : sp.plugin->info.inputs) in_names.emplace_back(p.name);
        for (const auto& p : sp.plugin->info.outputs) out_names.emplace_back(p.name);
        h.decl = opt.trace->declare(
            {sp.id, sp.plugin->info.name, sp.plugin->info.version, in_names, out_names, h.port_slots});
      }
      if (h.n_in == 1 && sp.timeout_ms == 0) {
        const Binding& b = sp.inputs[0];
        if (b.kind == Binding::Kind::TurnInput) h.in_slot = static_cast<int32_t>(n_slots);  // the input slot
        if (b.kind == Binding::Kind::StageOutput) h.in_slot = static_cast<int32_t>(hot[b.stage].slot_base + b.port);
        h.required0 = h.optional[0] == 0;
        h.simple = h.in_slot >= 0 && limiters[s] == nullptr;
      }
      const cascade_plugin_descriptor* d = sp.plugin->descriptor;
      if (CASCADE_HAS_FIELD(d, cascade_plugin_descriptor, process_batch)) h.process_batch = d->process_batch;
      for (const uint32_t t : h.out_types) h.outputs_any = h.outputs_any && t == CASCADE_PAYLOAD_ANY;
      h.standby = sp.standby;
      if (sp.standby)
        for (uint32_t i = 0; i < h.n_out; ++i) standby_slots.push_back(h.slot_base + i);
      else
        order.push_back(s);
    }
  }

  void open_all() {
    instances.assign(plan.stages.size(), nullptr);
    for (uint32_t s = 0; s < plan.stages.size(); ++s) {
      const auto* d = plan.stages[s].plugin->descriptor;
      rt::CallCtx ctx{};
      std::string open_error;
      ctx.eng = this;
      ctx.stage = s;
      ctx.open_error = &open_error;
      void* inst = nullptr;
      if (d->create(&host, reinterpret_cast<cascade_context*>(&ctx), &inst) != CASCADE_OK) {
        close_all(s);
        throw CascadeError("R001", "stage '" + plan.stages[s].id + "' (plugin " + plan.stages[s].plugin->info.name +
                                       "): create failed: " + open_error);
      }
      instances[s] = inst;
      if (d->open != nullptr && d->open(inst, reinterpret_cast<cascade_context*>(&ctx)) != CASCADE_OK) {
        d->destroy(inst);
        instances[s] = nullptr;
        close_all(s);
        throw CascadeError("R002", "stage '" + plan.stages[s].id + "' (plugin " + plan.stages[s].plugin->info.name +
                                       "): open failed: " + open_error);
      }
    }
  }
  void close_all(size_t count) {
    // A stage abandoned at its deadline may still be inside process():
    // give it a moment, and never close an instance under its feet.
    for (int i = 0; i < 500 && timed_in_flight.load() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (timed_in_flight.load() > 0) {
      spdlog::warn("{} abandoned stage call(s) still running at shutdown: their instances are not closed",
                   timed_in_flight.load());
      return;
    }
    for (size_t s = 0; s < count && s < instances.size(); ++s) {
      if (instances[s] == nullptr) continue;
      const auto* d = plan.stages[s].plugin->descriptor;
      rt::CallCtx ctx{};
      std::string close_error;
      ctx.eng = this;
      ctx.stage = static_cast<uint32_t>(s);
      ctx.open_error = &close_error;
      if (d->close != nullptr && d->close(instances[s], reinterpret_cast<cascade_context*>(&ctx)) != CASCADE_OK)
        spdlog::warn("stage '{}': close failed: {}", plan.stages[s].id, close_error);
      d->destroy(instances[s]);
      instances[s] = nullptr;
    }
  }

  // ------------------------------------------------------------ running
  // Runs one stage's process() into `out`. Returns its status; fills run.
  cascade_status call(uint32_t s, const cascade_payload* in, uint32_t n_in, cascade_payload* out, std::string* owned,
                      rt::StageRun& run, int64_t turn_deadline) {
    const auto& sp = plan.stages[s];
    int64_t deadline = turn_deadline;
    if (sp.timeout_ms > 0) deadline = std::min(deadline, steady_ns() + int64_t{sp.timeout_ms} * 1'000'000);
    if (deadline != INT64_MAX) [[unlikely]]
      return call_timed(s, in, n_in, out, owned, run, deadline);
    rt::Limiter* lim = limiters[s].get();
    if (lim != nullptr) lim->acquire();
    const rt::StageRt& h = hot[s];
    rt::CallCtx ctx{this, &h, s, &run, out, owned, in, n_in, INT64_MAX, nullptr};
    const cascade_status st = h.process(h.instance, reinterpret_cast<cascade_context*>(&ctx), in, n_in);
    if (lim != nullptr) lim->release();
    return st;
  }

  // A call that may be abandoned at its deadline, run on the watchdog
  // pool. Everything the plugin touches lives in a shared TimedCall, so an
  // abandoned call that returns later writes only into memory it co-owns.
  cascade_status call_timed(uint32_t s, const cascade_payload* in, uint32_t n_in, cascade_payload* out,
                            std::string* owned, rt::StageRun& run, int64_t deadline) {
    const auto& sp = plan.stages[s];
    auto tc = std::make_shared<rt::TimedCall>(in, n_in, sp.plugin->info.outputs.size());
    rt::Limiter* lim = limiters[s].get();
    if (lim != nullptr && !lim->acquire_until(deadline)) {
      run.code = CASCADE_ERR_DEADLINE;
      run.message = "deadline passed while waiting for a free instance of '" + sp.id + "'";
      return CASCADE_ERR_DEADLINE;
    }
    timed_in_flight.fetch_add(1);
    rt::WatchdogPool::instance().submit([this, s, tc, lim, deadline] {
      rt::CallCtx ctx{};
      ctx.eng = this;
      ctx.h = &hot[s];
      ctx.stage = s;
      ctx.run = &tc->run;
      ctx.out = tc->vals.data();
      ctx.owned = tc->owned.data();
      ctx.inputs = tc->inputs.data();
      ctx.n_inputs = static_cast<uint32_t>(tc->inputs.size());
      ctx.deadline_ns = deadline;
      const auto& d = *plan.stages[s].plugin->descriptor;
      const cascade_status st = d.process(instances[s], reinterpret_cast<cascade_context*>(&ctx), ctx.inputs,
                                          ctx.n_inputs);
      if (lim != nullptr) lim->release();
      {
        std::lock_guard lock(tc->m);
        tc->status = st;
        tc->done = true;
      }
      tc->cv.notify_all();
      timed_in_flight.fetch_sub(1);
    });

    std::unique_lock lock(tc->m);
    const auto until = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(deadline));
    if (!tc->cv.wait_until(lock, until, [&] { return tc->done; })) {
      tc->abandoned = true;
      run.code = CASCADE_ERR_DEADLINE;
      const auto budget_ms = sp.timeout_ms;
      run.message = "stage '" + sp.id + "' still running at its deadline" +
                    (budget_ms > 0 ? " of " + std::to_string(budget_ms) + " ms" : std::string(" (turn budget)")) +
                    "; the call was abandoned";
      return CASCADE_ERR_DEADLINE;
    }
    // Copy out: the slots may alias the TimedCall's input copies.
    for (size_t i = 0; i < tc->vals.size(); ++i) rt::assign_copy(out[i], owned[i], tc->vals[i]);
    run.take_features(tc->run);
    // A plugin that polled should_stop() and gave up because its deadline
    // passed has timed out, whichever side noticed first.
    if (tc->status == CASCADE_ERR_CANCELLED && !cancel.load() && steady_ns() >= deadline) {
      run.code = CASCADE_ERR_DEADLINE;
      run.message = "stage '" + sp.id + "' stopped at its deadline" +
                    (sp.timeout_ms > 0 ? " of " + std::to_string(sp.timeout_ms) + " ms" : std::string(" (turn budget)")) +
                    (run.message.empty() ? std::string() : ": " + run.message);
      return CASCADE_ERR_DEADLINE;
    }
    return tc->status;
  }

  // Fills `p` with what an input bound to `b` sees in turn `t` (type NONE
  // when unbound). Fills in place: it runs for every input of every stage.
  void payload_of(const rt::TurnState& t, const Binding& b, cascade_payload& p) const {
    p.struct_size = sizeof p;
    if (b.kind == Binding::Kind::StageOutput) {
      p = t.vals[hot[b.stage].slot_base + b.port];
    } else if (b.kind == Binding::Kind::TurnInput) {
      p = t.vals.back();
    } else {
      p.type = CASCADE_PAYLOAD_NONE;
      p.data = nullptr;
      p.size = 0;
      p.sample_rate = 0;
    }
  }

  // Gathers a stage's inputs from the turn into `in` (h.n_in entries).
  // Returns the index of a required input that is missing, or -1.
  int gather(const rt::TurnState& t, const rt::StageRt& h, cascade_payload* in) const {
    for (uint32_t i = 0; i < h.n_in; ++i) {
      payload_of(t, h.inputs[i], in[i]);
      if (in[i].type == CASCADE_PAYLOAD_NONE && h.optional[i] == 0) return static_cast<int>(i);
    }
    return -1;
  }

  // Replay and the oracle: a stage whose outputs are given is not run.
  bool inject(rt::TurnState& t, uint32_t s, rt::StageRun& run) {
    bool any = false;
    for (const auto& io : t.in->injected) {
      if (io.stage != s || io.port >= plan.stages[s].plugin->info.outputs.size()) continue;
      cascade_payload& v = t.vals[hot[s].slot_base + io.port];
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

  void set_status(rt::StageRun& run, cascade_status st) {
    run.status = st == CASCADE_OK               ? StageStatus::Ok
                 : st == CASCADE_ERR_DEADLINE   ? StageStatus::Timeout
                 : st == CASCADE_ERR_CANCELLED  ? StageStatus::Cancelled
                                                : StageStatus::Error;
    if (st != CASCADE_OK && run.code == 0) run.code = static_cast<uint32_t>(st);
    if (st != CASCADE_OK && run.message.empty()) run.message = "process() returned status " + std::to_string(st);
  }

  int64_t clock_now() const { return timing ? tsc.now() : 0; }

  // Executes stage s of turn t. The common case (one input present, no
  // timeout, no concurrency limit, nothing unusual about the turn) runs
  // here in a few dozen instructions; everything else in exec_general.
  // `clock`: the last clock reading of this task (a fused chain reads the
  // clock once per stage boundary: one stage's end is the next one's start).
  // Always inlined: called from three places, it would otherwise become a
  // call per stage in run_turn's loop (+30 instructions a 5-stage turn).
  [[gnu::always_inline]] inline void exec(rt::TurnState& t, uint32_t s, uint32_t worker, int64_t& clock) {
    const rt::StageRt& h = hot[s];
    rt::CallCtx& ctx = t.ctxs[s];
    rt::StageRun& run = *ctx.run;
    // Without a trace, a stage that runs ok leaves its run untouched (see
    // StageRun): its status, worker and times are the trace's.
    const bool traced = opt.trace != nullptr;
    if (traced) {
      run.worker = worker;
      run.start = clock;
    }
    for (uint32_t i = 0; i < h.n_out; ++i) rt::clear(ctx.out[i]);
    if (!h.simple) [[unlikely]]
      return exec_general(t, s, clock);
    const cascade_payload* in = ctx.inputs;
    if (t.unusual || t.failed.load(std::memory_order_relaxed) || cancel.load(std::memory_order_relaxed) ||
        (h.required0 && in->type == CASCADE_PAYLOAD_NONE)) [[unlikely]]
      return exec_general(t, s, clock);
    const cascade_status st = h.process(h.instance, reinterpret_cast<cascade_context*>(&ctx), in, 1);
    if (st != CASCADE_OK) [[unlikely]] {
      run.ran = true;
      return after_error(t, s, st, in, clock);
    }
    clock = clock_now();
    if (traced) {
      run.ran = true;
      run.status = StageStatus::Ok;
      run.end = clock;
    }
  }

  // Every case exec() does not take: cancellation, turn budget, a failed
  // turn, injected outputs, missing inputs, several inputs, timeouts, limits.
  [[gnu::noinline]] void exec_general(rt::TurnState& t, uint32_t s, int64_t& clock) {
    const auto& sp = plan.stages[s];
    rt::StageRun& run = t.runs[s];
    run.mark();  // this path may write messages, codes, injected features
    auto finish = [&] { clock = run.end = clock_now(); };

    if (cancel.load(std::memory_order_relaxed) || (t.deadline != INT64_MAX && steady_ns() >= t.deadline)) {
      run.status = StageStatus::Cancelled;
      run.message = cancel.load() ? "run cancelled" : "turn budget exhausted before this stage";
      t.fail(s, run, /*was_cancelled=*/true);
      return finish();
    }
    if (t.failed.load(std::memory_order_acquire)) {
      run.status = StageStatus::Skipped;
      run.message = "not run: the turn failed";
      return finish();
    }
    if (!t.in->injected.empty() && inject(t, s, run)) return finish();
    const rt::StageRt& h = hot[s];
    // Inputs live on the stack for the usual few ports.
    thread_local std::vector<cascade_payload> many;
    cascade_payload small[8];
    if (h.n_in > 8) many.resize(h.n_in);
    cascade_payload* buf = h.n_in > 8 ? many.data() : small;
    if (const int missing = gather(t, h, buf); missing >= 0) {
      run.status = StageStatus::Skipped;
      run.message = "not run: required input '" + sp.plugin->info.inputs[static_cast<size_t>(missing)].name + "' is missing";
      return finish();
    }
    const cascade_status st = call(s, buf, h.n_in, &t.vals[h.slot_base], &t.owned[h.slot_base], run, t.deadline);
    run.ran = true;
    if (st != CASCADE_OK) return after_error(t, s, st, buf, clock);
    run.status = StageStatus::Ok;
    finish();
  }

  // Stage s returned `st` != OK: record it, clear its outputs, apply its
  // error policy. `in`: the inputs it was given (a fallback gets them too).
  [[gnu::noinline]] void after_error(rt::TurnState& t, uint32_t s, cascade_status st, const cascade_payload* in,
                                     int64_t& clock) {
    const auto& sp = plan.stages[s];
    rt::StageRun& run = t.runs[s];
    run.mark();
    set_status(run, st);
    cascade_payload* out = &t.vals[hot[s].slot_base];
    for (uint32_t i = 0; i < hot[s].n_out; ++i) rt::clear(out[i]);
    clock = run.end = clock_now();
    switch (sp.on_error) {
      case ErrorPolicy::Skip:
        return;  // downstream sees missing inputs
      case ErrorPolicy::Fail:
        t.fail(s, run, false);
        return;
      case ErrorPolicy::Fallback: {
        const auto f = static_cast<uint32_t>(sp.fallback);
        rt::StageRun& frun = t.runs[f];
        frun.mark();
        frun.worker = run.worker;
        frun.start = run.end;
        std::vector<cascade_payload> fin(fb_in[s].size());
        for (size_t i = 0; i < fin.size(); ++i) {
          fin[i] = cascade_payload{};
          fin[i].struct_size = sizeof(cascade_payload);
          if (fb_in[s][i] >= 0) fin[i] = in[static_cast<size_t>(fb_in[s][i])];
        }
        cascade_payload* fout = &t.vals[hot[f].slot_base];
        const cascade_status fst = call(f, fin.data(), static_cast<uint32_t>(fin.size()), fout,
                                        &t.owned[hot[f].slot_base], frun, t.deadline);
        set_status(frun, fst);
        frun.ran = true;
        clock = frun.end = clock_now();
        if (fst != CASCADE_OK) {
          t.fail(s, run, false);
          return;
        }
        for (size_t i = 0; i < fb_out[s].size(); ++i)
          if (fb_out[s][i] >= 0) out[i] = fout[static_cast<size_t>(fb_out[s][i])];
        return;
      }
    }
  }

  // Runs the turn's stages; sets t.end.
  void run_turn(rt::TurnState& t, uint32_t worker) {
    if (!parallel_branches) {
      int64_t clock = t.start;
      for (const uint32_t s : order) exec(t, s, worker, clock);
      t.end = clock;  // the last clock read, at the end of the last stage: one read fewer a turn
      return;
    }
    for (uint32_t s = 0; s < plan.stages.size(); ++s) t.pending[s].store(npred[s], std::memory_order_relaxed);
    oneapi::tbb::task_group tg;
    // Runs s, then whichever successors it made ready: the first inline
    // (a linear run stays in one task), the others as new tasks.
    std::function<void(uint32_t)> node;
    // A new task for stage s (tsan_*: see tsan.hpp; the task acquires
    // before it touches `node`).
    auto spawn = [&](uint32_t s) {
      rt::tsan_release(&t);
      tg.run([&node, &t, s] {
        rt::tsan_acquire(&t);
        node(s);
      });
    };
    node = [&](uint32_t s) {
      int64_t clock = clock_now();
      const uint32_t w = worker_index();
      for (;;) {
        exec(t, s, w, clock);
        int next = -1;
        for (uint32_t succ : succs[s]) {
          if (t.pending[succ].fetch_sub(1, std::memory_order_acq_rel) != 1) continue;
          if (next < 0) next = static_cast<int>(succ);
          else spawn(succ);
        }
        if (next < 0) break;
        s = static_cast<uint32_t>(next);
      }
      rt::tsan_release(&t);
    };
    for (size_t i = 1; i < roots.size(); ++i) spawn(roots[i]);
    if (!roots.empty()) node(roots[0]);
    tg.wait();
    rt::tsan_acquire(&t);
    t.end = clock_now();
  }

  // Grows the pool to `size` and shapes the new turn states once: arrays
  // sized, per-stage call contexts and the turn frame's constant fields set
  // (slots and runs never move afterwards), entries appended to the
  // batch-call arrays. The states are allocated first, side by side, then
  // each kind of array in a pass of its own: turn after turn, each kind
  // then lies in one run of memory, in the order the engine visits them.
  // (A state and its arrays interleaved made traced turns ~1.5x slower in
  // wall time at the same instruction count.)
  void grow_pool(size_t size) {
    const size_t first = pool.size();
    const auto n = static_cast<uint32_t>(plan.stages.size());
    const size_t slots = n_slots + 1;  // every stage output, then the turn input
    while (pool.size() < size) pool.push_back(std::make_unique<rt::TurnState>());
    auto each = [&](auto&& f) {
      for (size_t i = first; i < size; ++i) f(*pool[i]);
    };
    each([&](rt::TurnState& t) { t.vals.assign(slots, rt::kNone); });
    each([&](rt::TurnState& t) {
      t.runs.resize(n);
      for (auto& r : t.runs) r.turn_dirty = &t.runs_dirty;
    });
    each([&](rt::TurnState& t) { t.owned.resize(slots); });
    each([&](rt::TurnState& t) { t.ctxs.resize(n); });
    each([&](rt::TurnState& t) { t.pending = std::make_unique<std::atomic<uint32_t>[]>(n); });
    each([&](rt::TurnState& t) { t.frame_stages.resize(n); });
    each([&](rt::TurnState& t) { t.frame_payloads.resize(slots); });
    each([&](rt::TurnState& t) {
      for (uint32_t s = 0; s < n; ++s) {
        const rt::StageRt& h = hot[s];
        const cascade_payload* x = h.in_slot >= 0 ? &t.vals[static_cast<uint32_t>(h.in_slot)] : nullptr;
        t.ctxs[s] = rt::CallCtx{this, &h, s, &t.runs[s], &t.vals[h.slot_base], &t.owned[h.slot_base], x, 1, INT64_MAX,
                                nullptr};
        batch_ctxs[s].push_back(reinterpret_cast<cascade_context*>(&t.ctxs[s]));
        batch_ins[s].push_back(x);
        batch_outs[s].push_back(t.ctxs[s].out);
        batch_runs[s].push_back(&t.runs[s]);
      }
      t.frame.turn.config_digest = plan.digest;
      t.frame.turn.payloads_stable = true;
      t.frame.input = static_cast<uint32_t>(slots - 1);  // the input slot
      t.frame.payloads = t.frame_payloads;
    });
  }

  // Without a trace only dirty runs are reset (see StageRun).
  void begin(rt::TurnState& t, const TurnInput& in) {
    t.reset(in, standby_slots, /*reset_runs=*/opt.trace != nullptr);
    t.start = clock_now();
    t.deadline = opt.turn_timeout_ms > 0 ? steady_ns() + int64_t{opt.turn_timeout_ms} * 1'000'000 : INT64_MAX;
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
    o.start_ns = timing ? t.start + epoch_offset() : 0;
    o.end_ns = timing ? t.end + epoch_offset() : 0;
    if (t.failed_stage >= 0) {
      const auto& r = t.runs[static_cast<size_t>(t.failed_stage)];
      const bool cancelled = t.cancelled || r.status == StageStatus::Cancelled;
      o.status = cancelled ? trace::TurnStatus::Cancelled : trace::TurnStatus::Failed;
      o.failed_stage = plan.stages[static_cast<size_t>(t.failed_stage)].id;
      o.error_code = cancelled ? "R011" : (r.status == StageStatus::Timeout ? "R010" : "R012");
      o.error = r.message;
    }
    if (plan.result.kind == Binding::Kind::StageOutput) {
      const cascade_payload& v = t.vals[hot[plan.result.stage].slot_base + plan.result.port];
      o.result_type = v.type;
      // Most turns' results are as long as the last one's in this outcome:
      // copy over the bytes instead of a general assign.
      if (v.size > 0 && o.result.size() == v.size)
        std::memcpy(o.result.data(), v.data, static_cast<size_t>(v.size));
      else
        o.result.assign(static_cast<const char*>(v.data), static_cast<size_t>(v.size));
    } else {
      o.result.clear();
    }
  }

  // A stage run a turn frame can carry: ran and finished ok with nothing
  // to report but, perhaps, a confidence.
  static bool plain(const rt::StageRun& r) {
    return r.status == StageStatus::Ok &&
           (!r.dirty || (r.code == 0 && !r.transient && r.message.empty() && r.nbest.empty() && r.feats.empty() &&
                         r.tfeats.empty()));
  }

  static trace::TurnKey turn_key(const rt::TurnState& t) {
    return {t.in->dialogue_id, t.in->user_id, t.in->turn_index, t.in->turn_seq};
  }

  // What changes per turn in a turn record, shared by both ways of
  // recording a turn (a frame keeps its TurnEvent across turns).
  static void set_turn_fields(trace::TurnEvent& te, const rt::TurnState& t, const TurnOutcome& o) {
    te.turn = turn_key(t);
    te.timestamp = t.in->timestamp;
    te.start_ns = o.start_ns;
    te.end_ns = o.end_ns;
    te.status = o.status;
    te.gold_json = t.in->gold_json;
    // The turn record carries the result payload itself when it is JSON, a
    // text result as a JSON string (status and errors are fields and stage
    // records). The view is written before this thread sets the next one.
    thread_local std::string text_result;
    te.result_json = o.result_for_trace(text_result);
  }

  trace::TurnEvent turn_event(const rt::TurnState& t, const TurnOutcome& o) const {
    trace::TurnEvent te;
    te.config_digest = plan.digest;
    te.input = {"input", t.in->payload_type, t.in->sample_rate, t.in->payload.data(), t.in->payload.size()};
    te.payloads_stable = true;  // the turn's slots do not change until its records are written
    set_turn_fields(te, t, o);
    return te;
  }

  // The common turn (every stage that was due ran and is plain()) as ONE
  // trace record: the turn's slots once, each stage a handle, two times and
  // a worker (which slot a port sees was declared once: hot[s].port_slots).
  // Returns false, having written nothing, for any other turn.
  bool record_frame(rt::TurnState& t, const TurnOutcome& o, uint32_t worker) {
    const int64_t off = epoch_offset();
    const size_t n_stages = t.runs.size(), n_slots = t.vals.size();
    trace::FrameStage* const fs = t.frame_stages.data();
    size_t n = 0;
    for (size_t s = 0; s < n_stages; ++s) {
      const rt::StageRun& r = t.runs[s];
      if (!r.ran) {
        if (hot[s].standby) continue;  // a fallback nobody needed
        return false;
      }
      if (!plain(r)) return false;
      // A plain stage ran to its end: r.end is set.
      fs[n++] = {hot[s].decl, r.start + off, r.end + off, r.worker, r.has_conf, r.conf};
    }
    trace::PayloadView* const pv = t.frame_payloads.data();
    for (size_t i = 0; i < n_slots; ++i) {
      const cascade_payload& v = t.vals[i];
      pv[i].type = v.type;
      pv[i].sample_rate = v.sample_rate;
      pv[i].data = v.data;
      pv[i].size = v.size;
    }
    set_turn_fields(t.frame.turn, t, o);  // the digest and the input index were set in begin()
    t.frame.stages = {fs, n};
    opt.trace->write(worker, t.frame);
    return true;
  }

  // A turn frame when the turn allows it; otherwise one stage record per
  // stage, then the turn record. A stage that ran is written as a DECLARED
  // record (names and ports registered with the writer once: hot[s].decl).
  void record(rt::TurnState& t, const TurnOutcome& o, uint32_t worker) {
    if (record_frame(t, o, worker)) [[likely]]
      return;
    trace::Writer& w = *opt.trace;
    thread_local std::vector<trace::PayloadView> ins, outs;
    thread_local std::vector<trace::NBestView> nb;
    thread_local std::vector<trace::FeatureView> fs;
    thread_local std::vector<trace::TextFeatureView> tfs;
    const int64_t off = epoch_offset();
    trace::StageEvent ev;
    ev.turn = turn_key(t);
    ev.payloads_stable = true;  // the turn's slots do not change until its records are written
    if (ins.size() < max_ports) {
      ins.resize(max_ports);
      outs.resize(max_ports);
    }
    for (uint32_t s = 0; s < plan.stages.size(); ++s) {
      const auto& sp = plan.stages[s];
      const rt::StageRun& r = t.runs[s];
      if (sp.standby && !r.ran) continue;
      const rt::StageRt& h = hot[s];
      if (r.ran) [[likely]] {
        // Declared: every port by position, absent ones as type 0.
        for (uint32_t i = 0; i < h.n_in; ++i) {
          cascade_payload p;
          payload_of(t, h.inputs[i], p);
          ins[i] = {{}, p.type, p.sample_rate, p.data, p.size};
        }
        for (uint32_t i = 0; i < h.n_out; ++i) {
          const cascade_payload& v = t.vals[h.slot_base + i];
          outs[i] = {{}, v.type, v.sample_rate, v.data, v.size};
        }
        ev.decl = h.decl;
        ev.inputs = {ins.data(), h.n_in};
        ev.outputs = {outs.data(), h.n_out};
      } else {
        // Not run: no payloads at all, which a declared record cannot say.
        const auto& info = sp.plugin->info;
        ev.decl = trace::kNotDeclared;
        ev.stage_id = sp.id;
        ev.plugin = info.name;
        ev.plugin_version = info.version;
        ev.inputs = {};
        ev.outputs = {};
      }
      ev.start_ns = r.start + off;
      ev.end_ns = (r.end != 0 ? r.end : r.start) + off;
      ev.worker = r.worker;
      ev.status = r.status;
      ev.error_code = r.code;
      ev.transient = r.transient;
      ev.error_message = r.message;
      ev.has_confidence = r.has_conf;
      ev.confidence = r.conf;
      ev.nbest = {};
      ev.features = {};
      ev.text_features = {};
      if (r.dirty) {  // else the features are still clear
        nb.clear();
        fs.clear();
        tfs.clear();
        for (const auto& [text, score] : r.nbest) nb.push_back({text, score});
        for (const auto& [k, v] : r.feats) fs.push_back({k, v});
        for (const auto& [k, v] : r.tfeats) tfs.push_back({k, v});
        ev.nbest = nb;
        ev.features = fs;
        ev.text_features = tfs;
      }
      w.write(worker, ev);
    }
    w.write(worker, turn_event(t, o));
  }

  // A micro-batch being run (many()), per worker thread.
  struct BatchScratch {
    std::vector<rt::TurnState*> live;  // its turns being run (not refused)
    size_t first = 0;                  // pool index of its first turn
    size_t n_live = 0;
    // Every turn is live and usual (no injected outputs, no turn budget)
    // and none has had an error yet: a batch call passes the precomputed
    // arrays (batch_ctxs, ...) from `first` as they are.
    bool dense = true;
    // Otherwise the call's arrays are compacted here.
    std::vector<rt::TurnState*> turns;
    std::vector<cascade_context*> ctxs;
    std::vector<const cascade_payload*> ins;
    std::vector<cascade_payload*> outs;
    std::vector<rt::StageRun*> runs;
    std::vector<cascade_status> status;
    void size(size_t n) {
      if (live.size() >= n) return;
      live.resize(n);
      turns.resize(n);
      ctxs.resize(n);
      ins.resize(n);
      outs.resize(n);
      runs.resize(n);
      status.resize(n);
    }
  };

  // Stage s for a micro-batch's live turns: one process_batch() call for
  // every turn exec() would run on its fast path; the others (a failed
  // turn, a missing input, a stage without a batch entry, a timeout or a
  // concurrency limit) one at a time through exec(). `clock`: as exec()'s,
  // carried across the turns.
  void exec_many(BatchScratch& b, uint32_t s, uint32_t worker, int64_t& clock) {
    const rt::StageRt& h = hot[s];
    const size_t n_live = b.n_live;
    if (!h.simple || h.process_batch == nullptr || cancel.load(std::memory_order_relaxed)) {
      for (size_t i = 0; i < n_live; ++i) exec(*b.live[i], s, worker, clock);  // (records a cancellation too)
      return;
    }
    cascade_context* const* ctxs = &batch_ctxs[s][b.first];
    const cascade_payload* const* ins = &batch_ins[s][b.first];
    cascade_payload* const* outs = &batch_outs[s][b.first];
    rt::TurnState* const* turns = b.live.data();
    // Read from an array, not through each turn's CallCtx: one cache line
    // fewer per turn and stage.
    rt::StageRun* const* runs = &batch_runs[s][b.first];
    auto k = static_cast<uint32_t>(n_live);
    bool dense = b.dense;
    if (dense && h.required0)
      for (size_t i = 0; i < n_live && dense; ++i) dense = ins[i]->type != CASCADE_PAYLOAD_NONE;
    if (dense) {
      const uint32_t n_out = h.n_out;
      for (size_t i = 0; i < n_live; ++i) {
        if (n_out == 1) [[likely]]
          rt::clear(*outs[i]);
        else
          for (uint32_t o = 0; o < n_out; ++o) rt::clear(outs[i][o]);
      }
    } else {
      k = 0;
      for (size_t i = 0; i < n_live; ++i) {
        rt::TurnState& t = *b.live[i];
        rt::CallCtx& ctx = t.ctxs[s];
        if (t.unusual || t.failed.load(std::memory_order_relaxed) ||
            (h.required0 && ctx.inputs->type == CASCADE_PAYLOAD_NONE)) {
          exec(t, s, worker, clock);
          continue;
        }
        for (uint32_t o = 0; o < h.n_out; ++o) rt::clear(ctx.out[o]);
        b.turns[k] = &t;
        b.ctxs[k] = reinterpret_cast<cascade_context*>(&ctx);
        b.ins[k] = ctx.inputs;
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
    const cascade_batch call{sizeof(cascade_batch), k, 1, h.n_out, ctxs, ins, outs, status};
    const int64_t start = clock;
    const cascade_status all = h.process_batch(h.instance, &call);
    clock = clock_now();
    // Locals: the stores below could alias `h` and `this` for the compiler.
    uint32_t failed = all;
    for (uint32_t j = 0; j < k; ++j) failed |= status[j];  // one pass the compiler vectorises
    const bool check = failed != CASCADE_OK || !h.outputs_any;
    // A run's status, worker and times are the trace's: without one, a
    // stage that ran ok in a batch leaves its runs untouched (the
    // outcome reads only the run of the stage that failed the turn, which
    // after_batch writes).
    if (opt.trace != nullptr) {
      for (uint32_t j = 0; j < k; ++j) {
        rt::StageRun& run = *runs[j];
        run.status = StageStatus::Ok;
        run.ran = true;
        run.worker = worker;
        run.start = start;
        run.end = clock;
      }
    }
    if (check) [[unlikely]]
      for (uint32_t j = 0; j < k; ++j)
        after_batch(b, s, turns[j], all != CASCADE_OK ? all : status[j], ins[j], outs[j], worker, start, clock);
  }

  // A batch call's turn that failed (or whose stored outputs need their
  // types checked): the error policy, as exec() would apply it.
  [[gnu::noinline]] void after_batch(BatchScratch& b, uint32_t s, rt::TurnState* t, cascade_status st,
                                     const cascade_payload* in, const cascade_payload* out, uint32_t worker,
                                     int64_t start, int64_t clock) {
    rt::StageRun& run = t->runs[s];
    run.status = StageStatus::Ok;
    run.ran = true;
    run.worker = worker;
    run.start = start;
    run.end = clock;
    if (st == CASCADE_OK && !hot[s].outputs_any) st = check_outputs(s, out, run);
    if (st == CASCADE_OK) return;
    b.dense = false;  // this turn may have failed: check every turn from now on
    after_error(*t, s, st, in, clock);
  }

  // After a batch call: an output a plugin stored itself must have its
  // port's declared type (emit() and forward() check it; a C plugin
  // writing the entry directly is checked here).
  cascade_status check_outputs(uint32_t s, const cascade_payload* out, rt::StageRun& run) const {
    const rt::StageRt& h = hot[s];
    for (uint32_t o = 0; o < h.n_out; ++o) {
      const uint32_t declared = h.out_types[o];
      if (out[o].type == CASCADE_PAYLOAD_NONE || declared == CASCADE_PAYLOAD_ANY || out[o].type == declared) continue;
      const auto& info = plan.stages[s].plugin->info;
      run.mark();
      run.code = CASCADE_ERR_INVALID_ARGUMENT;
      run.message = "process_batch stored a " + std::string(payload_type_name(out[o].type)) + " payload on output '" +
                    info.outputs[o].name + "', declared " + std::string(payload_type_name(declared));
      return CASCADE_ERR_INVALID_ARGUMENT;
    }
    return CASCADE_OK;
  }

  // Turns [first, last) of a batch as one micro-batch: every stage runs
  // for all of them (exec_many) before the next stage starts.
  void many(std::span<const TurnInput> in, std::span<TurnOutcome> out, size_t first, size_t last, uint32_t worker) {
    thread_local BatchScratch b;
    b.size(last - first);
    b.first = first;
    b.dense = true;
    size_t n = 0;
    for (size_t i = first; i < last; ++i) {
      rt::TurnState& t = *pool[i];
      begin(t, in[i]);
      if (!in[i].input_error_code.empty()) [[unlikely]] {
        refuse(t, out[i]);
        if (opt.trace != nullptr) record(t, out[i], worker);
        b.dense = false;
        continue;
      }
      b.dense = b.dense && !t.unusual;
      b.live[n++] = &t;
    }
    b.n_live = n;
    int64_t clock = clock_now();
    for (const uint32_t s : order) exec_many(b, s, worker, clock);
    for (size_t i = first, j = 0; i < last; ++i) {
      rt::TurnState& t = *pool[i];
      if (j == n || b.live[j] != &t) continue;  // refused above
      ++j;
      t.end = clock;
      finish(t, out[i]);
      if (opt.trace != nullptr) record(t, out[i], worker);
    }
  }

  // Unreadable input: recorded as a failed turn, nothing executed.
  void refuse(rt::TurnState& t, TurnOutcome& o) {
    t.end = clock_now();
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


  void one(const TurnInput& in, rt::TurnState& t, TurnOutcome& o, uint32_t worker) {
    begin(t, in);
    if (!in.input_error_code.empty()) {
      refuse(t, o);
    } else {
      run_turn(t, worker);
      finish(t, o);
    }
    if (opt.trace != nullptr) record(t, o, worker);
  }
};

Engine::Engine(PipelinePlan plan, EngineOptions options) : impl_(std::make_unique<Impl>(std::move(plan), options)) {}
Engine::~Engine() { impl_->close_all(impl_->instances.size()); }

void Engine::run_batch(std::span<const TurnInput> in, std::span<TurnOutcome> out) {
  auto& im = *impl_;
  if (im.pool.size() < in.size()) im.grow_pool(in.size());
  if (im.timing) im.tsc.anchor();  // no clock reads in flight between batches
  const bool batched = im.batched();
  const size_t mb = im.micro_batch;
  rt::tsan_release(&im);  // see tsan.hpp: parallel_for hand-offs (of everything written above)
  im.arena->execute([&] {
    oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<size_t>(0, in.size(), std::max<size_t>(16, mb)),
                              [&](const oneapi::tbb::blocked_range<size_t>& r) {
                                rt::tsan_acquire(&im);
                                const uint32_t worker = worker_index();
                                if (batched) {
                                  for (size_t i = r.begin(); i < r.end(); i += mb)
                                    im.many(in, out, i, std::min(r.end(), i + mb), worker);
                                } else {
                                  for (size_t i = r.begin(); i != r.end(); ++i)
                                    im.one(in[i], *im.pool[i], out[i], worker);
                                }
                                rt::tsan_release(&im);
                              });
  });
  rt::tsan_acquire(&im);
}

void Engine::cancel() noexcept { impl_->cancel.store(true); }
bool Engine::cancelled() const noexcept { return impl_->cancel.load(); }
const PipelinePlan& Engine::plan() const noexcept { return impl_->plan; }

}  // namespace cascade
