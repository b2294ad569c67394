// The plugin's own tree walk (forest.hpp) against xgboost itself: a
// multi-class model trained here through xgboost's C API on seeded rows
// with missing values, then every row predicted both ways. Probabilities
// must match xgboost's predict, and contributions xgboost's approximate
// ("approx_contribs") ones, per class, per feature and for the bias. The
// model is trained here rather than read from a file so that the trees use
// every feature, both default directions and several depths.
#include "forest.hpp"

#include <xgboost/c_api.h>

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace {

using cascade::learned::Forest;

constexpr size_t kRows = 600, kFeatures = 7, kClasses = 4;

#define XGB_OK(call) ASSERT_EQ((call), 0) << XGBGetLastError()

// Seeded rows: a class from a few features, with noise and a fifth of the
// values missing (so that the trees learn default directions).
void make_data(std::vector<float>& rows, std::vector<float>& labels) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> unit(0, 1);
  rows.resize(kRows * kFeatures);
  labels.resize(kRows);
  for (size_t r = 0; r < kRows; ++r) {
    float* row = &rows[r * kFeatures];
    for (size_t f = 0; f < kFeatures; ++f) row[f] = unit(rng) * 4;
    const int cls = (row[0] > 2 ? 1 : 0) + (row[1] + row[2] > 4 ? 2 : 0);
    labels[r] = static_cast<float>(unit(rng) < 0.1 ? static_cast<int>(unit(rng) * kClasses) % kClasses : cls);
    for (size_t f = 0; f < kFeatures; ++f)
      if (unit(rng) < 0.2) row[f] = std::nanf("");
  }
}

class ForestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    make_data(rows_, labels_);
    XGB_OK(XGDMatrixCreateFromMat(rows_.data(), kRows, kFeatures, std::nanf(""), &data_));
    XGB_OK(XGDMatrixSetFloatInfo(data_, "label", labels_.data(), kRows));
    XGB_OK(XGBoosterCreate(&data_, 1, &booster_));
    const std::pair<const char*, const char*> params[] = {
        {"objective", "multi:softprob"}, {"num_class", "4"}, {"max_depth", "4"}, {"eta", "0.3"},
        {"nthread", "1"}, {"seed", "3"}, {"subsample", "0.8"}, {"base_score", "0.3"}};
    for (const auto& [key, value] : params) XGB_OK(XGBoosterSetParam(booster_, key, value));
    for (int round = 0; round < 20; ++round) XGB_OK(XGBoosterUpdateOneIter(booster_, round, data_));
  }
  void TearDown() override {
    XGBoosterFree(booster_);
    XGDMatrixFree(data_);
  }

  Forest forest() {
    bst_ulong length = 0;
    const char* json = nullptr;
    EXPECT_EQ(XGBoosterSaveModelToBuffer(booster_, R"({"format":"json"})", &length, &json), 0);
    return Forest::from_xgboost_json(std::string_view(json, length));
  }

  std::vector<float> rows_, labels_;
  DMatrixHandle data_ = nullptr;
  BoosterHandle booster_ = nullptr;
};

TEST_F(ForestTest, ProbabilitiesAndContributionsMatchXgboost) {
  const Forest f = forest();
  ASSERT_EQ(f.classes(), kClasses);
  ASSERT_EQ(f.features(), kFeatures);
  ASSERT_EQ(f.trees(), 20 * kClasses);

  bst_ulong n = 0;
  const float* out = nullptr;
  XGB_OK(XGBoosterPredict(booster_, data_, 0, 0, 0, &n, &out));
  ASSERT_EQ(n, kRows * kClasses);
  const std::vector<float> want_probabilities(out, out + n);
  XGB_OK(XGBoosterPredict(booster_, data_, 4 | 8, 0, 0, &n, &out));  // contributions, approximate
  const size_t stride = kFeatures + 1;
  ASSERT_EQ(n, kRows * kClasses * stride);
  const std::vector<float> want_contributions(out, out + n);

  std::vector<float> probabilities, contributions;
  for (size_t r = 0; r < kRows; ++r) {
    f.predict(std::span<const float>(&rows_[r * kFeatures], kFeatures), probabilities, &contributions);
    ASSERT_EQ(probabilities.size(), kClasses);
    ASSERT_EQ(contributions.size(), kClasses * stride);
    for (size_t c = 0; c < kClasses; ++c) {
      EXPECT_NEAR(probabilities[c], want_probabilities[r * kClasses + c], 1e-5) << "row " << r << " class " << c;
      for (size_t k = 0; k < stride; ++k)
        EXPECT_NEAR(contributions[c * stride + k], want_contributions[(r * kClasses + c) * stride + k], 1e-4)
            << "row " << r << " class " << c << (k == kFeatures ? " bias" : " feature " + std::to_string(k));
    }
  }
}

