// eval/quality.hpp — the assistant's quality report, computed from a trace
// (every stage's outputs per turn) and the gold each turn record carries.
//
// What is measured (the rules are part of the report's meaning; the
// numbers in eval/README.md were computed with them):
//
//   addressed       a turn whose gold says the wake word was said
//                   (gold.wake.detected); without a gold wake (text
//                   pipelines) a turn is addressed when it has a gold asr.
//   wer             corpus-level word error rate of the "asr" stage's
//                   "text" output against gold.asr.text: (S+D+I) summed over
//                   turns / reference words summed over turns. Both sides go
//                   through judges::canonical_text (the ASR judge's
//                   normalisation: lower case, no punctuation, articles and
//                   fillers dropped, numbers as digits, leading wake word
//                   dropped). Over addressed turns where the asr stage
//                   produced text; turns it never heard (a wake miss, an
//                   asr error) are counted apart (wer_missing_turns), since
//                   a WER over nothing is undefined, not 100%.
//   wake_hit_rate   addressed turns whose "wake" stage said detected.
//   false_wakes     non-addressed turns whose "wake" stage said detected;
//                   per hour of non-addressed audio (the wake stage's input
//                   audio, else the "speech" stage's output: bytes/2/rate).
//                   Null when the trace has no wake stage.
//   intent_accuracy "nlu" output intent == gold intent, over addressed turns
//                   with a gold nlu; a turn whose NLU did not run is wrong.
//   slot_f1         micro precision/recall/F1 over the per-turn SETS of
//                   (type, canonical value) pairs (the NLU judge's
//                   equivalence); same turns as intent_accuracy.
//   er_accuracy     judges::judge_er acceptable, addressed turns with a gold er.
//   task_success    addressed: judges::judge_result acceptable (a gold
//                   refusal must be refused); non-addressed: correct when
//                   nothing was executed (no "result" output).
//   x_realtime      audio seconds the stage heard / seconds it ran, over
//                   its Ok records (so 10 = ten times faster than real time).
//   latency         per stage p50/p90/p99 (trace::compute_stats).
//   intent baseline the majority-class accuracy on the same turns as
//                   intent_accuracy (always answer the most frequent gold
//                   intent): what intent_accuracy must beat to mean anything.
//
// Lifecycle: plain values. Threading: pure functions, safe from any thread.
#pragma once

#include <cascade/trace/reader.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::language::eval {

// num / den; value() is nullopt when den == 0 (nothing to measure).
struct Ratio {
  uint64_t num = 0;
  uint64_t den = 0;
  [[nodiscard]] std::optional<double> value() const;
};

// Word-level edit distance between two texts split on white space.
struct WordErrors {
  uint64_t substitutions = 0, deletions = 0, insertions = 0;
  uint64_t ref_words = 0;
  [[nodiscard]] uint64_t errors() const { return substitutions + deletions + insertions; }
};
// Raw: no normalisation (callers canonicalise first).
WordErrors word_errors(std::string_view hypothesis, std::string_view reference);

struct SlotCounts {
  uint64_t tp = 0, fp = 0, fn = 0;
  [[nodiscard]] std::optional<double> precision() const;
  [[nodiscard]] std::optional<double> recall() const;
  [[nodiscard]] std::optional<double> f1() const;  // nullopt when tp+fp+fn == 0
};

struct StageLatencyMs {
  std::string stage_id;
  uint64_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0;
};

struct QualityReport {
  uint64_t turns = 0;             // turns with a record and a gold
  uint64_t turns_without_gold = 0;  // lost turn records or empty gold: not scored
  uint64_t addressed = 0;
  uint64_t non_addressed = 0;

  WordErrors wer_counts;          // summed over scored turns
  uint64_t wer_turns = 0;         // addressed turns with asr text and gold text
  uint64_t wer_missing_turns = 0; // addressed turns (with gold text) without asr text
  [[nodiscard]] std::optional<double> wer() const;

  bool has_wake = false;  // the trace has a "wake" stage
  Ratio wake_hits;        // detected / addressed
  uint64_t false_wakes = 0;
  double non_addressed_audio_s = 0;
  [[nodiscard]] std::optional<double> false_wakes_per_hour() const;

  Ratio intent;
  SlotCounts slots;
  Ratio er;
  Ratio task;                  // all turns
  Ratio task_addressed;        // its addressed part
  Ratio task_non_addressed;    // its non-addressed part

  Ratio intent_baseline;       // majority class over the same turns as `intent`
  std::string majority_intent;

  std::optional<double> asr_x_realtime;   // null: no asr audio (text pipeline)
  std::optional<double> wake_x_realtime;  // null: no wake stage
  double asr_audio_s = 0, wake_audio_s = 0;

  std::vector<StageLatencyMs> latency;  // stages in order of first appearance
};

QualityReport compute_report(const trace::TraceData& data);
// Reads `path` (file or rotated directory) and computes. Throws TraceError.
QualityReport compute_report(const std::filesystem::path& path);

// The keys (exactly): turns, addressed, wer, wake_hit_rate, false_wakes,
// false_wakes_per_hour, intent_accuracy, slot_f1, er_accuracy,
// task_success, asr_x_realtime, wake_x_realtime, latency_ms
// ({stage: {"p50","p90","p99"}}). Unmeasurable values are null.
nlohmann::json to_json(const QualityReport& r);
// A human-readable table with the counts behind every rate and the
// intent baseline line.
std::string format_text(const QualityReport& r);

}  // namespace cascade::language::eval
