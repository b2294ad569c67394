// learned — failure-point isolation from the trace alone by gradient-boosted
// trees (xgboost, multi-class softprob) trained on the oracle's labels with
// `cascade isolate train`. The only file of the plugin that sees xgboost.
//
//   turn --> a stage ended in error/timeout/cancelled? --yes--> its class (no model)
//              | no
//              v
//            features (features.hpp) --> booster --> class probabilities
//                                                    label = argmax, score = its probability
//
// Modes (parameter `mode`):
//   predict   (default) needs `model`, a file `cascade isolate train` wrote;
//             evidence: the class probabilities and the features that
//             weighed most for the label (per-turn tree contributions).
//   features  no model: every turn is labelled `correct` with score 0 and
//             the evidence carries the feature vector: how the trainer gets
//             exactly the features this plugin predicts from.
//
// Threading: analyze() runs on several threads; the booster is guarded by
// a mutex (xgboost's DMatrix prediction keeps per-booster caches), and
// predicts with one thread: a turn is one row, a pool costs more than it
// saves.
#include "features.hpp"

#include <cascade/sdk/analyzer.hpp>

#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <numeric>
#include <sstream>

using namespace cascade::sdk;
namespace learned = cascade::learned;

namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::string joined(const std::vector<const char*>& v) {
  return joined(std::vector<std::string>(v.begin(), v.end()));
}

std::string number(double v) {
  if (std::isnan(v)) return "null";
  std::ostringstream o;
  o.precision(6);
  o << v;
  return o.str();
}

// One loaded booster. Throws sdk::Error with what went wrong and the file.
class Booster {
 public:
  Booster(const std::string& path) : path_(path) {
    std::error_code ec;
    if (path.empty())
      throw Error(Status::InvalidArgument,
                  "parameter 'model' is empty: give the model file `cascade isolate train` wrote (or mode=features)");
    if (!std::filesystem::is_regular_file(path, ec))
      throw Error(Status::InvalidArgument, "model file '" + path + "' does not exist or is not a file");
    check(XGBoosterCreate(nullptr, 0, &handle_), "cannot create a booster");
    check(XGBoosterLoadModel(handle_, path.c_str()), "cannot load the model");
    check(XGBoosterSetParam(handle_, "nthread", "1"), "cannot set nthread");
    expect_attr("cascade_features", joined(learned::feature_names()), "features");
    expect_attr("cascade_classes", joined(learned::classes()), "classes");
  }
  ~Booster() {
    if (handle_ != nullptr) XGBoosterFree(handle_);
  }
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;

  struct Prediction {
    std::vector<float> probabilities;   // per class
    std::vector<float> contributions;   // per class: one per feature, then the bias
  };

  Prediction predict(const std::vector<double>& features) {
    std::vector<float> row(features.begin(), features.end());
    const std::lock_guard lock(mutex_);
    DMatrixHandle m = nullptr;
    check(XGDMatrixCreateFromMat(row.data(), 1, row.size(), std::nanf(""), &m), "cannot build the feature row");
    Prediction p;
    bst_ulong n = 0;
    const float* out = nullptr;
    int rc = XGBoosterPredict(handle_, m, 0, 0, 0, &n, &out);
    if (rc == 0) p.probabilities.assign(out, out + n);
    if (rc == 0) rc = XGBoosterPredict(handle_, m, 4, 0, 0, &n, &out);  // 4: feature contributions
    if (rc == 0) p.contributions.assign(out, out + n);
    XGDMatrixFree(m);
    check(rc, "prediction failed");
    if (p.probabilities.size() != learned::classes().size())
      throw Error(Status::Internal, "model '" + path_ + "' gives " + std::to_string(p.probabilities.size()) +
                                        " probabilities, not one per class");
    return p;
  }

 private:
  void check(int rc, const std::string& what) const {
    if (rc != 0) throw Error(Status::InvalidArgument, "model '" + path_ + "': " + what + ": " + XGBGetLastError());
  }
  void expect_attr(const char* key, const std::string& want, const char* what) const {
    const char* got = nullptr;
    int found = 0;
    check(XGBoosterGetAttr(handle_, key, &got, &found), "cannot read its attributes");
    if (found == 0)
      throw Error(Status::InvalidArgument, "model '" + path_ + "' was not written by `cascade isolate train` (no " +
                                               std::string(what) + " recorded)");
    if (want != got)
      throw Error(Status::InvalidArgument, "model '" + path_ + "' was trained on other " + what + " (" + got +
                                               "); this plugin has (" + want + "): retrain it");
  }

  std::string path_;
  BoosterHandle handle_ = nullptr;
  std::mutex mutex_;
};

}  // namespace

class Learned : public Analyzer {
 public:
  static inline Param<std::string> model{"model", "", "the model file `cascade isolate train` wrote (mode predict)"};
  static inline Param<std::string> mode{"mode", "predict",
                                        "predict: label turns with the model; features: label every turn `correct` "
                                        "and put its feature vector in the evidence (for training)"};
  static inline Param<int64_t> top{"top", 5, "features named in the evidence, by weight for the label"};

  static AnalyzerInfo info() {
    return {.name = "learned",
            .version = "1.0.0",
            .description = "failure point by gradient-boosted trees over trace features, trained on the oracle",
            .labels = learned::classes(),
            .dialogue = true,
            .params = param_list(model, mode, top)};
  }

  void open(Context& ctx) override {
    const std::string m = ctx.get(mode);
    if (m != "predict" && m != "features")
      throw Error(Status::InvalidArgument, "parameter 'mode' is '" + m + "': give predict or features");
    features_only_ = m == "features";
    top_ = static_cast<size_t>(std::max<int64_t>(0, ctx.get(top)));
    if (!features_only_) booster_ = std::make_unique<Booster>(ctx.get(model));
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
    }
    a.label("correct", 0.0);
  }

  void predict(Analysis& a) const {
    const auto f = learned::extract_features(a, options_);
    const Booster::Prediction p = booster_->predict(f);
    const auto& classes = learned::classes();
    const size_t best = static_cast<size_t>(
        std::distance(p.probabilities.begin(), std::max_element(p.probabilities.begin(), p.probabilities.end())));
    std::string probs = "{";
    for (size_t c = 0; c < classes.size(); ++c)
      probs += (c ? "," : "") + quote(classes[c]) + ":" + number(p.probabilities[c]);
    a.evidence("probabilities", probs + "}");
    a.evidence("features", top_features(f, p, best));
    a.label(classes[best], p.probabilities[best]);
  }

  // The features that pushed hardest for (or against) the chosen class,
  // with their values: {"name": {"value": v, "weight": w}, ...}.
  std::string top_features(const std::vector<double>& f, const Booster::Prediction& p, size_t label) const {
    const size_t stride = f.size() + 1;
    if (p.contributions.size() < stride * (label + 1)) return "{}";
    const float* w = p.contributions.data() + stride * label;
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

  // Full precision: the trainer reads these back as the model's inputs.
  static std::string number_exact(double v) {
    if (std::isnan(v)) return "null";
    std::ostringstream o;
    o.precision(17);
    o << v;
    return o.str();
  }

  learned::FeatureOptions options_;
  bool features_only_ = false;
  size_t top_ = 5;
  std::unique_ptr<Booster> booster_;
};

CASCADE_ANALYZER(Learned)
