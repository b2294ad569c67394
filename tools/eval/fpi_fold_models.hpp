// eval/fpi_fold_models.hpp — stage models that never saw a fold of SLURP's
// TRAIN requests, and the scored turns routed to them.
//
// SLURP TRAIN is cut into folds (FNV-1a of the slurp_id, as
// `cascade-assistant-data --folds K --fold k` cuts it). For fold k,
// build_fold_models() writes the training files of the OTHER folds under
// OUT/train-folds/<k>/, trains an NLU on them and cuts that catalogue as
// the er-cut degradation cuts the shipped one. Two users:
//   - the TRAIN-fold runs (fpi_train_folds.hpp): fold k's requests run on
//     fold k's models, as training data for an isolator that learns;
//   - route_to_fold_models(): scored turns that hold TRAIN requests (a
//     team's own turns may be SLURP devel records, 90% of them TRAIN). The
//     shipped NLU, slot lexicon and catalogue were built from those very
//     requests, so their oracle labels would come from a pipeline that has
//     seen the answer (issue 14: "Oracle labels used to train an isolator
//     must come from turns the stage models never trained on"). Each such
//     turn runs on the models of its own fold instead.
//
// Lifecycle: plain functions and values. Threading: one call at a time
// (child processes write OUT/train-folds).
#pragma once

#include "eval/fpi_data.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace cascade::language::eval {

struct TrainFoldRequest;

// One fold's models, built.
struct FoldModels {
  uint32_t fold = 0;
  std::filesystem::path dir;  // absolute: OUT/train-folds/<fold>
  std::set<long> requests;    // the slurp_ids of the fold's own TRAIN requests
  // --set overrides that run the assistant's nlu and er stages on these
  // models (the cut catalogue where `degradation` holds "er-cut").
  std::vector<std::string> overrides(const std::string& degradation) const;
  // What these models learnt from, for an isolator's TRAIN-derived
  // features (those it declares: the `learned` plugin's `requests`).
  std::map<std::string, std::string> isolator_params() const;
};

// The slurp_id of a turns line, or -1 (not JSON, or no integer slurp_id).
long slurp_id_of(const std::string& line);
// The slurp_ids of a turns file's turns (only the addressed ones, if asked).
std::set<long> slurp_ids(const std::filesystem::path& turns, bool addressed_only = false);

// Builds every fold's models; {} with `note` saying why when the folds are
// off or the SLURP file or a tool is missing. Throws std::runtime_error
// when a tool fails (its log is named).
std::vector<FoldModels> build_fold_models(const TrainFoldRequest& folds, const FpiDataRequest& data,
                                          std::string& note);

// The scored variants with their turns of TRAIN requests moved to the
// models of their fold: variant V keeps its other turns (and its name),
// and its turns of fold k run as "V-fold<k>" (same family, voice and
// condition, fold k's models and isolator parameters), each from its own
// file under OUT/fold-routed/. A variant left with no turn of its own is
// dropped. Without TRAIN requests in the scored turns, or without
// models, the variants come back unchanged. `note` counts what moved.
std::vector<FpiVariant> route_to_fold_models(const std::vector<FpiVariant>& variants,
                                             const std::vector<FoldModels>& models, const FpiDataRequest& data,
                                             std::string& note);

}  // namespace cascade::language::eval
