// isolate_train_model.cpp — fit, predict, cross-validate and decide
// (isolate_train_model.hpp). With the plugin's learned.cpp, the only file
// that calls xgboost.
#include "isolate_train_model.hpp"

#include "learned/model_attributes.hpp"

#include <cascade/core/baselines.hpp>
#include <cascade/core/diagnostic.hpp>
#include <cascade/core/scoring.hpp>
#include <cascade/core/scoring_json.hpp>

#include <nlohmann/json.hpp>
#include <xgboost/c_api.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace cascade::isolate_train {

namespace {

namespace attrs = cascade::learned::model_attributes;

// xgboost's C API reports failure by return code; this makes it an N021.
void xgb(int rc, const char* what) {
  if (rc != 0) throw CascadeError("N021", std::string(what) + ": " + XGBGetLastError());
}

// A DMatrix over `rows`, freed on scope exit.
struct Matrix {
  DMatrixHandle handle = nullptr;
  explicit Matrix(const std::vector<const Example*>& rows) {
    const size_t width = rows.empty() ? 0 : rows.front()->features.size();
    std::vector<float> values;
    values.reserve(rows.size() * width);
    for (const auto* r : rows) values.insert(values.end(), r->features.begin(), r->features.end());
    xgb(XGDMatrixCreateFromMat(values.data(), rows.size(), width, std::numeric_limits<float>::quiet_NaN(), &handle),
        "cannot build the feature matrix");
  }
  ~Matrix() {
    if (handle != nullptr) XGDMatrixFree(handle);
  }
  Matrix(const Matrix&) = delete;
  Matrix& operator=(const Matrix&) = delete;
};

}  // namespace

Booster::~Booster() {
  if (handle_ != nullptr) XGBoosterFree(handle_);
}

Booster fit(const std::vector<const Example*>& all, const FitOptions& o) {
  std::vector<const Example*> rows;
  for (const auto* r : all)
    if (r->weight > 0) rows.push_back(r);
  if (rows.empty()) throw CascadeError("N021", "no training row weighs anything");
  const size_t n = rows.size();
  std::vector<float> labels, weights;
  std::vector<double> count(failure_classes().size(), 0);
  double total = 0;
  for (const auto* r : rows) {
    labels.push_back(static_cast<float>(r->label));
    count[static_cast<size_t>(r->label)] += r->weight;
    total += r->weight;
  }
  // Class weights. balanced: every class present weighs as much in all as
  // any other, so a rare failure point is not drowned by `correct`; sqrt:
  // half way (the square root of that weight); none: every turn 1. Then
  // times the row's own weight (auxiliary rows: less than 1).
  double present = 0;
  for (double c : count) present += c > 0 ? 1 : 0;
  for (const auto* r : rows) {
    const double balanced = total / (present * count[static_cast<size_t>(r->label)]);
    weights.push_back(static_cast<float>(r->weight * (o.weights == "balanced" ? balanced
                                                      : o.weights == "sqrt"   ? std::sqrt(balanced)
                                                                              : 1.0)));
  }
  Matrix train(rows);
  xgb(XGDMatrixSetFloatInfo(train.handle, "label", labels.data(), n), "cannot set the labels");
  xgb(XGDMatrixSetFloatInfo(train.handle, "weight", weights.data(), n), "cannot set the weights");
  BoosterHandle raw = nullptr;
  xgb(XGBoosterCreate(&train.handle, 1, &raw), "cannot create a booster");
  Booster booster(raw);
  const std::vector<std::pair<std::string, std::string>> params = {
      {"objective", "multi:softprob"},
      {"num_class", std::to_string(failure_classes().size())},
      {"max_depth", std::to_string(o.depth)},
      {"eta", std::to_string(o.eta)},
      {"subsample", "0.8"},         // the seed decides which rows and columns
      {"colsample_bytree", "0.8"},  // each tree sees: a little regularisation
      {"min_child_weight", "1"},
      // Histogram splits: a third of exact's time here, which counts since
      // the cross-validation fits `folds` more models.
      {"tree_method", "hist"},
      {"seed", std::to_string(o.seed)},
      {"nthread", "1"},  // one thread: the same seed gives the same trees
      {"verbosity", "1"}};
  for (const auto& [k, v] : params) xgb(XGBoosterSetParam(raw, k.c_str(), v.c_str()), "cannot set a parameter");
  for (uint32_t i = 0; i < o.rounds; ++i) xgb(XGBoosterUpdateOneIter(raw, static_cast<int>(i), train.handle), "training failed");
  return booster;
}

std::vector<float> predict(const Booster& b, const std::vector<const Example*>& rows) {
  if (rows.empty()) return {};
  Matrix m(rows);
  bst_ulong len = 0;
  const float* p = nullptr;
  xgb(XGBoosterPredict(b.get(), m.handle, 0, 0, 0, &len, &p), "prediction failed");
  return {p, p + len};
}

