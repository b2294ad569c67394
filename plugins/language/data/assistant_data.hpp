// data/assistant_data.hpp — turns SLURP devel.jsonl into the assistant's
// training files, catalogues and evaluation dialogues (see README.md beside
// this file for the split and every file's format).
//
// Lifecycle: read_records() then build() then write(); each is a plain
// function of its inputs, deterministic (same input, same bytes out).
// Threading: no shared state; call from one thread.
#pragma once

#include "catalog/catalog.hpp"
#include "world/world.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace cascade::language::data {

// THE SPLIT (fixed; other engineers rely on it): EVAL iff slurp_id % 10 == 0.
[[nodiscard]] constexpr bool is_eval(long slurp_id) noexcept { return slurp_id % 10 == 0; }

// The fold of a TRAIN record in a K-fold cut of TRAIN (Options::folds):
// FNV-1a 64 of the decimal slurp_id, modulo `folds`. Fixed, so that every
// machine cuts the same folds.
[[nodiscard]] size_t train_fold(long slurp_id, size_t folds) noexcept;

struct Record {
  long slurp_id = 0;
  std::string sentence;    // as in the file
  std::string normalized;  // normalize_sentence(sentence)
  std::string intent;
  std::vector<Annotation> annotations;
};

// One SLURP-format record: slurp_id, sentence, intent, sentence_annotation
// (other fields are ignored). Throws nlohmann's exception naming what is
// missing or mistyped.
Record parse_record(const nlohmann::json& j);

// Reads one JSON object per line. Throws std::runtime_error
// "<path>:<line>: error[A012]: <what>" on a malformed line and
// "error[A010]: input file not found: <path>" when it cannot open the file.
std::vector<Record> read_records(const std::string& path);

struct Options {
  size_t small_dialogues = 12;  // dialogues in eval_dialogues_small.jsonl
  size_t false_wake_every = 10; // one non-addressed turn after every N addressed
  size_t users = 4;             // simulated users u1..uN
  // Said before every ADDRESSED request, so the payload is what the user
  // says (the speech pipeline synthesises it; the wake stage strips it).
  // Non-addressed background speech has no wake word.
  std::string wake_word = "alexa";
  // Held-out fold mode (folds >= 2): the TRAIN records of fold `fold`
  // (train_fold()) become the dialogues, in place of EVAL, and every
  // training file, catalogue and lexicon is built from the OTHER folds of
  // TRAIN (EVAL stays out as always). The stage models built from such a
  // directory never saw its dialogues' requests: oracle labels on them
  // are honest training data for an isolator (issue 14, cascade eval fpi).
  size_t folds = 0;
  size_t fold = 0;
  std::string dialogue_prefix = "d";  // dialogue ids: <prefix>0001, ...
};

struct Output {
  std::vector<std::string> train_sentences;  // unique, file order
  std::vector<std::string> train_fasttext;   // "__label__<intent> <sentence>"
  Catalog catalog;
  nlohmann::json slot_lexicon;
  std::vector<nlohmann::json> eval_turns;    // one per line of eval_dialogues.jsonl (fold mode: the fold's)
  size_t small_turns = 0;                    // how many of eval_turns are in the small file
  std::vector<std::pair<long, bool>> split;  // (slurp_id, is_eval), input order
  size_t train_records = 0, eval_records = 0, dialogues = 0, dropped_duplicates = 0;
  size_t heldout_records = 0;  // fold mode: TRAIN records of the held-out fold
};

Output build(const std::vector<Record>& records, const Options& opt);

// Writes every file into `dir` (created if missing). Throws
// std::runtime_error naming the path it cannot write.
void write(const Output& out, const std::string& dir);

// The gold NLU/ER interpretation of a record (shared with the tests).
nlohmann::json gold_nlu(const Record& r);
nlohmann::json gold_er(const Record& r, const Catalog& catalog);

// The gold of an addressed request: wake detected, the normalised
// transcript, gold_nlu, gold_er against `catalog`, and World::execute of
// that ER. The ONE definition: eval dialogues and recorded-ASR turns
// (recorded_turns.hpp) both carry exactly this.
nlohmann::json gold_turn(const Record& r, const Catalog& catalog, const World& world);

// The eval-dialogue layout (README.md): dialogues of 1, 2, 3, 1, 2, 3, ...
// addressed turns, dialogue k (from 0) at 2026-01-15T09:00:00Z + 10 min x k,
// turns 20 s apart, a background turn 10 s after the addressed turn before
// it, users u1..uN by dialogue. Each call returns the next turn's header:
// dialogue_id, user_id, turn_index, turn_id, timestamp.
class DialogueLayout {
 public:
  explicit DialogueLayout(const Options& opt);
  nlohmann::json next_addressed();
  nlohmann::json next_background();  // in the current dialogue
  [[nodiscard]] size_t dialogue() const { return dialogue_; }  // of the last turn, from 0
  [[nodiscard]] size_t dialogues() const { return started_ ? dialogue_ + 1 : 0; }

 private:
  [[nodiscard]] nlohmann::json header() const;
  size_t users_;
  std::string prefix_;
  size_t dialogue_ = 0, addressed_in_dialogue_ = 0;
  long turn_index_ = 0, clock_ = 0;
  bool started_ = false;
};

}  // namespace cascade::language::data
