// cascade-stage-worker: runs ONE stage's plugin instance in its own
// process for the engine (isolation = "process"), so that a plugin that
// segfaults, aborts, calls exit() or eats memory costs only the turns it
// held. Started by the engine (core/isolation/worker_process.cpp), never by
// hand: fd 3 is its socket to the engine; it speaks the messages of
// core/isolation/protocol.hpp.
//
//   1. Hello: apply the limits, load the plugin file with the same checks
//      as the engine's loader, create and open one instance -> Ready.
//   2. Call -> Result, one at a time, until the engine closes the socket.
//   3. close and destroy the instance; exit 0.
//
// The host API a plugin sees here is the engine's (sdk/detail/host_api.hpp
// makes the same checks); what a call reports travels back in its Result.
#include "isolation/protocol.hpp"

#include <cascade/core/diagnostic.hpp>
#include <cascade/core/loader.hpp>
#include <cascade/sdk/detail/host_api.hpp>

#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <vector>

namespace iso = cascade::isolation;

namespace {

constexpr int kSocket = 3;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// What the plugin's instance was opened with: the stage, its parameters
// and declared output types.
struct StageInfo {
  const cascade::LoadedPlugin* plugin = nullptr;
  iso::Hello hello;
  std::vector<uint32_t> out_types;
};

// The `Call` of the shared host API (sdk/detail/host_api.hpp) in a worker:
// outputs land in `out`/`owned`, reports in `report`.
struct WorkerCall {
  const StageInfo* stage = nullptr;
  iso::TurnReport* report = nullptr;  // null outside process()
  cascade_payload* out = nullptr;
  std::string* owned = nullptr;
  const cascade_payload* in = nullptr;
  uint32_t n_in = 0;
  int64_t deadline_ns = INT64_MAX;
  cascade::sdk::detail::TurnIdentity identity;
  std::string* open_error = nullptr;
  std::string refusal;  // an output store() could not take: the turn fails with this

  [[nodiscard]] bool in_process() const { return report != nullptr; }
  [[nodiscard]] uint32_t n_outputs() const { return static_cast<uint32_t>(stage->out_types.size()); }
  [[nodiscard]] uint32_t output_type(uint32_t port) const { return stage->out_types[port]; }
  [[nodiscard]] uint32_t n_inputs() const { return n_in; }
  [[nodiscard]] const cascade_payload* inputs() const { return in; }
  void store(uint32_t port, const cascade_payload& p, bool forwarded) {
    cascade_payload& v = out[port];
    v = p;
    if (forwarded || p.size == 0) return;
    const uint64_t limit = stage->hello.limits.max_payload;
    if (limit != 0 && p.size > limit) {  // refused before a byte is read
      refuse(port, p.size, "over the stage's payload limit of " + std::to_string(limit));
      return;
    }
    for (uint32_t i = 0; i < n_in; ++i)
      if (in[i].data == p.data && in[i].size == p.size) return;  // an input's own bytes
    try {
      owned[port].assign(static_cast<const char*>(p.data), static_cast<size_t>(p.size));
      v.data = owned[port].data();
    } catch (const std::bad_alloc&) {
      refuse(port, p.size, "more than the worker can hold");
    }
  }
  void refuse(uint32_t port, uint64_t size, const std::string& why) {
    out[port] = cascade_payload{sizeof(cascade_payload), CASCADE_PAYLOAD_NONE, nullptr, 0, 0};
    refusal = "output " + std::to_string(port) + " of " + std::to_string(size) + " bytes refused: " + why;
  }
  void error(cascade_status code, bool transient, const char* msg) {
    if (report == nullptr) {
      if (open_error != nullptr) *open_error = msg;
      return;
    }
    report->code = static_cast<uint32_t>(code);
    report->transient = transient;
    report->message = msg;
  }
  void log(cascade_log_level level, const char* msg) {
    static const char* const names[] = {"trace", "debug", "info", "warning", "error"};
    const auto l = static_cast<size_t>(level);
    std::fprintf(stderr, "[%s] [%s] %s\n", l < 5 ? names[l] : "error", stage->hello.stage_id.c_str(), msg);
  }
  bool param(const char* name, const char** value, size_t* len) {
    for (const auto& [k, v] : stage->hello.params)
      if (k == name) {
        *value = v.c_str();
        *len = v.size();
        return true;
      }
    if (const cascade::ParamInfo* p = stage->plugin->info.param(name); p != nullptr) {
      *value = p->default_value.c_str();
      *len = p->default_value.size();
      return true;
    }
    return false;
  }
  void confidence(double v) {
    report->has_conf = true;
    report->conf = v;
  }
  void nbest(std::string_view text, double score) { report->nbest.emplace_back(std::string(text), score); }
  void feature(const char* key, double v) { report->feats.emplace_back(key, v); }
  void feature_text(const char* key, std::string_view v) { report->tfeats.emplace_back(key, std::string(v)); }
  [[nodiscard]] cascade::sdk::detail::TurnIdentity turn() const { return identity; }
  bool stop_requested() { return deadline_ns != INT64_MAX && now_ns() >= deadline_ns; }
  int64_t remaining_ns() { return deadline_ns == INT64_MAX ? INT64_MAX : deadline_ns - now_ns(); }
};

// Turns one call's output slots into its report: an input passed on goes
// back by index, anything over the payload limit fails the turn.
void to_report(const WorkerCall& c, uint32_t status, iso::TurnReport& r) {
  r.status = status;
  const uint64_t limit = c.stage->hello.limits.max_payload;
  auto refuse = [&](const std::string& why) {
    r.status = CASCADE_ERR_INVALID_ARGUMENT;
    r.code = CASCADE_ERR_INVALID_ARGUMENT;
    r.message = why;
    for (auto& x : r.outputs) x = iso::OutputReport{};
  };
  if (!c.refusal.empty()) return refuse(c.refusal);
  for (uint32_t o = 0; o < c.n_outputs(); ++o) {
    const cascade_payload& v = c.out[o];
    iso::OutputReport& rep = r.outputs[o];
    if (v.type == CASCADE_PAYLOAD_NONE) continue;
    if (limit != 0 && v.size > limit)  // stored by a batch call without emit()
      return refuse("output " + std::to_string(o) + " of " + std::to_string(v.size) +
                    " bytes refused: over the stage's payload limit of " + std::to_string(limit));
    rep.type = v.type;
    rep.sample_rate = v.sample_rate;
    for (uint32_t i = 0; i < c.n_in; ++i)
      if (c.in[i].data == v.data && c.in[i].size == v.size && v.size != 0) rep.from_input = static_cast<int32_t>(i);
    if (rep.from_input < 0) rep.bytes = std::string_view(static_cast<const char*>(v.data), v.data != nullptr ? v.size : 0);
  }
}

void apply_limits(const iso::Limits& l) {
  if (l.memory_mb != 0) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    std::fprintf(stderr, "[warning] memory limit not applied: a sanitizer reserves more address space\n");
#else
    const rlimit r{l.memory_mb << 20, l.memory_mb << 20};
    if (setrlimit(RLIMIT_AS, &r) != 0) throw std::runtime_error("cannot set the memory limit");
#endif
  }
}

