// One host API, two hosts: the engine (core/runtime) and the SDK's test
// harness (sdk/testing.hpp) share their host functions
// (sdk/detail/host_api.hpp); this pins them together. The same plugins,
// given the same inputs, must see the same answers from both: outputs,
// reports (confidence, n-best, features), errors, and the refusals (emit
// outside process(), on a port out of range, of the wrong type, a null
// payload; forward of the wrong type or from an input out of range).
//
// The engine's side is read back from its trace (the only place it keeps a
// stage's reports). One difference is the engine's by design, not its host
// API's: a stage that fails has its outputs dropped by the error policy, so
// outputs are compared for calls that succeeded only.
#include <cascade/core/run.hpp>
#include <cascade/sdk/testing.hpp>
#include <cascade/trace/reader.hpp>
#include <cascade/trace/writer.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

namespace fs = std::filesystem;
using namespace cascade;
using cascade::sdk::testing::Harness;
using cascade::sdk::testing::Value;

namespace {

// What one call of one stage came to, in terms both hosts can state.
struct Seen {
  int status = CASCADE_OK;
  std::string error;
  bool transient = false;
  std::map<std::string, std::pair<uint32_t, std::string>> outputs;  // port -> (type, bytes); ok calls only
  std::optional<double> confidence;
  std::vector<std::pair<std::string, double>> nbest;
  std::map<std::string, double> features;
  std::map<std::string, std::string> text_features;
  bool operator==(const Seen&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Seen& s) {
  os << "{status " << s.status << ", error '" << s.error << "'" << (s.transient ? ", transient" : "") << ", outputs";
  for (const auto& [port, v] : s.outputs) os << " " << port << "=" << v.first << ":'" << v.second << "'";
  if (s.confidence) os << ", confidence " << *s.confidence;
  for (const auto& [t, score] : s.nbest) os << ", nbest " << t << "=" << score;
  for (const auto& [k, v] : s.features) os << ", " << k << "=" << v;
  for (const auto& [k, v] : s.text_features) os << ", " << k << "='" << v << "'";
  return os << "}";
}

Seen from_harness(const sdk::testing::Result& r) {
  Seen s;
  s.status = static_cast<int>(r.status);
  s.error = r.error;
  s.transient = r.transient;
  if (s.status == CASCADE_OK)
    for (const auto& [port, v] : r.outputs) s.outputs[port] = {v.type, v.bytes};
  s.confidence = r.confidence;
  s.nbest = r.nbest;
  s.features = r.features;
  s.text_features = r.text_features;
  return s;
}

Seen from_trace(const trace::StageRecord& r) {
  Seen s;
  s.status = r.status == trace::StageStatus::Ok ? CASCADE_OK : static_cast<int>(r.error_code);
  if (r.status != trace::StageStatus::Ok) s.error = r.error_message;
  s.transient = r.transient;
  if (s.status == CASCADE_OK)
    for (const auto& p : r.outputs)
      if (p.type != CASCADE_PAYLOAD_NONE) s.outputs[p.port] = {p.type, p.bytes};
  if (r.has_confidence) s.confidence = r.confidence;
  for (const auto& n : r.nbest) s.nbest.emplace_back(n.text, n.score);
  for (const auto& f : r.features) s.features[f.key] = f.value;
  for (const auto& f : r.text_features) s.text_features[f.key] = f.value;
  return s;
}

// A one-stage pipeline `stage_toml` ([[stages]] id = "s"), run with a trace
// over one turn per text; what stage "s" did in each turn.
std::vector<Seen> through_engine(const std::string& stage_toml, const std::vector<std::string>& texts,
                                 uint32_t micro_batch = 1) {
  static int n = 0;
  const std::string tag = std::to_string(::getpid()) + "_" + std::to_string(n++);
  const fs::path toml = fs::temp_directory_path() / ("cascade_conformance_" + tag + ".toml");
  const fs::path tp = fs::temp_directory_path() / ("cascade_conformance_" + tag + ".cas");
  std::ofstream(toml) << "[pipeline]\nname = \"conformance\"\nversion = \"1\"\n" << stage_toml;
  PipelineLoad load = load_pipeline(toml, {}, {FIXTURE_PLUGIN_DIR});
  fs::remove(toml);
  for (const auto& d : load.problems) ADD_FAILURE() << d.format();
  const LoadedPipeline p = std::move(load).take();
  const PipelinePlan& plan = p.plan;

  std::vector<TurnInput> in(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    in[i].dialogue_id = "d" + std::to_string(i);
    in[i].user_id = "u" + std::to_string(i);
    in[i].turn_index = 2;
    in[i].turn_seq = i;
    in[i].payload_type = CASCADE_PAYLOAD_TEXT;
    in[i].payload = texts[i];
  }
  {
    trace::Writer w({.path = tp});
    {
      Engine e(plan, {.threads = 1, .trace = &w, .micro_batch = micro_batch});
      std::vector<TurnOutcome> out(in.size());
      e.run_batch(in, out);
    }
    w.close();
  }
  const trace::TraceData data = trace::read_turns(tp);
  fs::remove(tp);
  std::vector<Seen> seen;
  for (size_t i = 0; i < texts.size(); ++i) {
    const trace::Turn* t = data.find("d" + std::to_string(i), 2);
    const trace::StageRecord* s = t != nullptr ? t->stage("s") : nullptr;
    if (s == nullptr) {
      ADD_FAILURE() << "no record of stage s in turn " << i;
      seen.emplace_back();
      continue;
    }
    seen.push_back(from_trace(*s));
  }
  return seen;
}

std::string plugin_file(const std::string& name) { return std::string(FIXTURE_PLUGIN_DIR) + "/" + name; }

const std::vector<std::string> kProbes = {
    "emit",   "emit_bad_port", "emit_wrong_type", "emit_null", "emit_any", "forward", "forward_wrong_type",
    "forward_bad_input", "set_error", "report", "param", "stop", "turn"};

// The harness as a host of the turns through_engine() runs: turn i is
// dialogue d<i>, user u<i>, index 2, seq i.
std::vector<Seen> through_harness(Harness& harness, const std::vector<std::string>& texts) {
  std::vector<Seen> seen;
  for (size_t i = 0; i < texts.size(); ++i) {
    harness.set_turn("d" + std::to_string(i), "u" + std::to_string(i), 2, i);
    seen.push_back(from_harness(harness.run({{"text", Value::text(texts[i])}})));
  }
  return seen;
}

const char* kProbeStage = R"(
[[stages]]
id = "s"
plugin = "fixture_probe"
inputs = { text = "input.text" }
params = { greeting = "hi there" }
on_error = "skip"
)";

}  // namespace

