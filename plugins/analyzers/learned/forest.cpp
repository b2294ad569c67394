// forest.cpp — reading xgboost's JSON model into flat nodes, and the walk.
//
// The shape of the work (from_xgboost_json):
//   1. learner: objective multi:softprob/softmax, num_class, num_feature,
//      base_score (a string such as "5E-1");
//   2. gradient_booster: gbtree, its tree_info (the class of each tree);
//   3. every tree's parallel arrays (left_children, right_children,
//      split_indices, split_conditions, default_left, sum_hessian,
//      split_type) into Nodes, checked (indices in range, numerical
//      splits only);
//   4. node means bottom-up from the covers, as xgboost's
//      FillNodeMeanValues does (in float, as it does).
#include "forest.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace cascade::learned {
namespace {

using nlohmann::json;

[[noreturn]] void refuse(const std::string& why) { throw std::runtime_error(why); }

const json& at(const json& j, const char* key, const char* where) {
  if (!j.is_object() || !j.contains(key)) refuse(std::string(where) + " has no '" + key + "'");
  return j[key];
}

// xgboost writes its scalar parameters as strings ("6", "5E-1").
double number_param(const json& j, const char* key, const char* where) {
  const json& v = at(j, key, where);
  if (v.is_number()) return v.get<double>();
  if (!v.is_string()) refuse(std::string(where) + "." + key + " is not a number");
  try {
    return std::stod(v.get<std::string>());
  } catch (const std::exception&) {
    refuse(std::string(where) + "." + key + " is not a number: '" + v.get<std::string>() + "'");
  }
}

template <typename T>
std::vector<T> array_of(const json& tree, const char* key, size_t tree_index) {
  const json& v = at(tree, key, "a tree");
  if (!v.is_array()) refuse("tree " + std::to_string(tree_index) + ": '" + key + "' is not an array");
  try {
    return v.get<std::vector<T>>();
  } catch (const json::exception&) {
    refuse("tree " + std::to_string(tree_index) + ": '" + key + "' holds values of the wrong type");
  }
}

}  // namespace

Forest Forest::from_xgboost_json(std::string_view model_json) {
  const json doc = json::parse(model_json, nullptr, false);
  if (doc.is_discarded()) refuse("the model is not JSON");
  const json& learner = at(doc, "learner", "the model");
  const json& objective = at(learner, "objective", "learner");
  const std::string objective_name = at(objective, "name", "learner.objective").get<std::string>();
  if (objective_name != "multi:softprob" && objective_name != "multi:softmax")
    refuse("objective '" + objective_name + "' is not multi:softprob");
  const json& model_param = at(learner, "learner_model_param", "learner");

  Forest f;
  f.classes_ = static_cast<size_t>(number_param(model_param, "num_class", "learner_model_param"));
  f.features_ = static_cast<size_t>(number_param(model_param, "num_feature", "learner_model_param"));
  f.base_score_ = static_cast<float>(number_param(model_param, "base_score", "learner_model_param"));
  if (f.classes_ < 2) refuse("the model has fewer than two classes");

  const json& booster = at(learner, "gradient_booster", "learner");
  const std::string booster_name = at(booster, "name", "gradient_booster").get<std::string>();
  if (booster_name != "gbtree") refuse("booster '" + booster_name + "' is not gbtree");
  const json& model = at(booster, "model", "gradient_booster");
  const json& trees = at(model, "trees", "gradient_booster.model");
  const auto tree_info = at(model, "tree_info", "gradient_booster.model").get<std::vector<int64_t>>();
  if (!trees.is_array() || trees.size() != tree_info.size()) refuse("trees and tree_info differ in length");

  for (size_t t = 0; t < trees.size(); ++t) {
    const json& tree = trees[t];
    const auto left = array_of<int32_t>(tree, "left_children", t);
    const auto right = array_of<int32_t>(tree, "right_children", t);
    const auto feature = array_of<int64_t>(tree, "split_indices", t);
    const auto condition = array_of<float>(tree, "split_conditions", t);
    const auto default_left = array_of<int32_t>(tree, "default_left", t);
    const auto cover = array_of<float>(tree, "sum_hessian", t);
    const auto split_type = tree.contains("split_type") ? array_of<int32_t>(tree, "split_type", t)
                                                        : std::vector<int32_t>(left.size(), 0);
    const size_t n = left.size();
    if (n == 0 || right.size() != n || feature.size() != n || condition.size() != n || default_left.size() != n ||
        cover.size() != n || split_type.size() != n)
      refuse("tree " + std::to_string(t) + ": its node arrays differ in length");
    if (tree_info[t] < 0 || static_cast<size_t>(tree_info[t]) >= f.classes_)
      refuse("tree " + std::to_string(t) + " votes for class " + std::to_string(tree_info[t]) + ", out of range");

    const auto root = static_cast<uint32_t>(f.nodes_.size());
    for (size_t i = 0; i < n; ++i) {
      Node node;
      if (left[i] != -1) {
        const auto in_tree = [&](int32_t child) { return child > 0 && child < static_cast<int32_t>(n); };
        if (!in_tree(left[i]) || !in_tree(right[i]) || left[i] == static_cast<int32_t>(i) ||
            right[i] == static_cast<int32_t>(i))
          refuse("tree " + std::to_string(t) + ": node " + std::to_string(i) + " has children out of range");
        if (split_type[i] != 0) refuse("tree " + std::to_string(t) + " has a categorical split: not supported");
        if (feature[i] < 0 || static_cast<size_t>(feature[i]) >= f.features_)
          refuse("tree " + std::to_string(t) + ": node " + std::to_string(i) + " splits on an unknown feature");
        node.left = static_cast<int32_t>(root) + left[i];
        node.right = static_cast<int32_t>(root) + right[i];
        node.feature = static_cast<uint32_t>(feature[i]);
      }
      node.condition = condition[i];
      node.default_left = default_left[i] != 0;
      f.nodes_.push_back(node);
    }
    std::vector<bool> seen(n, false);
    f.fill_means(root, root, cover, seen);
    f.tree_roots_.push_back(root);
    f.tree_class_.push_back(static_cast<uint32_t>(tree_info[t]));
  }
  return f;
}

