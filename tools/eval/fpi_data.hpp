// eval/fpi_data.hpp — the traces `cascade eval fpi` labels: the eval
// dialogues run through the assistant under several conditions (voices,
// noise levels) and through documented degraded variants, so that the
// oracle meets every kind of failure.
//
// Why degraded variants: on the reference assistant the oracle finds no
// `er` and no `result` failures on typed text (every entity the world
// needs resolves, every skill works), so an isolator could never be
// measured on them. Two variants make them, each a real pipeline run with
// one documented change:
//   er-cut        the ER catalogue with a seeded three quarters of its entries
//                 removed (write_degraded_catalog): entities the world
//                 needs stay unresolved;
//   broken-skill  the result stage with broken_skill set (plugins/language/
//                 result): every supported request of those skills fails
//                 as a crashed backend would.
// Text-pipeline runs of both are cheap; the speech grid adds "degraded"
// runs (both changes at once) at its first conditions.
//
// Lifecycle: plain functions and values. Threading: run_variants() runs
// one pipeline at a time (each with its own engine threads); do not run
// two on the same out directory.
#pragma once

#include "eval/levels.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace cascade::language::eval {

// One pipeline run: which pipeline, with which overrides, and why.
struct FpiVariant {
  std::string name;       // file-name safe: "slt-snr20", "text-er-cut"
  std::string condition;  // for people: "voice slt, 20 dB"
  std::string voice;      // "" for the text pipeline
  std::string snr_db;     // "" for the text pipeline
  std::string degradation;  // "", "er-cut", "broken-skill", "er-cut+broken-skill"
  // What the isolator sees of the recogniser, for scores per kind of run:
  // "speech" (audio, wake, ASR with word confidences), "text" (typed: no
  // ASR), "recorded" (another system's logged hypotheses), "main" (a
  // --pipeline without a speech stage).
  std::string family;
  std::filesystem::path pipeline;
  std::vector<std::string> overrides;  // --set style, for the run and its replays
  std::filesystem::path input;         // "" : the request's input
  // Training data only (fpi_train_folds.hpp): labelled by the oracle and
  // added to every training set, never scored.
  bool train_only = false;
  // Parameters an isolator needs on this run's traces (the `learned`
  // plugin's `requests`: what the run's NLU trained on).
  std::map<std::string, std::string> isolator_params;
  // Its dialogues are live (fpi_live.hpp: users react to each turn), not
  // scripted: isolators with a `dialogue` parameter get "live".
  bool live = false;
};

struct FpiDataRequest {
  std::filesystem::path speech_pipeline;  // the main pipeline (assistant.toml)
  std::filesystem::path text_pipeline;    // "" : no text-pipeline variants
  std::filesystem::path recorded_pipeline;  // "" : no recorded-ASR runs (fpi_recorded.hpp)
  std::filesystem::path input;            // turns (JSONL)
  std::filesystem::path catalog;          // the ER catalogue to degrade
  std::filesystem::path out_dir;
  std::string size = "default";           // "small" | "default"
  std::string speech_stage = "speech";
  uint32_t threads = 0;
  bool progress = false;
};

// The skills the broken-skill variants break: four common scenarios of the
// eval split (about a quarter of its requests).
inline constexpr const char* kBrokenSkills = "calendar,weather,lists,email";
inline constexpr double kCatalogCut = 0.75;
inline constexpr uint64_t kCatalogSeed = 14;

// The runs for a request, in run order. The speech grid: small = slt and
// en-us+f2 clean;
// default = slt at inf/20/15 dB and en-us+f2 at inf/20 dB, plus degraded
// runs at slt inf, en-us+f2 inf and slt 20. A main pipeline without the
// speech stage runs once as it is (plus one degraded run). Throws
// std::invalid_argument for an unknown size.
std::vector<FpiVariant> plan_variants(const FpiDataRequest& request);

// A TOML basic string, for an override's value ("stages.er.params.catalog=" + toml_string(path)).
std::string toml_string(const std::string& s);
// A POSIX shell word, for a child tool's command line.
std::string shell_quote(const std::string& s);

struct CatalogCut {
  uint64_t entries = 0;
  uint64_t removed = 0;
};
// Copies catalog.json without a seeded `fraction` of its entries (per
// (type, canonical), by a hash of seed, type and canonical: the same cut
// every time). Throws std::runtime_error when `in` is unreadable or not a
// catalogue, or `out` cannot be written.
CatalogCut write_degraded_catalog(const std::filesystem::path& in, const std::filesystem::path& out,
                                  double fraction, uint64_t seed);

struct FpiRun {
  FpiVariant variant;
  std::filesystem::path trace;
  RunResult run;
};

// Runs every variant (writing the degraded catalogue first when one needs
// it): out_dir/<variant>.cas each.
std::vector<FpiRun> run_variants(const std::vector<FpiVariant>& variants, const FpiDataRequest& request);

}  // namespace cascade::language::eval
