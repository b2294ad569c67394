// The host API of analyzers (cascade_analyzer.h) has two implementations:
// the core's AnalyzerHost, behind `cascade isolate`, and the SDK's test
// harness (analyzer_testing.hpp), which plugin teams test against. This
// test pins them together: the same analyzer plugins on the same turns,
// once from a real trace file written with the traces Writer and read back
// by the core host, once through the harness from the turns as described in
// C++, must give the same verdicts: analyzed or not, label, score,
// evidence, error text and replays.
//
// The analyzers: rules (the built-in isolator: confidences, statuses,
// dialogue neighbours), lowest_confidence (examples/, the SDK's example)
// and probe (tests/analyzers/probe: echoes every field of the views it was
// given as evidence, and fails on request in each way a verdict can fail).
#include "analyzer_turns.hpp"

#include <cascade/core/analyze.hpp>
#include <cascade/core/loader.hpp>
#include <cascade/trace/reader.hpp>
#include <cascade/trace/writer.hpp>

#include <nlohmann/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <unistd.h>

namespace fs = std::filesystem;
using nlohmann::json;
using namespace cascade;
using namespace cascade::sdk::testing;

namespace {

std::vector<trace::PayloadView> payloads(const std::vector<std::pair<std::string, Value>>& values) {
  std::vector<trace::PayloadView> out;
  for (const auto& [port, v] : values) out.push_back({port, v.type, v.sample_rate, v.bytes.data(), v.bytes.size()});
  return out;
}

// The turns as `cascade run` would have recorded them.
void write_trace(const fs::path& file, const std::vector<RecordedTurn>& turns) {
  trace::WriterOptions options;
  options.path = file;
  trace::Writer w(options);
  for (size_t i = 0; i < turns.size(); ++i) {
    const RecordedTurn& t = turns[i];
    const trace::TurnKey key{t.dialogue_id, t.user_id, t.turn_index, t.turn_seq.value_or(i)};
    for (const RecordedStage& s : t.stages) {
      const auto in = payloads(s.inputs), out = payloads(s.outputs);
      std::vector<trace::NBestView> nbest;
      for (const auto& [text, score] : s.nbest_entries) nbest.push_back({text, score});
      std::vector<trace::FeatureView> features;
      for (const auto& [k, v] : s.numeric_features) features.push_back({k, v});
      std::vector<trace::TextFeatureView> text_features;
      for (const auto& [k, v] : s.text_features) text_features.push_back({k, v});
      trace::StageEvent ev;
      ev.turn = key;
      ev.stage_id = s.id;
      ev.plugin = s.plugin_name;
      ev.plugin_version = s.plugin_version;
      ev.start_ns = s.start_ns;
      ev.end_ns = s.end_ns;
      ev.status = static_cast<trace::StageStatus>(s.stage_status);
      ev.error_code = s.error_code;
      ev.error_message = s.error_message;
      ev.inputs = in;
      ev.outputs = out;
      ev.has_confidence = s.confidence_value.has_value();
      ev.confidence = s.confidence_value.value_or(0);
      ev.nbest = nbest;
      ev.features = features;
      ev.text_features = text_features;
      w.write(0, ev);
    }
    trace::TurnEvent te;
    te.turn = key;
    te.timestamp = t.timestamp_text;
    te.start_ns = t.start_ns;
    te.end_ns = t.end_ns;
    te.status = static_cast<trace::TurnStatus>(t.turn_status);
    te.input = {"input", t.input_value.type, t.input_value.sample_rate, t.input_value.bytes.data(),
                t.input_value.bytes.size()};
    te.gold_json = t.gold_json;
    te.result_json = t.result_json;
    w.write(0, te);
  }
  w.close();
}

std::string key_of(const std::string& dialogue, uint32_t index) { return dialogue + "/" + std::to_string(index); }

class Conformance : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cascade-analyzer-conformance-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The core host's verdicts, by dialogue/turn_index.
  std::map<std::string, Verdict> core(const std::string& plugin, const std::vector<RecordedTurn>& turns) {
    write_trace(dir_ / "turns.cas", turns);
    const auto data = trace::read_turns(dir_ / "turns.cas");
    PluginRegistry registry;
    AnalyzerHost host(registry.load(plugin), {});
    std::map<std::string, Verdict> out;
    for (auto& v : host.run(data).verdicts) out[key_of(v.dialogue_id, v.turn_index)] = std::move(v);
    return out;
  }

