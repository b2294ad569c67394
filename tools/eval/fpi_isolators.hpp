// eval/fpi_isolators.hpp — the pieces of `cascade eval fpi` that run and
// train isolators, shared by its steps (fpi.cpp: the split and the held-out
// voice; fpi_folds.cpp: the cross-validation). Internal to cascade-eval.
//
// Lifecycle: free functions; each builds and tears down what it uses.
// Threading: one call at a time (train_isolator runs a child process).
#pragma once

#include "eval/fpi.hpp"

#include <cascade/core/analysis_file.hpp>
#include <cascade/core/analyze.hpp>
#include <cascade/core/loader.hpp>
#include <cascade/core/plan.hpp>
#include <cascade/core/run.hpp>
#include <cascade/trace/reader.hpp>

#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace cascade::language::eval {

// Per-turn labels from every source, one row per recorded turn.
struct TurnLabels {
  std::string dialogue_id;
  std::string side;
  std::string family;  // the run's FpiVariant::family
  std::string oracle;  // "" : the oracle gave no label
  std::string lowest;
  std::map<std::string, std::string> isolators;
  std::map<std::string, double> scores;  // each isolator's score for its label (NaN: none)
  // The same isolator and model run again with a group of its features
  // unread (ablations()), by "<isolator>, <ablation>": what that group
  // brings, on the same turns.
  std::map<std::string, std::string> ablated;
};

// A variant's pipeline, rebuilt with its overrides: the oracle's replays,
// and an isolator's, must run the very pipeline the trace came from (a
// degraded catalogue too). Its registry also holds the analyzer plugins.
// Throws CascadeError when the pipeline does not load or validate.
LoadedPipeline load_variant(const FpiVariant& v);

// A group of features an isolator reads, and the parameter that makes it
// unread, for the runs where the group has something to read:
//   reactions unread     dialogue=scripted on live runs (fpi_live.hpp);
//   alternatives unread  alternatives=0 on runs with a recogniser's n-best
//                        (speech and recorded runs).
// An isolator that does not declare the parameter is not ablated.
struct Ablation {
  std::string name, param, value;
  std::function<bool(const FpiVariant&)> applies;
};
const std::vector<Ablation>& ablations();

// Label by turn_seq; "" when the analyzer gave none.
std::map<uint64_t, std::string> labels_of(const AnalysisResult& r);

// The score at `key`; NaN when there is none.
template <class Key>
double score_at(const std::map<Key, double>& scores, const Key& key) {
  const auto it = scores.find(key);
  return it != scores.end() ? it->second : std::numeric_limits<double>::quiet_NaN();
}

// Score by turn_seq; NaN when the analyzer gave no label.
std::map<uint64_t, double> scores_of(const AnalysisResult& r);

// The coverage curve (scoring.hpp) of `labels` at default_coverages(),
// in the failure classes.
std::vector<CoveragePoint> coverage_of(const std::vector<ScoredLabel>& labels);

// The parameters an isolator takes on a run's traces: those of the
// variant's isolator_params that `p` declares, and `dialogue` (scripted,
// or live for a live run: fpi_live.hpp) when it declares that.
std::map<std::string, std::string> run_params(const LoadedPlugin& p, const FpiVariant& variant);

// Runs the isolator `p` over the trace of a run of `variant`, with
// run_params() and then `params`, and the variant's pipeline to replay
// through (load_variant(): an isolator may replay, as with `cascade
// isolate -p`); adds its time to `s`; its scores go to `scores` when given.
std::map<uint64_t, std::string> run_isolator(const LoadedPlugin& p, const FpiVariant& variant,
                                             const trace::TraceData& data, uint32_t jobs,
                                             std::map<std::string, std::string> params, IsolatorScore& s,
                                             std::map<uint64_t, double>* scores = nullptr);

// Trains `plugin` with cascade-isolate-train (next to this executable) on
// the traces of `runs` (each with its run_params() and its variant's
// pipeline and overrides, through --trace-params), the labels of the
// analysis file `oracle` (only turns with a label there are trained on),
// the dialogues `dialogues` ("train", "test" or "all": the trainer's
// --dialogues); its log goes to OUT/train-<name><tag>.log. Returns the model file
// (OUT/model-<name><tag>.json), or nullopt with the reason in `note`.
std::optional<std::filesystem::path> train_isolator(const LoadedPlugin& plugin,
                                                    const std::vector<FpiRun>& runs,
                                                    const std::filesystem::path& oracle, const std::filesystem::path& out,
                                                    std::string& note, const std::string& tag = "",
                                                    const std::string& dialogues = "all");

// Writes the lines of `oracle` that `keep` accepts to `path` (an
// analysis file the trainer reads with --against). Returns `path`.
std::filesystem::path write_oracle_subset(const AnalysisFile& oracle, const std::filesystem::path& path,
                                          const std::function<bool(const AnalysisLine&)>& keep);

// Whether the line is a turn of one of the TRAIN-fold runs (training data
// for every model, never scored).
bool is_training_line(const AnalysisLine& line, const std::vector<FpiRun>& training_runs);

// Step 6: K-fold cross-validation by dialogue over every labelled turn
// (fold_of()): for each fold an isolator that learns is trained on the
// oracle labels of the other folds (OUT/oracle-fold-<k>.jsonl, the
// trainer's defaults) and predicts the fold's turns; an isolator used as
// shipped is scored on the same turns as it is.
// The TRAIN-fold runs (`training_runs`, maybe none) join every fold's
// training set.
CrossValidation cross_validate(uint32_t folds, const std::vector<FpiRun>& runs,
                               const std::vector<FpiRun>& training_runs,
                               const std::vector<std::map<uint64_t, TurnLabels>>& rows_by_run,
                               const AnalysisFile& oracle, const std::vector<std::string>& isolators,
                               const std::set<std::string>& trained, const FpiRequest& rq);

}  // namespace cascade::language::eval
