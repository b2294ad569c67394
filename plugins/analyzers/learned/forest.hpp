// forest.hpp — the learned isolator's trees, walked by the plugin itself:
// a multi-class gradient-boosted forest read once from xgboost's JSON model
// (what XGBoosterSaveModelToBuffer gives for the booster the plugin loaded),
// then predicting one row at a time with no allocation beyond the output.
//
// Why not xgboost's own predictor: the analyzer ABI hands one turn per
// analyze() call, so every prediction is a one-row batch, and xgboost's
// per-call overhead dominates such a batch: parsing the array-interface and
// config JSON, dispatching to its thread pool, and, for per-feature
// contributions, recomputing every tree's node means on each call (hundreds
// of microseconds a row; docs/performance.md). The walk below
// is the same arithmetic: a row goes left when its value is below the
// split condition and to the default side when it is missing; a class's
// margin is the base score plus the leaves of that class's trees;
// probabilities are their softmax. Contributions are xgboost's
// "approx_contribs" (Saabas): each split on the path moves the node mean
// (cover-weighted mean of the leaves below) to the child's, and that move
// is credited to the split's feature; the root means plus the base score
// are the bias. forest_test.cpp checks both against xgboost itself.
//
// Supported: booster `gbtree`, objective `multi:softprob` or
// `multi:softmax`, numerical splits; anything else is refused at load.
//
// Lifecycle: built once by from_xgboost_json() (throws std::runtime_error
// with the reason), immutable afterwards. Threading: predict() is const and
// keeps no state: any number of threads may call it at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace cascade::learned {

class Forest {
 public:
  // Parses an xgboost JSON model (the "learner" document). Throws
  // std::runtime_error naming what is missing or unsupported.
  static Forest from_xgboost_json(std::string_view model_json);

  size_t classes() const { return classes_; }
  size_t features() const { return features_; }
  size_t trees() const { return tree_roots_.size(); }

  // One row's prediction. `probabilities` gets one value per class (the
  // softmax of the margins); `contributions`, when not null, gets for each
  // class (features() + 1) values: one per feature, then the bias; per
  // class they sum to that class's margin. A NaN feature is missing.
  void predict(std::span<const float> row, std::vector<float>& probabilities,
               std::vector<float>* contributions) const;

  // One class's contributions: (features() + 1) values, equal to that
  // class's slice of predict()'s. Why apart: the plugin explains only the
  // label it chose, and crediting the path walks just that class's trees
  // (a sixth of them) instead of every tree's.
  void contributions(std::span<const float> row, size_t class_index, std::vector<float>& out) const;

 private:
  struct Node {
    int32_t left = -1;       // -1: a leaf
    int32_t right = -1;
    uint32_t feature = 0;
    float condition = 0;     // split: go left when value < condition; leaf: its value
    float mean = 0;          // the cover-weighted mean of the leaves below (the leaf value for a leaf)
    bool default_left = false;
  };

  // Throws std::invalid_argument unless the row has features() values.
  void check_row(std::span<const float> row) const;

  // Sets the mean of node `index` and of every node below it (a tree
  // starting at nodes_[root], whose covers are `cover`); returns it.
  // Throws when a node is reached twice (`seen`: per node of the tree).
  float fill_means(size_t root, size_t index, const std::vector<float>& cover, std::vector<bool>& seen);

  // The leaf a row reaches in the tree rooted at `root`, crediting the
  // path's mean changes to `contributions` (per feature, then the bias)
  // when it is not null.
  float walk(size_t root, std::span<const float> row, float* contributions) const;

  std::vector<Node> nodes_;           // every tree's nodes, tree after tree
  std::vector<uint32_t> tree_roots_;  // index into nodes_ of each tree's root
  std::vector<uint32_t> tree_class_;  // the class each tree votes for
  size_t classes_ = 0;
  size_t features_ = 0;
  float base_score_ = 0;
};

}  // namespace cascade::learned
