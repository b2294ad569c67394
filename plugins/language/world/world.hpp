// world/world.hpp — the small simulated world the assistant acts on.
//
// A fixed initial state (lights per room, plugs, a vacuum, a coffee
// machine, volume, alarms, lists, a calendar, a weather table, currency
// rates, jokes, news) and one pure function that executes an
// interpretation against it. Every turn starts from the SAME initial state
// (no state carried between turns), so the result of a turn depends only
// on its interpretation: the result plugin is deterministic and the data
// tool computes the gold result with this very code from the gold
// interpretation. A correct interpretation therefore gives a byte-identical
// result.
//
// Interpretation in (the ER plugin's output):
//   {"intent": "iot_hue_lighton",
//    "entities": [{"type": "house_place", "value": "kitchn",
//                  "resolved": "kitchen", "status": "resolved", ...}]}
// Result out:
//   {"success": bool, "supported": bool,
//    "action": {...} | null,   // the state change made, e.g.
//                              // {"type":"light.set","room":"kitchen","on":true}
//    "answer": "..." | null,   // the information given, e.g. "07:00 on weekdays"
//    "say": "..."}             // the sentence TTS speaks
// Unsupported intents: {"success":false,"supported":false,"action":null,
//   "answer":null,"say":"Sorry, I can't do that yet."}
//
// Lifecycle: World::initial() builds the state once; execute() never
// changes it. Threading: execute() is const and safe from any number of
// threads.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace cascade::language {

class World {
 public:
  // The fixed initial world (the clock says Thursday 2026-01-15 09:00).
  static World initial();

  // Runs one interpretation on a copy of the initial state. Throws
  // std::invalid_argument when `interpretation` is not an object with a
  // string "intent" and an "entities" array (absent entities = none).
  [[nodiscard]] nlohmann::json execute(const nlohmann::json& interpretation) const;

  // The intents execute() supports (everything else is refused).
  [[nodiscard]] static const std::vector<std::string>& supported_intents();

  [[nodiscard]] const nlohmann::json& state() const { return state_; }

 private:
  nlohmann::json state_;
};

}  // namespace cascade::language
