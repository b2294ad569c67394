// simulate/population.hpp — what the simulated users want and how they speak:
// goals from the TRAIN split, users with a voice, a noise level and
// personal names, and each user's sessions of a day.
//
//   Goal    a request the assistant can do, from the TRAIN records: intent
//           plus resolved entities; its variants are every TRAIN record
//           with that same meaning (other phrasings), each with the data
//           tool's gold_turn(). Goals whose gold result fails
//           (unsupported intents, things the world lacks) are left out: no
//           retry or rewrite can make them succeed, so they would only
//           measure the user's patience.
//   User    seeded from (seed, user id) alone, so user u0007 is the same
//           person whatever the population size: a voice and a noise level
//           (the ASR error model's conditions), sessions per day, patience,
//           a taste for rephrasing over repeating, a barge-in habit, and up
//           to three personal names: a real entity of the goals (an artist,
//           a contact, a room, a device...) that this user says in a way of
//           their own, chosen so that the ER does NOT resolve it to the
//           catalogue's entity ("dragons" for "imagine dragons").
//   Plan    a user's sessions of a day: when, and which goal (a popular one
//           by a Zipf law over the goals, or one that names a personal
//           entity).
//
// Lifecycle: load_goals() once per run; users and plans are values.
// Threading: everything is const after construction; no shared state.
#pragma once

#include "rng.hpp"

#include "catalog/catalog.hpp"
#include "data/assistant_data.hpp"
#include "world/world.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace cascade::sim {

struct Goal {
  std::string key;     // "intent|type=value|..." (resolved values)
  std::string intent;
  std::vector<language::data::Record> variants;  // file order
  std::vector<nlohmann::json> golds;             // gold_turn() of each variant
};

struct Goals {
  std::vector<Goal> goals;   // key order
  std::vector<double> popularity_cdf;  // Zipf over a seeded permutation
  // (type, canonical) -> goals whose variants name it
  std::map<std::pair<std::string, std::string>, std::vector<size_t>> by_entity;

  [[nodiscard]] size_t popular(Rng& rng) const;
};

inline constexpr double kZipfExponent = 0.9;

// TRAIN records of `records` (THE SPLIT: data::is_eval() false) grouped
// into goals. Throws std::runtime_error if no goal is left.
Goals load_goals(const std::vector<language::data::Record>& records, const language::Catalog& catalog,
                 const language::World& world, uint64_t seed);

struct Habit {
  std::string type;       // "artist_name"
  std::string canonical;  // "imagine dragons"
  std::string spoken;     // "dragons"
};

struct User {
  std::string id;      // "u0007"
  std::string voice;   // "slt" | "en-us+f2"
  std::string snr;     // "inf" | "30" | "20"
  double sessions_per_day = 3;
  double give_up = 0.2;       // chance to give up after a failure (grows per attempt)
  double rephrase = 0.5;      // share of retries that are rephrasings (else repeats)
  double barge_in = 0.2;      // chance a retry interrupts the response
  double habit_share = 0.35;  // share of sessions about a personal entity
  std::vector<Habit> habits;
};

std::string user_id(uint32_t index);  // 7 -> "u0007"
User make_user(uint32_t index, uint64_t seed, const Goals& goals, const language::Catalog& catalog);
nlohmann::json to_json(const User& user);

// The personal word for (type, canonical): a shortening the ER does not
// resolve to `canonical`, chosen by `rng`; "" when there is none.
std::string personal_form(const std::string& type, const std::string& canonical, const language::Catalog& catalog,
                          Rng& rng);

struct PlannedSession {
  std::string id;       // "u0007-d02-s1"
  uint32_t day = 0;
  uint32_t index = 0;   // within the user's day
  double start_s = 0;   // seconds since 2026-01-15T00:00:00Z
  size_t goal = 0;
  int habit = -1;       // the personal entity it names, or -1
};

std::vector<PlannedSession> plan_day(const User& user, uint32_t day, uint64_t seed, const Goals& goals);

// ISO 8601 UTC with milliseconds for seconds since 2026-01-15T00:00:00Z.
std::string timestamp(double seconds);

}  // namespace cascade::sim
