// A stage in worker processes (see process_stage.hpp). The shape of a call:
//   1. acquire a worker slot (an idle worker, else one to start, else wait);
//   2. start its worker if it has none (after the back-off of a crash);
//   3. one Call/Result exchange for the turn, or the batch's turns;
//   4. the Result written into the turns' contexts, or the turns marked
//      crashed / timed out / cancelled, and the slot's worker ended.
#include "isolation/process_stage.hpp"

#include <cascade/core/diagnostic.hpp>
#include <cascade/sdk/detail/host_api.hpp>

#include "isolation/worker_process.hpp"
#include "runtime/turn_state.hpp"

#include <spdlog/spdlog.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace cascade::isolation {

using runtime::CallCtx;
using runtime::StageRun;

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

CallCtx& call_of(cascade_context* c) { return *reinterpret_cast<CallCtx*>(c); }

// A turn's call did not happen or did not end well: record why on its run.
void fail_turn(CallCtx& ctx, cascade_status st, const std::string& message, bool crashed = false,
               const std::string& worker_end = {}) {
  StageRun& run = *ctx.run;
  run.mark();
  run.code = static_cast<uint32_t>(st);
  run.message = message;
  run.crashed = crashed;
  if (!worker_end.empty()) run.tfeats.emplace_back("worker_end", worker_end);
}

}  // namespace

struct ProcessStage::Impl {
  // One worker process and the buffers of the calls it serves.
  struct Slot {
    std::unique_ptr<WorkerProcess> proc;  // null: not started, or ended
    bool busy = false;
    std::string request, reply;
    std::vector<TurnView> views;
    std::vector<uint32_t> sent;  // a batch's turns that went into the request
  };

  Impl(const StagePlan& sp, const std::vector<uint32_t>& types, const std::atomic<bool>& cancel_flag)
      : id(sp.id), plugin(sp.plugin->info.name), opt(sp.process), out_types(types), cancel(cancel_flag) {
    hello.plugin_path = sp.plugin->info.path.string();
    hello.plugin_name = plugin;
    hello.stage_id = sp.id;
    for (const auto& port : sp.plugin->info.outputs) out_names.push_back(port.name);
    for (const auto& [k, v] : sp.params) hello.params.emplace_back(k, v);
    hello.limits.memory_mb = opt.memory_mb;
    hello.limits.cpu_s = opt.cpu_s;
    hello.limits.max_payload = uint64_t{opt.max_payload_mb} << 20;
    const uint32_t n = opt.workers != 0 ? opt.workers : std::max(1u, std::thread::hardware_concurrency());
    slots.resize(n);
  }

  std::string what() const { return "stage '" + id + "' (plugin " + plugin + ")"; }

  // Starts slot's worker; false (with `why`) when it cannot be started.
  bool start(Slot& slot, std::string& why) {
    try {
      slot.proc = WorkerProcess::start(hello, now_ns() + int64_t{opt.start_timeout_ms} * 1'000'000);
      return true;
    } catch (const StartError& e) {
      why = e.message;
      return false;
    }
  }

  // A free slot, or null once the stage is quarantined, the deadline has
  // passed or the run is cancelled (`why` says which).
  Slot* acquire(int64_t deadline, std::string& why, cascade_status& st) {
    std::unique_lock lock(m);
    for (;;) {
      if (quarantined) {
        why = quarantine_reason;
        st = CASCADE_ERR_UNAVAILABLE;
        return nullptr;
      }
      Slot* pick = nullptr;
      for (Slot& s : slots)  // a running worker first, else one to start
        if (!s.busy && (pick == nullptr || (s.proc && !pick->proc))) pick = &s;
      if (pick != nullptr) {
        pick->busy = true;
        return pick;
      }
      if (cancel.load()) {
        why = "run cancelled";
        st = CASCADE_ERR_CANCELLED;
        return nullptr;
      }
      if (deadline != INT64_MAX && now_ns() >= deadline) {
        why = what() + ": every worker was busy until the deadline";
        st = CASCADE_ERR_DEADLINE;
        return nullptr;
      }
      cv.wait_for(lock, std::chrono::milliseconds(20));
    }
  }
  void release(Slot& s) {
    {
      std::lock_guard lock(m);
      s.busy = false;
    }
    cv.notify_one();
  }

