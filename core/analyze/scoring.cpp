// scoring.cpp — see cascade/core/scoring.hpp.
#include <cascade/core/scoring.hpp>

#include <algorithm>

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

}  // namespace cascade
