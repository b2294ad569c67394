// The trainer's xgboost half (isolate_train_model.hpp) on rows made here:
// cross-validation keeps a dialogue out of the model that predicts it and
// does not depend on the number of threads; the decision weights undo a
// bias of the probabilities and never lose on the objective they maximise.
#include "isolate_train_model.hpp"

#include <cascade/core/diagnostic.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace it = cascade::isolate_train;

namespace {

constexpr size_t kClasses = 6;  // false_wake asr nlu er result correct
constexpr int kNlu = 2, kCorrect = 5;

// `n` rows of 4 features: feature 0 says the class (noisily), the others
// are noise; two turns a dialogue.
std::vector<it::Example> rows(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0, 0.6F);
  std::vector<it::Example> out;
  for (size_t i = 0; i < n; ++i) {
    it::Example e;
    e.label = static_cast<int>(i % 3 == 0 ? kNlu : i % 7 == 0 ? 1 : kCorrect);
    e.dialogue = "d" + std::to_string(i / 2);
    e.key = "t#" + std::to_string(i);
    e.features = {static_cast<float>(e.label) + noise(rng), noise(rng), noise(rng), noise(rng)};
    out.push_back(std::move(e));
  }
  return out;
}

it::FitOptions quick() {
  it::FitOptions o;
  o.rounds = 20;
  return o;
}

}  // namespace

TEST(IsolateTrainModel, CrossValidationDoesNotDependOnThreads) {
  const auto r = rows(300, 1);
  const auto one = it::cross_validate(r, 5, quick(), 1);
  const auto two = it::cross_validate(r, 5, quick(), 2);
  ASSERT_EQ(one.size(), r.size() * kClasses);
  EXPECT_EQ(one, two);
  for (size_t i = 0; i < r.size(); ++i) {
    float sum = 0;
    for (size_t c = 0; c < kClasses; ++c) sum += one[i * kClasses + c];
    EXPECT_NEAR(sum, 1.0F, 1e-4F);
  }
}

// Dialogues that only themselves explain: odd dialogue k lies alone at
// feature 1 = 10k + 10 and its label alternates between asr and er, so its
// neighbours on either side have the other label. Predicted by a model that
// never saw it, it gets its neighbours' label; a model that saw it would
// have split it off (deep trees, many rounds).
TEST(IsolateTrainModel, CrossValidationPredictsADialogueWithoutIt) {
  auto r = rows(400, 2);
  std::vector<size_t> odd;
  for (size_t i = 0, k = 0; i + 1 < r.size(); i += 20, ++k) {
    for (size_t j = i; j < i + 2; ++j) {  // both turns of dialogue i / 2
      r[j].features = {9.0F, 10.0F * static_cast<float>(k) + 10.0F, 0.0F, 0.0F};
      r[j].label = k % 2 == 0 ? 1 : 3;
      odd.push_back(j);
    }
  }
  it::FitOptions deep = quick();
  deep.depth = 8;
  deep.rounds = 60;
  const std::vector<double> ones(kClasses, 1.0);
  const auto oof = it::cross_validate(r, 5, deep, 2);
  ASSERT_EQ(oof.size(), r.size() * kClasses);
  size_t oof_right = 0;
  for (size_t j : odd) oof_right += it::decide(&oof[j * kClasses], ones) == r[j].label ? 1 : 0;
  std::vector<const it::Example*> all;
  for (const auto& e : r) all.push_back(&e);
  const auto seen = it::predict(it::fit(all, deep), all);
  size_t seen_right = 0;
  for (size_t j : odd) seen_right += it::decide(&seen[j * kClasses], ones) == r[j].label ? 1 : 0;
  EXPECT_EQ(seen_right, odd.size()) << "the test's premise: a model that saw them gets them right";
  EXPECT_LE(oof_right, odd.size() / 10) << "a held-out dialogue was predicted by a model that saw it";
}

// With intent priors, each fold encodes its own from its training rows;
// the rows given are left as they were, and threads change nothing.
TEST(IsolateTrainModel, CrossValidationEncodesEachFoldsPriorsItself) {
  auto r = rows(300, 5);
  for (auto& e : r) {
    e.intent = e.label == kNlu ? "often_wrong" : "fine";
    e.features[0] = 0;  // only the priors tell the class now
    e.features.resize(4 + kClasses, -1.0F);
  }
  const auto before = r;
  const auto one = it::cross_validate(r, 5, quick(), 1, 4);
  const auto two = it::cross_validate(r, 5, quick(), 2, 4);
  ASSERT_EQ(one.size(), r.size() * kClasses);
  EXPECT_EQ(one, two);
  for (size_t i = 0; i < r.size(); ++i) EXPECT_EQ(r[i].features, before[i].features) << i;
  // The priors say it all here: the held-out turns of "often_wrong" are
  // predicted nlu, the others not.
  size_t right = 0;
  for (size_t i = 0; i < r.size(); ++i)
    right += (it::decide(&one[i * kClasses], std::vector<double>(kClasses, 1.0)) == kNlu) == (r[i].label == kNlu) ? 1 : 0;
  EXPECT_GT(right, r.size() * 9 / 10);
}

