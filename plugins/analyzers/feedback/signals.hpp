// feedback/signals.hpp — implicit feedback signals of one turn, from the
// turns of its session that follow it. Plain values in, plain values out:
// the analyzer plugin (feedback.cpp) fills TurnFacts from a trace and the
// rules here decide.
//
// The rules (thresholds are the analyzer's parameters, Rules below):
//   session      the next turn of the same dialogue belongs to this turn's
//                session when it starts at most session_gap_s later;
//                otherwise this turn ends its session.
//   repeat       the next turn says the same words (canonical text equal),
//                within rephrase_gap_s.
//   rephrased    not a repeat and not a negative, within rephrase_gap_s, and
//                max(text, phonetic similarity) >= rephrase_min, or
//                >= rephrase_min_after_failure when this turn looks failed
//                (a failed turn is likely to be retried: Wang et al. 2021
//                use the previous outcome as a feature for this reason).
//   barge_in     the next turn starts before this turn's response ended:
//                next.time < time + processing_s + response_s, where
//                response_s is the tts stage's `duration_s` feature when
//                the pipeline spoke, else response_latency_s plus the words
//                of the result's `say` at speaking_rate_wps (a text
//                pipeline has no audio).
//   explicit_negative  the next turn, within rephrase_gap_s, is a negative
//                (is_negative() below: "no ...", "stop", "cancel", "that's
//                wrong", ...).
//   abandoned    this turn ends its session and looks failed.
//   success      none of the above and the result says success.
// The label is the strongest signal present, in this order:
// explicit_negative, repeat, rephrased, barge_in, abandoned, success, none.
//
// Text similarity: cosine of character 3-gram counts of the canonical
// texts (padded with a space at each end). Phonetic similarity:
// phonetic::similarity (Soundex per word).
//
// Lifecycle/threading: pure functions; reentrant.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::feedback {

struct TurnFacts {
  std::string text;          // canonical request (wake word stripped); "" when none
  double time_s = 0;         // when the user spoke: the input's timestamp, else the turn's start
  double processing_s = 0;   // the turn's own run time (start to end of its record)
  double response_s = 0;     // how long the response took to say
  std::string response_source;  // "tts" (duration_s) or "say" (word count / rate) or "none"
  bool failed = true;        // no success in the result (or the turn failed)
  bool has_result = false;
};

struct Rules {
  double session_gap_s = 300;
  double rephrase_gap_s = 45;
  double rephrase_min = 0.6;
  double rephrase_min_after_failure = 0.4;
};

// What the rules found; the numbers are there even when no rule fired.
struct Signals {
  bool next_in_session = false;
  double gap_s = 0;
  double similarity = 0, phonetic_similarity = 0;
  double response_end_s = 0;  // after this turn's time
  bool repeat = false, rephrased = false, barge_in = false, explicit_negative = false, abandoned = false;
  bool success = false;
  [[nodiscard]] std::string label() const;
  [[nodiscard]] std::vector<std::string> fired() const;  // every signal that fired, label order
};

Signals detect(const TurnFacts& turn, const std::optional<TurnFacts>& next, const Rules& rules);

// Cosine similarity of character 3-gram counts, in [0, 1].
double trigram_cosine(std::string_view a, std::string_view b);

// "no", "no i said ...", "nope", "stop", "stop it", "cancel", "cancel that",
// "never mind", "that's wrong", "that is not right", "wrong": a reaction to
// the last response, not a request. "stop the vacuum" and "cancel my
// meeting" are requests (more than a negative's words).
bool is_negative(std::string_view canonical_text);

}  // namespace cascade::feedback