float Forest::fill_means(size_t root, size_t index, const std::vector<float>& cover, std::vector<bool>& seen) {
  // In a tree every node has one parent: a node reached twice means a
  // malformed file (a cycle, or shared children), which could otherwise
  // recurse forever.
  if (seen[index - root]) refuse("a tree's nodes do not form a tree");
  seen[index - root] = true;
  Node& node = nodes_[index];
  if (node.left < 0) return node.mean = node.condition;
  const auto left = static_cast<size_t>(node.left), right = static_cast<size_t>(node.right);
  const float left_mean = fill_means(root, left, cover, seen);
  const float right_mean = fill_means(root, right, cover, seen);
  const float total = cover[index - root];
  node.mean = total > 0 ? (left_mean * cover[left - root] + right_mean * cover[right - root]) / total : 0.0f;
  return node.mean;
}

float Forest::walk(size_t root, std::span<const float> row, float* contributions) const {
  const Node* node = &nodes_[root];
  if (contributions != nullptr) contributions[features_] += node->mean;
  while (node->left >= 0) {
    const float value = row[node->feature];
    const bool go_left = std::isnan(value) ? node->default_left : value < node->condition;
    const Node* next = &nodes_[static_cast<size_t>(go_left ? node->left : node->right)];
    if (contributions != nullptr) contributions[node->feature] += next->mean - node->mean;
    node = next;
  }
  return node->condition;
}

void Forest::check_row(std::span<const float> row) const {
  if (row.size() != features_)
    throw std::invalid_argument("a row of " + std::to_string(row.size()) + " features for a model of " +
                                std::to_string(features_));
}

void Forest::contributions(std::span<const float> row, size_t class_index, std::vector<float>& out) const {
  check_row(row);
  out.assign(features_ + 1, 0.0f);
  out[features_] = base_score_;
  // The same trees, in the same order, summed in the same floats as
  // predict() does for this class: the same values to the bit.
  for (size_t t = 0; t < tree_roots_.size(); ++t)
    if (tree_class_[t] == class_index) walk(tree_roots_[t], row, out.data());
}

void Forest::predict(std::span<const float> row, std::vector<float>& probabilities,
                     std::vector<float>* contributions) const {
  check_row(row);
  std::vector<double> margin(classes_, base_score_);
  const size_t stride = features_ + 1;
  if (contributions != nullptr) {
    contributions->assign(classes_ * stride, 0.0f);
    for (size_t c = 0; c < classes_; ++c) (*contributions)[c * stride + features_] = base_score_;
  }
  for (size_t t = 0; t < tree_roots_.size(); ++t) {
    const size_t c = tree_class_[t];
    float* credit = contributions != nullptr ? contributions->data() + c * stride : nullptr;
    margin[c] += walk(tree_roots_[t], row, credit);
  }
  // Softmax, shifted by the largest margin so that exp() cannot overflow.
  const double top = *std::max_element(margin.begin(), margin.end());
  double sum = 0;
  for (double& m : margin) sum += (m = std::exp(m - top));
  probabilities.resize(classes_);
  for (size_t c = 0; c < classes_; ++c) probabilities[c] = static_cast<float>(margin[c] / sum);
}

}  // namespace cascade::learned