TEST(IsolateTrainModel, TooFewDialoguesGiveNoCrossValidation) {
  auto r = rows(20, 3);
  for (auto& e : r) e.dialogue = "one";
  EXPECT_TRUE(it::cross_validate(r, 5, quick(), 2).empty());
}

// Probabilities that overrate `nlu`: every `correct` row gives nlu 0.5 and
// correct 0.45, every `nlu` row nlu 0.5 and correct 0.3. Only a weight of
// nlu between 0.6 and 0.9 gets both right; the objective never falls.
TEST(IsolateTrainModel, DecisionWeightsUndoABiasAndNeverLose) {
  std::vector<it::Example> r;
  std::vector<float> p;
  for (size_t i = 0; i < 100; ++i) {
    it::Example e;
    e.label = i < 30 ? kNlu : kCorrect;
    r.push_back(e);
    std::vector<float> row(kClasses, 0.01F);
    if (i < 30) {
      row[kNlu] = 0.5F;
      row[kCorrect] = 0.3F;
    } else {
      row[kNlu] = 0.5F;
      row[kCorrect] = 0.45F;
    }
    p.insert(p.end(), row.begin(), row.end());
  }
  const std::vector<double> ones(kClasses, 1.0);
  const it::Fit before = it::score_decisions(r, p, ones);
  EXPECT_NEAR(before.accuracy, 0.30, 1e-9);
  for (const auto obj : {it::Objective::Accuracy, it::Objective::MacroF1, it::Objective::Mean}) {
    const auto w = it::choose_decision_weights(r, p, obj);
    ASSERT_EQ(w.size(), kClasses);
    EXPECT_EQ(w[kCorrect], 1.0) << "correct is the reference weight";
    EXPECT_LT(w[kNlu], 0.9);
    EXPECT_GT(w[kNlu], 0.6) << "the nlu rows must stay nlu";
    const it::Fit after = it::score_decisions(r, p, w);
    EXPECT_NEAR(after.accuracy, 1.0, 1e-9);
    EXPECT_GE(it::objective_value(obj, after.accuracy, after.macro_f1),
              it::objective_value(obj, before.accuracy, before.macro_f1));
    EXPECT_EQ(w[0], 1.0) << "a class that changes nothing keeps weight 1";
  }
}

TEST(IsolateTrainModel, ScoreCountsOnlyClassesPresent) {
  std::vector<it::Example> r(2);
  r[0].label = kNlu;
  r[1].label = kCorrect;
  std::vector<float> p(2 * kClasses, 0.0F);
  p[kNlu] = 1;                  // row 0 -> nlu, right
  p[kClasses + kNlu] = 1;       // row 1 -> nlu, wrong
  const it::Fit f = it::score_decisions(r, p, std::vector<double>(kClasses, 1.0));
  EXPECT_DOUBLE_EQ(f.accuracy, 0.5);
  EXPECT_TRUE(std::isnan(f.recall[0]));
  EXPECT_DOUBLE_EQ(f.recall[kNlu], 1.0);
  EXPECT_DOUBLE_EQ(f.recall[kCorrect], 0.0);
  // nlu: P 0.5, R 1 -> F1 2/3; correct: F1 0; mean over the two present.
  EXPECT_NEAR(f.macro_f1, (2.0 / 3.0) / 2, 1e-12);
}

// The surer labels: the score is the chosen label's own probability, not
// the weighted one, and the surest rows come first.
TEST(IsolateTrainModel, ScoreCoverageRanksByTheChosenLabelsProbability) {
  std::vector<it::Example> r(3);
  r[0].label = kNlu;      // p(nlu) 0.9: right, surest
  r[1].label = kCorrect;  // p(nlu) 0.6: wrong
  r[2].label = kCorrect;  // p(correct) 0.4, p(nlu) 0.35: weights pick correct
  std::vector<float> p(3 * kClasses, 0.0F);
  p[kNlu] = 0.9F;
  p[kClasses + kNlu] = 0.6F;
  p[2 * kClasses + kNlu] = 0.35F;
  p[2 * kClasses + kCorrect] = 0.4F;
  std::vector<double> w(kClasses, 1.0);
  w[kNlu] = 0.5;  // row 1: 0.3 nlu vs 0 correct -> still nlu; row 2: 0.175 vs 0.4 -> correct
  const auto c = it::score_coverage(r, p, w);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].turns, 3u);
  EXPECT_NEAR(c[0].accuracy, it::score_decisions(r, p, w).accuracy, 1e-12);
  EXPECT_NEAR(c[1].min_score, 0.6, 1e-6);  // the unweighted probability of the chosen label
  EXPECT_NEAR(c[1].accuracy, 0.5, 1e-12);
  EXPECT_NEAR(c.back().min_score, 0.9, 1e-6);
  EXPECT_DOUBLE_EQ(c.back().accuracy, 1.0);
}

