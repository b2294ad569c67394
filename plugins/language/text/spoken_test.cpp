// spoken_form(): what a recogniser or a person writes, read as SLURP
// transcribes speech. Text without numerals is left as normalize_sentence()
// leaves it, so the shipped data and the eval are unchanged by it.
#include "text/spoken.hpp"
#include "text/text.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace cascade::language;

TEST(SpokenForm, NumeralsBecomeTheNumberWordsSlurpWrites) {
  EXPECT_EQ(spoken_form("Wake me up at 10."), "wake me up at ten");
  EXPECT_EQ(spoken_form("set 125 reminders"), "set one hundred twenty five reminders");
  EXPECT_EQ(spoken_form("1,000 steps"), "one thousand steps");
  EXPECT_EQ(spoken_form("play 987"), "play nine hundred eighty seven");
  EXPECT_EQ(spoken_form("bond 007"), "bond zero zero seven");
  EXPECT_EQ(spoken_form("0"), "zero");
  EXPECT_EQ(spoken_form("2500000"), "two million five hundred thousand");
}

TEST(SpokenForm, YearsAreReadInPairs) {
  EXPECT_EQ(spoken_form("songs from 1995"), "songs from nineteen ninety five");
  EXPECT_EQ(spoken_form("in 2020"), "in twenty twenty");
  EXPECT_EQ(spoken_form("in 2005"), "in two thousand five");
  EXPECT_EQ(spoken_form("1900"), "nineteen hundred");
  EXPECT_EQ(spoken_form("1905"), "nineteen oh five");
}

TEST(SpokenForm, TimesOrdinalsMoneyAndPercent) {
  EXPECT_EQ(spoken_form("Set an alarm for 5:30 a.m."), "set an alarm for five thirty am");
  EXPECT_EQ(spoken_form("at 5:05 P.M., please"), "at five oh five pm please");
  EXPECT_EQ(spoken_form("at 7:00"), "at seven");
  EXPECT_EQ(spoken_form("at 5pm"), "at five pm");
  EXPECT_EQ(spoken_form("at 6:15am"), "at six fifteen am");
  EXPECT_EQ(spoken_form("Is the 23rd of April a Saturday?"), "is the twenty third of april a saturday");
  EXPECT_EQ(spoken_form("the 1st and the 2nd"), "the first and the second");
  EXPECT_EQ(spoken_form("the 100th"), "the one hundredth");
  EXPECT_EQ(spoken_form("the 90th"), "the ninetieth");
  EXPECT_EQ(spoken_form("raise it by 20%"), "raise it by twenty percent");
  EXPECT_EQ(spoken_form("3.5 stars"), "three point five stars");
  EXPECT_EQ(spoken_form("$5"), "five dollars");
  EXPECT_EQ(spoken_form("$1"), "one dollar");
  EXPECT_EQ(spoken_form("($4.50)"), "four dollars fifty cents");
}

TEST(SpokenForm, WhatItDoesNotReadIsNormalisedAsBefore) {
  EXPECT_EQ(spoken_form("play n9ne on my mp3 player"), "play n9ne on my mp3 player");
  EXPECT_EQ(spoken_form("call 5:75"), "call 5 75");  // no such time
  EXPECT_EQ(spoken_form("what's the 'weather'"), normalize_sentence("what's the 'weather'"));
  EXPECT_EQ(spoken_form("  I am   here. "), "i am here");
  EXPECT_EQ(spoken_form(""), "");
}

// The shipped data: every SLURP devel sentence comes out as
// normalize_sentence() makes it, but the one with a numeral ("n9ne" stays
// too), so models, gold and the eval do not move.
TEST(SpokenForm, EverySlurpSentenceIsAlreadyInSpokenForm) {
  std::ifstream in(CASCADE_SLURP_DEVEL);
  ASSERT_TRUE(in);
  size_t sentences = 0;
  for (std::string line; std::getline(in, line);) {
    const std::string sentence = nlohmann::json::parse(line).at("sentence").get<std::string>();
    EXPECT_EQ(spoken_form(sentence), normalize_sentence(sentence)) << sentence;
    ++sentences;
  }
  EXPECT_EQ(sentences, 2033u);
}

// Untrusted input: no mix of digits, signs and letters throws (std::stol
// overflows past 19 digits), and a numeral too long to read is left as
// written.
TEST(SpokenForm, NoTokenThrowsAndTooLongANumeralStaysAsWritten) {
  const std::string alphabet = "0123456789999999$%:.,'-aAmMpPstndrh ";
  uint64_t state = 7;
  for (int n = 0; n < 20000; ++n) {
    std::string text;
    const size_t length = 1 + n % 24;
    for (size_t i = 0; i < length; ++i) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;  // a fixed LCG: the same cases every run
      text += alphabet[(state >> 33) % alphabet.size()];
    }
    ASSERT_NO_THROW((void)spoken_form(text)) << text;
  }
  EXPECT_EQ(spoken_form("$123456789012345 99999999999th 1234567890123:00"),
            "123456789012345 99999999999th 1234567890123 00");
}
