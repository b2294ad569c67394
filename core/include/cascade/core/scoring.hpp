// cascade/core/scoring.hpp — how well predicted labels match reference
// labels: the confusion matrix, per-class precision/recall/F1, macro-F1 and
// accuracy, as `cascade isolate` and `cascade eval fpi` report them.
// Plain data and free functions; no threads.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cascade {

struct ClassScore {
  double precision = 0, recall = 0, f1 = 0;
  uint64_t support = 0;    // reference turns of this class
  uint64_t predicted = 0;  // turns predicted as this class
};

struct Scores {
  std::vector<std::string> classes;  // row/column order of `confusion`
  // confusion[r][p]: turns whose reference is classes[r], predicted classes[p].
  std::vector<std::vector<uint64_t>> confusion;
  std::map<std::string, ClassScore> per_class;
  uint64_t turns = 0;
  double accuracy = 0;
  // Mean F1 over the classes with support > 0 (a class absent from the
  // reference would otherwise count as 0 or be undefined).
  double macro_f1 = 0;
};

// Pairs (reference, predicted). Labels outside `classes` are added at the end.
Scores score(const std::vector<std::pair<std::string, std::string>>& pairs, std::vector<std::string> classes);

}  // namespace cascade
