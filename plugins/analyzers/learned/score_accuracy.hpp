// score_accuracy.hpp — what a label's score was worth when the model was
// trained: the table `cascade isolate train` records in the model
// (attribute `cascade_score_accuracy`) from its own cross-validation.
//
//   [{"min_score": 0.21, "accuracy": 0.741, "coverage": 1.0, ...}, ...]
//
// (core's coverage_json, as `cascade isolate --json` writes its
// `coverage`). A row says: of the cross-validated labels whose score (the
// label's own probability) was at least min_score, a share `coverage` of
// all, a share `accuracy` agreed with the oracle. The plugin puts the accuracy of the
// surest row a label's score reaches in its evidence (`expected_accuracy`),
// so that an analyst reading one label knows how far to trust it.
//
// Lifecycle: built once when the plugin opens; immutable. Threading:
// const reads from any analyze() thread.
#pragma once

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace cascade::learned {

class ScoreAccuracy {
 public:
  // Parses the attribute. Throws std::runtime_error naming what is wrong:
  // not a non-empty array of rows with finite numbers min_score, accuracy
  // and coverage, the last two in [0, 1].
  static ScoreAccuracy from_json(std::string_view text);

  // The accuracy of the surest row whose min_score `score` reaches;
  // nothing when it is below every row's (a label less sure than any the
  // cross-validation saw).
  [[nodiscard]] std::optional<double> at(double score) const;

 private:
  std::vector<std::pair<double, double>> rows_;  // (min_score, accuracy), min_score ascending
};

}  // namespace cascade::learned
