// The ASR error model: estimation from aligned pairs, the JSON round trip,
// hearing (keyed, systematic, learned confusions first), and the
// confidence drawn from the real recogniser's per error bucket.
#include "error_model.hpp"
#include "population.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

namespace sim = cascade::sim;
using nlohmann::json;

TEST(AsrErrorModel, CountsSubstitutionsDeletionsInsertionsFromAlignment) {
  const auto m = sim::estimate({{"turn of the kitchen light", "turn off the kitchen light", 0.6},
                                {"prepare toffee", "prepare coffee please", 0.3},
                                {"what is the the time", "what is the time", 0.7}});
  EXPECT_EQ(m.reference_words, 5U + 3U + 4U);
  EXPECT_EQ(m.substitutions, 2U);  // off->of, coffee->toffee
  EXPECT_EQ(m.deletions, 1U);      // please
  EXPECT_EQ(m.insertions, 1U);     // the
  EXPECT_EQ(m.confusions.at("off").at("of"), 1U);
  EXPECT_EQ(m.confusions.at("coffee").at("toffee"), 1U);
  EXPECT_EQ(m.inserted.at("the"), 1U);
}

TEST(AsrErrorModel, JsonRoundTripAndErrors) {
  auto m = sim::estimate({{"play maj and dragons", "play imagine dragons", 0.41},
                          {"play imagine dragons", "play imagine dragons", 0.9},
                          {"play imagine dragon", "play imagine dragons", 0.7},
                          {"play magic", "play imagine dragons", 0.2},
                          {"stop", "stop the music now please", 0.1}});
  m.voice_factor = {{"slt", 1.0}};
  m.snr_factor = {{"inf", 1.0}};
  const auto back = sim::model_from_json(sim::to_json(m));
  EXPECT_EQ(back.confusions, m.confusions);
  EXPECT_EQ(back.substitutions, m.substitutions);
  ASSERT_EQ(back.confidence.count("inf"), 1U);
  // "play maj and dragons" and "play magic" both have 2 word errors.
  EXPECT_DOUBLE_EQ(back.confidence.at("inf").draw(2, 0.0), 0.2);
  EXPECT_DOUBLE_EQ(back.confidence.at("inf").draw(2, 1.0), 0.41);
  EXPECT_DOUBLE_EQ(back.confidence.at("inf").draw(4, 0.5), 0.1);
  auto j = sim::to_json(m);
  j.erase("confusions");
  EXPECT_THROW((void)sim::model_from_json(j), std::invalid_argument);
  // Version 1 had an invented confidence: refused, saying how to redo it.
  j = sim::to_json(m);
  j["cascade_asr_error_model"] = 1;
  j.erase("confidence");
  try {
    (void)sim::model_from_json(j);
    ADD_FAILURE() << "a version 1 model was read";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("version 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--learn-asr"), std::string::npos) << e.what();
  }
  // A noise level the users may have with no confidence model: refused.
  j = sim::to_json(m);
  j["snr_factor"]["20"] = 2.0;
  EXPECT_THROW((void)sim::model_from_json(j), std::invalid_argument);
  // A bucket no turn fell in cannot be drawn from: refused on reading.
  j = sim::to_json(m);
  j["confidence"]["inf"]["1"] = {{"turns", 0}, {"quantiles", json::array()}};
  EXPECT_THROW((void)sim::model_from_json(j), std::invalid_argument);
  j = sim::to_json(m);
  j["confidence"]["inf"]["0"]["quantiles"] = {0.9, 0.8};  // not nondecreasing
  EXPECT_THROW((void)sim::model_from_json(j), std::invalid_argument);
}