TEST_F(ForestTest, OneClassContributionsAreItsSliceOfAllClasses) {
  const Forest f = forest();
  const size_t stride = kFeatures + 1;
  std::vector<float> probabilities, all, one;
  for (size_t r = 0; r < kRows; ++r) {
    const std::span<const float> row(&rows_[r * kFeatures], kFeatures);
    f.predict(row, probabilities, &all);
    for (size_t c = 0; c < kClasses; ++c) {
      f.contributions(row, c, one);
      // Equal to the bit, not near: the plugin's evidence must not change.
      EXPECT_EQ(one, std::vector<float>(all.begin() + static_cast<std::ptrdiff_t>(c * stride),
                                        all.begin() + static_cast<std::ptrdiff_t>((c + 1) * stride)))
          << "row " << r << " class " << c;
    }
  }
  EXPECT_THROW(f.contributions(std::vector<float>(kFeatures + 1, 0.0f), 0, one), std::invalid_argument);
}

TEST_F(ForestTest, PredictsWithoutContributionsAndRefusesAWrongRow) {
  const Forest f = forest();
  std::vector<float> with, without, contributions;
  const std::span<const float> row(rows_.data(), kFeatures);
  f.predict(row, with, &contributions);
  f.predict(row, without, nullptr);
  EXPECT_EQ(with, without);
  const std::vector<float> short_row(kFeatures - 1, 1.0f);
  EXPECT_THROW(f.predict(short_row, with, nullptr), std::invalid_argument);
}

TEST(ForestJson, RefusesWhatItCannotWalk) {
  const auto error = [](const std::string& json) {
    try {
      Forest::from_xgboost_json(json);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  EXPECT_NE(error("{\"learner\": [1, 2").find("not JSON"), std::string::npos);
  EXPECT_NE(error("{}").find("'learner'"), std::string::npos);
  const std::string head =
      R"({"learner":{"objective":{"name":"OBJ"},"learner_model_param":{"num_class":"2","num_feature":"1","base_score":"5E-1"},)"
      R"("gradient_booster":{"name":"gbtree","model":{"tree_info":[0],"trees":[)";
  const auto model = [&](const std::string& objective, const std::string& tree) {
    std::string m = head + tree + "]}}}}";
    return m.replace(m.find("OBJ"), 3, objective);
  };
  const std::string good_tree =
      R"({"left_children":[1,-1,-1],"right_children":[2,-1,-1],"split_indices":[0,0,0],"split_conditions":[0.5,-1,1],)"
      R"("default_left":[1,0,0],"sum_hessian":[2,1,1],"split_type":[0,0,0]})";
  EXPECT_EQ(error(model("multi:softprob", good_tree)), "(accepted)");
  EXPECT_NE(error(model("reg:squarederror", good_tree)).find("not multi:softprob"), std::string::npos);
  std::string categorical = good_tree;
  categorical.replace(categorical.find("\"split_type\":[0"), 15, "\"split_type\":[1");
  EXPECT_NE(error(model("multi:softprob", categorical)).find("categorical"), std::string::npos);
  std::string unknown_feature = good_tree;
  unknown_feature.replace(unknown_feature.find("\"split_indices\":[0"), 18, "\"split_indices\":[5");
  EXPECT_NE(error(model("multi:softprob", unknown_feature)).find("unknown feature"), std::string::npos);
  const std::string shared_child =
      R"({"left_children":[1,-1,-1],"right_children":[1,-1,-1],"split_indices":[0,0,0],"split_conditions":[0.5,-1,1],)"
      R"("default_left":[1,0,0],"sum_hessian":[2,1,1],"split_type":[0,0,0]})";
  EXPECT_NE(error(model("multi:softprob", shared_child)).find("do not form a tree"), std::string::npos);
  const std::string ragged =
      R"({"left_children":[1,-1,-1],"right_children":[2,-1],"split_indices":[0,0,0],"split_conditions":[0.5,-1,1],)"
      R"("default_left":[1,0,0],"sum_hessian":[2,1,1],"split_type":[0,0,0]})";
  EXPECT_NE(error(model("multi:softprob", ragged)).find("differ in length"), std::string::npos);
}

}  // namespace
