#include "text/text.hpp"

#include <gtest/gtest.h>

using namespace cascade::language;

TEST(NormalizeSentence, LowercasesDropsPunctuationKeepsInWordApostrophes) {
  EXPECT_EQ(normalize_sentence("  Set an Alarm, 7 A.M.!  "), "set an alarm 7 a m");
  EXPECT_EQ(normalize_sentence("what's the 'weather'"), "what's the weather");
  EXPECT_EQ(normalize_sentence(""), "");
}

TEST(ParseNumber, ReadsDigitsAndCompoundNumberWords) {
  auto t = tokenize("twenty five two thousand seventeen one hundred and five 42 ten");
  auto a = parse_number(t, 0);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->value, 25);
  EXPECT_EQ(a->used, 2u);
  auto b = parse_number(t, 2);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->value, 2017);
  auto c = parse_number(t, 5);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->value, 105);
  EXPECT_EQ(parse_number(t, 9)->value, 42);
  EXPECT_FALSE(parse_number(tokenize("hello"), 0));
}

TEST(ParseNumber, StopsBetweenTwoSmallNumbersAsInATime) {
  auto t = tokenize("five thirty");
  auto a = parse_number(t, 0);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->value, 5);
  EXPECT_EQ(a->used, 1u);
}

TEST(ParseOrdinal, ReadsCompoundAndSuffixedOrdinals) {
  EXPECT_EQ(parse_ordinal(tokenize("twenty third"), 0)->value, 23);
  EXPECT_EQ(parse_ordinal(tokenize("3rd"), 0)->value, 3);
  EXPECT_FALSE(parse_ordinal(tokenize("three"), 0));
}

TEST(NumbersToDigits, RewritesRunsOfNumberWords) {
  EXPECT_EQ(join(numbers_to_digits(tokenize("set ten alarms for twenty five minutes"))), "set 10 alarms for 25 minutes");
}

TEST(Similarity, ScoresTyposHighAndUnrelatedLow) {
  EXPECT_EQ(levenshtein("kitchen", "kitchn"), 1u);
  EXPECT_NEAR(char_similarity("kitchen", "kitchn"), 6.0 / 7.0, 1e-9);
  EXPECT_DOUBLE_EQ(similarity("new york", "york new"), 1.0);
  EXPECT_LT(similarity("bedroom", "garage"), 0.5);
}

TEST(StableHash, IsTheFnv1aOfTheBytes) {
  EXPECT_EQ(stable_hash(""), 14695981039346656037ULL);
  EXPECT_EQ(stable_hash("a"), 0xaf63dc4c8601ec8cULL);
}
