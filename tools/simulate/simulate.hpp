// simulate/simulate.hpp — `cascade simulate`: users, days and sessions run
// through the real pipeline, with the ground truth written beside the
// trace.
//
// Shape of the work:
//   1. goals from the TRAIN records (population.hpp), the ASR error model
//      (error_model.hpp) with the TRAIN words as its vocabulary;
//   2. users first_user .. first_user+users-1, each one's sessions on days
//      first_day .. first_day+days-1;
//   3. rounds: round r sends the r-th turn of every still-open session
//      through the pipeline at once (appended to DIR/turns.jsonl, read back
//      by the same JSONL reader `cascade run` uses), then each session's
//      user decides on the result (session.hpp). One engine serves every
//      round, and every turn of every round lands in ONE trace,
//      DIR/trace.cas. With `user_override` set (a per-user parameter such
//      as the online rewriter's `user`), users run one at a time, each on
//      an engine with `<user_override>=<user id>`.
//   4. DIR/truth.jsonl (one line per session, sessions in user, day, index
//      order) and DIR/users.jsonl.
// Same request, same seed: the same turns, trace contents and truth (the
// trace's timings aside).
//
// Lifecycle: a free function; it builds and tears down its engines.
// Threading: blocks the caller; the engine runs its own worker threads.
// Do not run two simulations on one out directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cascade::sim {

struct SimRequest {
  std::filesystem::path pipeline;    // recorded-ASR turns in (input.json)
  std::filesystem::path out_dir;
  std::filesystem::path slurp;       // SLURP devel.jsonl
  std::filesystem::path catalog;     // the shipped catalogue (gold entities)
  std::filesystem::path asr_model;   // asr_error_model.json
  uint32_t users = 10, first_user = 0;
  uint32_t days = 1, first_day = 0;
  uint32_t k = 3;                    // attempts per session at most
  uint64_t seed = 1;
  std::vector<std::string> overrides;  // --set K=V
  std::string user_override;           // e.g. "stages.rewrite.params.user"
  uint32_t threads = 0;                // 0: the config's run.threads
};

struct SimSummary {
  uint64_t users = 0, sessions = 0, turns = 0, successes = 0, failed_turns = 0;
  std::vector<uint64_t> turns_per_round;
  std::filesystem::path trace, truth, turns_file, users_file;
  double seconds = 0;
};

// Throws std::invalid_argument for a bad request (k = 0, no users), and
// what the config, the data or the trace throw (CascadeError with its
// code, std::runtime_error naming the file).
SimSummary simulate(const SimRequest& request);

}  // namespace cascade::sim