int decide(const float* p, const std::vector<double>& weights) {
  size_t best = 0;
  for (size_t c = 1; c < weights.size(); ++c)
    if (weights[c] * p[c] > weights[best] * p[best]) best = c;
  return static_cast<int>(best);
}

uint32_t dialogue_group(const std::string& dialogue, uint32_t folds) {
  return static_cast<uint32_t>(fnv1a("isolate-train/" + std::string(split_key(dialogue))) % folds);
}

IntentPriors intent_priors(const std::vector<const Example*>& rows) {
  const size_t k = failure_classes().size();
  std::vector<double> total(k, 0);
  double n = 0;
  std::map<std::string, std::vector<double>> counts;
  for (const auto* r : rows) {
    if (r->weight <= 0) continue;
    total[static_cast<size_t>(r->label)] += r->weight;
    n += r->weight;
    if (r->intent.empty()) continue;
    auto& c = counts[r->intent];
    c.resize(k, 0);
    c[static_cast<size_t>(r->label)] += r->weight;
  }
  IntentPriors p;
  for (size_t c = 0; c < k; ++c) p.global.push_back(n > 0 ? total[c] / n : 1.0 / static_cast<double>(k));
  for (const auto& [intent, c] : counts) {
    double turns = 0;
    for (double x : c) turns += x;
    std::vector<double> row;
    for (size_t j = 0; j < k; ++j) row.push_back((c[j] + kPriorSmoothing * p.global[j]) / (turns + kPriorSmoothing));
    p.by_intent.emplace_back(intent, std::move(row));
  }
  return p;
}

std::string to_json(const IntentPriors& p) {
  nlohmann::json intents = nlohmann::json::object();
  for (const auto& [intent, row] : p.by_intent) intents[intent] = row;
  return nlohmann::json{{"global", p.global}, {"intents", intents}}.dump();
}

void apply_intent_priors(Example& row, size_t column, const IntentPriors& p) {
  const size_t k = failure_classes().size();
  for (size_t c = 0; c < k; ++c) row.features[column + c] = std::numeric_limits<float>::quiet_NaN();
  if (row.intent.empty()) return;
  const auto it = std::lower_bound(p.by_intent.begin(), p.by_intent.end(), row.intent,
                                   [](const auto& e, const std::string& i) { return e.first < i; });
  const std::vector<double>& values = it != p.by_intent.end() && it->first == row.intent ? it->second : p.global;
  for (size_t c = 0; c < k; ++c) row.features[column + c] = static_cast<float>(values[c]);
}

void encode_intent_priors(std::vector<Example>& rows, size_t column, uint32_t folds) {
  for (uint32_t f = 0; f < folds; ++f) {
    std::vector<const Example*> others;
    for (const auto& r : rows)
      if (dialogue_group(r.dialogue, folds) != f) others.push_back(&r);
    const IntentPriors p = intent_priors(others);
    for (auto& r : rows)
      if (dialogue_group(r.dialogue, folds) == f) apply_intent_priors(r, column, p);
  }
}

void save(const Booster& b, const ModelRecord& r, const std::string& path) {
  const auto shortest = [](double x) {  // the shortest text that reads back as x
    char text[32];
    return std::string(text, std::to_chars(text, text + sizeof text, x).ptr);
  };
  std::vector<std::string> w;
  for (double x : r.decision_weights) w.push_back(shortest(x));
  xgb(XGBoosterSetAttr(b.get(), attrs::kFeatures, attrs::joined(r.feature_names).c_str()), "cannot record the features");
  xgb(XGBoosterSetAttr(b.get(), attrs::kClasses, attrs::joined(failure_classes()).c_str()), "cannot record the classes");
  xgb(XGBoosterSetAttr(b.get(), attrs::kDecisionWeights, attrs::joined(w).c_str()), "cannot record the decision weights");
  xgb(XGBoosterSetAttr(b.get(), attrs::kIntentPriors, to_json(r.priors).c_str()), "cannot record the intent priors");
  if (!r.score_accuracy.empty())
    xgb(XGBoosterSetAttr(b.get(), attrs::kScoreAccuracy, coverage_json(r.score_accuracy).dump().c_str()),
        "cannot record the score table");
  if (r.auxiliary_weight)
    xgb(XGBoosterSetAttr(b.get(), attrs::kAuxiliaryWeight, shortest(*r.auxiliary_weight).c_str()),
        "cannot record the auxiliary weight");
  xgb(XGBoosterSaveModel(b.get(), path.c_str()), "cannot write the model");
}