  // Gets slot a running worker: waits out the back-off of a crash, then
  // starts one. False (with the status and reason for the turns) if not.
  bool ready(Slot& slot, int64_t deadline, std::string& why, cascade_status& st) {
    if (slot.proc) return true;
    int64_t at = 0;
    {
      std::lock_guard lock(m);
      at = restart_at;
    }
    while (now_ns() < at) {
      if (cancel.load() || (deadline != INT64_MAX && now_ns() >= deadline)) {
        why = what() + ": its worker is restarting after a crash (back-off)";
        st = cancel.load() ? CASCADE_ERR_CANCELLED : CASCADE_ERR_DEADLINE;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(std::clamp<int64_t>((at - now_ns()) / 1'000'000, 1, 20)));
    }
    std::string start_error;
    if (start(slot, start_error)) return true;
    why = what() + ": its worker could not be restarted: " + start_error;
    st = CASCADE_ERR_UNAVAILABLE;
    crashed(start_error);
    return false;
  }

  // Books a crash: the back-off of the next restart, and quarantine when
  // too many came too fast.
  void crashed(const std::string& how) {
    std::lock_guard lock(m);
    const int64_t now = now_ns();
    ++in_a_row;
    const int64_t base = int64_t{opt.restart_backoff_ms} * 1'000'000;
    // The first restart is at once; each further crash in a row doubles the wait.
    const int64_t wait = in_a_row <= 1 ? 0 : std::min(base << std::min<uint32_t>(in_a_row - 2, 20), base * 100);
    restart_at = now + wait;
    crash_times.push_back(now);
    const int64_t window = int64_t{opt.quarantine_window_s} * 1'000'000'000;
    while (!crash_times.empty() && now - crash_times.front() > window) crash_times.pop_front();
    if (opt.quarantine_after != 0 && crash_times.size() >= opt.quarantine_after && !quarantined) {
      quarantined = true;
      quarantine_reason = what() + " is quarantined: its worker crashed " + std::to_string(crash_times.size()) +
                          " times within " + std::to_string(opt.quarantine_window_s) + " s (last: " + how + ")";
      spdlog::error("{}; its turns follow its error policy from now on", quarantine_reason);
    } else {
      spdlog::warn("{}: worker process {}{}", what(), how,
                   wait > 0 ? "; restarting in " + std::to_string(wait / 1'000'000) + " ms" : "; restarting");
    }
  }
  void returned() {
    std::lock_guard lock(m);
    in_a_row = 0;
  }

  // An input over the payload limit, or empty.
  std::string oversize(const cascade_payload* in, uint32_t n_in) const {
    if (hello.limits.max_payload == 0) return {};
    for (uint32_t i = 0; i < n_in; ++i)
      if (in[i].size > hello.limits.max_payload)
        return what() + ": input " + std::to_string(i) + " is " + std::to_string(in[i].size) +
               " bytes, over the stage's payload limit of " + std::to_string(opt.max_payload_mb) + " MiB";
    return {};
  }