// A call may use cpu_s more CPU seconds than the worker has used so far:
// the soft RLIMIT_CPU is moved before each Call (SIGXCPU ends the worker).
void arm_cpu_limit(uint32_t cpu_s) {
  if (cpu_s == 0) return;
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  rlimit r{};
  getrlimit(RLIMIT_CPU, &r);
  r.rlim_cur = static_cast<rlim_t>(u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1 + cpu_s);
  if (r.rlim_max != RLIM_INFINITY && r.rlim_cur > r.rlim_max) r.rlim_cur = r.rlim_max;
  setrlimit(RLIMIT_CPU, &r);
}

class Worker {
 public:
  // Loads and opens; the Ready to send says whether it worked.
  iso::Ready open(iso::Hello hello) {
    stage_.hello = std::move(hello);
    try {
      apply_limits(stage_.hello.limits);
      stage_.plugin = &registry_.load(stage_.hello.plugin_path);
    } catch (const std::exception& e) {
      return {false, "R050", e.what()};
    }
    if (stage_.plugin->info.name != stage_.hello.plugin_name)
      return {false, "R050", "file " + stage_.hello.plugin_path + " holds plugin '" + stage_.plugin->info.name +
                                 "', not '" + stage_.hello.plugin_name + "'"};
    for (const auto& o : stage_.plugin->info.outputs) stage_.out_types.push_back(o.type);
    d_ = stage_.plugin->descriptor;
    host_ = cascade::sdk::detail::host_api_table<WorkerCall>();
    std::string err;
    WorkerCall ctx{};
    ctx.stage = &stage_;
    ctx.open_error = &err;
    const std::string what = "stage '" + stage_.hello.stage_id + "' (plugin " + stage_.hello.plugin_name + "): ";
    if (d_->create(&host_, reinterpret_cast<cascade_context*>(&ctx), &instance_) != CASCADE_OK)
      return {false, "R001", what + "create failed: " + err};
    if (d_->open != nullptr && d_->open(instance_, reinterpret_cast<cascade_context*>(&ctx)) != CASCADE_OK) {
      d_->destroy(instance_);
      instance_ = nullptr;
      return {false, "R002", what + "open failed: " + err};
    }
    batch_ = CASCADE_HAS_FIELD(d_, cascade_plugin_descriptor, process_batch) ? d_->process_batch : nullptr;
    return {true, {}, {}};
  }

