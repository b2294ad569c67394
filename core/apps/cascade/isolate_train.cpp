// cascade-isolate-train — trains the `learned` failure-point isolator
// (plugins/analyzers/learned) on the oracle's labels. `cascade isolate
// train ...` runs it (a tool of its own, as cascade-eval: the `cascade`
// executable stays free of xgboost and its OpenMP runtime). This file
// gathers the rows; isolate_train_model.hpp fits them, the only file
// outside the plugin that sees xgboost.
//
// The shape of the work:
//   1. features: the `learned` plugin in mode=features over every trace,
//      through the AnalyzerHost: the SAME extractor the plugin predicts
//      with (features.cpp), never a copy, with the plugin parameters of
//      --param, or of --trace-params for a trace whose pipeline had other
//      models (cascade eval fpi's TRAIN-fold runs: the `requests` the
//      NLU of that run trained on); with the pipeline the trace came
//      from (-p, or the trace's line), the plugin replays each turn's ASR
//      alternatives through it (learned/alternatives.hpp), as it will
//      when it predicts with -p; turns with a stage that ended in
//      error/timeout/cancelled are left out (the plugin attributes those
//      directly, without the model);
//   2. labels: the oracle's, from --against (an earlier `cascade isolate
//      --oracle` analysis file) or by running the oracle here (needs -p,
//      the pipeline the traces came from);
//   3. join by (trace file name, turn_seq), in trace then turn order;
//      print the training size and class balance to stderr;
//   4. cross-validation by dialogue (--cv folds, isolate_train_cv.hpp):
//      every row predicted by a model that never saw its dialogue; the
//      weight of the auxiliary rows (traces marked so: training data
//      only) chosen by it; print how well that does on the other rows,
//      and choose the decision weights on those predictions
//      (isolate_train_model.hpp says why);
//   5. xgboost on all rows (multi:softprob, one class per failure point,
//      rarer classes weighted up), nthread=1 and the seed: the same inputs
//      and seed give a byte-identical model file;
//   6. record the feature names, class order, decision weights, intent
//      priors and the cross-validation's score table in the model (the
//      plugin refuses a model of another schema) and save it as JSON.
// With --probe (isolate_train_probes.hpp), columns read from gold join the
// features, the cross-validation says what they would bring, and no model
// is written (steps 5-6 are skipped).
//
// Exit codes: 0 trained, 1 no training data or xgboost failed (N020, N021),
// 2 usage or config error.
#include "isolate_train_cv.hpp"
#include "isolate_train_model.hpp"
#include "isolate_train_probes.hpp"

#include <cascade/core/analysis_file.hpp>
#include <cascade/core/analyze.hpp>
#include <cascade/core/baselines.hpp>
#include <cascade/core/config.hpp>
#include <cascade/core/diagnostic.hpp>
#include <cascade/core/run.hpp>
#include <cascade/trace/error.hpp>
#include <cascade/trace/reader.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>

