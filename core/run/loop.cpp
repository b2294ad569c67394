// The batch loop behind `cascade run` and `cascade replay`. The shape of
// the work, per batch of at most max_in_flight turns:
//   1. take the turns from the source;
//   2. run them on the batch thread (BatchThread) while this thread waits
//      and watches (watch()): the grace period after a signal, and the run
//      watchdog (Watchdog);
//   3. report the previous batch (its records are durable first) and hand
//      this batch's records to the trace writer;
//   4. if the grace ran out: report what finished of this batch, and
//      abandon the rest (abandon()).
#include <cascade/core/run.hpp>
#include <cascade/trace/writer.hpp>

#include <cascade/abi/cascade_abi.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <mutex>
#include <ostream>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace cascade {
namespace {

std::atomic<Engine*> g_signal_engine{nullptr};
std::atomic<int> g_signals{0};  // a second signal ends the shutdown grace at once

// A plugin's crash taken over by salvage_after_crash(): which, and the
// grace the loop gives the turns in flight (the crashed thread parks longer).
std::atomic<bool> g_crash_taken{false};
std::atomic<int> g_crash_signal{0};
std::atomic<int> g_crash_exit{-1};
std::atomic<int64_t> g_grace_ms{3000};

extern "C" void on_signal(int) {
  // Lock-free atomics only: async-signal-safe.
  g_signals.fetch_add(1);
  if (Engine* e = g_signal_engine.load()) e->cancel();
}

using Clock = std::chrono::steady_clock;
int64_t now_ns() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); }
constexpr int64_t kMs = 1'000'000;

class Progress {
 public:
  Progress(bool enabled, uint64_t total) : enabled_(enabled && ::isatty(STDERR_FILENO) != 0), total_(total) {}
  void update(uint64_t done, bool final = false) {
    if (!enabled_) return;
    const double t = seconds();
    if (t < 2.0 && !final) return;  // short runs stay quiet
    if (!final && t - last_ < 0.2) return;
    last_ = t;
    const double rate = t > 0 ? static_cast<double>(done) / t : 0;
    if (total_ > 0) {
      const int width = 30;
      const int fill = static_cast<int>(width * std::min<double>(1.0, static_cast<double>(done) / static_cast<double>(total_)));
      std::fprintf(stderr, "\r[%.*s%*s] %llu/%llu turns  %.0f turns/s ", fill, "##############################",
                   width - fill, "", static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_), rate);
    } else {
      std::fprintf(stderr, "\r%llu turns  %.0f turns/s ", static_cast<unsigned long long>(done), rate);
    }
    drawn_ = true;
    if (final) std::fprintf(stderr, "\n");
  }
  void end(uint64_t done) {
    if (drawn_) update(done, true);
  }
  [[nodiscard]] double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  bool enabled_;
  uint64_t total_;
  bool drawn_ = false;
  double last_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

const char* payload_name(uint32_t type) {
  switch (type) {
    case CASCADE_PAYLOAD_TEXT: return "text";
    case CASCADE_PAYLOAD_AUDIO: return "audio";
    case CASCADE_PAYLOAD_JSON: return "json";
    default: return "none";
  }
}