  fs::path dir_;
};

TEST_P(Conformance, CoreHostAndSdkHarnessGiveTheSameVerdictOnEveryTurn) {
  const std::vector<RecordedTurn> turns = analyzer_test_turns();
  const auto from_core = core(GetParam(), turns);
  const auto from_harness = AnalyzerHarness::load(GetParam())->run(turns);
  ASSERT_EQ(from_core.size(), turns.size());
  ASSERT_EQ(from_harness.size(), turns.size());
  size_t analyzed = 0;
  for (const AnalyzerVerdict& h : from_harness) {
    const std::string key = key_of(h.dialogue_id, h.turn_index);
    SCOPED_TRACE(key);
    ASSERT_EQ(from_core.count(key), 1u);
    const Verdict& c = from_core.at(key);
    EXPECT_EQ(h.analyzed, c.analyzed);
    EXPECT_EQ(h.label, c.label);
    EXPECT_EQ(h.score, c.score);  // the same arithmetic on the same numbers: exactly equal
    EXPECT_EQ(json::parse(h.evidence), json::parse(c.evidence)) << "harness: " << h.evidence << "\ncore:    " << c.evidence;
    EXPECT_EQ(h.error, c.error);
    EXPECT_EQ(h.replays, c.replays);
    analyzed += h.analyzed ? 1 : 0;
  }
  EXPECT_GT(analyzed, turns.size() / 2) << "the turns should mostly be analyzable";
}

INSTANTIATE_TEST_SUITE_P(Analyzers, Conformance, ::testing::Values(RULES_SO, EXAMPLE_SO, PROBE_SO),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           const std::string name = fs::path(p.param).stem().string();  // cascade-<name>
                           std::string id;
                           for (const char c : name.substr(name.find('-') + 1))
                             if (std::isalnum(static_cast<unsigned char>(c)) != 0) id += c;
                           return id;
                         });

// The turns reach every branch they were built for: otherwise agreeing on
// them would prove little.
TEST(ConformanceTurns, CoverEveryRuleOfRulesEveryBranchOfTheExampleAndEveryProbeFailure) {
  const std::vector<RecordedTurn> turns = analyzer_test_turns();
  std::map<std::string, std::string> rules, example, probe;
  std::set<std::string> rules_fired;
  const auto rules_v = AnalyzerHarness::load(RULES_SO)->run(turns);
  const auto example_v = AnalyzerHarness::load(EXAMPLE_SO)->run(turns);
  const auto probe_v = AnalyzerHarness::load(PROBE_SO)->run(turns);
  for (size_t i = 0; i < turns.size(); ++i) {
    const std::string key = key_of(turns[i].dialogue_id, turns[i].turn_index);
    rules[key] = rules_v[i].analyzed ? rules_v[i].label : "error";
    rules_fired.insert(json::parse(rules_v[i].evidence).value("rule", "?"));
    example[key] = example_v[i].analyzed ? example_v[i].label : "error";
    probe[key] = probe_v[i].analyzed ? probe_v[i].label : probe_v[i].error;
  }
  // Labels, not rule numbers: the rules evolve, what a turn is does not.
  EXPECT_EQ(rules["ok/0"], "correct");
  EXPECT_EQ(rules["rephrase/0"], "nlu");
  EXPECT_EQ(rules["crash/0"], "nlu");
  EXPECT_EQ(rules["overheard/0"], "false_wake");
  EXPECT_EQ(rules["asleep/0"], "correct");
  EXPECT_EQ(rules["asr/0"], "asr");
  EXPECT_EQ(rules["er/0"], "er");
  EXPECT_EQ(rules["unsupported/0"], "correct");
  EXPECT_EQ(rules["skill/0"], "result");
  EXPECT_GE(rules_fired.size(), 8u) << "the turns should reach most of the rules";
  EXPECT_EQ(example["ok/0"], "correct");
  EXPECT_EQ(example["rephrase/0"], "nlu");
  EXPECT_EQ(example["crash/0"], "result");  // no stage before the result reported a confidence
  EXPECT_EQ(example["asleep/0"], "false_wake");
  EXPECT_EQ(example["asr/0"], "asr");
  EXPECT_EQ(example["er/0"], "er");
  EXPECT_EQ(probe["ok/0"], "seen");
  EXPECT_EQ(probe["probe/0"], "analyze() gave label 'zzz', which the analyzer does not declare");
  EXPECT_EQ(probe["probe/1"], "analyze() gave no label");
  EXPECT_EQ(probe["probe/2"], "analyze() gave label 'fine' a score outside [0, 1]");
  EXPECT_EQ(probe["probe/3"], "analyze() gave label 'fine' a score outside [0, 1]");  // NaN
  EXPECT_EQ(probe["probe/4"], "status 3: the probe was asked to fail");
  EXPECT_EQ(probe["probe/5"], "status 1: evidence 'broken' is not one JSON value");
  EXPECT_EQ(probe["probe/6"], "fine");
  EXPECT_EQ(probe["probe/7"], "fine");
  EXPECT_EQ(probe["probe/8"], "status 1: unknown probe 'what'");
}

}  // namespace