// How often each class follows an intent, smoothed towards the overall
// shares: (count + 20 x share) / (turns + 20).
TEST(IsolateTrainModel, IntentPriorsAreSmoothedShares) {
  std::vector<it::Example> r(40);
  for (size_t i = 0; i < r.size(); ++i) {
    r[i].intent = i < 10 ? "alarm_set" : "";
    r[i].label = i < 5 ? kNlu : kCorrect;  // alarm_set: 5 nlu, 5 correct
  }
  std::vector<const it::Example*> all;
  for (const auto& e : r) all.push_back(&e);
  const it::IntentPriors p = it::intent_priors(all);
  ASSERT_EQ(p.global.size(), kClasses);
  EXPECT_DOUBLE_EQ(p.global[kNlu], 5.0 / 40);
  ASSERT_EQ(p.by_intent.size(), 1u) << "a row without an intent names none";
  EXPECT_EQ(p.by_intent[0].first, "alarm_set");
  EXPECT_DOUBLE_EQ(p.by_intent[0].second[kNlu], (5 + 20 * 5.0 / 40) / (10 + 20));
  EXPECT_DOUBLE_EQ(p.by_intent[0].second[kCorrect], (5 + 20 * 35.0 / 40) / (10 + 20));
  EXPECT_NE(it::to_json(p).find("\"alarm_set\""), std::string::npos);
}

// A turn's prior never reads its own dialogue's labels: an intent only one
// dialogue has gets the other groups' overall shares, whatever its label.
TEST(IsolateTrainModel, IntentPriorsAreEncodedOutOfFold) {
  auto r = rows(200, 4);
  for (auto& e : r) {
    e.intent = e.label == kNlu ? "often_wrong" : "fine";
    e.features.resize(4 + kClasses, 0.0F);
  }
  r[0].intent = "only_here";
  r[0].label = kNlu;
  r[1].intent.clear();
  it::encode_intent_priors(r, 4, 5);
  std::vector<const it::Example*> others;
  for (const auto& e : r)
    if (it::dialogue_group(e.dialogue, 5) != it::dialogue_group(r[0].dialogue, 5)) others.push_back(&e);
  const it::IntentPriors outside = it::intent_priors(others);
  for (size_t c = 0; c < kClasses; ++c) EXPECT_FLOAT_EQ(r[0].features[4 + c], static_cast<float>(outside.global[c])) << c;
  EXPECT_TRUE(std::isnan(r[1].features[4])) << "no intent: the prior is missing, as the plugin leaves it";
  // Elsewhere the intent says it: "often_wrong" turns are nlu turns.
  EXPECT_GT(r[3].features[4 + kNlu], 0.5F);
  EXPECT_LT(r[4].features[4 + kNlu], 0.2F);
}

// A row of weight 0 trains nothing: the model is the one fitted without it
// (same trees, so the same probabilities), and the intent priors do not
// count it.
TEST(IsolateTrainModel, RowsOfWeightZeroNeitherTrainNorCountInThePriors) {
  const auto own = rows(200, 5);
  auto with = own;
  for (auto e : rows(200, 6)) {
    e.label = e.label == kNlu ? kCorrect : kNlu;  // the opposite lesson
    e.intent = "elsewhere";
    e.weight = 0;
    with.push_back(std::move(e));
  }
  std::vector<const it::Example*> a, b;
  for (const auto& e : own) a.push_back(&e);
  for (const auto& e : with) b.push_back(&e);
  EXPECT_EQ(it::predict(it::fit(a, quick()), a), it::predict(it::fit(b, quick()), a));
  const it::IntentPriors p = it::intent_priors(b);
  EXPECT_EQ(p.global, it::intent_priors(a).global);
  EXPECT_TRUE(p.by_intent.empty());
  // Half a weight counts half.
  for (auto& e : with) e.weight = e.weight == 0 ? 0.5F : 1.0F;
  EXPECT_NE(it::predict(it::fit(a, quick()), a), it::predict(it::fit(b, quick()), a));
  EXPECT_EQ(it::intent_priors(b).by_intent.size(), 1u);
  EXPECT_DOUBLE_EQ(it::intent_priors(b).global[kNlu] * 300, 
                   std::count_if(own.begin(), own.end(), [](const auto& e) { return e.label == kNlu; }) +
                       0.5 * std::count_if(with.begin() + 200, with.end(), [](const auto& e) { return e.label == kNlu; }));
}

// Nothing to learn from: every row weighs 0. N021, not an empty model.
TEST(IsolateTrainModel, ATrainingSetThatWeighsNothingIsRefused) {
  auto r = rows(20, 8);
  std::vector<const it::Example*> all;
  for (auto& e : r) {
    e.weight = 0;
    all.push_back(&e);
  }
  try {
    (void)it::fit(all, quick());
    FAIL() << "fit() trained on rows that weigh nothing";
  } catch (const cascade::CascadeError& e) {
    EXPECT_EQ(e.code(), "N021");
    // Said as such, not as whatever xgboost makes of an empty matrix.
    EXPECT_NE(std::string(e.what()).find("no training row weighs anything"), std::string::npos) << e.what();
  }
}
