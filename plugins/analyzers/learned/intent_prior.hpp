// intent_prior.hpp — how often each failure point follows the NLU's
// intent: a table the trainer learns from the oracle's labels and records
// in the model, and the plugin reads back as features.
//
// Why: many NLU failures are confident (top intent at 0.98 and more), so
// the NLU's confidence does not see them, but they are not spread evenly:
// some intents are often chosen wrongly (a catch-all such as
// general_quirky; an intent without a skill chosen for a supported
// request). On `cascade eval fpi`'s held-out side the share of `nlu`
// failures among the training turns of the same predicted intent
// separates `nlu` from `correct` with AUC 0.78 among turns of NLU
// confidence 0.9 or more (docs/results.md).
//
//   the NLU's top intent --> P(class | intent) for each class, smoothed
//                            towards the classes' overall shares
//
// The trainer computes the features out of fold (a turn's value from the
// other dialogue groups' labels only), so no training row reads its own
// label; the table in the model is learnt from every training row.
//
// Lifecycle: from_json() once (the plugin's open()); immutable after.
// Threading: lookup() is const: any number of threads.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cascade::learned {

class IntentPrior {
 public:
  // The model attribute: {"global": [p per class], "intents": {intent:
  // [p per class]}}, `classes` numbers each. Throws std::runtime_error
  // saying what is wrong.
  static IntentPrior from_json(std::string_view text, size_t classes);

  // The intent's row, or the global one for an intent the training turns
  // never had.
  [[nodiscard]] const std::vector<double>& lookup(std::string_view intent) const;

  [[nodiscard]] size_t intents() const { return by_intent_.size(); }

 private:
  std::vector<double> global_;
  std::unordered_map<std::string, std::vector<double>> by_intent_;
};

}  // namespace cascade::learned