TEST(HostApiConformance, EveryProbeOfTheHostApiIsAnsweredAlikeByTheEngineAndTheHarness) {
  const auto engine = through_engine(kProbeStage, kProbes);
  auto harness = Harness::load(plugin_file("fixture_probe.so"), {{"greeting", "hi there"}});
  const auto h = through_harness(*harness, kProbes);
  ASSERT_EQ(engine.size(), kProbes.size());
  for (size_t i = 0; i < kProbes.size(); ++i) EXPECT_EQ(engine[i], h[i]) << "probe " << kProbes[i];
}

// The third host: a stage in a worker process (isolation = "process")
// answers through the same table, its reports carried back to the engine.
TEST(HostApiConformance, AStageInAWorkerProcessIsAnsweredAlikeOneTurnAtATimeAndBatched) {
  const std::string isolated = std::string(kProbeStage) + "isolation = \"process\"\n";
  const auto engine = through_engine(kProbeStage, kProbes);
  for (const uint32_t micro_batch : {1u, 8u}) {
    const auto worker = through_engine(isolated, kProbes, micro_batch);
    ASSERT_EQ(worker.size(), kProbes.size());
    for (size_t i = 0; i < kProbes.size(); ++i)
      EXPECT_EQ(worker[i], engine[i]) << "probe " << kProbes[i] << ", micro_batch " << micro_batch;
  }
}

