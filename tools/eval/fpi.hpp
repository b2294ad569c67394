// eval/fpi.hpp — `cascade eval fpi`: failure-point isolators measured
// against the oracle on held-out turns.
//
// The shape of the work:
//   1. build the stage models of each TRAIN fold (eval/fpi_fold_models.hpp)
//      and run the variants (eval/fpi_data.hpp): one trace per condition,
//      a scored turn of a SLURP TRAIN request (--turns) on its fold's
//      models ("<variant>-fold<k>");
//   2. per trace: rebuild the variant's pipeline (its overrides too) for
//      the oracle's replays; run the oracle, the isolators (analyzer
//      plugins on the search path whose labels are the failure points)
//      and the lowest-confidence baseline over the trace, in process
//      (core's AnalyzerHost); the oracle's labels go to OUT/oracle.jsonl;
//   3. split the turns by dialogue (split_side()): the same dialogue under
//      every condition falls on one side, so no request is on both; an
//      isolator that needs a model (`learned`) is trained on the train
//      side (cascade-isolate-train --dialogues train) and then run;
//   4. score each isolator and both baselines on the test side against
//      the oracle (core's scoring.hpp); the majority baseline predicts the
//      train side's most frequent class;
//   5. held-out voice (when the grid has two voices or more): for each
//      voice, every isolator scored on the test side of that voice's runs
//      only, an isolator that learns trained on the train side of the
//      other runs (the other voices and the text runs), so that it never
//      heard the voice it is measured on;
//   6. cross-validation (--folds K, K >= 2): every labelled turn predicted
//      by a model trained on the other folds' dialogues (fold_of()), for
//      gains too small to see on one split (eval/fpi_isolators.hpp).
// An isolator that learns also trains, in steps 3, 5 and 6, on the
// TRAIN-fold runs (eval/fpi_train_folds.hpp): SLURP TRAIN requests run by
// stage models rebuilt without them, labelled by the oracle, never scored.
// The stage models (NLU, ER catalogue, language model) are built from the
// TRAIN split of SLURP devel and the eval dialogues come from the EVAL
// split only, so every oracle label here is on a request the models never
// trained on (plugins/language/data/README.md); a team's turns of TRAIN
// requests run on models built without their fold, for the same reason.
//
// Lifecycle: run_fpi() builds and tears down everything it uses.
// Threading: one call at a time; inside, the pipelines' engines and the
// analyzer hosts run their own threads.
#pragma once

#include "eval/fpi_data.hpp"
#include "eval/fpi_train_folds.hpp"

#include <cascade/core/baselines.hpp>
#include <cascade/core/scoring.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <string_view>
#include <string>
#include <vector>

namespace cascade {
namespace trace {
struct Turn;
}

namespace language::eval {

// The split by dialogue and the lowest-confidence baseline are the ones
// `cascade isolate` and `cascade isolate train` use (cascade/core/baselines.hpp).
using cascade::lowest_confidence_label;
using cascade::split_key;
using cascade::split_side;

struct FpiRequest {
  FpiDataRequest data;
  std::vector<std::string> isolators;  // empty: every failure-point analyzer but the oracle
  uint32_t jobs = 0;                   // analyzer threads (0: the host's default)
  uint32_t folds = 0;                  // >= 2: also step 6 with this many folds
  TrainFoldRequest train_folds;        // folds = 0: no TRAIN-fold runs
};

struct IsolatorScore {
  std::string name;
  std::string version;
  Scores test;        // on the test side, against the oracle
  // The same turns, keeping only the labels above a score (scoring.hpp's
  // coverage_curve): how far an analyst can trust the surer labels.
  std::vector<CoveragePoint> coverage;
  uint64_t unlabelled = 0;  // test turns it gave no label (scored as "(none)")
  double seconds = 0;       // analyze() time over every trace
  std::string note;
};

struct FpiRunSummary {
  FpiRun run;
  std::map<std::string, uint64_t> oracle;  // class -> turns
  uint64_t replays = 0;
};

// Step 5 for one voice.
struct HeldOutVoice {
  std::string voice;
  std::vector<std::string> train_runs, test_runs;  // variant names
  uint64_t test_turns = 0;
  std::vector<IsolatorScore> isolators;  // `test`: on the test side of test_runs
};

// Step 6. `isolators[i].test`: every labelled turn of every run, each
// labelled by a model that did not train on its dialogue.
struct CrossValidation {
  uint32_t folds = 0;  // 0: not run
  uint64_t turns = 0;
  std::vector<IsolatorScore> isolators;
};

// The fold of a dialogue: FNV-1a 64 of its id modulo `folds` (with 2 folds,
// fold 1 is split_side()'s test side).
uint32_t fold_of(std::string_view dialogue_id, uint32_t folds);

struct FpiReport {
  std::string size;
  std::vector<FpiRunSummary> runs;
  std::vector<FpiRunSummary> training_runs;  // the TRAIN-fold runs: trained on, never scored
  std::map<std::string, uint64_t> oracle_all, oracle_train, oracle_test;
  std::map<std::string, uint64_t> oracle_training;  // over training_runs
  uint64_t turns = 0, labelled = 0, unlabelled = 0, replays = 0;
  uint64_t train_dialogues = 0, test_dialogues = 0, train_turns = 0, test_turns = 0;
  double run_seconds = 0, oracle_seconds = 0, total_seconds = 0;
  std::string majority_class;
  Scores majority, lowest_confidence;  // on the test side
  // The test side by kind of run (FpiVariant::family), per isolator and
  // "lowest confidence": how each does where it sees more or less.
  std::map<std::string, std::map<std::string, Scores>> by_family;
  std::vector<IsolatorScore> isolators;
  std::vector<HeldOutVoice> held_out_voice;
  CrossValidation cross_validation;
  std::vector<std::string> notes;
};

FpiReport run_fpi(const FpiRequest& request);

// {"accuracy","macro_f1","per_class","confusion","baselines": the first
// isolator's (for jq), "isolators": {name: the same keys}, "oracle":
// {class_balance, replays, replays_per_turn, ...}, "split", "runs",
// "by_family": {family: {isolator: the same keys}}, "held_out_voice": [{voice, train_runs, test_runs, test_turns,
// isolators: {name: the same keys}}], "cross_validation" (with --folds:
// {folds, turns, isolators: {name: the same keys}}), "timings", "notes"}.
nlohmann::json to_json(const FpiReport& report);
// The tables: oracle class balance per run and per side, then per
// isolator and baseline accuracy, macro-F1, per-class recall and the
// confusion matrix.
std::string format_text(const FpiReport& report);

}  // namespace language::eval
}  // namespace cascade
