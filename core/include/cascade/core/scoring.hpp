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

// How far the labels can be trusted above a score. An analyst who keeps
// only the labels an isolator gave with a score of at least `min_score`
// (`jq 'select(.score >= 0.8)'` on the analysis file) keeps `turns` of
// them, a share `coverage` of all, and these are right with `accuracy`
// (macro-F1 `macro_f1`) against the reference.
struct CoveragePoint {
  double min_score = 0;
  double coverage = 0;
  uint64_t turns = 0;
  double accuracy = 0;
  double macro_f1 = 0;
};

// One labelled turn: the reference, the isolator's label and its score
// (NaN: no score; such a turn is kept only at the lowest threshold).
struct ScoredLabel {
  std::string reference, predicted;
  double score = 0;
};

// For each target share in `coverages` (e.g. 1.0, 0.9, ... 0.1), the
// threshold that keeps at least that share of the turns, most sure first,
// and what keeping them gives. Turns with the same score are kept or
// dropped together, so a point's coverage can exceed its target; targets
// that give the same threshold are reported once. Empty without turns.
std::vector<CoveragePoint> coverage_curve(const std::vector<ScoredLabel>& labels, const std::vector<std::string>& classes,
                                          const std::vector<double>& coverages);

// The targets `cascade isolate` and `cascade eval fpi` report: 100% down
// to 10% in steps of 10.
const std::vector<double>& default_coverages();

}  // namespace cascade
