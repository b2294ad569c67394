// feedback/eval/generate.hpp — seeded dialogues with KNOWN feedback
// signals, for measuring the feedback analyzer. The ground truth is
// generated, not observed: it says what the generator made the simulated
// user do, by rules written here, so the scores it gives measure how well
// the analyzer's rules recover this generator's behaviour, not real users'.
//
// A dialogue (one user, 2-6 turns) starts with a request drawn from the
// sentences; each next turn is, with these probabilities:
//   0.30 a new request                      gap 12-40 s    truth: -
//   0.10 a new request sharing the first word  12-40 s     truth: - (near miss for rephrase)
//   0.20 a rephrase of the last request     5-20 s         truth: rephrased
//        (one or two edits: a lead-in such as "can you", a trailing "please",
//        a dropped word, two words swapped, a vowel changed as a mishearing)
//   0.15 the same request again             5-15 s         truth: repeat
//   0.15 a negative ("no", "stop", "that's wrong", ...)  4-8 s   truth: explicit_negative
//   0.10 the same request after a long pause  400-900 s    truth: - (a new session)
// and, independently with probability 0.2 (not after a long pause), the
// user interrupts: the gap becomes 0.1-1.0 s, truth: barge_in. A barge-in
// is only observable when the response lasted longer than that gap, which
// the generator cannot know before the pipeline answers: such misses are
// counted against the analyzer, as they would be against a real one.
//
// Lifecycle/threading: pure functions of their inputs; reentrant.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace cascade::feedback::eval {

struct GeneratedTurn {
  std::string dialogue_id, user_id;
  uint32_t turn_index = 0;
  double time_s = 0;             // seconds after 2026-01-15T00:00:00Z
  std::string text;              // without the wake word
  std::set<std::string> truth;   // what the NEXT turn shows about this one
};

// Requests usable as a dialogue's first turn: lines of train_sentences.txt
// whose first word is not a wake word (the file also holds wake-word variants).
std::vector<std::string> usable_sentences(const std::vector<std::string>& lines);

std::vector<GeneratedTurn> generate(const std::vector<std::string>& sentences, uint64_t seed, uint32_t dialogues);

// "2026-01-15T09:00:00.000Z" for time_s seconds after 2026-01-15T00:00:00Z (under a day).
std::string timestamp(double time_s);

// The turns file `cascade run` reads (JSON Lines; "alexa " before each text).
std::string to_jsonl(const std::vector<GeneratedTurn>& turns);

}  // namespace cascade::feedback::eval
