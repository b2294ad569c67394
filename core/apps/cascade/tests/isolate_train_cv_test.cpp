// The trainer's cross-validation step (isolate_train_cv.hpp) on rows made
// here: rows of traces marked auxiliary weigh what helps the other rows.
// Taught the opposite lesson (another recogniser), they are weighed down;
// taught the same one where the own rows are too few, they keep their
// weight, and a lower weight that wins by less than the noise is not
// taken; a given weight is taken as given; without them nothing changes.
#include "isolate_train_cv.hpp"

#include <gtest/gtest.h>

#include <random>

namespace it = cascade::isolate_train;

namespace {

constexpr int kNlu = 2, kCorrect = 5;

// Features 0-3, then the intent priors' columns (kPriors on; no intent,
// so they stay missing).
constexpr size_t kPriors = 4;

// `n` rows, two turns a dialogue (ids prefixed by `tag`). The label is nlu
// when exactly one of features 0 and 1 is positive, else correct: a rule
// (exclusive or) that takes more rows to learn than one threshold.
// `flipped`: the opposite rule.
std::vector<it::Example> rows(size_t n, uint32_t seed, const std::string& tag, bool auxiliary, bool flipped) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> x(0, 1);
  std::vector<it::Example> out;
  for (size_t i = 0; i < n; ++i) {
    it::Example e;
    e.dialogue = tag + std::to_string(i / 2);
    e.key = tag + "#" + std::to_string(i);
    e.features = {x(rng), x(rng), x(rng), x(rng)};
    int positive = 0;
    for (int f = 0; f < 2; ++f) positive += e.features[static_cast<size_t>(f)] > 0 ? 1 : 0;
    e.label = (positive == 1) != flipped ? kNlu : kCorrect;
    e.features.resize(kPriors + cascade::failure_classes().size(), 0.0F);
    e.auxiliary = auxiliary;
    out.push_back(std::move(e));
  }
  return out;
}

it::CvOptions quick() {
  it::CvOptions o;
  o.fit.rounds = 30;
  return o;
}

std::vector<it::Example> joined(std::vector<it::Example> a, const std::vector<it::Example>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Every auxiliary row weighs `w`, every other row 1.
void expect_weights(const std::vector<it::Example>& r, float w) {
  for (const auto& e : r) EXPECT_FLOAT_EQ(e.weight, e.auxiliary ? w : 1.0F) << e.key;
}

}  // namespace

TEST(IsolateTrainCv, AuxiliaryRowsThatTeachTheOppositeAreWeighedDown) {
  auto r = joined(rows(400, 1, "own", false, false), rows(1200, 2, "aux", true, true));
  const it::CrossValidated cv = it::cross_validated(r, kPriors, quick(), 2);
  ASSERT_TRUE(cv.auxiliary_weight.has_value());
  EXPECT_LE(*cv.auxiliary_weight, 0.1);
  expect_weights(r, static_cast<float>(*cv.auxiliary_weight));
  EXPECT_FALSE(cv.score_accuracy.empty());
}

TEST(IsolateTrainCv, AuxiliaryRowsThatTeachTheSameKeepTheirWeightWhereTheOwnAreFew) {
  auto r = joined(rows(60, 3, "own", false, false), rows(1200, 4, "aux", true, false));
  const it::CrossValidated cv = it::cross_validated(r, kPriors, quick(), 2);
  ASSERT_TRUE(cv.auxiliary_weight.has_value());
  EXPECT_GE(*cv.auxiliary_weight, 0.5);
  expect_weights(r, static_cast<float>(*cv.auxiliary_weight));
}

