// Applying delta and m to the chain's best targets.
#include "chain/select.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace cascade::rewriting {

Selection select_rewrites(const TransitionCounts& counts, const Thresholds& thresholds, ChainSolution* solution_out) {
  if (!std::isfinite(thresholds.min_gain) || thresholds.min_gain < 0)
    throw std::invalid_argument("min_gain (delta) must be a finite number >= 0: a negative one would deploy losers");
  const auto supported = [&](uint32_t s) { return counts.row(s).observations() >= thresholds.min_support; };
  ChainSolution solution = solve_chain(counts, supported);

  Selection sel;
  for (uint32_t i = 0; i < counts.size(); ++i) {
    const StateSolution& s = solution.states[i];
    if (!supported(i)) {
      // Row i was not solved; count it as a candidate refused for support
      // only if it has anywhere to go, so the summary stays meaningful.
      if (!counts.row(i).to.empty()) ++sel.candidates, ++sel.below_support;
      continue;
    }
    if (s.best_target < 0) continue;
    ++sel.candidates;
    const auto j = static_cast<uint32_t>(s.best_target);
    if (!supported(j)) {
      ++sel.below_support;
      continue;
    }
    const StateSolution& t = solution.states[j];
    if (t.success - s.success < thresholds.min_gain) {
      ++sel.below_gain;
      continue;
    }
    sel.kept.push_back(Rewrite{counts.name(i), counts.name(j), counts.row(i).observations(),
                               counts.row(j).observations(), s.success, t.success, s.best_carried});
  }
  std::sort(sel.kept.begin(), sel.kept.end(), [](const Rewrite& a, const Rewrite& b) { return a.from < b.from; });
  if (solution_out != nullptr) *solution_out = std::move(solution);
  return sel;
}

}  // namespace cascade::rewriting