// R7 reads the user's reaction: a successful turn said again soon after
// (by the turns' timestamps, whatever the run times) is no success, unless
// the dialogue was scripted, where the next turn is nobody's reaction.
TEST(RulesDialogue, TheTimestampsSayWhenTheUserSpokeAndScriptedDialoguesHaveNoRephrase) {
  std::vector<RecordedTurn> turns = {assistant_turn("d", 0, "what is the weather in paris", kFirstTurnNs),
                                     assistant_turn("d", 1, "what is the weather in paris", kFirstTurnNs + 600'000'000'000)};
  answer(turns[0], true, true);
  answer(turns[1], true, true);
  turns[0].timestamp("2026-01-15T09:00:00Z");
  turns[1].timestamp("2026-01-15T09:00:06Z");  // six seconds later, though run ten minutes later
  const auto live = AnalyzerHarness::load(RULES_SO)->run(turns);
  ASSERT_TRUE(live[0].analyzed) << live[0].error;
  EXPECT_NE(json::parse(live[0].evidence).value("rule", ""), "R7") << live[0].evidence;
  EXPECT_EQ(json::parse(live[0].evidence).value("next_turn_rephrase", false), true);
  const auto scripted = AnalyzerHarness::load(RULES_SO, {{"dialogue", "scripted"}})->run(turns);
  EXPECT_EQ(json::parse(scripted[0].evidence).value("rule", ""), "R7") << scripted[0].evidence;
  EXPECT_EQ(scripted[0].label, "correct");
  turns[1].timestamp("2026-01-15T09:05:00Z");  // five minutes later: a new request
  const auto later = AnalyzerHarness::load(RULES_SO)->run(turns);
  EXPECT_EQ(json::parse(later[0].evidence).value("rule", ""), "R7") << later[0].evidence;
  EXPECT_THROW(AnalyzerHarness::load(RULES_SO, {{"dialogue", "replayed"}}), std::runtime_error);
}

// R8 calls a refusal correct unless the user said it again: then the
// refusal was likely wrong, and the rules after it decide.
TEST(RulesDialogue, ARefusalTheUserRephrasesIsNotCalledCorrect) {
  std::vector<RecordedTurn> turns = {assistant_turn("d", 0, "what is the weather in paris", kFirstTurnNs),
                                     assistant_turn("d", 1, "what is the weather in paris", kFirstTurnNs + 5'000'000'000)};
  answer(turns[0], false, false);
  answer(turns[1], true, true);
  const auto live = AnalyzerHarness::load(RULES_SO)->run(turns);
  ASSERT_TRUE(live[0].analyzed) << live[0].error;
  EXPECT_NE(json::parse(live[0].evidence).value("rule", ""), "R8") << live[0].evidence;
  EXPECT_NE(live[0].label, "correct") << live[0].evidence;
  const auto scripted = AnalyzerHarness::load(RULES_SO, {{"dialogue", "scripted"}})->run(turns);
  EXPECT_EQ(json::parse(scripted[0].evidence).value("rule", ""), "R8") << scripted[0].evidence;
  EXPECT_EQ(scripted[0].label, "correct");
}
