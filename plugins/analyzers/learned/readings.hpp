// readings.hpp — what the learned isolator's features read from the
// stages' JSON outputs, and nothing more: a few keys of the NLU's, the ER's
// and the result's outputs and of the recogniser's per-word posteriors,
// read off a JsonTape (json_tape.hpp says why not a DOM) into plain values.
// features.cpp computes every feature from these; readings_test.cpp checks
// them against the same keys read with nlohmann::json, on real turns and
// on broken documents.
//
// A document that is not valid JSON reads as empty (its features are
// missing), a key of the wrong type as absent: untrusted input never
// throws here.
//
// Lifecycle: a reading's string views point into its document and into
// the tape it was read with: both must outlive it. Threading: free
// functions; a tape belongs to one thread.
#pragma once

#include "json_tape.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace cascade::learned {

// The NLU's output: {"text", "intent", "slots": [{"start", "end", "score",
// "value"}, ...], ...}.
struct NluReading {
  struct Slot {
    std::optional<double> score, start, end;  // each when a number
    std::optional<std::string_view> value;    // when a string
  };
  bool object = false;                            // the output is a JSON object
  std::optional<std::string_view> text, intent;   // when strings
  bool slots_array = false;                       // "slots" is an array
  std::vector<Slot> slots;                        // its elements that are objects, in order
};
NluReading read_nlu(std::string_view json, JsonTape& tape);

// The recogniser's text feature "word_conf": [{"word", "conf"}, ...]; the
// elements that are objects with a numeric "conf", in order.
struct WordConfidence {
  double conf = 0;
  std::optional<std::string_view> word;  // when a string
};
std::vector<WordConfidence> read_word_confidences(std::string_view json, JsonTape& tape);

// The ER's output: {"entities": [{"score", "value", "resolved"}, ...], ...}.
struct ErReading {
  struct Entity {
    std::optional<double> score;            // when a number
    std::optional<std::string_view> value;  // when a string
    bool resolved_null = true;              // "resolved" is null or absent
    bool resolved_differs = false;          // "resolved" is not null and not equal to "value" (as JSON values)
  };
  std::vector<Entity> entities;  // the elements of "entities" that are objects, in order
};
ErReading read_er(std::string_view json, JsonTape& tape);

// The result stage's output: {"success", "supported", "action", "answer",
// "say"}.
struct ResultReading {
  bool object = false;                    // the output is a JSON object
  std::optional<bool> success, supported; // when booleans
  bool has_action = false, has_answer = false;  // present and not null
  std::optional<std::string_view> say;    // when a string
};
ResultReading read_result(std::string_view json, JsonTape& tape);

}  // namespace cascade::learned
