// nlu/slot_tagger.hpp — a gazetteer + pattern slot tagger.
//
// Data: slot_lexicon.json written by cascade-assistant-data from the TRAIN
// annotations: for each annotated phrase, how often it was tagged with each
// entity type and how often the phrase occurs at all; per intent, how often
// each entity type was annotated.
//
// Tagging (left to right, longest match first, non-overlapping):
//   - a lexicon phrase is a candidate when it was tagged in at least
//     `min_precision` of its TRAIN occurrences (so "play" or "the" never
//     become slots, "kitchen" does);
//   - a date/time pattern is a candidate when the temporal normaliser
//     parses the n-gram and it contains a date/time key word ("tuesday",
//     "tomorrow", "pm", "minutes", ...), so unseen values like "seven
//     fifteen pm" are found too;
//   - a context pattern tags an uncovered span of 1..3 content words when
//     TRAIN saw, for the same intent, an entity of some type between the
//     same word before and word after at least `kMinContext` times
//     ("what is the weather in <sydney> </s>", "play <x> by"), so values
//     never seen in TRAIN are found too;
//   - the type is argmax over types of count(phrase, type) x
//     (count(intent, type) + 0.1): the predicted intent breaks ties
//     ("queen" is an artist in play_music, a person elsewhere).
//
// Lifecycle: load() once, then tag() any number of times. Threading: tag()
// is const and safe from any number of threads.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace cascade::language {

struct TaggedSlot {
  std::string type;
  std::string value;  // the tokens of the span, normalised
  size_t start = 0;   // byte offsets into the normalised text
  size_t end = 0;
  double score = 0.0;  // precision of the phrase in TRAIN (patterns: 1)
};

class SlotTagger {
 public:
  // Throws std::runtime_error "A010: slot lexicon not found: <path>" or
  // std::invalid_argument "A012: <path>: <what>".
  static SlotTagger load(const std::string& path, double min_precision = 0.3);
  static SlotTagger from_json(const nlohmann::json& j, double min_precision = 0.3);

  // `normalized` must come from normalize_sentence().
  [[nodiscard]] std::vector<TaggedSlot> tag(std::string_view normalized, std::string_view intent) const;

 private:
  struct Entry {
    std::map<std::string, int> types;
    int tagged = 0;
    int seen = 0;
  };
  static constexpr int kMinContext = 2;
  void tag_contexts(const std::vector<std::string>& toks, const std::vector<std::pair<size_t, size_t>>& spans,
                    std::string_view intent, std::vector<TaggedSlot>& out) const;
  std::unordered_map<std::string, Entry> lexicon_;
  std::map<std::string, std::map<std::string, int>> intent_types_;
  // (intent, left, right) -> type -> count
  std::map<std::tuple<std::string, std::string, std::string>, std::map<std::string, int>> contexts_;
  size_t max_tokens_ = 1;
  double min_precision_ = 0.3;
};

}  // namespace cascade::language
