// features.hpp — the ONE feature extractor of the learned failure-point
// isolator: a fixed vector of numbers per turn, read from the trace alone
// (no gold). The `learned` plugin computes it to predict; in mode
// "features" it hands the same vector to `cascade isolate train` through
// the analyzer host, so training and prediction can never disagree on what
// a feature means.
//
// What it reads (stage ids are the reference assistant's: wake, asr,
// request, nlu, er, result; a stage the trace does not have gives missing
// values, which the trees handle):
//   wake     detected, confidence, score; whether what was heard starts
//            with the wake word; the room's noise (estimated SNR); when it
//            did not fire, a near miss and where it lay
//   asr      confidence, n-best margin and size, lowest word confidence,
//            words heard; how the top two hypotheses differ (overlap, in
//            the slots' words?), new words in the alternatives, words per
//            second, per-word posteriors (mean, unsure words, slot words)
//   nlu      confidence, top-2 margin, n-best spread, entropy and runner-up
//            (same domain?), slots, tokens, the least sure slot, coverage
//   er       confidence, entities, unresolved entities and their share,
//            the least sure entity, fuzzy resolutions
//   result   success, supported, an action, an answer; what it said: a
//            question back, its echo of the request, a failure naming
//            nothing the user said, an unresolved entity named
//   statuses stages that ran, skipped, the turn's status
//   latency  the turn's and the ASR stage's, log milliseconds
//   dialogue position and length; previous turn: overlap, its success;
//            the user's reaction (live dialogues only:
//            FeatureOptions::live_dialogue): the next turn's word overlap,
//            gap (and after the response was spoken), rephrase, barge-in,
//            silence after, the same intent again, its success
//   checker  a second opinion on the NLU's request from the TRAIN data
//            (checker.hpp): the nearest TRAIN requests' similarity and
//            intents
//   intent prior  how often each class followed the NLU's intent among
//            the training turns (intent_prior.hpp): missing here, filled by
//            the trainer out of fold and by the plugin from the model
//   alternatives  the turn replayed on the recogniser's other hypotheses
//            (alternatives.hpp, only when the host can replay): how many,
//            how many give the recorded result, whether the best one does,
//            how many succeed
//
// Lifecycle: free functions and constants; the only state is scratch per
// thread (the JSON tapes the stage outputs are read with, readings.hpp),
// reused from one turn to the next.
// Threading: any thread; the views must be valid (inside analyze()).
#pragma once

#include "checker.hpp"

#include <cascade/sdk/analyzer.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::learned {

// The failure-point classes, in the model's class order.
const std::vector<const char*>& classes();

// How the dialogue features are read (the rules isolator's defaults).
struct FeatureOptions {
  std::string wake_word = "alexa";
  double rephrase_min = 0.5;     // word overlap (Jaccard) that makes a rephrase
  double rephrase_gap_s = 60.0;  // a rephrase or a barge-in starts within this
  // Whether a dialogue's next turns are the user's reaction to this one
  // (live traffic) or were written before it ran (scripted eval dialogues,
  // logged requests replayed one by one): then the next-turn features are
  // missing.
  bool live_dialogue = true;
  // A second opinion on the request (checker.hpp); null: those features
  // are missing. Not owned: it outlives every extract_features() call.
  const RequestChecker* checker = nullptr;
  // ASR alternatives replayed per turn when the host can replay
  // (alternatives.hpp); 0: none, those features are missing.
  size_t alternatives = 0;
};

// The names of the vector's entries, in order; stable within a version of
// this file (a model records them and the plugin refuses a mismatch).
const std::vector<std::string>& feature_names();

// The vector for the turn being analyzed (dialogue features need
// AnalyzerInfo::dialogue). A missing value is NaN.
std::vector<double> extract_features(const sdk::Analysis& a, const FeatureOptions& options);

// The NLU's top intent, or "" when it did not run or listed none.
std::string_view top_intent(const sdk::TurnView& turn);

// Where the vector's six intent-prior entries start ("intent_prior_<class>",
// in classes() order; intent_prior.hpp). extract_features() leaves them
// missing: the trainer fills them out of fold, the plugin from the model.
size_t intent_prior_column();

// A stage that ended in error, timeout or cancellation: the turn's failure
// point is that stage's class, no model needed.
struct DirectAttribution {
  std::string label;
  std::string stage;
  std::string status;  // "error", "timeout", "cancelled" or "crashed"
  std::string message;
};
std::optional<DirectAttribution> direct_attribution(const sdk::TurnView& turn);

// The class of a failure at a stage of the reference assistant.
std::string class_of_stage(std::string_view stage_id);

}  // namespace cascade::learned
