// The batch loop behind `cascade run` and `cascade replay`.
#include <cascade/core/run.hpp>
#include <cascade/trace/writer.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
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
  std::vector<TurnInput> batch(cap);
  std::vector<TurnOutcome> outs(cap);
  for (;;) {
    if (engine.cancelled()) {
      sum.interrupted = true;
      break;
    }
    size_t n = 0;
    while (n < cap && source.next(batch[n])) ++n;
    if (n == 0) break;
    engine.run_batch({batch.data(), n}, {outs.data(), n});
    // Trace first, result lines second: a reported turn is a recorded turn.
    if (opt.trace != nullptr) opt.trace->flush();
    for (size_t i = 0; i < n; ++i) {
      ++sum.turns;
      switch (outs[i].status) {
        case trace::TurnStatus::Ok: ++sum.ok; break;
        case trace::TurnStatus::Failed: ++sum.failed; break;
        case trace::TurnStatus::Cancelled: ++sum.cancelled; break;
      }
      if (opt.results != nullptr) *opt.results << result_line(batch[i], outs[i]) << '\n';
      if (opt.on_turn) opt.on_turn(batch[i], outs[i]);
    }
    if (opt.results != nullptr) opt.results->flush();
    progress.update(sum.turns);
  }
  if (engine.cancelled()) sum.interrupted = true;
  progress.end(sum.turns);
  sum.seconds = progress.seconds();
  return sum;
}

}  // namespace cascade