namespace {

using nlohmann::json;
using cascade::CascadeError;
using cascade::failure_classes;
using cascade::isolate_train::Example;

struct TrainArgs {
  std::vector<std::string> traces;
  std::string pipeline;
  std::vector<std::string> overrides;
  std::vector<std::string> plugin_paths;
  std::vector<std::string> params;  // KEY=VALUE for the learned plugin, every trace
  std::string trace_params;         // JSONL: {"trace": PATH, "params": {KEY: VALUE}}
  std::string against;
  std::string out;
  // Defaults: the best mean accuracy and macro-F1 over both halves of the
  // eval dialogues' split, on the text and on the speech assistant's traces
  // (shallow trees, slow learning: a few hundred training turns).
  cascade::isolate_train::CvOptions cv;  // and the fit's options, cv.fit
  std::string dialogues = "all";  // all, or one side of the documented split: train, test
  std::vector<std::string> probes;  // gold probes for a diagnostic cross-validation
  uint32_t jobs = 0;
};

std::string key_of(const std::string& trace, uint64_t seq) {
  return std::filesystem::path(trace).filename().string() + "#" + std::to_string(seq);
}

const cascade::LoadedPlugin& analyzer(cascade::PluginRegistry& reg, const std::string& name) {
  if (const cascade::LoadedPlugin* p = reg.find(name)) return *p;
  std::string searched;
  for (const auto& d : reg.searched()) searched += (searched.empty() ? "" : ", ") + d.string();
  throw CascadeError("N001", "no analyzer plugin '" + name + "' on the search path (searched: " + searched + ")");
}

using Params = std::map<std::string, std::string>;

// What the learned plugin gets for one trace: its parameters and the
// pipeline the trace came from, for its replays of the ASR alternatives
// (empty: no replays, those features are missing).
struct TraceSetup {
  Params params;
  std::string pipeline;
  std::vector<std::string> overrides;
  bool auxiliary = false;  // its rows only add training data (Example::auxiliary)
};

// Per trace: --param and -p/--set for every trace, then the trace's line of
// --trace-params over them. Lines name traces as given on the command
// line (or by the same canonical path).
std::map<std::string, TraceSetup> setup_by_trace(const TrainArgs& a) {
  TraceSetup common{{}, a.pipeline, a.overrides, false};
  for (const auto& kv : a.params) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw CascadeError("N022", "--param wants KEY=VALUE, got '" + kv + "'");
    common.params[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  const auto canonical = [](const std::string& p) { return std::filesystem::weakly_canonical(p).string(); };
  std::map<std::string, TraceSetup> out;
  for (const auto& t : a.traces) out[canonical(t)] = common;
  if (a.trace_params.empty()) return out;
  std::ifstream f(a.trace_params);
  if (!f) throw CascadeError("N022", "cannot read the trace parameters file", a.trace_params);
  size_t line_no = 0;
  for (std::string line; std::getline(f, line);) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = a.trace_params + ":" + std::to_string(line_no);
    const json j = json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("trace") || !j["trace"].is_string() || !j.contains("params") ||
        !j["params"].is_object())
      throw CascadeError("N022", "want {\"trace\": PATH, \"params\": {KEY: VALUE}} on each line", where);
    const auto it = out.find(canonical(j["trace"].get<std::string>()));
    if (it == out.end())
      throw CascadeError("N022", "names a trace that is not among the traces to train on: " + j["trace"].get<std::string>(),
                         where);
    for (const auto& [k, v] : j["params"].items()) {
      if (!v.is_string()) throw CascadeError("N022", "parameter '" + k + "' must be a string", where);
      it->second.params[k] = v.get<std::string>();
    }
    if (j.contains("pipeline")) {
      if (!j["pipeline"].is_string()) throw CascadeError("N022", "\"pipeline\" must be a file name", where);
      it->second.pipeline = j["pipeline"].get<std::string>();
      it->second.overrides.clear();
    }
    if (j.contains("auxiliary")) {
      if (!j["auxiliary"].is_boolean()) throw CascadeError("N022", "\"auxiliary\" must be true or false", where);
      it->second.auxiliary = j["auxiliary"].get<bool>();
    }
    if (j.contains("set")) {
      if (!j["set"].is_array()) throw CascadeError("N022", "\"set\" must be an array of KEY=VALUE strings", where);
      for (const auto& kv : j["set"]) {
        if (!kv.is_string()) throw CascadeError("N022", "\"set\" must be an array of KEY=VALUE strings", where);
        it->second.overrides.push_back(kv.get<std::string>());
      }
    }
  }
  return out;
}

// The pipeline a trace's turns are replayed through; N003 if it does not
// load (every problem printed first).
cascade::LoadedPipeline load_replay_pipeline(const std::string& file, const std::vector<std::string>& overrides,
                                             const TrainArgs& a) {
  auto load = cascade::load_pipeline(file, overrides, {a.plugin_paths.begin(), a.plugin_paths.end()});
  if (load.pipeline) return std::move(*load.pipeline);
  load.print(std::cerr);
  throw CascadeError("N003", "the pipeline does not load", file);
}

