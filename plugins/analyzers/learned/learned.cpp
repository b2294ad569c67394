// learned — failure-point isolation from the trace alone by gradient-boosted
// trees (xgboost, multi-class softprob) trained on the oracle's labels with
// `cascade isolate train`. The only file of the plugin that sees xgboost:
// it loads and checks the model at open(); the trees are then walked by
// forest.hpp, one turn at a time (why: forest.hpp).
//
//   turn --> a stage ended in error/timeout/cancelled? --yes--> its class (no model)
//              | no
//              v
//            features (features.hpp; checker.hpp's second opinion on the
//            request, from the TRAIN data) --> forest --> class probabilities
//              label = argmax of the probabilities times the model's decision
//                      weights (and P(correct) times `correct_weight`);
//              score = the label's probability
//
// Modes (parameter `mode`):
//   predict   (default) needs `model`, a file `cascade isolate train` wrote;
//             evidence: the class probabilities and the features that
//             weighed most for the label (per-turn path contributions).
//   features  no model: every turn is labelled `correct` with score 0 and
//             the evidence carries the feature vector: how the trainer gets
//             exactly the features this plugin predicts from.
//
// Param `requests` (both modes: the features must be the same when
// training and predicting) names the NLU's TRAIN file the checker reads;
// "@models/..." resolves like the stage plugins' models. Param
// `alternatives`: with a pipeline to replay through (`cascade isolate -p`,
// `cascade isolate train` per trace), that many ASR alternatives are
// replayed per turn (alternatives.hpp); train and predict alike.
//
// Decision weights: the trainer weighs the classes (sqrt of balanced, so
// the trees learn the rare ones), which biases the probabilities towards
// the failures; it then chooses per-class multipliers on its own
// cross-validated predictions and records them in the model
// (core/apps/cascade/isolate_train_model.hpp). A model without them
// (trained with --cv 0) decides by the probabilities as they are.
// Param `correct_weight` (predict only, default 1) multiplies the model's
// weight for `correct`: the analyst's knob between precision and recall.
// Larger: fewer turns called failed, each more surely.
//
// Threading: analyze() runs on several threads at once; the forest and the
// checker are immutable after open(), so predictions need no lock.
#include "checker.hpp"
#include "common/timing.hpp"
#include "features.hpp"
#include "forest.hpp"
#include "intent_prior.hpp"
#include "model_attributes.hpp"
#include "score_accuracy.hpp"
#include "model_path.hpp"

#include <cascade/sdk/analyzer.hpp>

#include <xgboost/c_api.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <memory>
#include <numeric>
#include <optional>
#include <string_view>

using namespace cascade::sdk;
namespace learned = cascade::learned;
namespace attrs = cascade::learned::model_attributes;

namespace {

// `significant` digits as printf's "%.*g" prints them (the C++ standard
// defines to_chars with a precision so), without parsing a format: a
// prediction prints sixteen numbers, and snprintf cost as much as the
// trees. NaN (a missing feature) is null.
std::string number(double v, int significant = 6) {
  if (std::isnan(v)) return "null";
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, v, std::chars_format::general, significant).ptr;
  return std::string(text, end);
}

// The decision weights a model records ("w0,w1,...", one positive finite
// number per class). `fail` makes the error naming the file.
template <typename Fail>
std::vector<double> decision_weights(std::string_view text, const Fail& fail) {
  std::vector<double> out;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    double v = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (ec != std::errc() || end != item.data() + item.size() || !std::isfinite(v) || v <= 0)
      throw fail("its decision weights are not positive numbers: '" + std::string(item) + "'");
    out.push_back(v);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (out.size() != learned::classes().size())
    throw fail("has " + std::to_string(out.size()) + " decision weights, not one per class (" +
               std::to_string(learned::classes().size()) + ")");
  return out;
}