// One line per turn of the batch that is in a stage or being written,
// oldest first, at most `max_lines`; then how many wait to start.
std::string in_flight(const Engine& engine, const TurnInput* batch, size_t n, const std::vector<int64_t>& since,
                      int64_t now, size_t max_lines) {
  std::vector<size_t> running;
  size_t waiting = 0, done = 0;
  for (size_t i = 0; i < n; ++i) {
    const int32_t p = engine.turn_progress(i);
    if (p == Engine::kTurnDone) ++done;
    else if (p == Engine::kTurnWaiting) ++waiting;
    else running.push_back(i);
  }
  std::stable_sort(running.begin(), running.end(), [&](size_t a, size_t b) { return since[a] < since[b]; });
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(1);
  const auto& stages = engine.plan().stages;
  for (size_t k = 0; k < running.size() && k < max_lines; ++k) {
    const size_t i = running[k];
    const TurnInput& in = batch[i];
    const int32_t p = engine.turn_progress(i);
    os << "  dialogue '" << in.dialogue_id << "' turn " << in.turn_index << ": ";
    if (p >= 0 && static_cast<size_t>(p) < stages.size())
      os << "in stage '" << stages[static_cast<size_t>(p)].id << "' (plugin " << stages[static_cast<size_t>(p)].plugin->info.name << ")";
    else
      os << "writing its outcome";
    os << " for " << static_cast<double>(now - since[i]) / 1e9 << " s; input " << payload_name(in.payload_type) << ", "
       << in.payload.size() << " bytes\n";
  }
  if (running.size() > max_lines) os << "  ... and " << running.size() - max_lines << " more in a stage\n";
  os << "  " << running.size() << " in a stage, " << waiting << " waiting to start, " << done << " done (of " << n
     << " in this batch)\n";
  return os.str();
}

void alert(const RunOptions& opt, const std::string& text) {
  if (opt.on_alert) opt.on_alert(text);
  else std::cerr << text << std::flush;
}

// Runs Engine::run_batch() on a thread of its own, so the loop can stop
// waiting for a batch that a stuck stage never finishes. What that thread
// touches (this state, the batch buffers) is shared with it: abandoned, it
// lives on with them until the process ends.
struct BatchThread {
  std::mutex m;
  std::condition_variable cv;
  bool work = false, done = false, quit = false;
  const TurnInput* in = nullptr;
  TurnOutcome* out = nullptr;
  size_t n = 0;
  std::exception_ptr error;  // what run_batch() threw, rethrown by the loop
  // The loop's two batches (see run_turns()).
  std::vector<TurnInput> batch[2];
  std::vector<TurnOutcome> outs[2];

  void serve(Engine& engine) {
    std::unique_lock lock(m);
    for (;;) {
      cv.wait(lock, [&] { return work || quit; });
      if (!work) return;
      work = false;
      lock.unlock();
      try {
        engine.run_batch({in, n}, {out, n});
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      done = true;
      cv.notify_all();
    }
  }
  void start(int which, size_t count) {
    std::lock_guard lock(m);
    in = batch[which].data();
    out = outs[which].data();
    n = count;
    work = true;
    done = false;
    cv.notify_all();
  }
  bool wait_for(std::chrono::milliseconds d) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, d, [&] { return done; });
  }
  void stop() {
    std::lock_guard lock(m);
    quit = true;
    cv.notify_all();
  }
};

// The run watchdog over one batch: a turn changing stage (or finishing)
// is progress; none for `period` is reported with every turn in flight,
// and again each further period.
class Watchdog {
 public:
  Watchdog(const Engine& engine, const TurnInput* batch, size_t n, int64_t period_ns)
      : engine_(engine), batch_(batch), n_(n), period_(period_ns), seen_(n, Engine::kTurnWaiting),
        since_(n, now_ns()), last_change_(now_ns()) {}

  void sample(const RunOptions& opt, int64_t now) {
    for (size_t i = 0; i < n_; ++i) {
      const int32_t p = engine_.turn_progress(i);
      if (p == seen_[i]) continue;
      seen_[i] = p;
      since_[i] = now;
      last_change_ = now;
    }
    if (period_ <= 0 || now - last_change_ < period_) return;
    if (last_report_ > last_change_ && now - last_report_ < period_) return;
    last_report_ = now;
    char head[160];
    std::snprintf(head, sizeof head,
                  "error[R040]: no turn has made progress for %.1f s (run watchdog, --stall-report-ms %lld); turns in flight:\n",
                  static_cast<double>(now - last_change_) / 1e9, static_cast<long long>(period_ / kMs));
    alert(opt, head + in_flight(engine_, batch_, n_, since_, now, 20));
  }
  [[nodiscard]] const std::vector<int64_t>& since() const { return since_; }