// 1. The learned plugin's feature vectors, turn by turn.
// With probes, their columns follow the plugin's (Failed left missing: it
// reads the label, which the caller joins).
std::vector<Example> features(const cascade::LoadedPlugin& learned, const TrainArgs& a,
                              const std::vector<cascade::isolate_train::Probe>& probes, std::vector<std::string>& names,
                              uint64_t& direct) {
  const auto setups = setup_by_trace(a);
  std::vector<Example> out;
  uint64_t other_side = 0, replays = 0, replaying_traces = 0;
  // Loaded once per pipeline and overrides: traces of one run share it.
  std::map<std::pair<std::string, std::vector<std::string>>, cascade::LoadedPipeline> pipelines;
  for (const auto& t : a.traces) {
    const TraceSetup& setup = setups.at(std::filesystem::weakly_canonical(t).string());
    cascade::AnalysisOptions o;
    o.params = setup.params;
    o.params["mode"] = "features";
    o.jobs = a.jobs;
    if (!setup.pipeline.empty()) {
      auto key = std::make_pair(setup.pipeline, setup.overrides);
      auto it = pipelines.find(key);
      if (it == pipelines.end())
        it = pipelines.emplace(std::move(key), load_replay_pipeline(setup.pipeline, setup.overrides, a)).first;
      o.replay_plan = &it->second.plan;
    }
    cascade::AnalyzerHost host(learned, o);
    const cascade::trace::TraceData data = cascade::trace::read_turns(t);
    for (const auto& d : data.damage) std::cerr << "warning: " << d.format() << "\n";
    const cascade::AnalysisResult r = host.run(data);
    replays += r.replays;
    replaying_traces += setup.pipeline.empty() ? 0 : 1;
    for (const auto& v : r.verdicts) {
      if (!v.analyzed) continue;
      if (a.dialogues != "all" && cascade::split_side(v.dialogue_id) != a.dialogues) {
        ++other_side;
        continue;
      }
      const json e = json::parse(v.evidence);
      if (e.contains("direct")) {
        ++direct;
        continue;
      }
      if (!e.contains("features") || !e.contains("feature_names"))
        throw CascadeError("N020", "the learned plugin gave no features for " + v.dialogue_id + "/" +
                                       std::to_string(v.turn_index) + " (is it the plugin of this build?)");
      if (names.empty()) {
        names = e["feature_names"].get<std::vector<std::string>>();
        for (const auto p : probes) names.push_back(cascade::isolate_train::probe_column(p));
      }
      Example ex;
      ex.key = key_of(t, v.turn_seq);
      ex.dialogue = v.dialogue_id;
      ex.auxiliary = setup.auxiliary;
      if (e.contains("intent") && e["intent"].is_string()) ex.intent = e["intent"].get<std::string>();
      for (const auto& x : e["features"])
        ex.features.push_back(x.is_null() ? std::numeric_limits<float>::quiet_NaN() : x.get<float>());
      if (ex.features.size() + probes.size() != names.size())
        throw CascadeError("N020", "feature vectors of different lengths from the learned plugin");
      if (!probes.empty()) {
        const cascade::trace::Turn* turn = data.find_seq(v.turn_seq);
        for (const auto p : probes)
          ex.features.push_back(turn != nullptr ? cascade::isolate_train::probe_value(p, *turn, -1)
                                                : std::numeric_limits<float>::quiet_NaN());
      }
      out.push_back(std::move(ex));
    }
  }
  std::cerr << "features: " << replays << " replays of ASR alternatives, through the pipelines of " << replaying_traces
            << " of " << a.traces.size() << " traces\n";
  if (other_side > 0) std::cerr << "dialogues: " << a.dialogues << " side only (" << other_side << " turns of the other side left out)\n";
  return out;
}

// 2. The oracle's labels, by key.
std::map<std::string, std::string> oracle_labels(const TrainArgs& a, cascade::PluginRegistry& reg) {
  std::map<std::string, std::string> labels;
  if (!a.against.empty()) {
    const cascade::AnalysisFile ref = cascade::read_analysis(a.against);
    for (const auto& l : ref.lines)
      if (l.verdict.analyzed) labels[key_of(l.trace, l.verdict.turn_seq)] = l.verdict.label;
    return labels;
  }
  const cascade::LoadedPipeline pipeline = load_replay_pipeline(a.pipeline, a.overrides, a);
  cascade::AnalysisOptions o;
  o.replay_plan = &pipeline.plan;
  cascade::AnalyzerHost host(analyzer(reg, "oracle"), o);
  for (const auto& t : a.traces) {
    const cascade::trace::TraceData data = cascade::trace::read_turns(t);
    for (const auto& v : host.run(data).verdicts)
      if (v.analyzed) labels[key_of(t, v.turn_seq)] = v.label;
  }
  return labels;
}

// 5-6. Train on every row (of weight above 0) and save. Returns the
// model's accuracy on its training rows.
double train_and_save(const std::vector<Example>& rows, const std::vector<std::string>& names,
                      const cascade::isolate_train::CrossValidated& cv, const TrainArgs& a) {
  namespace it = cascade::isolate_train;
  std::vector<const Example*> all;
  for (const auto& r : rows) all.push_back(&r);
  const it::Booster model = it::fit(all, a.cv.fit);
  const std::vector<float> p = it::predict(model, all);
  size_t right = 0;
  for (size_t i = 0; i < rows.size(); ++i)
    right += it::decide(&p[i * failure_classes().size()], cv.weights) == rows[i].label ? 1 : 0;
  it::save(model, {names, cv.weights, it::intent_priors(all), cv.score_accuracy, cv.auxiliary_weight}, a.out);
  return rows.empty() ? 0 : static_cast<double>(right) / static_cast<double>(rows.size());
}

