// Scores: the confusion matrix and per-class figures on a small known case.
#include <cascade/core/scoring.hpp>

#include <gtest/gtest.h>

#include <cmath>

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

// The coverage curve keeps the surest labels first, keeps ties together,
// reports a threshold once, and puts turns without a score last.
TEST(Scoring, CoverageCurveKeepsTheSurestLabelsFirst) {
  const double kNone = std::nan("");
  const std::vector<cascade::ScoredLabel> labels = {
      {"asr", "asr", 0.9}, {"nlu", "nlu", 0.8}, {"nlu", "asr", 0.8}, {"correct", "correct", 0.7},
      {"correct", "nlu", 0.2}, {"asr", "correct", kNone}};
  const auto c = cascade::coverage_curve(labels, {"asr", "nlu", "correct"}, {1.0, 0.5, 0.4, 0.1});
  ASSERT_EQ(c.size(), 3u);  // 0.5 and 0.4 both keep the three turns at >= 0.8
  EXPECT_EQ(c[0].turns, 6u);
  EXPECT_DOUBLE_EQ(c[0].accuracy, 3.0 / 6.0);
  EXPECT_DOUBLE_EQ(c[0].coverage, 1.0);
  EXPECT_EQ(c[1].turns, 3u);  // the tie at 0.8 is kept whole
  EXPECT_DOUBLE_EQ(c[1].min_score, 0.8);
  EXPECT_DOUBLE_EQ(c[1].accuracy, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(c[1].coverage, 0.5);
  EXPECT_EQ(c[2].turns, 1u);
  EXPECT_DOUBLE_EQ(c[2].min_score, 0.9);
  EXPECT_DOUBLE_EQ(c[2].accuracy, 1.0);
  EXPECT_DOUBLE_EQ(c[2].macro_f1, 1.0);
  EXPECT_TRUE(cascade::coverage_curve({}, {"asr"}, {1.0}).empty());
}