  void close() {
    if (instance_ == nullptr) return;
    std::string err;
    WorkerCall ctx{};
    ctx.stage = &stage_;
    ctx.open_error = &err;
    if (d_->close != nullptr) d_->close(instance_, reinterpret_cast<cascade_context*>(&ctx));
    d_->destroy(instance_);
    instance_ = nullptr;
  }

  // One Call: every turn through process(), or one process_batch.
  void call(const iso::CallView& c, std::string& result) {
    arm_cpu_limit(stage_.hello.limits.cpu_s);
    const uint32_t n = c.n_turns, n_out = static_cast<uint32_t>(stage_.out_types.size());
    reports_.resize(n);
    calls_.resize(n);
    slots_.resize(size_t{n} * n_out);
    owned_.resize(size_t{n} * n_out);
    const int64_t now = now_ns();
    for (uint32_t t = 0; t < n; ++t) {
      reports_[t].clear(n_out);
      WorkerCall& w = calls_[t];
      w = WorkerCall{};
      w.stage = &stage_;
      w.report = &reports_[t];
      w.out = &slots_[size_t{t} * n_out];
      w.owned = &owned_[size_t{t} * n_out];
      w.in = &c.inputs[size_t{t} * c.n_in];
      w.n_in = c.n_in;
      w.deadline_ns = c.remaining_ns[t] == INT64_MAX ? INT64_MAX : now + c.remaining_ns[t];
      w.identity = c.turns[t];
      for (uint32_t o = 0; o < n_out; ++o) w.out[o] = cascade_payload{sizeof(cascade_payload), 0, nullptr, 0, 0};
    }
    if (batch_ != nullptr && n > 1) {
      ctxs_.resize(n);
      ins_.resize(n);
      outs_.resize(n);
      status_.assign(n, CASCADE_OK);
      for (uint32_t t = 0; t < n; ++t) {
        ctxs_[t] = reinterpret_cast<cascade_context*>(&calls_[t]);
        ins_[t] = calls_[t].in;
        outs_[t] = calls_[t].out;
      }
      const cascade_batch b{sizeof(cascade_batch), n, c.n_in, n_out, ctxs_.data(), ins_.data(), outs_.data(),
                            status_.data()};
      const cascade_status all = batch_(instance_, &b);
      for (uint32_t t = 0; t < n; ++t) to_report(calls_[t], all != CASCADE_OK ? all : status_[t], reports_[t]);
    } else {
      for (uint32_t t = 0; t < n; ++t) {
        const cascade_status st =
            d_->process(instance_, reinterpret_cast<cascade_context*>(&calls_[t]), calls_[t].in, c.n_in);
        to_report(calls_[t], st, reports_[t]);
      }
    }
    iso::encode_result(result, reports_.data(), n);
  }

 private:
  cascade::PluginRegistry registry_;
  StageInfo stage_;
  const cascade_plugin_descriptor* d_ = nullptr;
  cascade_host_api host_{};
  void* instance_ = nullptr;
  cascade_status (*batch_)(void*, const cascade_batch*) = nullptr;
  // Reused across calls.
  std::vector<iso::TurnReport> reports_;
  std::vector<WorkerCall> calls_;
  std::vector<cascade_payload> slots_;
  std::vector<std::string> owned_;
  std::vector<cascade_context*> ctxs_;
  std::vector<const cascade_payload*> ins_;
  std::vector<cascade_payload*> outs_;
  std::vector<cascade_status> status_;
};

}  // namespace

int main() {
  // Die with the engine, whatever it died of; ignore the terminal's Ctrl-C
  // (the engine decides when its workers end).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 1;
  std::signal(SIGINT, SIG_IGN);
  // Nothing of the engine's but the socket and the standard streams.
  close_range(kSocket + 1, ~0U, 0);

  Worker worker;
  std::string body, out;
  try {
    if (!iso::wire::read_message(kSocket, iso::wire::Kind::Hello, body)) return 0;
    const iso::Ready ready = worker.open(iso::decode_hello(body));
    iso::encode(out, ready);
    if (!iso::wire::write_all(kSocket, out.data(), out.size()) || !ready.ok) return 0;
    iso::CallView call;
    while (iso::wire::read_message(kSocket, iso::wire::Kind::Call, body)) {
      iso::decode_call(body, call);
      worker.call(call, out);
      if (!iso::wire::write_all(kSocket, out.data(), out.size())) break;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[error] cascade-stage-worker: %s\n", e.what());
    return 2;
  }
  worker.close();
  return 0;
}
