// The learned isolator end to end, with the real parts: `cascade run` of the
// text assistant over the eval dialogues writes a trace, `cascade isolate
// --oracle` labels it, `cascade isolate train` (the real tool, through the
// real `cascade` dispatch) trains on it, and the `learned` plugin predicts
// through the AnalyzerHost. Hand-built traces cover a stage that timed out
// or failed (attributed without the model). No assertion on accuracy beyond
// sanity: the model beats the majority class on its own training turns.
#include <cascade/core/analysis_file.hpp>
#include <cascade/core/analyze.hpp>
#include <cascade/core/diagnostic.hpp>
#include <cascade/core/loader.hpp>
#include <cascade/trace/reader.hpp>
#include <cascade/trace/writer.hpp>

#include <nlohmann/json.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;
using nlohmann::json;
using namespace cascade;

namespace {

const std::set<std::string> kClasses = {"false_wake", "asr", "nlu", "er", "result", "correct"};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs a shell command; its stderr goes to `log`. Returns the exit code.
int sh(const std::string& cmd, const fs::path& log) {
  const int rc = std::system((cmd + " 2>" + log.string() + " >/dev/null").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string cascade_exe() { return CASCADE_EXE; }
std::string text_pipeline() { return std::string(SOURCE_DIR) + "/pipelines/assistant-text.toml"; }

// Everything the tests share: one trace, its oracle labels, one model.
class Learned : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("cascade-learned-" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    fs::create_directories(*dir_);
    ::setenv("CASCADE_PLUGIN_PATH", BUILTIN_PLUGIN_DIR, 1);
    const std::string d = dir_->string();
    const std::string input = std::string(ASSISTANT_DATA_DIR) + "/eval_dialogues.jsonl";
    // Exit 1 is fine: some turns fail, which is what there is to isolate.
    const int rc = sh(cascade_exe() + " run " + text_pipeline() + " -i " + input + " --trace " + d + "/train.cas -o " + d +
                          "/results.jsonl -q",
                      *dir_ / "run.log");
    ASSERT_TRUE(rc == 0 || rc == 1) << slurp(*dir_ / "run.log");
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  static fs::path dir() { return *dir_; }
  static fs::path trace() { return *dir_ / "train.cas"; }

  // The oracle's labels (computed once).
  static fs::path oracle() {
    const fs::path out = *dir_ / "oracle.jsonl";
    if (!fs::exists(out)) {
      const int rc = sh(cascade_exe() + " isolate " + trace().string() + " --oracle -p " + text_pipeline() + " -o " +
                            out.string() + " -q",
                        *dir_ / "oracle.log");
      EXPECT_EQ(rc, 0) << slurp(*dir_ / "oracle.log");
    }
    return out;
  }

  // Trains with `cascade isolate train`; returns the exit code.
  static int train(const fs::path& model, const std::string& extra, const std::string& log = "train.log") {
    return sh(cascade_exe() + " isolate train " + trace().string() + " --out " + model.string() + " " + extra,
              *dir_ / log);
  }

  // A model trained on the trace with the oracle's labels, seed 7 (once).
  static fs::path model() {
    const fs::path m = *dir_ / "model.json";
    if (!fs::exists(m)) {
      EXPECT_EQ(train(m, "--against " + oracle().string() + " --seed 7"), 0) << slurp(*dir_ / "train.log");
    }
    return m;
  }

  static AnalysisResult analyze(const fs::path& trace_file, std::map<std::string, std::string> params) {
    PluginRegistry reg;
    reg.scan({BUILTIN_PLUGIN_DIR});
    const LoadedPlugin* p = reg.find("learned");
    if (p == nullptr) throw std::runtime_error("no learned plugin in " BUILTIN_PLUGIN_DIR);
    AnalysisOptions o;
    o.params = std::move(params);
    AnalyzerHost host(*p, o);
    const auto data = trace::read_turns(trace_file);
    return host.run(data);
  }

  // The message AnalyzerHost gives when the plugin refuses to open.
  static std::string open_error(std::map<std::string, std::string> params) {
    try {
      analyze(trace(), std::move(params));
    } catch (const CascadeError& e) {
      EXPECT_EQ(e.code(), "N002");
      return e.what();
    }
    return "(it opened)";
  }

  static fs::path* dir_;
};
fs::path* Learned::dir_ = nullptr;

TEST_F(Learned, SameSeedGivesByteIdenticalModels) {
  const fs::path again = dir() / "again.json", other = dir() / "seed8.json";
  ASSERT_EQ(train(again, "--against " + oracle().string() + " --seed 7"), 0) << slurp(dir() / "train.log");
  EXPECT_EQ(slurp(model()), slurp(again));
  ASSERT_EQ(train(other, "--against " + oracle().string() + " --seed 8"), 0) << slurp(dir() / "train.log");
  EXPECT_NE(slurp(model()), slurp(other)) << "the seed is not used";
}

TEST_F(Learned, OracleRunHereGivesTheSameModelAsItsAnalysisFile) {
  const fs::path here = dir() / "oracle-here.json";
  ASSERT_EQ(train(here, "-p " + text_pipeline() + " --seed 7", "train-p.log"), 0) << slurp(dir() / "train-p.log");
  EXPECT_EQ(slurp(model()), slurp(here));
  const std::string log = slurp(dir() / "train-p.log");
  EXPECT_NE(log.find("training on "), std::string::npos) << log;
  EXPECT_NE(log.find("class balance:"), std::string::npos) << log;
}

TEST_F(Learned, PredictsValidClassesAndBeatsTheMajorityOnItsTrainingTurns) {
  const AnalysisResult r = analyze(trace(), {{"model", model().string()}});
  const AnalysisFile ref = read_analysis(oracle());
  std::map<uint64_t, std::string> truth;
  std::map<std::string, uint64_t> counts;
  for (const auto& l : ref.lines)
    if (l.verdict.analyzed) {
      truth[l.verdict.turn_seq] = l.verdict.label;
      ++counts[l.verdict.label];
    }
  ASSERT_FALSE(truth.empty());
  uint64_t majority = 0, right = 0, scored = 0;
  for (const auto& [c, n] : counts) majority = std::max(majority, n);
  for (const Verdict& v : r.verdicts) {
    ASSERT_TRUE(v.analyzed) << v.error;
    EXPECT_TRUE(kClasses.count(v.label)) << v.label;
    EXPECT_GE(v.score, 0.0);
    EXPECT_LE(v.score, 1.0);
    const json e = json::parse(v.evidence);
    if (!e.contains("direct")) {
      double sum = 0;
      for (const auto& [c, p] : e.at("probabilities").items()) sum += p.get<double>();
      EXPECT_NEAR(sum, 1.0, 1e-3);
      EXPECT_EQ(e.at("features").size(), 5u) << e.dump();
    }
    if (auto t = truth.find(v.turn_seq); t != truth.end()) {
      ++scored;
      right += t->second == v.label ? 1 : 0;
    }
  }
  EXPECT_GT(right, majority) << right << " of " << scored << " right; the majority class has " << majority;
}

// The decision weights the trainer recorded in a model, by class.
std::map<std::string, double> decision_weights(const fs::path& model) {
  const json m = json::parse(slurp(model));
  const std::string text = m["learner"]["attributes"].value("cascade_decision_weights", "");
  const std::vector<std::string> order = {"false_wake", "asr", "nlu", "er", "result", "correct"};
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string item;
  for (size_t c = 0; std::getline(in, item, ','); ++c) out[order.at(c)] = std::stod(item);
  return out;
}

// A copy of `model` with the attribute `key` set to `value`.
fs::path with_attribute(const fs::path& model, const fs::path& out, const std::string& key, const std::string& value) {
  json m = json::parse(slurp(model));
  m["learner"]["attributes"][key] = value;
  std::ofstream(out) << m.dump();
  return out;
}

// A copy of `model` with its decision weights attribute set to `weights`.
fs::path with_decision_weights(const fs::path& model, const fs::path& out, const std::string& weights) {
  return with_attribute(model, out, "cascade_decision_weights", weights);
}

// The trainer cross-validates by dialogue, prints what that gives, and
// records the decision weights it chose; --cv 0 records weights of 1.
TEST_F(Learned, TrainingCrossValidatesAndRecordsDecisionWeights) {
  const fs::path five = dir() / "cv5.json";
  ASSERT_EQ(train(five, "--against " + oracle().string(), "cv5.log"), 0) << slurp(dir() / "cv5.log");
  const std::string trained = slurp(dir() / "cv5.log");
  EXPECT_NE(trained.find("cross-validation, 5 folds by dialogue"), std::string::npos) << trained;
  EXPECT_NE(trained.find("with the decision weights"), std::string::npos) << trained;
  EXPECT_NE(trained.find("keeping only the labels whose score (the label's probability) is at least:"),
            std::string::npos)
      << trained;
  EXPECT_NE(trained.find("% of the turns, accuracy "), std::string::npos) << trained;
  const auto w = decision_weights(five);
  ASSERT_EQ(w.size(), 6u) << "no decision weights recorded";
  EXPECT_EQ(w.at("correct"), 1.0);
  // The printed "decision weights: false_wake W asr W ..." are the recorded ones.
  const size_t at = trained.find("decision weights:");
  ASSERT_NE(at, std::string::npos) << trained;
  std::istringstream printed(trained.substr(at + 17, trained.find('\n', at) - at - 17));
  std::string c;
  double x = 0;
  size_t n = 0;
  for (; printed >> c >> x; ++n) {
    ASSERT_TRUE(w.count(c)) << c;
    EXPECT_GT(w.at(c), 0.0) << c;
    EXPECT_NEAR(w.at(c), x, 1e-4 * x) << c;
  }
  EXPECT_EQ(n, 6u) << trained;
  const fs::path none = dir() / "cv0.json";
  ASSERT_EQ(train(none, "--against " + oracle().string() + " --cv 0", "cv0.log"), 0) << slurp(dir() / "cv0.log");
  for (const auto& [c, x] : decision_weights(none)) EXPECT_EQ(x, 1.0) << c;
  EXPECT_EQ(slurp(dir() / "cv0.log").find("cross-validation,"), std::string::npos);
  EXPECT_EQ(train(dir() / "x.json", "--against " + oracle().string() + " --objective recall", "usage.log"), 2);
}

// --probe: a column read from gold joins the features for the
// cross-validation, which says what it would bring; no model is written.
// Told which turns failed, the trees must do better than without.
TEST_F(Learned, ProbesMeasureWhatGoldWouldAddAndWriteNoModel) {
  const auto cv_accuracy = [&](const std::string& log) {
    const std::string text = slurp(dir() / log);
    const std::string what = "most probable class: accuracy ";
    const size_t at = text.find(what);
    EXPECT_NE(at, std::string::npos) << text;
    return at == std::string::npos ? 0.0 : std::stod(text.substr(at + what.size()));
  };
  const fs::path base = dir() / "probe-base.json", probed = dir() / "probed.json";
  ASSERT_EQ(train(base, "--against " + oracle().string(), "probe-base.log"), 0) << slurp(dir() / "probe-base.log");
  ASSERT_EQ(train(probed, "--against " + oracle().string() + " --probe failed --probe intent", "probed.log"), 0)
      << slurp(dir() / "probed.log");
  EXPECT_FALSE(fs::exists(probed)) << "a model that reads gold was written";
  const std::string log = slurp(dir() / "probed.log");
  EXPECT_NE(log.find("probes (read from gold): probe_failed probe_intent; no model written"), std::string::npos) << log;
  EXPECT_GT(cv_accuracy("probed.log"), cv_accuracy("probe-base.log") + 5.0) << log;
  // Usage: an unknown or repeated probe, or no cross-validation to measure with.
  for (const std::string bad : {"--probe slots", "--probe failed --probe failed", "--probe failed --cv 0"}) {
    EXPECT_EQ(train(dir() / "z.json", "--against " + oracle().string() + " " + bad, "usage.log"), 2) << bad;
    EXPECT_NE(slurp(dir() / "usage.log").find("N022"), std::string::npos) << slurp(dir() / "usage.log");
  }
  // Without a probe, the model file is required.
  EXPECT_EQ(sh(cascade_exe() + " isolate train " + trace().string() + " --against " + oracle().string(),
               dir() / "usage.log"),
            2);
  EXPECT_NE(slurp(dir() / "usage.log").find("--out"), std::string::npos) << slurp(dir() / "usage.log");
}

// The model records what a label's score was worth in the trainer's
// cross-validation, and every label the model gives carries the accuracy
// of the surest row its score reaches. Without cross-validation there is
// no table and no such evidence; a malformed table is refused.
TEST_F(Learned, EveryLabelSaysHowOftenLabelsThisSureWereRight) {
  const json attrs = json::parse(slurp(model()))["learner"]["attributes"];
  ASSERT_TRUE(attrs.contains("cascade_score_accuracy")) << attrs.dump();
  const json table = json::parse(attrs["cascade_score_accuracy"].get<std::string>());
  ASSERT_TRUE(table.is_array() && !table.empty()) << table;
  EXPECT_DOUBLE_EQ(table[0]["coverage"].get<double>(), 1.0) << "the first row keeps every turn";
  const auto expected_at = [&](double score) -> std::optional<double> {
    std::optional<double> best_min, accuracy;
    for (const auto& row : table)
      if (row["min_score"].get<double>() <= score && (!best_min || row["min_score"].get<double>() > *best_min)) {
        best_min = row["min_score"].get<double>();
        accuracy = row["accuracy"].get<double>();
      }
    return accuracy;
  };
  size_t with = 0;
  for (const Verdict& v : analyze(trace(), {{"model", model().string()}}).verdicts) {
    ASSERT_TRUE(v.analyzed) << v.error;
    const json e = json::parse(v.evidence);
    if (e.contains("direct")) continue;
    const auto want = expected_at(v.score);
    ASSERT_EQ(e.contains("expected_accuracy"), want.has_value()) << v.evidence;
    if (want) {
      EXPECT_NEAR(e["expected_accuracy"].get<double>(), *want, 1e-6) << v.score;
      ++with;
    }
  }
  EXPECT_GT(with, 0u);
  const fs::path none = dir() / "no-cv.json";
  ASSERT_EQ(train(none, "--against " + oracle().string() + " --cv 0", "no-cv.log"), 0) << slurp(dir() / "no-cv.log");
  EXPECT_FALSE(json::parse(slurp(none))["learner"]["attributes"].contains("cascade_score_accuracy"));
  for (const Verdict& v : analyze(trace(), {{"model", none.string()}}).verdicts)
    EXPECT_FALSE(json::parse(v.evidence).contains("expected_accuracy")) << v.evidence;
  for (const std::string bad :
       {"[]", R"([{"min_score": 0.5, "accuracy": 1.5, "coverage": 1}])", R"([{"min_score": 0.5, "accuracy": 0.9}])",
        "[[0.5, 0.9, 1]]", "{}", "x"}) {
    const std::string e = open_error(
        {{"model", with_attribute(model(), dir() / "bad-table.json", "cascade_score_accuracy", bad).string()}});
    EXPECT_NE(e.find("score accuracy table"), std::string::npos) << bad << ": " << e;
  }
}

// The plugin decides by the model's decision weights: a model that weighs
// `nlu` a million times labels every turn it predicts `nlu`. A model whose
// weights are not one positive number per class is refused.
TEST_F(Learned, PredictionAppliesTheModelsDecisionWeights) {
  const fs::path nlu = with_decision_weights(model(), dir() / "nlu-heavy.json", "1,1,1000000,1,1,1");
  for (const Verdict& v : analyze(trace(), {{"model", nlu.string()}}).verdicts) {
    ASSERT_TRUE(v.analyzed) << v.error;
    if (json::parse(v.evidence).contains("direct")) continue;
    EXPECT_EQ(v.label, "nlu");
  }
  for (const std::string bad : {"1,1,1", "1,1,0,1,1,1", "1,1,x,1,1,1", "1,1,nan,1,1,1"}) {
    const std::string e = open_error({{"model", with_decision_weights(model(), dir() / "bad-weights.json", bad).string()}});
    EXPECT_NE(e.find("decision weights"), std::string::npos) << bad << ": " << e;
  }
}

// The per-intent table (intent_prior.hpp): the features mode names each
// turn's intent and leaves the prior entries missing; the model records,
// per intent, the smoothed share of each class among the training turns
// (recomputed here from the oracle's labels); a malformed table is refused.
TEST_F(Learned, TheModelRecordsHowOftenEachClassFollowsAnIntent) {
  const AnalysisResult f = analyze(trace(), {{"mode", "features"}});
  std::map<uint64_t, std::string> intent;
  for (const Verdict& v : f.verdicts) {
    const json e = json::parse(v.evidence);
    if (!e.contains("features")) continue;
    for (size_t k = 0; k < e["features"].size(); ++k)
      if (e["feature_names"][k].get<std::string>().starts_with("intent_prior_")) {
        EXPECT_TRUE(e["features"][k].is_null()) << "the plugin fills them only from a model";
      }
    if (e.contains("intent")) intent[v.turn_seq] = e["intent"].get<std::string>();
  }
  ASSERT_FALSE(intent.empty()) << "no turn named its intent";
  const std::vector<std::string> order = {"false_wake", "asr", "nlu", "er", "result", "correct"};
  std::map<std::string, std::map<std::string, double>> counts;
  std::map<std::string, double> total;
  double turns = 0;
  // The training turns: those the features mode gave a vector (not
  // attributed directly) with an oracle label.
  std::set<uint64_t> trained;
  for (const Verdict& v : f.verdicts)
    if (json::parse(v.evidence).contains("features")) trained.insert(v.turn_seq);
  for (const auto& l : read_analysis(oracle()).lines) {
    if (!l.verdict.analyzed || !trained.contains(l.verdict.turn_seq)) continue;
    ++turns;
    total[l.verdict.label] += 1;
    if (auto i = intent.find(l.verdict.turn_seq); i != intent.end()) counts[i->second][l.verdict.label] += 1;
  }
  const json m = json::parse(slurp(model()));
  const json priors = json::parse(m["learner"]["attributes"].value("cascade_intent_priors", "{}"));
  ASSERT_TRUE(priors.contains("intents")) << priors.dump();
  EXPECT_EQ(priors["intents"].size(), counts.size());
  for (const auto& [name, by_class] : counts) {
    double n = 0;
    for (const auto& [c, x] : by_class) n += x;
    for (size_t c = 0; c < order.size(); ++c) {
      const double share = total[order[c]] / turns;
      const double want = ((by_class.count(order[c]) ? by_class.at(order[c]) : 0) + 20 * share) / (n + 20);
      EXPECT_NEAR(priors["intents"][name][c].get<double>(), want, 1e-9) << name << " " << order[c];
    }
  }
  // The plugin reads the table: another table, other probabilities.
  json other = json::parse(slurp(model()));
  json table = json::parse(other["learner"]["attributes"]["cascade_intent_priors"].get<std::string>());
  for (auto& [name, row] : table["intents"].items()) row = json::array({0, 0, 1, 0, 0, 0});
  other["learner"]["attributes"]["cascade_intent_priors"] = table.dump();
  const fs::path moved = dir() / "other-priors.json";
  std::ofstream(moved) << other.dump();
  const AnalysisResult as_trained = analyze(trace(), {{"model", model().string()}});
  const AnalysisResult with_other = analyze(trace(), {{"model", moved.string()}});
  size_t differ = 0;
  for (size_t i = 0; i < as_trained.verdicts.size(); ++i) {
    const json a = json::parse(as_trained.verdicts[i].evidence), b = json::parse(with_other.verdicts[i].evidence);
    differ += a.value("probabilities", json()) != b.value("probabilities", json()) ? 1 : 0;
  }
  EXPECT_GT(differ, 0u) << "the model's intent table is not read";

  json bad = json::parse(slurp(model()));
  bad["learner"]["attributes"]["cascade_intent_priors"] = "{\"global\": [1, 2], \"intents\": {}}";
  const fs::path file = dir() / "bad-priors.json";
  std::ofstream(file) << bad.dump();
  EXPECT_NE(open_error({{"model", file.string()}}).find("intent priors"), std::string::npos);
}

// correct_weight moves the choice between `correct` and the failures, and
// only the choice: every label is still the most probable class once the
// probabilities are weighed (the model's decision weights, P(correct) also
// by correct_weight), and the score is the model's own probability.
TEST_F(Learned, CorrectWeightTradesFailuresForCorrectTurns) {
  const auto dw = decision_weights(model());
  ASSERT_EQ(dw.size(), 6u);
  auto count_correct = [](const AnalysisResult& r) {
    size_t n = 0;
    for (const Verdict& v : r.verdicts) n += v.label == "correct" ? 1 : 0;
    return n;
  };
  size_t previous = 0;
  for (const double w : {0.01, 1.0, 1.5, 100.0}) {
    const AnalysisResult r = analyze(trace(), {{"model", model().string()}, {"correct_weight", std::to_string(w)}});
    for (const Verdict& v : r.verdicts) {
      ASSERT_TRUE(v.analyzed) << v.error;
      const json e = json::parse(v.evidence);
      if (e.contains("direct")) continue;
      const auto& p = e.at("probabilities");
      auto weighed = [&](const std::string& c) { return p.at(c).get<double>() * dw.at(c) * (c == "correct" ? w : 1.0); };
      for (const auto& [c, _] : p.items()) EXPECT_GE(weighed(v.label) + 1e-6, weighed(c)) << w << " " << e.dump();
      EXPECT_NEAR(v.score, p.at(v.label).get<double>(), 1e-6);
    }
    const size_t n = count_correct(r);
    EXPECT_GE(n, previous) << "correct_weight " << w;
    previous = n;
  }
  const AnalysisResult low = analyze(trace(), {{"model", model().string()}, {"correct_weight", "0.01"}});
  const AnalysisResult high = analyze(trace(), {{"model", model().string()}, {"correct_weight", "100"}});
  EXPECT_LT(count_correct(low), count_correct(high));
  EXPECT_NE(open_error({{"model", model().string()}, {"correct_weight", "0"}}).find("correct_weight"), std::string::npos);
  EXPECT_NE(open_error({{"model", model().string()}, {"correct_weight", "-1"}}).find("correct_weight"), std::string::npos);
}

TEST_F(Learned, FeaturesModeGivesOneNamedVectorPerTurn) {
  const AnalysisResult r = analyze(trace(), {{"mode", "features"}});
  ASSERT_FALSE(r.verdicts.empty());
  for (const Verdict& v : r.verdicts) {
    EXPECT_EQ(v.label, "correct");
    EXPECT_EQ(v.score, 0.0);
    const json e = json::parse(v.evidence);
    if (e.contains("direct")) continue;
    ASSERT_TRUE(e.contains("features")) << e.dump();
    EXPECT_EQ(e["features"].size(), e["feature_names"].size());
  }
}

// A stage record of one millisecond from `start_ns`, no payloads yet.
trace::StageEvent stage_event(const trace::TurnKey& key, std::string_view stage, std::string_view plugin,
                              int64_t start_ns) {
  trace::StageEvent ev;
  ev.turn = key;
  ev.stage_id = stage;
  ev.plugin = plugin;
  ev.plugin_version = "1.0.0";
  ev.start_ns = start_ns;
  ev.end_ns = start_ns + 1'000'000;
  return ev;
}

// A turn whose `stage` ended with `status`, the stages before it fine.
void write_failed_turns(const fs::path& file) {
  trace::WriterOptions wo;
  wo.path = file;
  trace::Writer w(wo);
  const std::string text = "alexa turn the lights on";
  const std::vector<std::pair<std::string, trace::StageStatus>> failures = {
      {"nlu", trace::StageStatus::Timeout}, {"er", trace::StageStatus::Error}, {"asr", trace::StageStatus::Cancelled}};
  int64_t t = 1'700'000'000'000'000'000;
  uint64_t seq = 0;
  for (const auto& [failed, status] : failures) {
    const std::string dialogue = "d" + std::to_string(seq);
    trace::TurnKey key{dialogue, "u1", 0, seq++};
    const int64_t start = t;
    for (const std::string stage : {"asr", "nlu", "er", "result"}) {
      trace::StageEvent ev = stage_event(key, stage, stage, t);
      t = ev.end_ns;
      ev.status = stage == failed ? status : trace::StageStatus::Ok;
      if (stage == failed) ev.error_message = "hand-built failure";
      w.write(0, ev);
      if (stage == failed) break;
    }
    trace::TurnEvent te;
    te.turn = key;
    te.start_ns = start;
    te.end_ns = t;
    te.status = trace::TurnStatus::Failed;
    te.input = {"input", CASCADE_PAYLOAD_TEXT, 0, text.data(), text.size()};
    w.write(0, te);
    t += 60'000'000'000;
  }
  w.close();
}

TEST_F(Learned, AStageThatFailedIsAttributedWithoutTheModel) {
  const fs::path file = dir() / "failed.cas";
  write_failed_turns(file);
  const AnalysisResult r = analyze(file, {{"model", model().string()}});
  ASSERT_EQ(r.verdicts.size(), 3u);
  const std::vector<std::pair<std::string, std::string>> want = {{"nlu", "timeout"}, {"er", "error"}, {"asr", "cancelled"}};
  for (size_t i = 0; i < want.size(); ++i) {
    const Verdict& v = r.verdicts[i];
    ASSERT_TRUE(v.analyzed) << v.error;
    EXPECT_EQ(v.label, want[i].first);
    EXPECT_EQ(v.score, 1.0);
    const json e = json::parse(v.evidence);
    EXPECT_EQ(e["direct"]["status"], want[i].second) << e.dump();
    EXPECT_FALSE(e.contains("probabilities")) << "the model was asked";
  }
}

// One dialogue of two turns ten seconds apart by their timestamps (their
// run times a minute apart), the second a rephrase of the first: the NLU
// read both as play_music, the first result failed, the second succeeded.
void write_rephrase(const fs::path& file) {
  trace::WriterOptions wo;
  wo.path = file;
  trace::Writer w(wo);
  const std::vector<std::pair<std::string, std::string>> turns = {
      {"alexa play some jazz", "2026-01-15T09:00:00Z"}, {"alexa play some jazz music", "2026-01-15T09:00:10Z"}};
  int64_t t = 1'700'000'000'000'000'000;
  for (uint32_t i = 0; i < turns.size(); ++i) {
    const std::string& text = turns[i].first;
    trace::TurnKey key{"d", "u1", i, i};
    trace::StageEvent ev = stage_event(key, "asr", "normalize", t);
    trace::PayloadView in{"text", CASCADE_PAYLOAD_TEXT, 0, text.data(), text.size()};
    ev.inputs = {&in, 1};
    w.write(0, ev);
    const trace::NBestView intents[] = {{"play_music", 0.9}, {"play_radio", 0.1}};
    trace::StageEvent nlu = stage_event(key, "nlu", "nlu", t);
    nlu.nbest = intents;
    w.write(0, nlu);
    const trace::FeatureView success[] = {{"success", i == 0 ? 0.0 : 1.0}};
    trace::StageEvent result = stage_event(key, "result", "result", t);
    result.features = success;
    w.write(0, result);
    trace::TurnEvent te;
    te.turn = key;
    te.timestamp = turns[i].second;
    te.start_ns = t;
    te.end_ns = t + 1'000'000;
    te.input = {"input", CASCADE_PAYLOAD_TEXT, 0, text.data(), text.size()};
    w.write(0, te);
    t += 60'000'000'000;
  }
  w.close();
}

TEST_F(Learned, DialogueFeaturesReadTheTurnsTimestamps) {
  const fs::path file = dir() / "rephrase.cas";
  write_rephrase(file);
  const AnalysisResult r = analyze(file, {{"mode", "features"}});
  ASSERT_EQ(r.verdicts.size(), 2u);
  std::vector<std::map<std::string, json>> f(2);
  for (size_t i = 0; i < 2; ++i) {
    const json e = json::parse(r.verdicts[i].evidence);
    ASSERT_TRUE(e.contains("features")) << e.dump();
    for (size_t k = 0; k < e["features"].size(); ++k) f[i][e["feature_names"][k]] = e["features"][k];
  }
  EXPECT_EQ(f[0]["next_gap_s"], 10.0);
  EXPECT_EQ(f[0]["next_rephrase"], 1.0);
  EXPECT_EQ(f[0]["silence_after"], 0.0);
  EXPECT_EQ(f[0]["heard_starts_with_wake_word"], 1.0);
  EXPECT_EQ(f[1]["position"], 1.0);
  EXPECT_EQ(f[1]["silence_after"], 1.0);
  EXPECT_GE(f[1]["prev_overlap"].get<double>(), 0.5);
  EXPECT_TRUE(f[1]["asr_confidence"].is_null()) << "a value the trace does not have is missing";
  // The user's reaction: the same intent again, and it worked. No result
  // said anything, so the response took the 1 s floor to speak.
  EXPECT_EQ(f[0]["next_same_intent"], 1.0);
  EXPECT_EQ(f[0]["next_success"], 1.0);
  EXPECT_EQ(f[0]["next_gap_after_say_s"], 9.0);
  EXPECT_EQ(f[0]["next_barge_in"], 0.0);
  EXPECT_EQ(f[1]["prev_success"], 0.0);
}

TEST_F(Learned, ScriptedDialoguesHaveNoReactionFeatures) {
  const fs::path file = dir() / "rephrase-scripted.cas";
  write_rephrase(file);
  const AnalysisResult r = analyze(file, {{"mode", "features"}, {"dialogue", "scripted"}});
  ASSERT_EQ(r.verdicts.size(), 2u);
  const json e = json::parse(r.verdicts[0].evidence);
  for (size_t k = 0; k < e["features"].size(); ++k) {
    const std::string name = e["feature_names"][k];
    if (name.starts_with("next_") || name == "silence_after") {
      EXPECT_TRUE(e["features"][k].is_null()) << name << " is read in a scripted dialogue";
    }
    if (name == "position" || name == "dialogue_turns") {
      EXPECT_FALSE(e["features"][k].is_null()) << name << ": where the turn is, not a reaction";
    }
  }
  EXPECT_FALSE(e["features"][0].is_null()) << "the turn's own features are still read";
  EXPECT_NE(open_error({{"mode", "features"}, {"dialogue", "replayed"}}).find("give live or scripted"),
            std::string::npos);
}

TEST_F(Learned, RefusesToOpenWithoutAUsableModel) {
  EXPECT_NE(open_error({}).find("parameter 'model' is empty"), std::string::npos) << open_error({});
  const std::string missing = (dir() / "no-such-model.json").string();
  EXPECT_NE(open_error({{"model", missing}}).find("does not exist"), std::string::npos);

  const fs::path corrupt = dir() / "corrupt.json";
  std::ofstream(corrupt) << "{\"learner\": [1, 2";
  const std::string e = open_error({{"model", corrupt.string()}});
  EXPECT_NE(e.find("cannot load the model"), std::string::npos) << e;
  EXPECT_NE(e.find(corrupt.string()), std::string::npos) << e;

  // A real model whose recorded feature schema is not this plugin's.
  json m = json::parse(slurp(model()));
  auto& attrs = m["learner"]["attributes"];
  ASSERT_TRUE(attrs.contains("cascade_features")) << attrs.dump();
  attrs["cascade_features"] = "some,other,features";
  const fs::path stale = dir() / "stale.json";
  std::ofstream(stale) << m.dump();
  const std::string s = open_error({{"model", stale.string()}});
  EXPECT_NE(s.find("trained on other features"), std::string::npos) << s;

  EXPECT_NE(open_error({{"mode", "guess"}}).find("give predict or features"), std::string::npos);
}

TEST_F(Learned, TrainRefusesBadUsage) {
  EXPECT_EQ(train(dir() / "x.json", "", "usage.log"), 2);  // no label source
  EXPECT_NE(slurp(dir() / "usage.log").find("N003"), std::string::npos) << slurp(dir() / "usage.log");
  EXPECT_EQ(train(dir() / "x.model", "--against " + oracle().string(), "usage.log"), 2);
  EXPECT_NE(slurp(dir() / "usage.log").find("N022"), std::string::npos) << slurp(dir() / "usage.log");
  EXPECT_FALSE(fs::exists(dir() / "x.model"));
  // A trace's own pipeline (for the replays of its ASR alternatives) must
  // be a file name, and its overrides KEY=VALUE strings that load.
  const fs::path bad = dir() / "bad-trace-params.jsonl";
  const auto train_with = [&](const json& line) {
    std::ofstream(bad) << line.dump() << "\n";
    return train(dir() / "y.json", "--against " + oracle().string() + " --trace-params " + bad.string(), "usage.log");
  };
  const auto line = [&](const json& extra) {
    json l = {{"trace", trace().string()}, {"params", json::object()}};
    l.update(extra);
    return l;
  };
  EXPECT_EQ(train_with(line({{"pipeline", 5}})), 2);
  EXPECT_NE(slurp(dir() / "usage.log").find("\"pipeline\" must be a file name"), std::string::npos)
      << slurp(dir() / "usage.log");
  for (const json& set : {json("stages.er.params.catalog=x"), json::array({5})}) {
    EXPECT_EQ(train_with(line({{"pipeline", text_pipeline()}, {"set", set}})), 2) << set;
    EXPECT_NE(slurp(dir() / "usage.log").find("\"set\" must be an array of KEY=VALUE strings"), std::string::npos)
        << slurp(dir() / "usage.log");
  }
  EXPECT_EQ(train_with(line({{"pipeline", text_pipeline()}, {"set", json::array({"stages.nosuch.params.x=1"})}})), 2);
  EXPECT_NE(slurp(dir() / "usage.log").find("N003"), std::string::npos) << slurp(dir() / "usage.log");
  EXPECT_FALSE(fs::exists(dir() / "y.json"));
  EXPECT_EQ(train_with(line({{"pipeline", text_pipeline()}})), 0) << slurp(dir() / "usage.log");
  EXPECT_NE(slurp(dir() / "usage.log").find("through the pipelines of 1 of 1 traces"), std::string::npos)
      << slurp(dir() / "usage.log");
}

}  // namespace

// Two hand-built turns through asr -> nlu -> er -> result: one whose
// answer names the entity ER left unresolved, recognised with an
// alternative that differs in the slot's words; one whose supported
// request failed with an answer that names nothing the user said.
void write_responses(const fs::path& file) {
  trace::WriterOptions wo;
  wo.path = file;
  trace::Writer w(wo);
  struct Turn {
    std::string heard, second, nlu, er, result;
  };
  const std::vector<Turn> turns = {
      {"alexa play next episode", "alexa play next episodes",
       R"({"intent":"play_podcasts","slots":[{"type":"podcast_descriptor","value":"next episode","start":5,"end":17,"score":0.9}],"text":"play next episode"})",
       R"({"intent":"play_podcasts","entities":[{"type":"podcast_descriptor","value":"next episode","resolved":null,"score":0.5}]})",
       R"({"success":false,"supported":true,"action":null,"answer":null,"say":"I couldn't find next episode."})"},
      {"alexa what is the weather", "alexa what is the weather",
       R"({"intent":"weather_query","slots":[],"text":"what is the weather"})",
       R"({"intent":"weather_query","entities":[]})",
       R"({"success":false,"supported":true,"action":null,"answer":null,"say":"Sorry, something went wrong."})"}};
  int64_t t = 1'700'000'000'000'000'000;
  for (uint32_t i = 0; i < turns.size(); ++i) {
    const Turn& turn = turns[i];
    const std::string dialogue = "d" + std::to_string(i);  // the key holds views
    const trace::TurnKey key{dialogue, "u1", 0, i};
    const auto stage = [&](std::string_view id, std::string_view port, uint32_t type, const std::string& bytes,
                           std::span<const trace::NBestView> nbest, std::span<const trace::TextFeatureView> text) {
      trace::StageEvent ev = stage_event(key, id, id, t);
      t = ev.end_ns;
      const trace::PayloadView out{port, type, 0, bytes.data(), bytes.size()};
      ev.outputs = {&out, 1};
      ev.nbest = nbest;
      ev.text_features = text;
      w.write(0, ev);
    };
    const trace::NBestView nbest[] = {{turn.heard, 0.6}, {turn.second, 0.4}};
    const std::string word_conf =
        R"([{"word":"alexa","conf":1.0},{"word":"play","conf":0.95},{"word":"next","conf":0.5},{"word":"episode","conf":0.8}])";
    const trace::TextFeatureView text_features[] = {{"word_conf", word_conf}};
    stage("asr", "text", CASCADE_PAYLOAD_TEXT, turn.heard, nbest, i == 0 ? std::span(text_features) : std::span<const trace::TextFeatureView>());
    stage("nlu", "nlu", CASCADE_PAYLOAD_JSON, turn.nlu, {}, {});
    stage("er", "er", CASCADE_PAYLOAD_JSON, turn.er, {}, {});
    stage("result", "result", CASCADE_PAYLOAD_JSON, turn.result, {}, {});
    trace::TurnEvent te;
    te.turn = key;
    te.start_ns = t - 4'000'000;
    te.end_ns = t;
    te.input = {"input", CASCADE_PAYLOAD_TEXT, 0, turn.heard.data(), turn.heard.size()};
    w.write(0, te);
  }
  w.close();
}

TEST_F(Learned, ResponseAndRecognitionFeaturesReadWhatTheTraceSays) {
  const fs::path file = dir() / "responses.cas";
  write_responses(file);
  const AnalysisResult r = analyze(file, {{"mode", "features"}});
  ASSERT_EQ(r.verdicts.size(), 2u);
  std::vector<std::map<std::string, json>> f(2);
  for (size_t i = 0; i < 2; ++i) {
    const json e = json::parse(r.verdicts[i].evidence);
    ASSERT_TRUE(e.contains("features")) << e.dump();
    for (size_t k = 0; k < e["features"].size(); ++k) f[i][e["feature_names"][k]] = e["features"][k];
  }
  // "I couldn't find next episode.": names the unresolved entity, echoes the request.
  EXPECT_EQ(f[0]["unresolved_named_in_say"], 1.0);
  EXPECT_EQ(f[0]["say_failure_no_echo"], 0.0);
  EXPECT_DOUBLE_EQ(f[0]["say_echo"].get<double>(), 0.5);  // "next episode" of "couldn't find next episode"
  EXPECT_EQ(f[0]["say_question"], 0.0);
  // {alexa, play, next, episode} vs {..., episodes}: 3 of 5 words shared;
  // of the two that differ, "episode" is a slot word.
  EXPECT_DOUBLE_EQ(f[0]["asr_nbest_overlap"].get<double>(), 0.6);
  EXPECT_DOUBLE_EQ(f[0]["asr_nbest_diff_in_slots"].get<double>(), 0.5);
  EXPECT_EQ(f[0]["asr_nbest_new_words"], 1.0);
  EXPECT_EQ(f[0]["asr_low_words"], 2.0);
  EXPECT_DOUBLE_EQ(f[0]["asr_slot_min_word_confidence"].get<double>(), 0.5);
  // "Sorry, something went wrong.": a supported request failed, naming nothing the user said.
  EXPECT_EQ(f[1]["say_failure_no_echo"], 1.0);
  EXPECT_EQ(f[1]["say_echo"], 0.0);
  EXPECT_EQ(f[1]["unresolved_named_in_say"], 0.0);
  EXPECT_EQ(f[1]["asr_nbest_overlap"], 1.0);
  EXPECT_TRUE(f[1]["asr_mean_word_confidence"].is_null()) << "no word posteriors recorded";
}

// A speech turn the device did not wake for: its text input is the script
// the simulator spoke (the gold transcript), which no feature may read.
TEST_F(Learned, TheScriptOfASpokenTurnIsNotWhatTheDeviceHeard) {
  const fs::path file = dir() / "missed.cas";
  {
    trace::WriterOptions wo;
    wo.path = file;
    trace::Writer w(wo);
    const std::string script = "alexa turn on the lights";
    const std::vector<int16_t> pcm(1600, 0);
    const trace::TurnKey key{"d", "u1", 0, 0};
    trace::StageEvent ev = stage_event(key, "wake", "wake", 1'700'000'000'000'000'000);
    const trace::PayloadView audio{"audio", CASCADE_PAYLOAD_AUDIO, 16000, pcm.data(), pcm.size() * sizeof(int16_t)};
    ev.inputs = {&audio, 1};
    const trace::FeatureView detected[] = {{"detected", 0.0}};
    ev.features = detected;
    w.write(0, ev);
    trace::TurnEvent te;
    te.turn = key;
    te.start_ns = ev.start_ns;
    te.end_ns = ev.end_ns;
    te.input = {"input", CASCADE_PAYLOAD_TEXT, 0, script.data(), script.size()};
    w.write(0, te);
    w.close();
  }
  const AnalysisResult r = analyze(file, {{"mode", "features"}});
  ASSERT_EQ(r.verdicts.size(), 1u);
  const json e = json::parse(r.verdicts[0].evidence);
  std::map<std::string, json> f;
  for (size_t k = 0; k < e["features"].size(); ++k) f[e["feature_names"][k]] = e["features"][k];
  EXPECT_EQ(f["wake_detected"], 0.0);
  EXPECT_EQ(f["heard_words"], 0.0) << "read the simulator's script";
  EXPECT_TRUE(f["heard_starts_with_wake_word"].is_null()) << "read the simulator's script";
}

// Three hand-built turns whose NLU read a request: the TRAIN request "wake
// me up at ten" with its TRAIN intent, the same request read as the
// weather, and a garbled recognition of it with two words no TRAIN request
// has. The nearest TRAIN requests must agree with the first, disagree with
// the second, and be further from the third.
void write_checked_requests(const fs::path& file) {
  trace::WriterOptions wo;
  wo.path = file;
  trace::Writer w(wo);
  const std::vector<std::pair<std::string, std::string>> turns = {
      {"wake me up at ten", "alarm_set"},
      {"wake me up at ten", "weather_query"},
      {"wake me blorf at zibbleton", "alarm_set"}};
  int64_t t = 1'700'000'000'000'000'000;
  for (uint32_t i = 0; i < turns.size(); ++i) {
    const auto& [text, intent] = turns[i];
    const std::string dialogue = "d" + std::to_string(i);  // the key holds views
    const trace::TurnKey key{dialogue, "u1", 0, i};
    const std::string nlu =
        json{{"intent", intent}, {"confidence", 0.99}, {"slots", json::array()}, {"text", text}}.dump();
    trace::StageEvent ev = stage_event(key, "nlu", "nlu", t);
    t = ev.end_ns;
    const trace::PayloadView out{"nlu", CASCADE_PAYLOAD_JSON, 0, nlu.data(), nlu.size()};
    ev.outputs = {&out, 1};
    w.write(0, ev);
    trace::TurnEvent te;
    te.turn = key;
    te.start_ns = t - 1'000'000;
    te.end_ns = t;
    te.input = {"input", CASCADE_PAYLOAD_TEXT, 0, text.data(), text.size()};
    w.write(0, te);
  }
  w.close();
}

std::vector<std::map<std::string, json>> feature_maps(const AnalysisResult& r) {
  std::vector<std::map<std::string, json>> out;
  for (const Verdict& v : r.verdicts) {
    const json e = json::parse(v.evidence);
    std::map<std::string, json> f;
    for (size_t k = 0; k < e.at("features").size(); ++k) f[e["feature_names"][k]] = e["features"][k];
    out.push_back(std::move(f));
  }
  return out;
}

TEST_F(Learned, TheCheckerAgreesWithARightIntentAndDoubtsAWrongOne) {
  const fs::path file = dir() / "checked.cas";
  write_checked_requests(file);
  auto f = feature_maps(analyze(file, {{"mode", "features"}}));
  ASSERT_EQ(f.size(), 3u);
  // A TRAIN request with its TRAIN intent.
  EXPECT_NEAR(f[0]["neighbour_similarity"].get<double>(), 1.0, 1e-4) << "the request is in TRAIN";
  EXPECT_EQ(f[0]["neighbour_agrees"], 1.0);
  // The same request, the NLU's intent wrong.
  EXPECT_EQ(f[1]["neighbour_agrees"], 0.0);
  EXPECT_LT(f[1]["neighbour_intent_share"].get<double>(), f[0]["neighbour_intent_share"].get<double>());
  // Garbled: further from every TRAIN request, the nearest still an alarm.
  EXPECT_EQ(f[2]["neighbour_agrees"], 1.0);
  EXPECT_LT(f[2]["neighbour_similarity"].get<double>(), f[0]["neighbour_similarity"].get<double>());

  // Without the TRAIN requests there are no second opinions: missing values.
  auto none = feature_maps(analyze(file, {{"mode", "features"}, {"requests", ""}}));
  for (const char* name : {"neighbour_similarity", "neighbour_agrees", "neighbour_intent_share"})
    EXPECT_TRUE(none[0][name].is_null()) << name;
}

TEST_F(Learned, RefusesUnreadableCheckerFiles) {
  const std::string missing = (dir() / "no-such-requests.txt").string();
  EXPECT_NE(open_error({{"mode", "features"}, {"requests", missing}}).find("cannot be read"), std::string::npos);
  const fs::path bad = dir() / "bad-requests.txt";
  std::ofstream(bad) << "__label__alarm_set wake me up\nno label here\n";
  const std::string e = open_error({{"mode", "features"}, {"requests", bad.string()}});
  EXPECT_NE(e.find(bad.string() + "':2"), std::string::npos) << e;
}
