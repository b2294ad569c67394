// isolate_train_cv.hpp — step 4 of `cascade isolate train`: the
// cross-validation by dialogue that says how well the model will do on
// dialogues it never saw, and chooses from those out-of-fold predictions
// what the final model is trained and decided with:
//   - the weight of the auxiliary rows (traces the trainer was told are
//     training data only, e.g. `cascade eval fpi`'s TRAIN-fold runs);
//   - the decision weights (isolate_train_model.hpp says why);
//   - the score table (what a label's probability was worth).
//
// Why choose the auxiliary weight: those rows are many more requests than a
// team's own turns, but heard by another recogniser or channel, through
// other pipelines. On the eval's own data they help; on a team's
// recogniser logs they may teach the wrong recogniser. Only the team's own
// turns can say which, so the cross-validation is scored on them alone (the
// rows that are not auxiliary). A weight below 1 is kept only when it does
// better than 1 by more than the noise of that score (a bootstrap over the
// dialogues): on a few hundred turns the weights' scores differ by about
// that much from noise alone, and choosing on noise costs accuracy.
//
// Lifecycle: free functions over plain data. Threading: the folds train
// on up to `jobs` threads (isolate_train_model.hpp's cross_validate), the
// result does not depend on their number; progress goes to stderr.
#pragma once

#include "isolate_train_model.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cascade::isolate_train {

struct CvOptions {
  uint32_t folds = 5;                     // 0: no cross-validation
  std::string objective = "mean";         // what the decision weights maximise: accuracy, macro-f1, mean
  std::string auxiliary_weight = "auto";  // auto, or a number >= 0
  FitOptions fit;
};

// The auxiliary rows' weights `auto` tries: the best is kept if it is 1,
// or if it beats 1 by more than one standard deviation of the difference
// over a bootstrap of the scored rows' dialogues; else 1.
inline constexpr std::array<float, 5> kAuxiliaryWeights = {1.0F, 0.5F, 0.25F, 0.1F, 0.0F};

// What the cross-validation gives the final model.
struct CrossValidated {
  std::vector<double> weights;                  // decision weights; all 1 without a cross-validation
  std::vector<CoveragePoint> score_accuracy;    // empty without one
  std::optional<double> auxiliary_weight;       // none without auxiliary rows
};

// Sets every auxiliary row's `weight` (the option's number; with `auto`
// the choice of kAuxiliaryWeights above, or 1 when the other rows fall
// in fewer than two dialogue groups), then
// cross-validates at that weight and chooses the decision weights and
// score table on the rows that are not auxiliary (all rows when every
// row is). Prints each step's scores to stderr.
CrossValidated cross_validated(std::vector<Example>& rows, size_t prior_column, const CvOptions& o, uint32_t jobs);

}  // namespace cascade::isolate_train
