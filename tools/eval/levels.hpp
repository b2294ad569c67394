// eval/levels.hpp — run a pipeline in-process, once per noise level, and
// report each trace: the "how does quality fall with noise" table.
//
// Each level runs the pipeline with the override
// `stages.<speech_stage>.params.snr_db=<level>` ("inf" is TOML's float
// infinity), records DIR/<name>-snr<level>.cas, then reads that trace back
// and computes its QualityReport. The trace on disk is the evidence: the
// report is computed from it, never from in-memory outcomes.
//
// Lifecycle: plain functions; each run builds and tears down its own
// registry, plan, engine and trace writer.
// Threading: run_pipeline() runs the engine's own worker threads and blocks
// until the run is done; do not call it concurrently on the same out path.
#pragma once

#include "eval/quality.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace cascade::language::eval {

struct RunRequest {
  std::filesystem::path pipeline;        // TOML
  std::filesystem::path input;           // JSONL dialogues (or a WAV dir)
  std::filesystem::path trace;           // where to write the trace
  std::vector<std::string> overrides;    // --set style "key=value"
  uint32_t threads = 0;                  // 0: the config's run.threads
  bool progress = false;                 // progress bar on stderr
};

struct RunResult {
  uint64_t turns = 0, ok = 0, failed = 0, cancelled = 0;
  double seconds = 0;
};

// Throws CascadeError with the config's diagnostics (C0xx) when it does not
// load or validate, TraceError when the trace cannot be written.
RunResult run_pipeline(const RunRequest& request);

// "inf" | "20" | "7.5" -> a TOML float literal ("inf", "20.0", "7.5") and
// a file-name tag ("inf", "20", "7.5"). Throws std::invalid_argument
// (message names the level) for anything else.
std::string snr_toml(const std::string& level);

struct LevelReport {
  std::string snr_db;  // as given ("inf", "20", ...)
  std::filesystem::path trace;
  RunResult run;
  QualityReport report;
};

struct LevelsRequest {
  std::filesystem::path pipeline;
  std::filesystem::path input;
  std::filesystem::path out_dir;
  std::vector<std::string> snr_levels;  // e.g. {"inf","20","10"}
  std::string speech_stage = "speech";
  uint32_t threads = 0;
  bool progress = false;
};

std::vector<LevelReport> run_levels(const LevelsRequest& request);

// {"levels":[{"snr_db": <number or "inf">, <report keys>...}]}
nlohmann::json to_json(const std::vector<LevelReport>& levels);
// One row per level: the headline metrics side by side.
std::string format_text(const std::vector<LevelReport>& levels);

}  // namespace cascade::language::eval