TEST(AsrConfidence, EstimateSplitsTurnsByWordErrors) {
  // heard, said, reported confidence: 0, 0, 1, 2, 3 and 5 word errors.
  const auto m = sim::estimate({{"turn on the light", "turn on the light", 0.95},
                                {"what time is it", "what time is it", 0.85},
                                {"turn of the light", "turn off the light", 0.6},
                                {"prepare toffee", "prepare coffee please", 0.4},
                                {"play", "play the news now", 0.3},
                                {"a b c d e", "v w x y z", 0.1}},
                               "20");
  ASSERT_EQ(m.confidence.count("20"), 1U);
  const auto& c = m.confidence.at("20");
  EXPECT_EQ(c.buckets[0].turns, 2U);
  EXPECT_EQ(c.buckets[1].turns, 1U);
  EXPECT_EQ(c.buckets[2].turns, 1U);
  EXPECT_EQ(c.buckets[3].turns, 2U);  // 3 and 5 errors share the "3+" bucket
  ASSERT_EQ(c.buckets[0].quantiles.size(), 21U);
  EXPECT_DOUBLE_EQ(c.buckets[0].quantiles.front(), 0.85);
  EXPECT_DOUBLE_EQ(c.buckets[0].quantiles.back(), 0.95);
  EXPECT_NEAR(c.buckets[0].at(0.5), 0.90, 1e-12);  // linear between the two turns
  EXPECT_DOUBLE_EQ(c.buckets[1].at(0.3), 0.6);
  EXPECT_DOUBLE_EQ(c.buckets[2].at(0.9), 0.4);
  EXPECT_DOUBLE_EQ(c.buckets[3].at(0.0), 0.1);
  EXPECT_DOUBLE_EQ(c.buckets[3].at(1.0), 0.3);
  EXPECT_EQ(sim::bucket_name(3), "3+");
  EXPECT_EQ(sim::word_errors("a b c d e", "v w x y z"), 5U);
  // No turn with 0 errors: that bucket stays empty and cannot be drawn from.
  const auto sparse = sim::estimate_confidence({{1, 0.5}});
  EXPECT_EQ(sparse.buckets[0].turns, 0U);
  EXPECT_THROW((void)sparse.draw(0, 0.5), std::logic_error);
}

TEST(AsrConfidence, HearingDrawsFromTheBucketOfItsErrors) {
  // Disjoint ranges per bucket, so a confidence names the bucket it came from.
  const auto bucketed = [](double base) {
    std::vector<std::pair<uint32_t, double>> turns;
    for (uint32_t e = 0; e < 4; ++e)
      for (int i = 0; i <= 10; ++i) turns.emplace_back(e, base - 0.25 * e + 0.005 * i);
    return sim::estimate_confidence(turns);
  };
  sim::AsrErrorModel m;
  m.reference_words = 10;
  m.substitutions = 2;
  m.deletions = 2;
  m.insertions = 1;
  m.inserted["the"] = 1;
  m.voice_factor = {{"slt", 1.0}, {"en-us+f2", 1.5}};
  m.snr_factor = {{"inf", 1.0}, {"20", 2.0}};
  m.confidence["inf"] = bucketed(0.9);  // 0: [0.90, 0.95], 1: [0.65, 0.70], 2: [0.40, 0.45], 3+: [0.15, 0.20]
  m.confidence["20"] = bucketed(0.8);   // each range 0.1 lower
  const sim::AsrChannel channel(m, {"make", "some", "coffee", "toffee", "now", "please"});
  std::set<uint32_t> buckets_seen;
  for (const std::string condition : {"inf", "20"}) {
    const double base = condition == "20" ? 0.8 : 0.9;
    for (int i = 0; i < 300; ++i) {
      sim::Rng rng(3, {"c", condition, std::to_string(i)});
      // The voice changes the error rates, not the confidence per error.
      const auto h = channel.hear("make some coffee now please", i % 2 == 0 ? "slt" : "en-us+f2", condition, rng);
      const double low = base - 0.25 * static_cast<double>(std::min<uint32_t>(h.errors, 3));
      EXPECT_GE(h.confidence, low - 1e-9) << h.errors << " errors, " << condition;
      EXPECT_LE(h.confidence, low + 0.05 + 1e-9) << h.errors << " errors, " << condition;
      buckets_seen.insert(std::min<uint32_t>(h.errors, 3));
    }
  }
  EXPECT_EQ(buckets_seen.size(), 4U);  // every bucket was exercised
  // A noise level with no confidence model is refused.
  m.confidence.erase("20");
  const sim::AsrChannel strict(m, {"make"});
  sim::Rng rng(1, {"x"});
  EXPECT_THROW((void)strict.hear("make", "slt", "20", rng), std::invalid_argument);
}

TEST(AsrErrorModel, HearingIsKeyedAndUsesLearnedConfusions) {
  sim::AsrErrorModel m;
  m.reference_words = 10;
  m.substitutions = 5;  // every other word, at factor 1
  m.confusions["coffee"]["toffee"] = 3;
  m.confidence["inf"] = sim::estimate_confidence({{0, 0.9}, {1, 0.5}, {2, 0.3}, {3, 0.1}});
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
