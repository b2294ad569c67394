// scoring.cpp — see cascade/core/scoring.hpp.
#include <cascade/core/scoring.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace cascade {

Scores score(const std::vector<std::pair<std::string, std::string>>& pairs, std::vector<std::string> classes) {
  auto index = [&](const std::string& c) {
    auto it = std::find(classes.begin(), classes.end(), c);
    if (it != classes.end()) return static_cast<size_t>(it - classes.begin());
    classes.push_back(c);
    return classes.size() - 1;
  };
  std::vector<std::pair<size_t, size_t>> idx;
  for (const auto& [ref, pred] : pairs) {
    const size_t r = index(ref);
    idx.emplace_back(r, index(pred));
  }
  Scores s;
  s.classes = classes;
  s.confusion.assign(classes.size(), std::vector<uint64_t>(classes.size(), 0));
  uint64_t right = 0;
  for (const auto& [r, p] : idx) {
    ++s.confusion[r][p];
    right += r == p ? 1 : 0;
  }
  s.turns = idx.size();
  s.accuracy = s.turns == 0 ? 0 : static_cast<double>(right) / static_cast<double>(s.turns);
  double f1_sum = 0;
  uint64_t with_support = 0;
  for (size_t c = 0; c < classes.size(); ++c) {
    ClassScore cs;
    for (size_t k = 0; k < classes.size(); ++k) {
      cs.support += s.confusion[c][k];
      cs.predicted += s.confusion[k][c];
    }
    const double tp = static_cast<double>(s.confusion[c][c]);
    cs.precision = cs.predicted == 0 ? 0 : tp / static_cast<double>(cs.predicted);
    cs.recall = cs.support == 0 ? 0 : tp / static_cast<double>(cs.support);
    cs.f1 = cs.precision + cs.recall == 0 ? 0 : 2 * cs.precision * cs.recall / (cs.precision + cs.recall);
    if (cs.support > 0) {
      f1_sum += cs.f1;
      ++with_support;
    }
    s.per_class[classes[c]] = cs;
  }
  s.macro_f1 = with_support == 0 ? 0 : f1_sum / static_cast<double>(with_support);
  return s;
}

std::vector<CoveragePoint> coverage_curve(const std::vector<ScoredLabel>& labels, const std::vector<std::string>& classes,
                                          const std::vector<double>& coverages) {
  // Most sure first; a turn without a score counts as the least sure.
  const auto key = [](double s) { return std::isnan(s) ? -std::numeric_limits<double>::infinity() : s; };
  std::vector<const ScoredLabel*> ranked;
  for (const auto& l : labels) ranked.push_back(&l);
  std::stable_sort(ranked.begin(), ranked.end(),
                   [&](const ScoredLabel* a, const ScoredLabel* b) { return key(a->score) > key(b->score); });
  std::vector<CoveragePoint> out;
  const double n = static_cast<double>(ranked.size());
  for (const double target : coverages) {
    if (ranked.empty()) break;
    const auto want = static_cast<size_t>(std::ceil(std::clamp(target, 0.0, 1.0) * n));
    const double threshold = key(ranked[std::max<size_t>(want, 1) - 1]->score);
    std::vector<std::pair<std::string, std::string>> kept;
    for (const auto* l : ranked) {
      if (key(l->score) < threshold) break;
      kept.emplace_back(l->reference, l->predicted);
    }
    if (!out.empty() && out.back().turns == kept.size()) continue;
    const Scores s = score(kept, classes);
    out.push_back({threshold, static_cast<double>(kept.size()) / n, kept.size(), s.accuracy, s.macro_f1});
  }
  return out;
}

const std::vector<double>& default_coverages() {
  static const std::vector<double> c = {1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1};
  return c;
}

}  // namespace cascade
