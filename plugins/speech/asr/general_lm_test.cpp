// top_unigrams() on pocketsphinx's general en-us LM (a Debian package file).
#include "general_lm.hpp"

#include "audio.hpp"

#include <gtest/gtest.h>

using cascade::speech::top_unigrams;

TEST(GeneralLm, TopWordsComeMostProbableFirstAndPassTheFilter) {
  const auto words = top_unigrams(CASCADE_GENERAL_LM, 500, [](const std::string& w) { return w != "the"; });
  ASSERT_EQ(words.size(), 500u);
  for (size_t i = 1; i < words.size(); ++i) EXPECT_GE(words[i - 1].second, words[i].second);
  for (const auto& [w, p] : words) {
    EXPECT_NE(w, "the");
    EXPECT_EQ(w.find_first_not_of("abcdefghijklmnopqrstuvwxyz'"), std::string::npos) << w;  // no <s>, </s>, <UNK>
    EXPECT_GT(p, 0.0);
    EXPECT_LT(p, 1.0);
  }
  EXPECT_EQ(words.front().first, "to");  // "the" is the most probable word but filtered out
}

TEST(GeneralLm, MissingFileIsA010) {
  try {
    (void)top_unigrams("/nonexistent/general.lm.bin", 10, nullptr);
    FAIL() << "expected SpeechError";
  } catch (const cascade::speech::SpeechError& e) {
    EXPECT_EQ(e.code(), "A010");
  }
}

TEST(GeneralLm, UnreadableFileIsA021) {
  try {
    (void)top_unigrams(CASCADE_NOT_AN_LM, 10, nullptr);
    FAIL() << "expected SpeechError";
  } catch (const cascade::speech::SpeechError& e) {
    EXPECT_EQ(e.code(), "A021");
  }
}
