// The batch loop behind `cascade run` and `cascade replay`.
#include <cascade/core/run.hpp>
#include <cascade/trace/writer.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ostream>
#include <unistd.h>

namespace cascade {
namespace {

std::atomic<Engine*> g_signal_engine{nullptr};

extern "C" void on_signal(int) {
  // Only an atomic load and an atomic store: async-signal-safe.
  if (Engine* e = g_signal_engine.load()) e->cancel();
}

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

}  // namespace

void cancel_on_signals(Engine* engine) {
  g_signal_engine.store(engine);
  struct sigaction sa {};
  sa.sa_handler = engine != nullptr ? &on_signal : SIG_DFL;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
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
  Progress progress(opt.progress, source.size_hint());
  const size_t cap = std::max<uint32_t>(1, opt.max_in_flight);
  // Two batches in turn: while batch k runs, the trace writer's background
  // thread writes batch k-1's records; k-1's result lines go out once they
  // are in the file. A reported turn is still a recorded turn (kill -9 can
  // cost the lines of one batch, never a record of a reported turn).
  std::vector<TurnInput> batch[2] = {std::vector<TurnInput>(cap), std::vector<TurnInput>(cap)};
  std::vector<TurnOutcome> outs[2] = {std::vector<TurnOutcome>(cap), std::vector<TurnOutcome>(cap)};
  size_t pending = 0;  // turns of the batch whose lines are not out yet
  int cur = 0;
  uint64_t ticket = 0;
  auto report = [&](int which, size_t n) {
    if (opt.trace != nullptr) opt.trace->wait_flushed(ticket);
    errno = 0;  // a failed write below leaves its reason here
    for (size_t i = 0; i < n; ++i) {
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
  for (;;) {
    if (engine.cancelled()) {
      sum.interrupted = true;
      break;
    }
    if (!sum.results_error.empty()) break;
    size_t n = 0;
    while (n < cap && source.next(batch[cur][n])) ++n;
    if (n == 0) break;
    engine.run_batch({batch[cur].data(), n}, {outs[cur].data(), n});
    if (pending > 0) report(1 - cur, pending);
    if (opt.trace != nullptr) ticket = opt.trace->begin_flush();
    pending = n;
    cur = 1 - cur;
  }
  if (pending > 0) report(1 - cur, pending);
  if (engine.cancelled()) sum.interrupted = true;
  progress.end(sum.turns);
  sum.seconds = progress.seconds();
  return sum;
}

}  // namespace cascade