// The answers themselves, so that two hosts agreeing on a wrong answer fail too.
TEST(HostApiConformance, RefusalsHaveTheStatusesTheAbiPromises) {
  auto harness = Harness::load(plugin_file("fixture_probe.so"));
  const auto status = [&](const std::string& probe) {
    return harness->run({{"text", Value::text(probe)}}).features.at("status");
  };
  EXPECT_EQ(status("emit"), CASCADE_OK);
  EXPECT_EQ(status("emit_any"), CASCADE_OK);
  EXPECT_EQ(status("forward"), CASCADE_OK);
  EXPECT_EQ(status("emit_bad_port"), CASCADE_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(status("emit_wrong_type"), CASCADE_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(status("forward_wrong_type"), CASCADE_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(status("forward_bad_input"), CASCADE_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(status("emit_null"), CASCADE_ERR_UNSUPPORTED);
  const auto r = harness->run({{"text", Value::text("emit")}});
  EXPECT_EQ(r.features.at("emit_in_open"), CASCADE_ERR_UNSUPPORTED);  // outside process()
  EXPECT_EQ(r.outputs.at("text").bytes, "emit");
  EXPECT_EQ(harness->run({{"text", Value::text("forward")}}).forwards, 1u);
  const auto refused = harness->run({{"text", Value::text("emit_wrong_type")}});
  EXPECT_EQ(refused.outputs.count("meta"), 0u);
  harness->set_turn("dlg", "ann", 3, 9);
  const auto turn = harness->run({{"text", Value::text("turn")}});
  EXPECT_EQ(turn.features.at("status"), CASCADE_OK);
  EXPECT_EQ(turn.text_features.at("dialogue_id"), "dlg");
  EXPECT_EQ(turn.text_features.at("user_id"), "ann");
  EXPECT_EQ(turn.features.at("turn_index"), 3);
  EXPECT_EQ(turn.features.at("turn_seq"), 9);
}

TEST(HostApiConformance, AnSdkStageForwardingOntoAMistypedPortFailsAlikeInBothHosts) {
  const std::vector<std::string> texts = {"a", "x"};
  const auto engine = through_engine(R"(
[[stages]]
id = "s"
plugin = "fixture_faulty"
inputs = { text = "input.text" }
params = { mode = "forward_to_json", trigger = "x" }
on_error = "skip"
)",
                                     texts);
  auto harness = Harness::load(plugin_file("cascade-fixture_faulty.so"), {{"mode", "forward_to_json"}, {"trigger", "x"}});
  for (size_t i = 0; i < texts.size(); ++i)
    EXPECT_EQ(engine[i], from_harness(harness->run({{"text", Value::text(texts[i])}}))) << texts[i];
  EXPECT_EQ(engine[1].status, CASCADE_ERR_INVALID_ARGUMENT);
}

// ABI 1.2: a batch call's turns, failures and entries stored with the wrong
// type, through the engine's micro-batches and the harness's run_batch.
TEST(HostApiConformance, ABatchCallIsAnsweredAlikeTurnByTurn) {
  const std::vector<std::string> texts = {"one", "mistype", "fail", "four"};
  const auto engine = through_engine(R"(
[[stages]]
id = "s"
plugin = "c_batch"
inputs = { text = "input.text" }
on_error = "skip"
)",
                                     texts, /*micro_batch=*/4);
  auto harness = Harness::load(plugin_file("c_batch.so"));
  std::vector<std::map<std::string, Value>> turns;
  for (const auto& t : texts) turns.push_back({{"text", Value::text(t)}});
  const auto results = harness->run_batch(turns);
  ASSERT_EQ(results.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(engine[i], from_harness(results[i])) << texts[i];
  EXPECT_EQ(engine[1].status, CASCADE_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(engine[1].error, "process_batch stored a json payload on output 'text', declared text");
  EXPECT_EQ(engine[2].error, "c_batch: refused 'fail'");
}
