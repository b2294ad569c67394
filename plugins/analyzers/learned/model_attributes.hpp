// learned/model_attributes.hpp — what a `learned` model file records
// beside xgboost's trees: the attribute names and the format of a list.
// `cascade isolate train` (core/apps/cascade/isolate_train_model.cpp)
// writes them, this plugin (learned.cpp) reads them back and refuses a
// model whose features or classes are not its own, and `cascade eval fpi`
// reports the auxiliary weight. One definition, so that the three cannot
// drift apart.
//
// Header-only and dependency-free (the trainer and the eval include it
// without linking the plugin). Lifecycle: constants and a pure function.
// Threading: no state.
#pragma once

#include <string>
#include <vector>

namespace cascade::learned::model_attributes {

inline constexpr const char* kFeatures = "cascade_features";                 // list: the feature names, in column order
inline constexpr const char* kClasses = "cascade_classes";                   // list: the class order of the probabilities
inline constexpr const char* kDecisionWeights = "cascade_decision_weights";  // list of numbers, one per class
inline constexpr const char* kIntentPriors = "cascade_intent_priors";        // JSON: {"global": [...], "intents": {...}}
inline constexpr const char* kScoreAccuracy = "cascade_score_accuracy";      // JSON: the cross-validation's coverage rows
inline constexpr const char* kAuxiliaryWeight = "cascade_auxiliary_weight";  // a number; for people, not read by the plugin

// A list attribute: the items joined by commas (no item holds a comma:
// feature and class names, and numbers).
template <typename Items>
std::string joined(const Items& items) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

}  // namespace cascade::learned::model_attributes