// A loaded model: its trees, and the decision weights and per-intent
// table it records.
struct Model {
  learned::Forest forest;
  std::vector<double> decision_weights;  // per class, model order
  std::optional<learned::IntentPrior> intent_prior;
  std::optional<learned::ScoreAccuracy> score_accuracy;
};

// The model file, loaded and checked by xgboost itself (any format it
// reads; the attributes `cascade isolate train` recorded), then handed to
// the plugin's own walk (forest.hpp says why) as xgboost's JSON. The
// booster is freed before the first turn: predicting needs no xgboost.
// Throws sdk::Error with what went wrong and the file.
Model load_model(const std::string& path) {
  std::error_code ec;
  if (path.empty())
    throw Error(Status::InvalidArgument,
                "parameter 'model' is empty: give the model file `cascade isolate train` wrote (or mode=features)");
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error(Status::InvalidArgument, "model file '" + path + "' does not exist or is not a file");

  const auto fail = [&](const std::string& what) { return Error(Status::InvalidArgument, "model '" + path + "': " + what); };
  BoosterHandle raw = nullptr;
  if (XGBoosterCreate(nullptr, 0, &raw) != 0) throw fail(std::string("cannot create a booster: ") + XGBGetLastError());
  const std::unique_ptr<void, int (*)(BoosterHandle)> handle(raw, XGBoosterFree);
  const auto check = [&](int rc, const std::string& what) {
    if (rc != 0) throw fail(what + ": " + XGBGetLastError());
  };
  // An attribute `cascade isolate train` recorded; nullptr when absent.
  const auto attr = [&](const char* key) -> const char* {
    const char* got = nullptr;
    int found = 0;
    check(XGBoosterGetAttr(handle.get(), key, &got, &found), "cannot read its attributes");
    return found != 0 ? got : nullptr;
  };
  const auto expect_attr = [&](const char* key, const std::string& want, const char* what) {
    const char* got = attr(key);
    if (got == nullptr)
      throw fail(std::string("was not written by `cascade isolate train` (no ") + what + " recorded)");
    if (want != got)
      throw fail(std::string("was trained on other ") + what + " (" + got + "); this plugin has (" + want +
                 "): retrain it");
  };
  check(XGBoosterLoadModel(handle.get(), path.c_str()), "cannot load the model");
  expect_attr(attrs::kFeatures, attrs::joined(learned::feature_names()), "features");
  expect_attr(attrs::kClasses, attrs::joined(learned::classes()), "classes");
  std::vector<double> weights(learned::classes().size(), 1.0);
  if (const char* got = attr(attrs::kDecisionWeights)) weights = decision_weights(got, fail);
  std::optional<learned::IntentPrior> prior;
  if (const char* got = attr(attrs::kIntentPriors)) {
    try {
      prior = learned::IntentPrior::from_json(got, learned::classes().size());
    } catch (const std::exception& e) {
      throw fail(e.what());
    }
  }
  std::optional<learned::ScoreAccuracy> score_accuracy;
  if (const char* got = attr(attrs::kScoreAccuracy)) {
    try {
      score_accuracy = learned::ScoreAccuracy::from_json(got);
    } catch (const std::exception& e) {
      throw fail(e.what());
    }
  }
  bst_ulong length = 0;
  const char* json = nullptr;
  check(XGBoosterSaveModelToBuffer(handle.get(), R"({"format":"json"})", &length, &json), "cannot read its trees");
  std::optional<learned::Forest> forest;
  try {
    forest = learned::Forest::from_xgboost_json(std::string_view(json, length));
  } catch (const std::exception& e) {
    throw fail(std::string("cannot read its trees: ") + e.what());
  }
  if (forest->classes() != learned::classes().size() || forest->features() != learned::feature_names().size())
    throw fail("has " + std::to_string(forest->classes()) + " classes and " + std::to_string(forest->features()) +
               " features, not " + std::to_string(learned::classes().size()) + " and " +
               std::to_string(learned::feature_names().size()));
  return {std::move(*forest), std::move(weights), std::move(prior), std::move(score_accuracy)};
}

}  // namespace

