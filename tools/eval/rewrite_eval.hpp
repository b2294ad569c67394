// eval/rewrite_eval.hpp — `cascade eval rewrite`: do the rewriters help,
// measured on simulated sessions of users and days they never saw?
//
// Shape of the work:
//   1. train: simulate the train users on the train days on the baseline
//      pipeline (tools/simulate); build the precomputed table
//      (`cascade rewrite build`) and the online index (`cascade rewrite
//      index`) from that trace;
//   2. test, on two splits: held-out users on held-out days, and the
//      train users on held-out days (where a personal layer has history);
//      each split simulated once per configuration with the SAME seed:
//      baseline, precomputed, online global, online global + personal
//      (users one at a time, the stage's `user` set to theirs), chained
//      (the table first, then online global + personal), chained with
//      the recogniser's confidence as one more trigger, and with that and
//      an intent found without the slot it needs ("chained-signals"; which
//      intents need one is learnt from the train sessions' retries).
//      Attempt 0 of a
//      session is the same request in every configuration, so first turns
//      pair up;
//   3. per configuration and split, against the baseline on the same
//      sessions: wins (baseline's first turn wrong, this one right),
//      losses (the reverse), defect reduction (relative drop in failed
//      first turns; also failed sessions; also on rewritten traffic
//      alone: the first turns the rewriter changed), trigger rate (share of turns in
//      which a rewriting stage changed the text, from the trace), with
//      bootstrap 95% intervals over sessions;
//   4. the personal layer over the global one, session by session
//      (compare(): a paired bootstrap of the gain).
// Retries are simulated (the users are): every figure says so.
//
// Lifecycle: a free function; every run builds and tears down its own
// engines. Threading: blocks the caller; one pipeline runs at a time.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cascade::language::eval {

struct RewriteEvalRequest {
  std::string size = "default";              // "small" (tests) | "default"
  std::filesystem::path out_dir = "out/eval-rewrite";
  std::filesystem::path baseline_pipeline;    // recorded-ASR assistant
  std::filesystem::path precomputed_pipeline; // ... with the `rewrite` stage
  std::filesystem::path online_pipeline;      // ... with `online_rewrite` ("" : skip)
  std::filesystem::path chain_pipeline;       // ... with both, table first ("" : skip)
  std::filesystem::path slurp, catalog, asr_model;
  std::filesystem::path rewrite_tool;         // cascade-rewrite
  uint64_t seed = 1;
  uint32_t k = 3;
  uint32_t threads = 0;
  uint32_t resamples = 1000;
  bool progress = false;
};

// A figure and its bootstrap 95% interval; nullopt = unbounded or
// undefined (a ratio with no loss, a reduction with no baseline defect).
struct Estimate {
  std::optional<double> value, low, high;
};

struct SplitScore {
  std::string configuration;  // "precomputed" | "online-global" | "online-personal" | "chained" | "chained-asr-confidence" | "chained-signals"
  std::string split;          // "held_out_users" | "held_out_days" | "held_out_days/personal_users"
  uint64_t sessions = 0;
  uint64_t wins = 0, losses = 0;
  uint64_t first_defects_baseline = 0, first_defects = 0;
  uint64_t failed_sessions_baseline = 0, failed_sessions = 0;
  uint64_t turns = 0, rewritten_turns = 0;
  // First turns the rewriter changed, and how many of those failed in each run.
  uint64_t rewritten_first = 0, rewritten_first_defects_baseline = 0, rewritten_first_defects = 0;
  Estimate win_loss, defect_reduction, session_defect_reduction, trigger_rate;
  Estimate rewritten_defect_reduction;  // on rewritten traffic (as Ponnusamy et al. report it)
};

// One configuration over another on the same sessions (the personal layer
// over the global one): first turns `over` got wrong and `better` right
// (gains), the reverse (losses), and the gain in defect reduction, (over's
// first-turn defects - better's) / the baseline's, with a paired bootstrap
// interval over sessions: an interval above 0 is a measurable gain.
struct Comparison {
  std::string better, over, split;
  uint64_t sessions = 0, gains = 0, losses = 0, baseline_defects = 0;
  Estimate gain;
};

struct ConfigRun {
  std::string configuration;
  std::string skipped;  // why it did not run, or ""
};

struct RewriteEvalReport {
  std::string size;
  uint64_t seed = 0;
  uint32_t k = 0;
  uint64_t train_users = 0, train_sessions = 0, train_turns = 0;
  uint32_t train_days = 0, test_days = 0;
  uint64_t held_out_users = 0;
  uint64_t table_rewrites = 0;
  std::string slot_intents;  // what "chained-signals" treats as needing a slot
  std::vector<ConfigRun> configurations;
  std::vector<SplitScore> scores;
  std::vector<Comparison> comparisons;
  double seconds = 0;
};

// Throws std::invalid_argument for an unknown size, std::runtime_error when
// the table cannot be built, and what the simulator throws.
RewriteEvalReport run_rewrite_eval(const RewriteEvalRequest& request);

// {"retries_are_simulated": true, ..., "configurations": [one object per
// configuration and split: "win_loss", "defect_reduction", "trigger_rate",
// "ci": {...}, "retries_are_simulated": true, ...]}
nlohmann::json to_json(const RewriteEvalReport& report);
std::string format_text(const RewriteEvalReport& report);

// --- the paired metrics (rewrite_metrics.cpp; tested on their own) ---

// One session as both runs saw it.
struct PairedSession {
  bool baseline_first_ok = false, first_ok = false;
  bool baseline_ok = false, ok = false;
  uint32_t turns = 0, rewritten = 0;
  bool first_rewritten = false;  // the rewriter changed the first turn's text
};

// Scores a configuration's sessions against the baseline's, with `resamples`
// bootstrap resamples of the sessions drawn from `seed`.
SplitScore score(const std::vector<PairedSession>& sessions, uint32_t resamples, uint64_t seed);

// `better` against `over`, session by session (same sessions, same order;
// std::invalid_argument otherwise); names and split left empty.
Comparison compare(const std::vector<PairedSession>& better, const std::vector<PairedSession>& over, uint32_t resamples,
                   uint64_t seed);

// --- which intents need a slot (rewrite_eval.cpp; tested on its own) ---

// One turn as the NLU saw it.
struct IntentTurn {
  std::string dialogue;
  uint32_t turn_index = 0;
  std::string intent;
  bool slotless = false;  // the NLU found no slot
};

// The intents (comma-separated, sorted) whose slotless requests were
// retried (a later turn of the dialogue follows) at least half the time,
// at least 10 points more often than their requests with a slot, over at
// least 20 slotless requests.
std::string slot_needing_intents(std::vector<IntentTurn> turns);

}  // namespace cascade::language::eval
