// cascade/core/baselines.hpp — what `cascade isolate`, `cascade isolate
// train` and `cascade eval fpi` share about failure-point labels: the class
// a stage's failure belongs to, the "lowest-confidence stage" baseline, and
// the split of turns by dialogue into train and test.
// Threading: free functions, pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cascade {
namespace trace {
struct Turn;
}

// The failure-point classes, in the order every table, analysis and model
// of `cascade isolate`, `cascade isolate train` and `cascade eval fpi` uses.
const std::vector<std::string>& failure_classes();

// The failure-point class of the reference assistant's stage ids: wake ->
// false_wake, asr and request -> asr, nlu/er/result -> themselves; "" for
// a stage that is no failure point of its own (speech, tts, ...).
std::string stage_failure_class(std::string_view stage_id);

// Baseline "the stage with the lowest confidence": correct when the result
// says it succeeded (or, without a result stage, the turn finished ok);
// else the class of the stage that reported the lowest confidence
// (`result` when none did).
std::string lowest_confidence_label(const trace::Turn& turn);

// FNV-1a 64 of `text`: stable across builds and machines.
uint64_t fnv1a(std::string_view text);

// What a split by dialogue hashes: the dialogue id up to its first '#'.
// Dialogue `<id>#<k>` holds other recordings of the requests of dialogue
// `<id>` (cascade-assistant-data's per-recording turns,
// plugins/language/data/recorded_turns.hpp), so it falls with `<id>`:
// no request is trained on in one recording and scored in another.
std::string_view split_key(std::string_view dialogue_id);

// "train" or "test": FNV-1a 64 of the split key, odd -> test. Every turn
// of a dialogue falls on one side, under every condition it is run in.
std::string split_side(std::string_view dialogue_id);

}  // namespace cascade
