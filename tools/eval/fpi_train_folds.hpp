// eval/fpi_train_folds.hpp — more training data for an isolator that
// learns: SLURP's TRAIN requests, each run by stage models that never saw
// it (issue 14: "Oracle labels used to train an isolator must come from
// turns the stage models never trained on (e.g. k-fold ...)").
//
// Why: the eval dialogues hold 190 distinct requests, so an isolator trains
// on about 95 of them (heard under ten conditions). Whether the NLU got a
// request wrong depends mostly on the request, and 95 requests teach little
// about that. TRAIN has 1,843 more; the shipped NLU, slot lexicon and ER
// catalogue were built from them, so their oracle labels would say the
// pipeline never errs. Here fold k's requests run on the stage models
// built without fold k (fpi_fold_models.hpp: an NLU, slot lexicon and
// catalogue from the other folds' requests), through the text pipeline
// (plain, with the catalogue cut, with broken skills: the variants of
// fpi_data.hpp).
// The `learned` isolator reads the fold's own TRAIN requests for its
// nearest-request features (its `requests` parameter), as it reads the
// shipped TRAIN file on the scored runs.
//
// No speech: the speech assistant's acoustic model was MAP-adapted on
// every TRAIN sentence spoken by the simulator (plugins/speech/asr), so its
// errors on TRAIN requests are not those of unseen speech, and adapting it
// again per fold takes far longer than the whole evaluation. Recogniser
// errors come instead from a simulated channel (tools/simulate's
// AsrChannel) estimated HERE from the train side of this evaluation's
// plain speech runs (what pocketsphinx heard against the gold, and the
// confidence it reported, per error count): `fold<k>-recorded` runs the
// fold's addressed turns through the recorded-ASR pipeline with the
// channel's hypothesis and confidence (no n-best: the channel makes none),
// as another system's logs (fpi_recorded.hpp). No test-side turn shapes
// the channel.
//
// A request the scored turns hold (a team's own turns may be SLURP TRAIN
// records) is left out of every fold run, so that no request is trained on
// and scored. When no plain speech run exists (a --pipeline of
// recorded-ASR turns), the channel is estimated from the train side of the
// plain runs whose asr stage logged a confidence: the team's own
// recogniser.
//
// These runs are training data only: they are labelled by the oracle and
// added to every training set of `cascade eval fpi` (the split, the
// held-out voice, each fold of the cross-validation), never scored. Their
// requests are TRAIN and every scored turn is EVAL, so no request is on
// both sides.
//
// Lifecycle: plain functions. Threading: one call at a time (child
// processes, then pipelines run one after another).
#pragma once

#include "eval/fpi_data.hpp"
#include "eval/fpi_fold_models.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cascade::language::eval {

inline constexpr uint32_t kTrainFolds = 5;

struct TrainFoldRequest {
  uint32_t folds = kTrainFolds;        // 0: none
  std::filesystem::path slurp;         // SLURP devel.jsonl (TRAIN and EVAL records)
  std::filesystem::path tools_dir;     // cascade-assistant-data and cascade-nlu-train
  // The fold runs' pipelines, whatever the scored runs are (e.g. a team's
  // recorded-ASR turns through --pipeline): "" : no such runs.
  std::filesystem::path text_pipeline;
  std::filesystem::path recorded_pipeline;
};

// The variants to run (train_only, with their input, overrides and
// isolator parameters) on the fold models already built: each fold's
// dialogues minus the scored requests (OUT/train-folds/<k>/dialogues.jsonl).
// `scored` are the runs already made: the channel of the recorded
// variants is estimated from their train side (no recorded variants
// without tf.recorded_pipeline or such runs).
// Size small: folds 0 and 1 only, their first 12 dialogues, the plain text
// and recorded variants. Returns {} and says why in `note` without a text
// pipeline or models.
std::vector<FpiVariant> plan_train_folds(const TrainFoldRequest& folds, const FpiDataRequest& data,
                                         const std::vector<FoldModels>& models, const std::vector<FpiRun>& scored,
                                         std::string& note);

}  // namespace cascade::language::eval
