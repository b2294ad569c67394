// rewriting/online/rewriter.hpp — online rewriting: when a request looks
// defective, retrieve similar successful requests (global and the user's
// own) and rank them; the best replaces the request if it scores enough.
//
// Trigger. With the turn's own defect signals (TurnSignals: a probe pass of
// NLU, ER and result on the unrewritten request, and the recogniser's
// confidence; pipelines/assistant-recorded-asr-online.toml), the request
// is defective when the probe's result failed or was unsupported, an
// entity stayed unresolved, or the NLU (ASR) confidence is below
// nlu_min_confidence (asr_min_confidence); a request that is itself a known
// successful one (globally or for this user) is left alone unless its
// result failed or an entity stayed unresolved. Without signals (the stage
// sees only the text), the fallback: the request is not a known successful
// request and at least one of its words, and at least `oov_min` of them,
// are unknown to the index's vocabulary (an ASR error can produce words
// nobody's successful request used, "play maj and dragons"). The signals
// are what precedes a failure in the traces; an unknown word rarely does
// when the recogniser only knows the words of its training data.
//
// Candidates: the `candidates` best global documents by 3-gram TF-IDF
// cosine, the global documents with exactly the request's Soundex codes,
// and every request of the user's personal index; never the request itself
// (it is what looks defective).
//
// Ranker, a linear mix (weights are parameters; defaults in Params):
//   similarity = text_weight * cosine + (1 - text_weight) * phonetic
//   support    = ln(1 + global successes) / ln(1 + the most successes of any request)
//   personal   = min(1, personal successes / personal_full), counted only when the
//                user has at least personal_min successes with the candidate
//   score      = w_similarity * similarity + w_support * support + w_personal * personal
// The personal layer needs evidence to beat the global one: with fewer
// than personal_min successes a personal request adds nothing, and a
// request only the user said (not in the global index) is a candidate only
// with at least personal_min of the user's successes. Only candidates with
// similarity >= min_similarity compete (a dissimilar request the user says
// often must not outrank, and so block, a similar one); the best is the
// rewrite when its score >= min_score (and it differs from the request).
//
// Lifecycle/threading: built once from an index file; rewrite() is const
// and safe from any number of threads.
#pragma once

#include "online/index_file.hpp"
#include "online/ngram_index.hpp"

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cascade::rewriting {

struct OnlineParams {
  double oov_min = 0.0;  // share of unknown words; one unknown word is always needed
  double nlu_min_confidence = 0.5;  // with signals: below this the turn looks defective
  double asr_min_confidence = 0.0;  // with signals: 0 = the ASR confidence is not a trigger
  // With signals: intents whose requests need a slot; the NLU finding one
  // of them without any slot looks defective (empty: not a trigger).
  std::set<std::string> slot_intents;
  size_t candidates = 10;
  double text_weight = 0.7;
  double w_similarity = 0.5, w_support = 0.2, w_personal = 0.3;
  uint64_t personal_min = 2;
  double personal_full = 3;
  double min_similarity = 0.5;
  double min_score = 0.45;
};

struct RankedCandidate {
  std::string text;
  double cosine = 0, phonetic = 0, similarity = 0, support = 0, personal = 0, score = 0;
  uint64_t global_successes = 0, personal_successes = 0;
};

// What the turn said about itself before any rewrite: a probe pass of the
// NLU, ER and result on the request as heard, and the recogniser's
// confidence. Unset fields were not available.
struct TurnSignals {
  std::optional<double> asr_confidence, nlu_confidence;
  uint32_t unresolved = 0;         // entities the ER left unresolved
  std::optional<bool> result_ok;   // the result said success and supported
  std::optional<std::string> intent;  // the NLU's intent, and how many slots it found
  uint32_t slots = 0;
  [[nodiscard]] bool any() const { return asr_confidence || nlu_confidence || result_ok || unresolved > 0 || intent; }
};

struct RewriteDecision {
  bool triggered = false;
  std::string trigger;                  // why: "result", "unresolved", "nlu_confidence", "missing_slot", "asr_confidence", "unknown_word"
  double oov = 0;                       // unknown words / words
  std::optional<RankedCandidate> best;  // the best candidate similar enough, when triggered and any
  bool rewrite = false;                 // best is good enough
};

class OnlineRewriter {
 public:
  OnlineRewriter(const OnlineIndexFile& file, OnlineParams params);
  // `text` as the stage received it; `user` "" when unknown (no personal
  // layer); `signals` empty: the text-only trigger.
  [[nodiscard]] RewriteDecision decide(std::string_view text, std::string_view user,
                                       const TurnSignals& signals = {}) const;
  [[nodiscard]] const OnlineParams& params() const { return params_; }
  [[nodiscard]] size_t size() const { return index_.size(); }

 private:
  [[nodiscard]] RankedCandidate rank(const std::string& query, const std::string& text, uint64_t global,
                                     uint64_t personal) const;

  OnlineParams params_;
  NgramIndex index_;
  std::vector<uint64_t> successes_;  // by global document
  double log_max_successes_ = 1;
  std::unordered_map<std::string, std::unordered_map<std::string, uint64_t>> personal_;  // user -> text -> successes
};

}  // namespace cascade::rewriting