class Learned : public Analyzer {
 public:
  static inline Param<std::string> model{"model", "", "the model file `cascade isolate train` wrote (mode predict)"};
  static inline Param<std::string> mode{"mode", "predict",
                                        "predict: label turns with the model; features: label every turn `correct` "
                                        "and put its feature vector in the evidence (for training)"};
  static inline Param<int64_t> top{"top", 5, "features named in the evidence, by weight for the label"};
  static inline Param<std::string> requests{
      "requests", "@models/train_fasttext.txt",
      "the NLU's TRAIN requests (__label__<intent> <text> per line) the nearest-request features read; "
      "empty: those features are missing"};
  static inline Param<int64_t> alternatives{
      "alternatives", 4,
      "ASR n-best alternatives replayed per turn (NLU -> ER -> result) when a pipeline is given for replays "
      "(cascade isolate -p): whether they lead to the recorded result; 0: none, those features are missing"};
  static inline Param<double> correct_weight{
      "correct_weight", 1.0,
      "multiplies the model's decision weight for `correct` before the most probable class is taken: larger, "
      "fewer turns called failed (mode predict)"};
  static inline Param<std::string> dialogue{
      "dialogue", "live",
      "live: a dialogue's next turns are the user's reaction (rephrase, barge-in, silence) and the next-turn "
      "features read them; scripted: its turns were written in advance (eval dialogues, logged requests "
      "replayed), so those features are missing"};

  static AnalyzerInfo info() {
    return {.name = "learned",
            .version = "1.0.0",
            .description = "failure point by gradient-boosted trees over trace features, trained on the oracle",
            .labels = learned::classes(),
            .dialogue = true,
            .params = param_list(model, mode, top, requests, dialogue, alternatives, correct_weight)};
  }

  void open(Context& ctx) override {
    const std::string m = ctx.get(mode);
    if (m != "predict" && m != "features")
      throw Error(Status::InvalidArgument, "parameter 'mode' is '" + m + "': give predict or features");
    features_only_ = m == "features";
    options_.live_dialogue = cascade::analyzers::live_dialogue(ctx.get(dialogue));
    top_ = static_cast<size_t>(std::max<int64_t>(0, ctx.get(top)));
    const double correct = ctx.get(correct_weight);
    if (!(std::isfinite(correct) && correct > 0))
      throw Error(Status::InvalidArgument, "parameter 'correct_weight' must be a positive number");
    options_.alternatives = static_cast<size_t>(std::max<int64_t>(0, ctx.get(alternatives)));
    if (const std::string train = ctx.get(requests); !train.empty()) {
      try {
        checker_ = learned::RequestChecker::load(cascade::plugins::resolve_model_path(train));
      } catch (const std::exception& e) {
        throw Error(Status::InvalidArgument, e.what());
      }
      options_.checker = checker_.get();
    }
    if (!features_only_) {
      Model loaded = load_model(ctx.get(model));
      forest_ = std::make_unique<learned::Forest>(std::move(loaded.forest));
      weights_ = std::move(loaded.decision_weights);
      intent_prior_ = std::move(loaded.intent_prior);
      score_accuracy_ = std::move(loaded.score_accuracy);
      const auto& classes = learned::classes();
      const auto at = std::find_if(classes.begin(), classes.end(), [](const char* c) { return std::string_view(c) == "correct"; });
      weights_[static_cast<size_t>(at - classes.begin())] *= correct;
    }
  }

  void analyze(Analysis& a) override {
    const auto direct = learned::direct_attribution(a.turn());
    if (direct) {
      a.evidence("direct", "{\"stage\":" + quote(direct->stage) + ",\"status\":" + quote(direct->status) +
                               ",\"message\":" + quote(direct->message) + "}");
    }
    if (features_only_) return features(a, direct.has_value());
    if (direct) return a.label(direct->label, 1.0);
    predict(a);
  }

