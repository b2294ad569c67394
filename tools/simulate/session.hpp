// simulate/session.hpp — one simulated session: what the user says at each
// attempt, what the (simulated) ASR delivers, and what the user does when
// the assistant got it wrong.
//
// A session is a sequence of attempts at one goal, at most k:
//   attempt 0   a phrasing of the goal (one of its TRAIN variants, with the
//               user's personal name for an entity when the session is
//               about one);
//   success     the session ends (next = "end");
//   failure     the user gives up (chance: their patience, growing with
//               every attempt; always after attempt k-1), or retries:
//               "rephrase" (another variant of the goal; a user who used a
//               personal name usually says the catalogue's name instead),
//               or "repeat" (the same words, heard anew). A retry may barge
//               in: it starts before the response would have ended.
// Every draw is keyed by (seed, session id, attempt, purpose), so attempt 0
// is identical across runs of different pipelines.
//
// Lifecycle: begin() -> (turn_line(), conclude())* until !open.
// Threading: a Session is used by one thread.
#pragma once

#include "error_model.hpp"
#include "population.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace cascade::sim {

struct TurnTruth {
  uint32_t attempt = 0;
  std::string timestamp;
  std::string action;     // "first" | "rephrase" | "repeat"
  bool barge_in = false;  // started before the previous response ended
  bool personal = false;  // said with the user's personal name
  long slurp_id = 0;      // the variant said
  std::string said;       // what the user said (normalised)
  std::string heard;      // what the ASR error model delivered
  uint32_t asr_errors = 0;
  double confidence = 1.0;
  bool success = false;   // the result judge accepted the turn's result
  std::string status;     // the turn's status ("ok", "failed", ...)
  std::string next;       // "end" | "rephrase" | "repeat" | "give_up"
};

struct Session {
  PlannedSession plan;
  const User* user = nullptr;
  const Goal* goal = nullptr;
  std::vector<TurnTruth> turns;  // the last one is pending while open
  bool open = true;
  bool success = false;
  std::string ended;  // "success" | "gave_up" | "attempts"
  size_t variant = 0;     // of the pending turn
  double elapsed_s = 0;   // the pending turn's time since the session began
};

// How long the assistant speaks its answer (the result's "say"): a second
// to start, then about 15 characters a second. What a barge-in and the next
// turn's gap are measured against; the `learned` isolator assumes the same.
double response_seconds(const nlohmann::json& result);

class SessionRunner {
 public:
  SessionRunner(const Goals& goals, const AsrChannel& channel, uint64_t seed, uint32_t k)
      : goals_(goals), channel_(channel), seed_(seed), k_(k) {}

  // Opens the session with its first turn pending.
  [[nodiscard]] Session begin(const PlannedSession& plan, const User& user) const;
  // The pending turn as a JSONL dialogue line for the recorded-ASR pipeline.
  [[nodiscard]] nlohmann::json turn_line(const Session& s) const;
  // Judges the pending turn's result against the goal's gold and decides
  // what the user does next (a new pending turn, or the end).
  void conclude(Session& s, const std::string& status, const nlohmann::json& result) const;

  // {"session", "user_id", "day", "goal", "success", "ended", "attempts", "turns": [...]}
  [[nodiscard]] static nlohmann::json truth(const Session& s);

 private:
  void hear(Session& s, TurnTruth& t) const;
  [[nodiscard]] std::string phrase(const Session& s, size_t variant, bool personal) const;
  [[nodiscard]] const nlohmann::json& gold(const Session& s) const;

  const Goals& goals_;
  const AsrChannel& channel_;
  uint64_t seed_;
  uint32_t k_;
};

}  // namespace cascade::sim
