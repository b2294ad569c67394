// The ASR error model: estimation from aligned pairs, the JSON round trip,
// and hearing (keyed, systematic, learned confusions first).
#include "error_model.hpp"
#include "population.hpp"

#include <gtest/gtest.h>

namespace sim = cascade::sim;

TEST(AsrErrorModel, CountsSubstitutionsDeletionsInsertionsFromAlignment) {
  const auto m = sim::estimate({{"turn of the kitchen light", "turn off the kitchen light"},
                                {"prepare toffee", "prepare coffee please"},
                                {"what is the the time", "what is the time"}});
  EXPECT_EQ(m.reference_words, 5U + 3U + 4U);
  EXPECT_EQ(m.substitutions, 2U);  // off->of, coffee->toffee
  EXPECT_EQ(m.deletions, 1U);      // please
  EXPECT_EQ(m.insertions, 1U);     // the
  EXPECT_EQ(m.confusions.at("off").at("of"), 1U);
  EXPECT_EQ(m.confusions.at("coffee").at("toffee"), 1U);
  EXPECT_EQ(m.inserted.at("the"), 1U);
}

TEST(AsrErrorModel, JsonRoundTripAndErrors) {
  auto m = sim::estimate({{"play maj and dragons", "play imagine dragons"}});
  m.voice_factor = {{"slt", 1.0}};
  m.snr_factor = {{"inf", 1.0}};
  const auto back = sim::model_from_json(sim::to_json(m));
  EXPECT_EQ(back.confusions, m.confusions);
  EXPECT_EQ(back.substitutions, m.substitutions);
  auto j = sim::to_json(m);
  j.erase("confusions");
  EXPECT_THROW((void)sim::model_from_json(j), std::invalid_argument);
}

TEST(AsrErrorModel, HearingIsKeyedAndUsesLearnedConfusions) {
  sim::AsrErrorModel m;
  m.reference_words = 10;
  m.substitutions = 5;  // every other word, at factor 1
  m.confusions["coffee"]["toffee"] = 3;
  m.voice_factor = {{"slt", 1.0}, {"loud", 0.0}};
  m.snr_factor = {{"inf", 1.0}};
  const sim::AsrChannel channel(m, {"make", "some", "coffee", "toffee", "now"});
  bool substituted = false;
  for (int i = 0; i < 50; ++i) {
    sim::Rng a(7, {"s", std::to_string(i)}), b(7, {"s", std::to_string(i)});
    const auto h1 = channel.hear("make some coffee", "slt", "inf", a);
    const auto h2 = channel.hear("make some coffee", "slt", "inf", b);
    EXPECT_EQ(h1.text, h2.text);  // same key, same hearing
    if (h1.text.find("toffee") != std::string::npos) substituted = true;
    // coffee is only ever misheard as toffee, its learned confusion (no
    // deletions in this model, and no other word is near "toffee")
    if (h1.text.find("coffee") == std::string::npos) {
      EXPECT_NE(h1.text.find("toffee"), std::string::npos) << h1.text;
    }
  }
  EXPECT_TRUE(substituted);
  sim::Rng r(1, {"x"});
  EXPECT_EQ(channel.hear("make some coffee", "loud", "inf", r).text, "make some coffee");  // factor 0: no errors
  EXPECT_THROW((void)channel.factor("nobody", "inf"), std::invalid_argument);
}

TEST(SimTimestamp, MillisecondsAndDayRollover) {
  EXPECT_EQ(sim::timestamp(9 * 3600 + 0.5), "2026-01-15T09:00:00.500Z");
  EXPECT_EQ(sim::timestamp(17 * 86400.0 + 60), "2026-02-01T00:01:00.000Z");
}
