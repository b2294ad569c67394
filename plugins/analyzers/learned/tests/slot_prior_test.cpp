// SlotPrior (slot_prior.hpp): P(slot type | intent) and slots per request
// from a slot lexicon, and the refusal of a lexicon it cannot read.
#include "slot_prior.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace {

using cascade::learned::SlotPrior;
namespace fs = std::filesystem;

fs::path write(const std::string& name, const std::string& text) {
  const fs::path p = fs::temp_directory_path() / ("cascade-slot-prior-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(p) << text;
  return p;
}

TEST(LearnedSlotPrior, ReadsTypesAndSlotsPerRequestOfEachIntent) {
  const auto path = write("ok.json", R"({"version":1,"intent_counts":{"alarm_set":4,"qa_maths":2},
      "intent_types":{"alarm_set":{"time":3,"date":1}},"entries":[]})");
  const auto prior = SlotPrior::load(path.string());
  fs::remove(path);
  EXPECT_DOUBLE_EQ(*prior->type_probability("alarm_set", "time"), 0.75);
  EXPECT_DOUBLE_EQ(*prior->type_probability("alarm_set", "joke_type"), 0.0);
  EXPECT_DOUBLE_EQ(*prior->type_probability("qa_maths", "joke_type"), 0.0);  // TRAIN has no slot of it
  EXPECT_FALSE(prior->type_probability("unknown_intent", "time"));
  EXPECT_DOUBLE_EQ(*prior->slots_per_request("alarm_set"), 1.0);
  EXPECT_DOUBLE_EQ(*prior->slots_per_request("qa_maths"), 0.0);
  EXPECT_FALSE(prior->slots_per_request("unknown_intent"));
}

TEST(LearnedSlotPrior, RefusesALexiconItCannotReadNamingTheFile) {
  for (const std::string& text : {std::string("not json"), std::string(R"({"intent_counts":{}})"),
                                  std::string(R"({"intent_counts":{"a":0},"intent_types":{}})"),
                                  std::string(R"({"intent_counts":{"a":1},"intent_types":{"b":{"t":1}}})"),
                                  std::string(R"({"intent_counts":{"a":1},"intent_types":{"a":{"t":"x"}}})")}) {
    const auto path = write("bad.json", text);
    try {
      SlotPrior::load(path.string());
      ADD_FAILURE() << "accepted: " << text;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    }
    fs::remove(path);
  }
  EXPECT_THROW(SlotPrior::load("/nonexistent/slot_lexicon.json"), std::runtime_error);
}

}  // namespace
