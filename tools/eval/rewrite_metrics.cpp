// The paired figures of `cascade eval rewrite` and their bootstrap
// intervals (rewrite_eval.hpp says what each one means).
#include "eval/rewrite_eval.hpp"

#include "rng.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace cascade::language::eval {

namespace {

struct Tally {
  uint64_t wins = 0, losses = 0, first_b = 0, first_c = 0, failed_b = 0, failed_c = 0, turns = 0, rewritten = 0;
  uint64_t rw_first = 0, rw_first_b = 0, rw_first_c = 0;
  void add(const PairedSession& s) {
    if (s.first_rewritten) {
      ++rw_first;
      rw_first_b += s.baseline_first_ok ? 0 : 1;
      rw_first_c += s.first_ok ? 0 : 1;
    }
    wins += (!s.baseline_first_ok && s.first_ok) ? 1 : 0;
    losses += (s.baseline_first_ok && !s.first_ok) ? 1 : 0;
    first_b += s.baseline_first_ok ? 0 : 1;
    first_c += s.first_ok ? 0 : 1;
    failed_b += s.baseline_ok ? 0 : 1;
    failed_c += s.ok ? 0 : 1;
    turns += s.turns;
    rewritten += s.rewritten;
  }
};

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

double ratio(uint64_t wins, uint64_t losses) {
  if (losses == 0) {
    if (wins == 0) return kNaN;
    return kInf;
  }
  return static_cast<double>(wins) / static_cast<double>(losses);
}
double reduction(uint64_t before, uint64_t after) {
  if (before == 0) return kNaN;
  return (static_cast<double>(before) - static_cast<double>(after)) / static_cast<double>(before);
}
double share(uint64_t part, uint64_t whole) {
  return whole == 0 ? kNaN : static_cast<double>(part) / static_cast<double>(whole);
}

std::optional<double> finite(double v) { return std::isfinite(v) ? std::optional<double>(v) : std::nullopt; }

// Percentile interval of the resampled values; undefined resamples (0/0)
// are left out, an infinite bound is reported as unbounded.
Estimate interval(double point, std::vector<double> samples) {
  Estimate e;
  e.value = finite(point);
  samples.erase(std::remove_if(samples.begin(), samples.end(), [](double v) { return std::isnan(v); }), samples.end());
  if (samples.empty()) return e;
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    const auto i = static_cast<size_t>(std::floor(q * static_cast<double>(samples.size() - 1) + 0.5));
    return samples[std::min(i, samples.size() - 1)];
  };
  e.low = finite(at(0.025));
  e.high = finite(at(0.975));
  return e;
}

}  // namespace

SplitScore score(const std::vector<PairedSession>& sessions, uint32_t resamples, uint64_t seed) {
  Tally all;
  for (const auto& s : sessions) all.add(s);
  SplitScore out;
  out.sessions = sessions.size();
  out.wins = all.wins;
  out.losses = all.losses;
  out.first_defects_baseline = all.first_b;
  out.first_defects = all.first_c;
  out.failed_sessions_baseline = all.failed_b;
  out.failed_sessions = all.failed_c;
  out.turns = all.turns;
  out.rewritten_turns = all.rewritten;
  out.rewritten_first = all.rw_first;
  out.rewritten_first_defects_baseline = all.rw_first_b;
  out.rewritten_first_defects = all.rw_first_c;

  std::vector<double> wl, dr, sdr, tr, rdr;
  sim::Rng rng(seed, {"bootstrap"});
  for (uint32_t b = 0; b < resamples && !sessions.empty(); ++b) {
    Tally t;
    for (size_t i = 0; i < sessions.size(); ++i) t.add(sessions[rng.below(sessions.size())]);
    wl.push_back(ratio(t.wins, t.losses));
    dr.push_back(reduction(t.first_b, t.first_c));
    sdr.push_back(reduction(t.failed_b, t.failed_c));
    tr.push_back(share(t.rewritten, t.turns));
    rdr.push_back(reduction(t.rw_first_b, t.rw_first_c));
  }
  out.win_loss = interval(ratio(all.wins, all.losses), std::move(wl));
  out.defect_reduction = interval(reduction(all.first_b, all.first_c), std::move(dr));
  out.session_defect_reduction = interval(reduction(all.failed_b, all.failed_c), std::move(sdr));
  out.trigger_rate = interval(share(all.rewritten, all.turns), std::move(tr));
  out.rewritten_defect_reduction = interval(reduction(all.rw_first_b, all.rw_first_c), std::move(rdr));
  return out;
}

Comparison compare(const std::vector<PairedSession>& better, const std::vector<PairedSession>& over, uint32_t resamples,
                   uint64_t seed) {
  if (better.size() != over.size()) throw std::invalid_argument("compare: the runs have different sessions");
  struct Counts {
    uint64_t gains = 0, losses = 0, baseline = 0, better = 0, over = 0;
    void add(const PairedSession& b, const PairedSession& o) {
      gains += (!o.first_ok && b.first_ok) ? 1 : 0;
      losses += (o.first_ok && !b.first_ok) ? 1 : 0;
      baseline += b.baseline_first_ok ? 0 : 1;
      better += b.first_ok ? 0 : 1;
      over += o.first_ok ? 0 : 1;
    }
    [[nodiscard]] double gain() const {
      return baseline == 0 ? kNaN : (static_cast<double>(over) - static_cast<double>(better)) / static_cast<double>(baseline);
    }
  };
  Counts all;
  for (size_t i = 0; i < better.size(); ++i) {
    if (better[i].baseline_first_ok != over[i].baseline_first_ok)
      throw std::invalid_argument("compare: session " + std::to_string(i) + " has another baseline in the two runs");
    all.add(better[i], over[i]);
  }
  Comparison out;
  out.sessions = better.size();
  out.gains = all.gains;
  out.losses = all.losses;
  out.baseline_defects = all.baseline;
  std::vector<double> samples;
  sim::Rng rng(seed, {"bootstrap-compare"});
  for (uint32_t b = 0; b < resamples && !better.empty(); ++b) {
    Counts c;
    for (size_t i = 0; i < better.size(); ++i) {
      const size_t at = rng.below(better.size());
      c.add(better[at], over[at]);
    }
    samples.push_back(c.gain());
  }
  out.gain = interval(all.gain(), std::move(samples));
  return out;
}

}  // namespace cascade::language::eval