  // Writes one turn's Result into its context; the status process() would
  // have returned.
  cascade_status apply(CallCtx& ctx, const cascade_payload* in, uint32_t n_in, const TurnView& r) const {
    StageRun& run = *ctx.run;
    if (r.has_conf || !r.nbest.empty() || !r.feats.empty() || !r.tfeats.empty() || r.code != 0 ||
        !r.message.empty())
      run.mark();
    if (r.has_conf) {
      run.has_conf = true;
      run.conf = r.conf;
    }
    for (const auto& [text, score] : r.nbest) run.nbest.emplace_back(std::string(text), score);
    for (const auto& [key, v] : r.feats) run.feats.emplace_back(std::string(key), v);
    for (const auto& [key, v] : r.tfeats) run.tfeats.emplace_back(std::string(key), std::string(v));
    if (r.code != 0 || !r.message.empty()) {
      run.code = r.code;
      run.transient = r.transient;
      run.message = std::string(r.message);
    }
    if (r.status > CASCADE_ERR_UNSUPPORTED) {
      fail_turn(ctx, CASCADE_ERR_INTERNAL, what() + ": its worker returned an unknown status " + std::to_string(r.status));
      return CASCADE_ERR_INTERNAL;
    }
    if (r.status != CASCADE_OK) return static_cast<cascade_status>(r.status);
    for (uint32_t o = 0; o < r.outputs.size(); ++o) {
      const OutputView& v = r.outputs[o];
      if (v.type == CASCADE_PAYLOAD_NONE) continue;
      if (!sdk::detail::output_type_ok(out_types[o], v.type)) {
        fail_turn(ctx, CASCADE_ERR_INVALID_ARGUMENT,
                  sdk::detail::stored_output_refusal(v.type, out_names[o], out_types[o]));
        for (uint32_t k = 0; k < r.outputs.size(); ++k) runtime::clear(ctx.out[k]);
        return CASCADE_ERR_INVALID_ARGUMENT;
      }
      if (v.from_input >= 0) {
        if (static_cast<uint32_t>(v.from_input) < n_in) ctx.store(o, in[v.from_input], /*forwarded=*/true);
        continue;
      }
      const cascade_payload p{sizeof(cascade_payload), v.type, v.bytes.data(), v.bytes.size(), v.sample_rate};
      ctx.owned[o].assign(v.bytes.data(), v.bytes.size());
      ctx.out[o] = p;
      ctx.out[o].data = ctx.owned[o].data();
    }
    return CASCADE_OK;
  }

  // One exchange for the turns whose contexts are `ctxs[sent[k]]`; fills
  // `status` for them. `deadline`: the earliest of theirs.
  void exchange(Slot& slot, cascade_context* const* ctxs, const cascade_payload* const* ins, uint32_t n_in,
                cascade_status* status, int64_t deadline) {
    const auto n = static_cast<uint32_t>(slot.sent.size());
    begin_call(slot.request, n, n_in);
    const int64_t now = now_ns();
    for (uint32_t k : slot.sent) {
      const int64_t d = call_of(ctxs[k]).deadline_ns;
      add_call_turn(slot.request, d == INT64_MAX ? INT64_MAX : d - now, call_of(ctxs[k]).turn(), ins[k], n_in);
    }
    wire::finish(slot.request);
    const WorkerProcess::Outcome o = slot.proc->exchange(slot.request, slot.reply, deadline, cancel);
    // What broke the protocol, if anything: a bad frame (read by exchange)
    // or a Result that does not decode. Either way the worker was killed;
    // its SIGKILL is ours, so the turns record the protocol error instead.
    std::string broken = o == WorkerProcess::Outcome::Broken ? slot.proc->broken() : std::string();
    if (o == WorkerProcess::Outcome::Ok) {
      try {
        decode_result(slot.reply, n, static_cast<uint32_t>(out_types.size()), n_in, slot.views);
        returned();
        for (uint32_t j = 0; j < n; ++j)
          status[slot.sent[j]] = apply(call_of(ctxs[slot.sent[j]]), ins[slot.sent[j]], n_in, slot.views[j]);
        return;
      } catch (const wire::WireError& e) {
        broken = e.what();
        ::kill(slot.proc->pid(), SIGKILL);
      }
    }
    const std::string how = slot.proc->end();
    slot.proc.reset();
    std::string message;
    cascade_status st = CASCADE_ERR_INTERNAL;
    bool crash = false;
    switch (o) {
      case WorkerProcess::Outcome::Deadline:
        st = CASCADE_ERR_DEADLINE;
        message = what() + " still running at its deadline; its worker process was killed and restarts";
        break;
      case WorkerProcess::Outcome::Cancelled:
        st = CASCADE_ERR_CANCELLED;
        message = "run cancelled; the worker process of " + what() + " was stopped";
        break;
      default:
        crash = true;
        message = "the worker process of " + what() + " " +
                  (broken.empty() ? how : "broke the protocol (" + broken + ") and was killed") + " during this call (" +
                  std::to_string(n) + (n == 1 ? " turn" : " turns") + " in it)";
        crashed(broken.empty() ? how : "protocol error: " + broken);
    }
    const std::string end = broken.empty() ? how : "protocol error: " + broken;
    for (uint32_t k : slot.sent) {
      fail_turn(call_of(ctxs[k]), st, message, crash, crash ? end : std::string());
      status[k] = st;
    }
  }