std::vector<float> cross_validate(const std::vector<Example>& rows, uint32_t folds, const FitOptions& o, uint32_t jobs,
                                  std::optional<size_t> prior_column) {
  const size_t k = failure_classes().size();
  std::vector<uint32_t> fold(rows.size());
  std::vector<size_t> size(folds, 0);
  for (size_t i = 0; i < rows.size(); ++i) {
    fold[i] = dialogue_group(rows[i].dialogue, folds);
    ++size[fold[i]];
  }
  if (std::count_if(size.begin(), size.end(), [](size_t s) { return s > 0; }) < 2) return {};

  std::vector<float> oof(rows.size() * k, 0.0F);
  std::atomic<uint32_t> next{0};
  std::mutex failure_lock;
  std::exception_ptr failure;
  const auto work = [&] {
    for (uint32_t f = next++; f < folds; f = next++) {
      try {
        std::vector<const Example*> train, held_out;
        std::vector<size_t> where;
        for (size_t i = 0; i < rows.size(); ++i) {
          if (fold[i] == f) {
            held_out.push_back(&rows[i]);
            where.push_back(i);
          } else {
            train.push_back(&rows[i]);
          }
        }
        if (held_out.empty()) continue;
        // The intent priors of this fold's model come from its training
        // rows only: encoded out of fold among them, and the held-out
        // rows' from all of them (copies: other folds read the originals).
        std::vector<Example> train_copy, held_copy;
        if (prior_column) {
          for (const auto* r : train) train_copy.push_back(*r);
          encode_intent_priors(train_copy, *prior_column, kPriorFolds);
          std::vector<const Example*> encoded;
          for (const auto& r : train_copy) encoded.push_back(&r);
          const IntentPriors p = intent_priors(encoded);
          for (const auto* r : held_out) apply_intent_priors(held_copy.emplace_back(*r), *prior_column, p);
          train = std::move(encoded);
          held_out.clear();
          for (const auto& r : held_copy) held_out.push_back(&r);
        }
        const std::vector<float> p = predict(fit(train, o), held_out);
        // Each fold writes its own rows only: no lock needed.
        for (size_t j = 0; j < where.size(); ++j) std::copy_n(p.begin() + static_cast<ptrdiff_t>(j * k), k, oof.begin() + static_cast<ptrdiff_t>(where[j] * k));
      } catch (...) {
        const std::lock_guard lock(failure_lock);
        if (!failure) failure = std::current_exception();
      }
    }
  };
  std::vector<std::thread> threads;
  for (uint32_t t = 1; t < std::clamp<uint32_t>(jobs, 1, folds); ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  return oof;
}

double objective_value(Objective obj, double accuracy, double macro_f1) {
  switch (obj) {
    case Objective::Accuracy: return accuracy;
    case Objective::MacroF1: return macro_f1;
    case Objective::Mean: break;
  }
  return (accuracy + macro_f1) / 2;
}

Fit score_decisions(const std::vector<Example>& rows, const std::vector<float>& probabilities,
                    const std::vector<double>& weights) {
  const auto& names = failure_classes();
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i)
    pairs.emplace_back(names[static_cast<size_t>(rows[i].label)],
                       names[static_cast<size_t>(decide(&probabilities[i * names.size()], weights))]);
  const Scores s = score(pairs, names);  // as `cascade isolate` and `cascade eval fpi` score
  Fit fit{s.accuracy, s.macro_f1, {}};
  for (const auto& c : names) {
    const auto it = s.per_class.find(c);
    fit.recall.push_back(it != s.per_class.end() && it->second.support > 0 ? it->second.recall
                                                                            : std::numeric_limits<double>::quiet_NaN());
  }
  return fit;
}

std::vector<CoveragePoint> score_coverage(const std::vector<Example>& rows, const std::vector<float>& probabilities,
                                          const std::vector<double>& weights) {
  const auto& names = failure_classes();
  std::vector<ScoredLabel> labels;
  labels.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const float* p = &probabilities[i * names.size()];
    const auto chosen = static_cast<size_t>(decide(p, weights));
    labels.push_back({names[static_cast<size_t>(rows[i].label)], names[chosen], p[chosen]});
  }
  return coverage_curve(labels, names, default_coverages());
}

std::vector<double> choose_decision_weights(const std::vector<Example>& rows, const std::vector<float>& oof,
                                            Objective obj) {
  const size_t k = failure_classes().size();
  const auto& names = failure_classes();
  const auto correct = static_cast<size_t>(std::find(names.begin(), names.end(), "correct") - names.begin());
  std::vector<double> w(k, 1.0);
  if (oof.size() != rows.size() * k) return w;
  const auto value = [&](const std::vector<double>& weights) {
    const Fit f = score_decisions(rows, oof, weights);
    return objective_value(obj, f.accuracy, f.macro_f1);
  };
  double best = value(w);
  for (int pass = 0; pass < 3; ++pass) {
    bool moved = false;
    for (size_t c = 0; c < k; ++c) {
      if (c == correct) continue;
      for (int step = -8; step <= 8; ++step) {
        std::vector<double> trial = w;
        trial[c] = std::exp2(step / 4.0);
        const double v = value(trial);
        if (v > best + 1e-12) {
          best = v;
          w = std::move(trial);
          moved = true;
        }
      }
    }
    if (!moved) break;
  }
  return w;
}

}  // namespace cascade::isolate_train