int run(const TrainArgs& a) {
  if (a.against.empty() && a.pipeline.empty())
    throw CascadeError("N003", "the labels come from the oracle: give the pipeline the traces came from (-p) or an "
                               "oracle analysis file (--against)");
  const std::vector<cascade::isolate_train::Probe> probes = cascade::isolate_train::parse_probes(a.probes);
  if (probes.empty() && a.out.empty()) throw CascadeError("N022", "--out: the model file to write is required");
  if (!a.out.empty() && !a.out.ends_with(".json"))
    throw CascadeError("N022", "the model file must end in .json (xgboost's JSON format)", a.out);
  if (!probes.empty() && a.cv.folds < 2)
    throw CascadeError("N022", "--probe measures by cross-validation: give --cv 2 or more");
  if (a.cv.fit.rounds == 0 || a.cv.fit.depth == 0) throw CascadeError("N022", "--rounds and --depth must be at least 1");

  cascade::PluginRegistry reg;
  std::vector<std::filesystem::path> dirs(a.plugin_paths.begin(), a.plugin_paths.end());
  reg.scan(cascade::PluginRegistry::search_path(dirs));

  std::vector<std::string> names;
  uint64_t direct = 0;
  std::vector<Example> all = features(analyzer(reg, "learned"), a, probes, names, direct);
  const std::map<std::string, std::string> labels = oracle_labels(a, reg);

  std::vector<Example> rows;
  uint64_t unlabelled = 0;
  std::vector<uint64_t> balance(failure_classes().size(), 0);
  for (auto& ex : all) {
    const auto l = labels.find(ex.key);
    if (l == labels.end()) {
      ++unlabelled;
      continue;
    }
    const auto c = std::find(failure_classes().begin(), failure_classes().end(), l->second);
    if (c == failure_classes().end()) throw CascadeError("N020", "the oracle gave an unknown class '" + l->second + "'");
    ex.label = static_cast<int>(c - failure_classes().begin());
    // The label-reading probe, now that the label is known.
    for (size_t i = 0; i < probes.size(); ++i)
      if (probes[i] == cascade::isolate_train::Probe::Failed)
        ex.features[names.size() - probes.size() + i] = cascade::isolate_train::probe_value(probes[i], {}, ex.label);
    ++balance[static_cast<size_t>(ex.label)];
    rows.push_back(std::move(ex));
  }
  std::cerr << "training on " << rows.size() << " turns (" << names.size() << " features); left out: " << direct
            << " attributed directly (a stage ended in error/timeout), " << unlabelled << " without an oracle label\n";
  std::cerr << "class balance:";
  uint64_t majority = 0, classes_present = 0;
  for (size_t c = 0; c < failure_classes().size(); ++c) {
    std::cerr << "  " << failure_classes()[c] << " " << balance[c];
    majority = std::max(majority, balance[c]);
    classes_present += balance[c] > 0 ? 1 : 0;
  }
  std::cerr << "\n";
  if (rows.empty()) throw CascadeError("N020", "no turn has both features and an oracle label: nothing to train on");
  if (classes_present < 2)
    throw CascadeError("N020", "every training turn has the same label: the model would learn nothing");

  // The per-intent priors, out of fold (isolate_train_model.hpp), for the
  // final model; the cross-validation encodes its folds' own.
  const auto column = std::find(names.begin(), names.end(), "intent_prior_" + failure_classes().front());
  if (column == names.end())
    throw CascadeError("N020", "the learned plugin gave no intent_prior_* features (is it the plugin of this build?)");
  const auto prior_column = static_cast<size_t>(column - names.begin());
  cascade::isolate_train::encode_intent_priors(rows, prior_column, cascade::isolate_train::kPriorFolds);
  const cascade::isolate_train::CrossValidated cv =
      cascade::isolate_train::cross_validated(rows, prior_column, a.cv, a.jobs);
  if (!probes.empty()) {
    std::cerr << "probes (read from gold):";
    for (const auto p : probes) std::cerr << " " << cascade::isolate_train::probe_column(p);
    std::cerr << "; no model written: a model that reads gold cannot run on production traces\n";
    return 0;
  }
  const double accuracy = train_and_save(rows, names, cv, a);
  std::cerr << "trained " << a.cv.fit.rounds << " rounds, depth " << a.cv.fit.depth << ", seed " << a.cv.fit.seed
            << "; on its training turns: accuracy " << accuracy * 100 << "% (majority class "
            << 100.0 * static_cast<double>(majority) / static_cast<double>(rows.size()) << "%)\n";
  std::cerr << "model: " << a.out << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  TrainArgs a;
  CLI::App app{"cascade isolate train — train the learned failure-point isolator on the oracle's labels"};
  app.add_option("traces", a.traces, "Traces to train on (files or rotated directories)")
      ->required()
      ->check(CLI::ExistingPath);
  app.add_option("-p,--pipeline", a.pipeline,
                 "Pipeline the traces came from: the oracle replays through it, and so does the learned plugin "
                 "(the ASR alternatives)")
      ->check(CLI::ExistingFile);
  app.add_option("--set", a.overrides, "Override a pipeline config value (repeatable)");
  app.add_option("--against", a.against, "Take the labels from this oracle analysis file instead of running the oracle")
      ->check(CLI::ExistingFile);
  app.add_option("--out", a.out, "Model file to write (.json); required unless --probe");
  app.add_option("--seed", a.cv.fit.seed, "Random seed (row and column sampling); the same seed gives the same model")
      ->capture_default_str();
  app.add_option("--rounds", a.cv.fit.rounds, "Boosting rounds")->capture_default_str();
  app.add_option("--depth", a.cv.fit.depth, "Maximum tree depth")->capture_default_str();
  app.add_option("--eta", a.cv.fit.eta, "Learning rate")->capture_default_str();
  app.add_option("--cv", a.cv.folds,
                 "Folds of the cross-validation by dialogue that scores the model on dialogues it never saw and "
                 "chooses its decision weights (0: none, every weight 1)")
      ->capture_default_str();
  app.add_option("--objective", a.cv.objective,
                 "What the decision weights maximise on the cross-validated predictions: accuracy, macro-f1, or "
                 "mean (their mean)")
      ->check(CLI::IsMember({"accuracy", "macro-f1", "mean"}))
      ->capture_default_str();
  app.add_option("--weights", a.cv.fit.weights, "Class weights: balanced (rare classes weigh as much as common ones), sqrt, none")
      ->check(CLI::IsMember({"balanced", "sqrt", "none"}))
      ->capture_default_str();
  app.add_option("--dialogues", a.dialogues,
                 "Train on all dialogues, or on one side of cascade eval fpi's split by dialogue id (train, test)")
      ->check(CLI::IsMember({"all", "train", "test"}))
      ->capture_default_str();
  app.add_option("--auxiliary-weight", a.cv.auxiliary_weight,
                 "Weight of the rows of traces marked auxiliary in --trace-params (training data only, e.g. cascade "
                 "eval fpi's TRAIN-fold runs): auto (the best of 1, 0.5, 0.25, 0.1 and 0 by a cross-validation "
                 "scored on the other rows) or a number >= 0")
      ->check([](const std::string& v) -> std::string {
        if (v == "auto") return "";
        char* end = nullptr;
        const double w = std::strtod(v.c_str(), &end);
        return end != v.c_str() && *end == '\0' && w >= 0 && std::isfinite(w) ? "" : "want auto or a number >= 0";
      })
      ->capture_default_str();
  app.add_option("--param", a.params, "Parameter KEY=VALUE of the learned plugin while it extracts features, e.g. "
                                      "requests=FILE (repeatable; the same must be given when it predicts)");
  app.add_option("--trace-params", a.trace_params,
                 "JSONL file, one line per trace whose pipeline had other models: {\"trace\": PATH, \"params\": "
                 "{KEY: VALUE}, \"pipeline\": FILE, \"set\": [KEY=VALUE, ...], \"auxiliary\": BOOL}, over "
                 "--param, -p and --set for that trace (pipeline, set and auxiliary optional; auxiliary: its rows "
                 "only train, see --auxiliary-weight)")
      ->check(CLI::ExistingFile);
  app.add_option("--probe", a.probes,
                 "Diagnostic: add a column read from gold (failed, transcript, intent; repeatable), print what the "
                 "cross-validation then gives, and write no model: how far the isolator would get if the trace said "
                 "it");
  app.add_option("--jobs", a.jobs, "Threads extracting features and training the cross-validation's folds (default: 2)");
  app.add_option("--plugin-path", a.plugin_paths, "Directory searched for plugins first (repeatable)");
  app.footer("Exit codes: 0 trained, 1 no training data or training failed, 2 usage or config error.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    return run(a);
  } catch (const CascadeError& e) {
    std::cerr << e.what() << "\n";
    return e.code() == "N003" || e.code() == "N022" || e.code().starts_with("C") ? 2 : 1;
  } catch (const cascade::trace::TraceError& e) {
    std::cerr << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error[N000]: " << e.what() << "\n";
    return 1;
  }
}
