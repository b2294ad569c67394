#include "nlu/slot_tagger.hpp"

#include <gtest/gtest.h>

using cascade::language::SlotTagger;
using json = nlohmann::json;

namespace {
// A lexicon as cascade-assistant-data writes it, small enough to reason about.
SlotTagger tagger() {
  json lex{{"version", 1},
           {"max_tokens", 2},
           {"entries",
            {{{"phrase", "kitchen"}, {"types", {{"house_place", 5}}}, {"tagged", 5}, {"seen", 5}},
             {{"phrase", "play"}, {"types", {{"media_type", 1}}}, {"tagged", 1}, {"seen", 40}},
             {{"phrase", "queen"}, {"types", {{"artist_name", 3}, {"person", 4}}}, {"tagged", 7}, {"seen", 7}}}},
           {"contexts",
            {{{"intent", "weather_query"}, {"left", "in"}, {"right", "</s>"}, {"type", "place_name"}, {"count", 6}},
             {{"intent", "weather_query"}, {"left", "in"}, {"right", "today"}, {"type", "place_name"}, {"count", 1}}}},
           {"intent_types", {{"play_music", {{"artist_name", 30}}}, {"calendar_set", {{"person", 20}}}}}};
  return SlotTagger::from_json(lex);
}
}  // namespace

TEST(SlotTagger, TagsAPhraseThatIsUsuallyAnEntityButNotOneThatRarelyIs) {
  auto s = tagger().tag("play music in the kitchen", "iot_hue_lighton");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].type, "house_place");
  EXPECT_EQ(s[0].value, "kitchen");
  EXPECT_EQ(s[0].start, 18u);
  EXPECT_EQ(s[0].end, 25u);
}

TEST(SlotTagger, LetsTheIntentChooseBetweenTypesOfOnePhrase) {
  EXPECT_EQ(tagger().tag("play queen", "play_music").at(0).type, "artist_name");
  EXPECT_EQ(tagger().tag("meet queen", "calendar_set").at(0).type, "person");
}

TEST(SlotTagger, FindsUnseenDatesAndTimesByPattern) {
  auto s = tagger().tag("wake me at seven fifteen pm next friday", "alarm_set");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].type, "time");
  EXPECT_EQ(s[0].value, "seven fifteen pm");
  EXPECT_EQ(s[1].type, "date");
  EXPECT_EQ(s[1].value, "next friday");
}

TEST(SlotTagger, FindsUnseenValuesByAContextSeenOftenEnoughInTrain) {
  auto s = tagger().tag("what is the weather in sydney", "weather_query");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].type, "place_name");
  EXPECT_EQ(s[0].value, "sydney");
  // Seen once only: not enough evidence.
  for (const auto& x : tagger().tag("what is the weather in sydney today", "weather_query"))
    EXPECT_NE(x.type, "place_name") << x.value;
  // Same context, other intent: nothing.
  EXPECT_TRUE(tagger().tag("what is the weather in sydney", "news_query").empty());
}

TEST(SlotTagger, RejectsALexiconWithoutEntriesAndNamesAMissingFile) {
  EXPECT_THROW(SlotTagger::from_json(json::object()), std::invalid_argument);
  try {
    SlotTagger::load("/nonexistent/slot_lexicon.json");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("A010: slot lexicon not found: /nonexistent/slot_lexicon.json"),
              std::string::npos);
  }
}