 private:
  const Engine& engine_;
  const TurnInput* batch_;
  size_t n_;
  int64_t period_;
  std::vector<int32_t> seen_;
  std::vector<int64_t> since_;
  int64_t last_change_;
  int64_t last_report_ = 0;
};

// Waits for the batch on `runner`. Returns false when, after the engine
// was cancelled, the grace ran out (or a second signal came).
bool watch(BatchThread& runner, const Engine& engine, Watchdog& dog, const RunOptions& opt) {
  const auto poll = std::chrono::milliseconds(50);
  int64_t cancelled_at = 0;
  for (;;) {
    if (runner.wait_for(poll)) return true;
    const int64_t now = now_ns();
    if (engine.cancelled()) {
      if (cancelled_at == 0) cancelled_at = now;
      if (now - cancelled_at >= int64_t{opt.shutdown_grace_ms} * kMs || g_signals.load() >= 2) return false;
    }
    if (opt.stall_report_ms > 0) dog.sample(opt, now);
  }
}

}  // namespace

void cancel_on_signals(Engine* engine) {
  g_signal_engine.store(engine);
  g_signals.store(0);
  if (engine != nullptr) {
    g_crash_taken.store(false);
    g_crash_signal.store(0);
    g_crash_exit.store(-1);
  }
  struct sigaction sa {};
  sa.sa_handler = engine != nullptr ? &on_signal : SIG_DFL;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int64_t salvage_after_crash(int signal, int exit_status) noexcept {
  // Lock-free atomics only: this runs in a signal handler or an exit
  // handler on the thread the plugin broke.
  Engine* e = g_signal_engine.load();
  if (e == nullptr) return 0;
  if (!g_crash_taken.exchange(true)) {
    g_crash_signal.store(signal);
    g_crash_exit.store(exit_status);
    g_signals.fetch_add(1);
    e->cancel();
  }
  return g_grace_ms.load() + 10'000;
}

std::string result_line(const TurnInput& in, const TurnOutcome& out) {
  nlohmann::ordered_json j;
  j["dialogue_id"] = in.dialogue_id;
  j["user_id"] = in.user_id;
  j["turn_index"] = in.turn_index;
  j["turn_seq"] = in.turn_seq;
  auto rest = nlohmann::ordered_json::parse(out.result_json());
  for (auto it = rest.begin(); it != rest.end(); ++it) j[it.key()] = it.value();
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

RunSummary run_turns(Engine& engine, TurnSource& source, const RunOptions& opt) {
  RunSummary sum;
  g_grace_ms.store(opt.shutdown_grace_ms);
  Progress progress(opt.progress, source.size_hint());
  const size_t cap = std::max<uint32_t>(1, opt.max_in_flight);
  // Two batches in turn: while batch k runs, the trace writer's background
  // thread writes batch k-1's records; k-1's result lines go out once they
  // are in the file. A reported turn is still a recorded turn (kill -9 can
  // cost the lines of one batch, never a record of a reported turn).
  auto runner = std::make_shared<BatchThread>();
  for (int which = 0; which < 2; ++which) {
    runner->batch[which].resize(cap);
    runner->outs[which].resize(cap);
  }
  std::thread thread([runner, &engine] { runner->serve(engine); });
  struct Join {  // on every way out, unless detached above
    BatchThread& runner;
    std::thread& thread;
    ~Join() {
      if (!thread.joinable()) return;
      runner.stop();
      thread.join();
    }
  } join{*runner, thread};
  auto& batch = runner->batch;
  auto& outs = runner->outs;
  size_t pending = 0;  // turns of the batch whose lines are not out yet
  int cur = 0;
  uint64_t ticket = 0;
  // `done`: the batch was abandoned; only the turns it says are done count.
  auto report = [&](int which, size_t n, const std::vector<int32_t>* done) {
    if (opt.trace != nullptr) opt.trace->wait_flushed(ticket);
    errno = 0;  // a failed write below leaves its reason here
    for (size_t i = 0; i < n; ++i) {
      if (done != nullptr && (*done)[i] != Engine::kTurnDone) {
        ++sum.abandoned;
        continue;
      }
      const TurnOutcome& o = outs[which][i];
      ++sum.turns;
      switch (o.status) {
        case trace::TurnStatus::Ok: ++sum.ok; break;
        case trace::TurnStatus::Failed: ++sum.failed; break;
        case trace::TurnStatus::Cancelled: ++sum.cancelled; break;
      }
      if (opt.results != nullptr) *opt.results << result_line(batch[which][i], o) << '\n';
      if (opt.on_turn) opt.on_turn(batch[which][i], o);
    }
    if (opt.results != nullptr) {
      opt.results->flush();
      // A full disk or a closed pipe: the lines are lost, so the run stops
      // taking turns (what ran is still traced) and says why.
      if (!*opt.results && sum.results_error.empty())
        sum.results_error = errno != 0 ? std::strerror(errno) : "the stream refused the data";
    }
    progress.update(sum.turns);
  };
  // The grace ran out on batch `cur` of `n` turns: its finished turns are
  // reported like any (records durable first), the others abandoned.
  // Returns false if the batch ended meanwhile after all.
  auto abandon = [&](size_t n, const Watchdog& dog) {
    // A turn being written goes on for microseconds; the writer must not
    // be flushed under it.
    std::vector<int32_t> state(n);
    for (int i = 0; i < 100; ++i) {
      bool writing = false;
      for (size_t t = 0; t < n; ++t) {
        state[t] = engine.turn_progress(t);
        writing = writing || state[t] == Engine::kTurnFinishing;
      }
      if (!writing) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // Read before this check, `state` is the batch's (turn_progress() says
    // kTurnWaiting for every turn once run_batch() has returned).
    if (runner->wait_for(std::chrono::milliseconds(0))) return false;
    char head[200];
    std::snprintf(head, sizeof head,
                  "error[R041]: interrupted: turns still running %.1f s after the %s are abandoned "
                  "(--shutdown-grace-ms); the finished ones are in the results and the trace:\n",
                  opt.shutdown_grace_ms / 1e3, g_crash_taken.load() ? "plugin's crash" : "signal");
    alert(opt, head + in_flight(engine, batch[cur].data(), n, dog.since(), now_ns(), 20));
    if (pending > 0) report(1 - cur, pending, nullptr);
    if (opt.trace != nullptr) ticket = opt.trace->begin_flush();
    report(cur, n, &state);
    pending = 0;
    return true;
  };
  for (;;) {
    if (engine.cancelled()) {
      sum.interrupted = true;
      break;
    }
    if (!sum.results_error.empty()) break;
    size_t n = 0;
    while (n < cap && source.next(batch[cur][n])) ++n;
    if (n == 0) break;
    runner->start(cur, n);
    Watchdog dog(engine, batch[cur].data(), n, int64_t{opt.stall_report_ms} * kMs);
    if (!watch(*runner, engine, dog, opt) && abandon(n, dog)) {
      sum.interrupted = true;
      break;
    }
    if (runner->error) std::rethrow_exception(runner->error);
    if (pending > 0) report(1 - cur, pending, nullptr);
    if (opt.trace != nullptr) ticket = opt.trace->begin_flush();
    pending = n;
    cur = 1 - cur;
  }
  if (pending > 0) report(1 - cur, pending, nullptr);
  if (engine.cancelled()) sum.interrupted = true;
  // An abandoned batch's thread may never return: nothing waits for it
  // (if it does, it then ends).
  if (sum.abandoned > 0) {
    runner->stop();
    thread.detach();
  }
  if (g_crash_taken.load()) {
    sum.crash_signal = g_crash_signal.load();
    sum.crash_exit = g_crash_exit.load();
  }
  progress.end(sum.turns);
  sum.seconds = progress.seconds();
  return sum;
}

}  // namespace cascade