TEST(IsolateTrainCv, AGivenWeightIsTakenAsGiven) {
  auto r = joined(rows(400, 1, "own", false, false), rows(400, 2, "aux", true, true));
  it::CvOptions o = quick();
  o.auxiliary_weight = "0.3";
  const it::CrossValidated cv = it::cross_validated(r, kPriors, o, 2);
  ASSERT_TRUE(cv.auxiliary_weight.has_value());
  EXPECT_DOUBLE_EQ(*cv.auxiliary_weight, 0.3F);
  expect_weights(r, 0.3F);
  // The decision weights are chosen on the own rows' out-of-fold
  // probabilities only: the turns the model is for.
  const auto oof = it::cross_validate(r, 5, o.fit, 2, kPriors);
  std::vector<it::Example> own;
  std::vector<float> own_oof;
  const size_t k = cascade::failure_classes().size();
  for (size_t i = 0; i < r.size(); ++i) {
    if (r[i].auxiliary) continue;
    own.push_back(r[i]);
    own_oof.insert(own_oof.end(), oof.begin() + static_cast<ptrdiff_t>(i * k),
                   oof.begin() + static_cast<ptrdiff_t>((i + 1) * k));
  }
  EXPECT_EQ(cv.weights, it::choose_decision_weights(own, own_oof, it::Objective::Mean));
  EXPECT_NE(cv.weights, it::choose_decision_weights(r, oof, it::Objective::Mean)) << "all rows would choose these";
}

TEST(IsolateTrainCv, WithoutAuxiliaryRowsEveryRowIsScoredAtWeightOne) {
  auto r = rows(400, 1, "own", false, false);
  const it::CrossValidated cv = it::cross_validated(r, kPriors, quick(), 2);
  EXPECT_FALSE(cv.auxiliary_weight.has_value());
  expect_weights(r, 1.0F);
  // The decision weights are those chosen on every row's out-of-fold
  // probabilities, as before auxiliary rows existed.
  const auto oof = it::cross_validate(r, 5, quick().fit, 2, kPriors);
  EXPECT_EQ(cv.weights, it::choose_decision_weights(r, oof, it::Objective::Mean));
}

// Own and auxiliary rows of one rule, with labels flipped at random (a
// quarter of the own, two fifths of the auxiliary): here a lower weight
// scores a little better than 1 in the cross-validation, by less than the
// bootstrap says noise alone gives, so 1 is kept.
TEST(IsolateTrainCv, ALowerWeightThatWinsWithinTheNoiseIsNotTaken) {
  constexpr uint32_t kSeed = 14;  // one where a lower weight wins by 0.003
  auto own = rows(200, kSeed, "own", false, false);
  auto aux = rows(600, kSeed + 100, "aux", true, false);
  std::mt19937 rng(kSeed);
  const auto flip = [&](std::vector<it::Example>& r, uint32_t percent) {
    for (auto& e : r)
      if (rng() % 100 < percent) e.label = e.label == kNlu ? kCorrect : kNlu;
  };
  flip(own, 25);
  flip(aux, 40);
  auto r = joined(own, aux);
  testing::internal::CaptureStderr();
  const it::CrossValidated cv = it::cross_validated(r, kPriors, quick(), 2);
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("beats 1 by"), std::string::npos) << log;
  EXPECT_NE(log.find("within the noise, 1 kept"), std::string::npos) << log;
  ASSERT_TRUE(cv.auxiliary_weight.has_value());
  EXPECT_EQ(*cv.auxiliary_weight, 1.0);
  expect_weights(r, 1.0F);
}

TEST(IsolateTrainCv, WithoutACrossValidationAuxiliaryRowsWeighOne) {
  auto r = joined(rows(100, 1, "own", false, false), rows(100, 2, "aux", true, true));
  it::CvOptions o = quick();
  o.folds = 0;
  const it::CrossValidated cv = it::cross_validated(r, kPriors, o, 2);
  ASSERT_TRUE(cv.auxiliary_weight.has_value());
  EXPECT_EQ(*cv.auxiliary_weight, 1.0);
  expect_weights(r, 1.0F);
  EXPECT_EQ(cv.weights, std::vector<double>(cascade::failure_classes().size(), 1.0));
  EXPECT_TRUE(cv.score_accuracy.empty());
}