  // process() and process_batch() both come here: turns [0, n).
  cascade_status run(cascade_context* const* ctxs, const cascade_payload* const* ins, uint32_t n_in, uint32_t n,
                     cascade_status* status) {
    int64_t deadline = INT64_MAX;
    for (uint32_t i = 0; i < n; ++i) deadline = std::min(deadline, call_of(ctxs[i]).deadline_ns);
    std::string why;
    cascade_status st = CASCADE_OK;
    Slot* slot = acquire(deadline, why, st);
    if (slot != nullptr && !ready(*slot, deadline, why, st)) {
      release(*slot);
      slot = nullptr;
    }
    if (slot == nullptr) {
      for (uint32_t i = 0; i < n; ++i) {
        fail_turn(call_of(ctxs[i]), st, why);
        status[i] = st;
      }
      return CASCADE_OK;
    }
    slot->sent.clear();
    for (uint32_t i = 0; i < n; ++i) {
      if (std::string big = oversize(ins[i], n_in); !big.empty()) {
        fail_turn(call_of(ctxs[i]), CASCADE_ERR_INVALID_ARGUMENT, big);
        status[i] = CASCADE_ERR_INVALID_ARGUMENT;
        continue;
      }
      slot->sent.push_back(i);
    }
    if (!slot->sent.empty()) exchange(*slot, ctxs, ins, n_in, status, deadline);
    release(*slot);
    return CASCADE_OK;
  }

  Hello hello;
  std::string id, plugin;
  ProcessOptions opt;
  std::vector<uint32_t> out_types;
  std::vector<std::string> out_names;
  const std::atomic<bool>& cancel;
  std::vector<Slot> slots;
  std::mutex m;  // guards the fields below and every slot's `busy`
  std::condition_variable cv;
  uint32_t in_a_row = 0;  // crashes since the last call that returned
  int64_t restart_at = 0;
  std::deque<int64_t> crash_times;  // within the quarantine window
  bool quarantined = false;
  std::string quarantine_reason;
};

ProcessStage::ProcessStage(const StagePlan& stage, const std::vector<uint32_t>& out_types,
                           const std::atomic<bool>& cancel)
    : impl_(std::make_unique<Impl>(stage, out_types, cancel)) {
  // The first worker now: a plugin that cannot open fails the run at its
  // start, as in process.
  try {
    impl_->slots[0].proc =
        WorkerProcess::start(impl_->hello, now_ns() + int64_t{impl_->opt.start_timeout_ms} * 1'000'000);
  } catch (const StartError& e) {
    throw CascadeError(e.code, e.code == "R050" ? impl_->what() + ": " + e.message : e.message);
  }
}

ProcessStage::~ProcessStage() = default;

cascade_status ProcessStage::process(void* instance, cascade_context* ctx, const cascade_payload* in,
                                     uint32_t n_in) {
  auto& self = *static_cast<ProcessStage*>(instance)->impl_;
  cascade_status st = CASCADE_OK;
  self.run(&ctx, &in, n_in, 1, &st);
  return st;
}

cascade_status ProcessStage::process_batch(void* instance, const cascade_batch* b) {
  auto& self = *static_cast<ProcessStage*>(instance)->impl_;
  return self.run(b->ctxs, b->inputs, b->n_inputs, b->n_turns, b->status);
}

}  // namespace cascade::isolation
