// simulate/error_model.hpp — a word-level model of what the speech pipeline's
// ASR does to a request, so that simulated sessions can run on the fast
// text pipeline (as recorded-ASR turns) and still meet realistic errors.
//
// Estimated, not invented: estimate() aligns the ASR's output with the gold
// transcript of every addressed turn of a real speech-pipeline trace
// (out/assistant.cas, one voice, clean) and counts substitutions,
// deletions and insertions per reference word, and which word was heard
// for which. asr_error_model.json beside this file is that estimate
// (README.md says how to redo it). How the rates grow with another voice
// or with noise is not in one trace: `voice_factor` and `snr_factor` are
// the WER ratios of docs/results.md's measured tables (noise curve and the
// DEV voices), applied to all three rates alike.
//
// The confidence the turn carries is estimated too (confidence_model.hpp):
// drawn from what the real recogniser reported for hypotheses with as many
// word errors at the user's noise level (traces of both voices pooled:
// noise moved the distribution, the voice did not measurably; README.md).
//
// A word seen substituted in the trace is misheard as one of the words it
// was heard as (by their counts); any other word as its nearest word of
// the vocabulary by edit distance (ties by a fixed hash): the same word
// goes wrong the same way for everybody, as real ASR errors are systematic,
// and whether it goes wrong this time is drawn per turn.
//
// Lifecycle: build once (from_json / estimate), then only read.
// Threading: const methods are safe from any number of threads.
#pragma once

#include "confidence_model.hpp"
#include "rng.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cascade::sim {

struct AsrErrorModel {
  std::string source;          // what it was estimated from
  std::string condition;       // the voice and noise of that source
  uint64_t reference_words = 0;
  uint64_t substitutions = 0, deletions = 0, insertions = 0;
  std::map<std::string, std::map<std::string, uint64_t>> confusions;  // said -> heard -> count
  std::map<std::string, uint64_t> inserted;                           // word -> count
  std::map<std::string, double> voice_factor;                         // voice -> WER ratio
  std::map<std::string, double> snr_factor;                           // "inf" | "30" | "20" -> WER ratio
  // noise level ("inf" | "30" | "20", as snr_factor) -> the recogniser's
  // confidence per error bucket at that level.
  std::map<std::string, ConfidenceModel> confidence;

  [[nodiscard]] double rate(uint64_t count) const {
    return reference_words == 0 ? 0.0 : static_cast<double>(count) / static_cast<double>(reference_words);
  }
};

// One addressed turn of a speech trace: what the asr stage heard, the gold
// transcript (both normalised), and the confidence the asr stage reported
// (a recogniser that logs none: has_confidence false, and estimate() learns
// its words only).
struct AsrTurn {
  std::string heard, said;
  double confidence = 0;
  bool has_confidence = true;
};

// Word errors (substitutions + deletions + insertions) of `heard` against
// `said`, by the minimum-edit alignment estimate() uses.
[[nodiscard]] uint32_t word_errors(const std::string& heard, const std::string& said);

// Counts and confusions from a minimum-edit alignment of each turn, and the
// turns' (errors, confidence) as the confidence model of noise level `snr`.
// Factors are left empty.
AsrErrorModel estimate(const std::vector<AsrTurn>& turns, const std::string& snr = "inf");

// The version to_json writes; model_from_json reads only this one (version
// 1 had no estimated confidence).
inline constexpr int kAsrErrorModelVersion = 2;

nlohmann::json to_json(const AsrErrorModel& model);
// Throws std::invalid_argument naming the key that is missing or mistyped.
AsrErrorModel model_from_json(const nlohmann::json& j);

// What a user's request became.
struct Heard {
  std::string text;
  uint32_t errors = 0;      // words substituted, deleted or inserted
  double confidence = 1.0;  // what the recogniser would report
};

class AsrChannel {
 public:
  // `vocabulary`: the words an unseen word may be misheard as (the TRAIN
  // sentences' words).
  AsrChannel(AsrErrorModel model, std::vector<std::string> vocabulary);

  // Throws std::invalid_argument for a voice or noise level the model has
  // no factor for.
  [[nodiscard]] double factor(const std::string& voice, const std::string& snr) const;
  // The confidence model of that noise level; throws std::invalid_argument
  // when the model has none.
  [[nodiscard]] const ConfidenceModel& confidence(const std::string& snr) const;
  [[nodiscard]] Heard hear(std::string_view said, const std::string& voice, const std::string& snr, Rng& rng) const;
  [[nodiscard]] const AsrErrorModel& model() const { return model_; }

 private:
  [[nodiscard]] std::string misheard(const std::string& word, Rng& rng) const;
  [[nodiscard]] std::string nearest(const std::string& word) const;

  AsrErrorModel model_;
  std::vector<std::string> vocabulary_;
  std::vector<std::pair<std::string, uint64_t>> inserted_;  // cumulative counts
};

}  // namespace cascade::sim
