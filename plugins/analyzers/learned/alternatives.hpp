// alternatives.hpp — what the rest of the pipeline makes of the
// recogniser's other hypotheses: the turn replayed from the ASR on, once
// per n-best alternative (Analysis::replay, the pipeline given with
// `cascade isolate -p`), each result set against the recorded one.
//
//   asr n-best [h1, h2, ... hk] --> for each alternative hi (i >= 2, up to
//   `max`): replay with asr.text = hi, request -> nlu -> er -> result for
//   real --> same result as recorded? succeeded?
//
// Why: the NLU's failures are confidently wrong, so its own confidence
// does not show them, and the ASR's confidence cannot tell a harmless
// misrecognition from a harmful one. When every alternative leads to the
// recorded result, a recognition error (if any) did not matter: the
// failure, if there is one, is downstream, or the turn is right; when the
// alternatives lead elsewhere, the turn hangs on what the recogniser heard.
// A counterfactual on the pipeline itself, with no gold: it runs on
// production traces as well as on the eval's.
//
// Missing (NaN) when the host cannot replay (no pipeline given), the turn
// has no ASR stage or fewer than two distinct hypotheses, or the recorded
// turn has no result: a model trained with them still predicts without,
// from its other features.
//
// Lifecycle: a free function. Threading: any analyze() thread; each call
// blocks on its replays (the host batches them across threads).
#pragma once

#include <cascade/sdk/analyzer.hpp>

#include <cstddef>

namespace cascade::learned {

struct AlternativeOutcomes {
  double replayed;     // distinct alternatives replayed
  double same_result;  // share of them whose result is the recorded one, byte for byte
  double first_same;   // the best alternative's result is the recorded one
  double success;      // share of them whose result succeeded
};

// Replays at most `max` alternatives of the turn's "asr" stage (0: none).
AlternativeOutcomes replay_alternatives(const sdk::Analysis& a, size_t max);

}  // namespace cascade::learned
