// isolate_train_model.hpp — the xgboost half of `cascade isolate train`:
// fit a model on labelled feature rows, cross-validate it by dialogue, and
// choose the decision weights the `learned` plugin applies to the class
// probabilities before it takes the most probable class.
//
// Why decision weights: the trainer weighs rare classes up (so the trees
// learn `er` and `result` from a few dozen turns), which leaves the
// probabilities biased towards the failures. Which per-class multipliers
// undo that best depends on the data a team trains on, so the trainer
// chooses them on its own out-of-fold predictions (every row predicted by
// a model that never saw its dialogue) and records them in the model file;
// a constant chosen on one eval set would not carry over to another
// team's traces.
//
// Lifecycle: free functions over plain data; a model lives in a Booster
// (RAII over xgboost's handle) from fit() until it is saved or dropped.
// Threading: cross_validate() trains its folds on up to `jobs` threads,
// each booster single-threaded (nthread=1), so the result does not depend
// on the number of threads. Nothing else is shared.
#pragma once

#include <cascade/core/baselines.hpp>
#include <cascade/core/scoring.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cascade::isolate_train {

// The model's class order is cascade::failure_classes() (baselines.hpp).
using cascade::failure_classes;

// One training row.
struct Example {
  std::string key;       // trace file name # turn_seq
  std::string dialogue;  // the turn's dialogue id: rows are grouped by it
  std::string intent;    // the NLU's top intent; "" when none
  std::vector<float> features;
  int label = -1;  // index into failure_classes()
  // From a trace that only adds training data (cascade eval fpi's TRAIN-fold
  // runs: other requests, other pipelines): never scored by the
  // cross-validation, and weighed by `weight`.
  bool auxiliary = false;
  // Multiplies the row's class weight in fit() and its count in
  // intent_priors(); 0 leaves it out of both.
  float weight = 1;
};

struct FitOptions {
  uint64_t seed = 7;
  uint32_t rounds = 100;
  uint32_t depth = 3;
  double eta = 0.1;
  std::string weights = "sqrt";  // class weights: balanced, sqrt, none
};

// A trained xgboost booster. Move-only; frees the handle.
class Booster {
 public:
  explicit Booster(void* handle) : handle_(handle) {}
  Booster(Booster&& o) noexcept : handle_(o.handle_) { o.handle_ = nullptr; }
  Booster& operator=(Booster&&) = delete;
  Booster(const Booster&) = delete;
  ~Booster();
  void* get() const { return handle_; }

 private:
  void* handle_;
};

// Trains on `rows` (all of one width) of weight above 0. Throws
// CascadeError N021 when xgboost fails or no row weighs anything.
Booster fit(const std::vector<const Example*>& rows, const FitOptions& o);

// The class probabilities of `rows`, row after row (failure_classes().size() each).
std::vector<float> predict(const Booster& b, const std::vector<const Example*>& rows);

// The label chosen from one row's probabilities: argmax of weights[c] * p[c].
int decide(const float* p, const std::vector<double>& weights);

// The group of `folds` a dialogue falls in: FNV-1a 64 of its split key
// (baselines.hpp: `<id>#<k>` falls with `<id>`), salted,
// so that it does not line up with `cascade eval fpi`'s own folds.
uint32_t dialogue_group(const std::string& dialogue, uint32_t folds);

// How often each class follows each NLU intent (the `learned` plugin's
// intent_prior.hpp): per intent, (count of the class + kPriorSmoothing x
// its overall share) / (turns + kPriorSmoothing), so a rare intent leans on
// the overall shares. Rows without an intent count towards the overall
// shares only.
inline constexpr double kPriorSmoothing = 20;
struct IntentPriors {
  std::vector<double> global;
  std::vector<std::pair<std::string, std::vector<double>>> by_intent;  // sorted by intent
};
IntentPriors intent_priors(const std::vector<const Example*>& rows);
// The model attribute the plugin reads: {"global": [...], "intents": {...}}.
std::string to_json(const IntentPriors& p);

// The dialogue groups the intent priors are encoded out of (a fixed five,
// whatever the cross-validation's folds, so that the features do not
// depend on --cv).
inline constexpr uint32_t kPriorFolds = 5;

// Sets a row's entries [column, column + failure_classes().size()) to its intent's
// priors in `p` (the global ones for an intent `p` lacks); missing (NaN)
// for a row without an intent, as the plugin leaves them.
void apply_intent_priors(Example& row, size_t column, const IntentPriors& p);

// Fills every row's entries out of fold: from the priors of the rows of
// the other dialogue groups (of `folds`), never from its own dialogue's
// labels.
void encode_intent_priors(std::vector<Example>& rows, size_t column, uint32_t folds);

// What the model file records beside the trees.
struct ModelRecord {
  std::vector<std::string> feature_names;
  std::vector<double> decision_weights;
  IntentPriors priors;
  // When the cross-validation ran, what a label's score was worth there
  // (score_coverage()'s points, as scoring_json.hpp's coverage_json writes
  // them; the plugin's score_accuracy.hpp).
  std::vector<CoveragePoint> score_accuracy;
  // The weight the auxiliary rows trained with, when there were any
  // (`cascade_auxiliary_weight`: for people and `cascade eval fpi`'s
  // notes; the plugin does not read it).
  std::optional<double> auxiliary_weight;
};

// Records `r` in the model (attributes cascade_features, cascade_classes,
// cascade_decision_weights, cascade_intent_priors, cascade_score_accuracy,
// cascade_auxiliary_weight) and writes it (xgboost's JSON). N021 on
// failure.
void save(const Booster& b, const ModelRecord& r, const std::string& path);

// Out-of-fold probabilities: the rows are split into `folds` groups by
// dialogue_group(), and each group is predicted by a model trained on the
// others (their rows of weight above 0). With `prior_column`, each fold's intent priors are encoded anew
// from its training rows alone (nested: no held-out label reaches the
// model that predicts it). Empty when fewer than two groups hold rows.
std::vector<float> cross_validate(const std::vector<Example>& rows, uint32_t folds, const FitOptions& o,
                                  uint32_t jobs, std::optional<size_t> prior_column = std::nullopt);

// What the decision weights aim for on the out-of-fold predictions.
enum class Objective { Accuracy, MacroF1, Mean };  // Mean: (accuracy + macro-F1) / 2
double objective_value(Objective obj, double accuracy, double macro_f1);

// Per-class multipliers of the probabilities that maximise `obj` on the
// out-of-fold predictions `oof` of `rows`: coordinate ascent over a grid
// of powers of two (1/4 to 4, in quarter steps of the exponent) for each
// failure class, `correct` held at 1 (only the ratios matter); a weight
// moves only on a strict gain, so ties keep it at 1.
std::vector<double> choose_decision_weights(const std::vector<Example>& rows, const std::vector<float>& oof,
                                            Objective obj);

// Accuracy and macro-F1 of the decisions under `weights`, against the rows'
// labels (macro-F1 over the classes present).
struct Fit {
  double accuracy = 0, macro_f1 = 0;
  std::vector<double> recall;  // per class; NaN for a class without rows
};
Fit score_decisions(const std::vector<Example>& rows, const std::vector<float>& probabilities,
                    const std::vector<double>& weights);

// The same decisions kept only above a score, the plugin's: the chosen
// label's own probability (scoring.hpp's coverage_curve at its default
// shares). What a team's own cross-validation says a score is worth.
std::vector<CoveragePoint> score_coverage(const std::vector<Example>& rows, const std::vector<float>& probabilities,
                                          const std::vector<double>& weights);

}  // namespace cascade::isolate_train
