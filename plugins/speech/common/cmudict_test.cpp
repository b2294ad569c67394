#include "cmudict.hpp"

#include "audio.hpp"

#include <gtest/gtest.h>

using namespace cascade::speech;

namespace {
const CmuDict& dict() {
  static const CmuDict d = CmuDict::load(CASCADE_SPEECH_CMUDICT);
  return d;
}
}  // namespace

TEST(CmuDict, LoadsTheFullDictionaryWithAlternates) {
  EXPECT_GT(dict().size(), 100000u);
  const auto* the = dict().find("the");
  ASSERT_NE(the, nullptr);
  EXPECT_GE(the->size(), 2u);
}

TEST(CmuDict, TrimmedKeepsEveryAlternateOfEveryWordAndReportsMissing) {
  std::vector<std::string> missing;
  std::string t = dict().trimmed({"alexa", "the", "the", "qzxqzx!"}, &missing);
  EXPECT_NE(t.find("alexa "), std::string::npos);
  EXPECT_NE(t.find("the "), std::string::npos);
  EXPECT_NE(t.find("the(2) "), std::string::npos);
  EXPECT_EQ(missing, std::vector<std::string>{"qzxqzx!"});
}

TEST(CmuDict, SpellsUnknownWordsLetterByLetter) {
  std::vector<std::string> missing, spelled;
  std::string t = dict().trimmed({"xqzt"}, &missing, &spelled);
  EXPECT_TRUE(missing.empty());
  EXPECT_EQ(spelled, std::vector<std::string>{"xqzt"});
  EXPECT_EQ(t.rfind("xqzt ", 0), 0u);
}

TEST(CmuDict, MissingFileIsA010) {
  try {
    (void)CmuDict::load("/nonexistent.dict");
    FAIL();
  } catch (const SpeechError& e) {
    EXPECT_EQ(e.code(), "A010");
  }
}

TEST(Tokenize, LowerCasesAndSplitsOnPunctuationKeepingApostrophes) {
  EXPECT_EQ(tokenize("Alexa, what's the Weather?  'ok'"),
            (std::vector<std::string>{"alexa", "what's", "the", "weather", "ok"}));
}

TEST(CmuDict, LoadingOnlySomeWordsKeepsThemAndWhatSpellingNeeds) {
  const std::set<std::string, std::less<>> only = {"alexa", "computer"};
  CmuDict d = CmuDict::load(CASCADE_SPEECH_CMUDICT, &only);
  EXPECT_NE(d.find("alexa"), nullptr);
  EXPECT_NE(d.find("computer"), nullptr);
  EXPECT_EQ(d.find("the"), nullptr);
  EXPECT_LT(d.size(), 50u);
  EXPECT_FALSE(d.spell("tv").empty());
}
