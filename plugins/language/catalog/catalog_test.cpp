#include "catalog/catalog.hpp"
#include "catalog/temporal.hpp"

#include <gtest/gtest.h>

using namespace cascade::language;

TEST(ParseAnnotation, FindsTypedSpansWithTokenOffsets) {
  auto a = parse_annotation("wake me at [time : seven am] [date : Tomorrow] please");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].type, "time");
  EXPECT_EQ(a[0].value, "seven am");
  EXPECT_EQ(a[0].token_begin, 3u);
  EXPECT_EQ(a[0].token_end, 5u);
  EXPECT_EQ(a[1].value, "tomorrow");
  EXPECT_EQ(a[1].token_begin, 5u);
}

TEST(ParseAnnotation, RejectsAnUnbalancedBracket) {
  EXPECT_THROW(parse_annotation("turn on [house_place : kitchen"), std::invalid_argument);
  EXPECT_THROW(parse_annotation("turn on [kitchen]"), std::invalid_argument);
}

TEST(NormalizeTime, ReadsClockTimesAndDurations) {
  EXPECT_EQ(normalize_time("seven am"), "07:00");
  EXPECT_EQ(normalize_time("five thirty pm"), "17:30");
  EXPECT_EQ(normalize_time("twelve noon"), "12:00");
  EXPECT_EQ(normalize_time("half past six in the evening"), "18:30");
  EXPECT_EQ(normalize_time("quarter to five"), "04:45");
  EXPECT_EQ(normalize_time("ten"), "10:00");
  EXPECT_EQ(normalize_time("five minutes"), "PT5M");
  EXPECT_EQ(normalize_time("one hour"), "PT1H");
  EXPECT_FALSE(normalize_time("this time"));
}

TEST(NormalizeDate, ReadsRelativeDaysWeekdaysAndCalendarDates) {
  EXPECT_EQ(normalize_date("tomorrow"), "day+1");
  EXPECT_EQ(normalize_date("today's"), "day+0");
  EXPECT_EQ(normalize_date("next week"), "week+1");
  EXPECT_EQ(normalize_date("this Friday"), "friday");
  EXPECT_EQ(normalize_date("every friday"), "every friday");
  EXPECT_EQ(normalize_date("the twenty third of april"), "04-23");
  EXPECT_EQ(normalize_date("twenty seventh march two thousand seventeen"), "03-27");
  EXPECT_EQ(normalize_date("the fifteenth"), "dom-15");
  EXPECT_EQ(normalize_date("march"), "month-03");
  EXPECT_FALSE(normalize_date("whenever"));
}

TEST(Canonicalize, AppliesPossessivesArticlesAndAliases) {
  EXPECT_EQ(canonicalize("house_place", "the Bed Room"), "bedroom");
  EXPECT_EQ(canonicalize("device_type", "roomba"), "vacuum");
  EXPECT_EQ(canonicalize("list_name", "grocery list"), "grocery");
  EXPECT_EQ(canonicalize("artist_name", "queen's"), "queen");
}

TEST(Catalog, ResolvesExactlyFuzzilyOrNotAtAll) {
  Catalog c;
  c.add("house_place", "kitchen");
  c.add("house_place", "living room");
  auto exact = c.resolve("house_place", "the kitchen");
  ASSERT_TRUE(exact.resolved);
  EXPECT_EQ(*exact.resolved, "kitchen");
  EXPECT_DOUBLE_EQ(exact.score, 1.0);
  auto fuzzy = c.resolve("house_place", "kitchn");
  ASSERT_TRUE(fuzzy.resolved);
  EXPECT_EQ(*fuzzy.resolved, "kitchen");
  EXPECT_LT(fuzzy.score, 1.0);
  auto none = c.resolve("house_place", "garage");
  EXPECT_FALSE(none.resolved);
  EXPECT_FALSE(c.resolve("person", "kitchen").resolved);  // unknown type
}

TEST(Catalog, SurvivesAJsonRoundTrip) {
  Catalog c;
  c.add("person", "John");
  c.add("date", "tomorrow");
  Catalog d = Catalog::from_json(c.to_json());
  EXPECT_EQ(d.to_json(), c.to_json());
  EXPECT_EQ(*d.resolve("person", "jon").resolved, "john");
}

TEST(Catalog, LoadNamesTheMissingFile) {
  try {
    Catalog::load("/nonexistent/catalog.json");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("A010"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/catalog.json"), std::string::npos);
  }
}