 private:
  void features(Analysis& a, bool direct) const {
    if (!direct) {
      const auto f = learned::extract_features(a, options_);
      std::string values = "[", names = "[";
      for (size_t i = 0; i < f.size(); ++i) {
        values += (i ? "," : "") + number_exact(f[i]);
        names += (i ? "," : "") + quote(learned::feature_names()[i]);
      }
      a.evidence("features", values + "]");
      a.evidence("feature_names", names + "]");
      // The trainer's per-intent table is keyed by it (intent_prior.hpp).
      if (const auto intent = learned::top_intent(a.turn()); !intent.empty()) a.evidence("intent", quote(intent));
    }
    a.label("correct", 0.0);
  }

  void predict(Analysis& a) const {
    auto f = learned::extract_features(a, options_);
    if (const auto intent = learned::top_intent(a.turn()); intent_prior_ && !intent.empty()) {
      const auto& p = intent_prior_->lookup(intent);
      std::copy(p.begin(), p.end(), f.begin() + static_cast<ptrdiff_t>(learned::intent_prior_column()));
    }
    // xgboost compares features as float: so does the walk.
    const std::vector<float> row(f.begin(), f.end());
    std::vector<float> probabilities, contributions;
    forest_->predict(row, probabilities, nullptr);
    const auto& classes = learned::classes();
    size_t best = 0;
    for (size_t c = 0; c < probabilities.size(); ++c)
      if (weighed(c, probabilities[c]) > weighed(best, probabilities[best])) best = c;
    if (top_ > 0) forest_->contributions(row, best, contributions);
    std::string probs = "{";
    for (size_t c = 0; c < classes.size(); ++c)
      probs += (c ? "," : "") + quote(classes[c]) + ":" + number(probabilities[c]);
    a.evidence("probabilities", probs + "}");
    a.evidence("features", top_features(f, contributions));
    // How often labels this sure were right in the trainer's cross-validation.
    if (const auto expected = score_accuracy_ ? score_accuracy_->at(probabilities[best]) : std::nullopt)
      a.evidence("expected_accuracy", number(*expected));
    a.label(classes[best], probabilities[best]);
  }

  // The features that pushed hardest for (or against) the chosen class
  // (`contributions`: that class's, Forest::contributions), with their
  // values: {"name": {"value": v, "weight": w}, ...}.
  std::string top_features(const std::vector<double>& f, const std::vector<float>& contributions) const {
    if (contributions.size() < f.size() + 1) return "{}";
    const float* w = contributions.data();
    std::vector<size_t> order(f.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return std::fabs(w[x]) > std::fabs(w[y]); });
    std::string out = "{";
    for (size_t k = 0; k < std::min(top_, order.size()); ++k) {
      const size_t i = order[k];
      out += (k ? "," : "") + quote(learned::feature_names()[i]) + ":{\"value\":" + number(f[i]) +
             ",\"weight\":" + number(w[i]) + "}";
    }
    return out + "}";
  }

  // Class `c`'s probability as the label is chosen by.
  [[nodiscard]] double weighed(size_t c, float p) const { return weights_[c] * p; }

  // Full precision: the trainer reads these back as the model's inputs.
  static std::string number_exact(double v) { return number(v, 17); }

  std::unique_ptr<learned::RequestChecker> checker_;
  learned::FeatureOptions options_;
  bool features_only_ = false;
  size_t top_ = 5;
  // The model's decision weights, `correct`'s times correct_weight; model order.
  std::vector<double> weights_;
  std::optional<learned::IntentPrior> intent_prior_;  // from the model; none: those features missing
  std::optional<learned::ScoreAccuracy> score_accuracy_;  // from the model; none: no expected_accuracy
  std::unique_ptr<learned::Forest> forest_;
};

CASCADE_ANALYZER(Learned)
