// slot_prior.hpp — what the TRAIN data says about an intent's slots, for
// the learned isolator's consistency features: how likely a slot type is
// under an intent, and how many slots the intent's requests carry. An NLU
// that reads "largest animal" as qa_maths with a joke_type slot has made
// a pair TRAIN never holds; one that finds no slot in an alarm_set request
// has missed what nearly every TRAIN alarm_set request has.
//
// Read from the slot lexicon the NLU's slot tagger is built from
// (slot_lexicon.json: "intent_counts", requests per intent, and
// "intent_types", tagged slots per intent and type), which is built from
// the TRAIN split only (plugins/language/data/README.md).
//
// Lifecycle: load() builds it once (the plugin's open()); immutable after.
// Threading: const lookups, any number of threads.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace cascade::learned {

class SlotPrior {
 public:
  // Throws std::runtime_error naming the file and what is wrong with it.
  static std::unique_ptr<SlotPrior> load(const std::string& lexicon_path);

  // P(type | intent) over TRAIN's tagged slots of the intent (0 for a type
  // it never has, or for an intent with no slot at all); nullopt for an
  // intent TRAIN does not have.
  std::optional<double> type_probability(std::string_view intent, std::string_view type) const;
  // TRAIN's tagged slots per request of the intent; nullopt for an intent
  // TRAIN does not have.
  std::optional<double> slots_per_request(std::string_view intent) const;

 private:
  struct Intent {
    double requests = 0, slots = 0;
    std::map<std::string, double, std::less<>> types;
  };
  std::map<std::string, Intent, std::less<>> intents_;
};

}  // namespace cascade::learned
