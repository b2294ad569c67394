// Scores: the confusion matrix and per-class figures on a small known case.
#include <cascade/core/scoring.hpp>

#include <gtest/gtest.h>

using cascade::score;

TEST(Scoring, ConfusionPerClassAndMacroF1OnAKnownCase) {
  // reference -> predicted
  const auto s = score({{"asr", "asr"}, {"asr", "nlu"}, {"nlu", "nlu"}, {"correct", "correct"}, {"correct", "asr"}},
                       {"asr", "nlu", "correct"});
  ASSERT_EQ(s.classes, (std::vector<std::string>{"asr", "nlu", "correct"}));
  EXPECT_EQ(s.confusion[0], (std::vector<uint64_t>{1, 1, 0}));
  EXPECT_EQ(s.confusion[2], (std::vector<uint64_t>{1, 0, 1}));
  EXPECT_DOUBLE_EQ(s.accuracy, 3.0 / 5.0);
  EXPECT_DOUBLE_EQ(s.per_class.at("asr").precision, 0.5);  // predicted asr twice, right once
  EXPECT_DOUBLE_EQ(s.per_class.at("asr").recall, 0.5);
  EXPECT_DOUBLE_EQ(s.per_class.at("nlu").precision, 0.5);
  EXPECT_DOUBLE_EQ(s.per_class.at("nlu").recall, 1.0);
  EXPECT_DOUBLE_EQ(s.per_class.at("correct").f1, 2 * 1.0 * 0.5 / 1.5);
  EXPECT_NEAR(s.macro_f1, (0.5 + 2.0 / 3.0 + 2.0 / 3.0) / 3.0, 1e-12);
}

TEST(Scoring, ClassesWithoutSupportDoNotCountInMacroF1AndUnknownLabelsAreAdded) {
  const auto s = score({{"asr", "asr"}, {"asr", "(none)"}}, {"asr", "er"});
  EXPECT_EQ(s.classes.back(), "(none)");
  EXPECT_EQ(s.per_class.at("er").support, 0u);
  EXPECT_NEAR(s.macro_f1, 2 * 1.0 * 0.5 / 1.5, 1e-12);  // asr alone: P 1, R 0.5
}
