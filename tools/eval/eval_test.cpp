// The quality report on hand-built traces (every number is known in
// advance) and once end to end: the text assistant run in-process over the
// small eval set, then `cascade-eval report --json` on its trace.
#include "eval/levels.hpp"
#include "eval/quality.hpp"

#include <cascade/abi/cascade_abi.h>
#include <cascade/trace/writer.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

namespace ev = cascade::language::eval;
namespace tr = cascade::trace;
namespace fs = std::filesystem;
using nlohmann::json;

// A stage as the test describes it; written as one StageEvent.
struct Port {
  std::string name;
  uint32_t type = CASCADE_PAYLOAD_TEXT;
  std::string data;
  uint32_t sample_rate = 0;
};
struct Stage {
  std::string id;
  std::vector<Port> inputs;
  std::vector<Port> outputs;
  tr::StageStatus status = tr::StageStatus::Ok;
  int64_t duration_ns = 1'000'000;
};

Port text(std::string port, std::string s) { return {std::move(port), CASCADE_PAYLOAD_TEXT, std::move(s), 0}; }
Port js(std::string port, const json& j) { return {std::move(port), CASCADE_PAYLOAD_JSON, j.dump(), 0}; }
Port audio(std::string port, double seconds) {
  return {std::move(port), CASCADE_PAYLOAD_AUDIO, std::string(static_cast<size_t>(seconds * 16000) * 2, '\0'), 16000};
}

class TraceBuilder {
 public:
  explicit TraceBuilder(fs::path path) : path_(std::move(path)) {
    tr::WriterOptions o;
    o.path = path_;
    o.audio = tr::AudioMode::Hash;
    writer_ = std::make_unique<tr::Writer>(o);
  }
  void turn(const json& gold, const std::vector<Stage>& stages) {
    const std::string dialogue = "d" + std::to_string(seq_);
    tr::TurnKey key{dialogue, "u1", 0, seq_};
    int64_t t = 1'000'000'000LL * static_cast<int64_t>(seq_ + 1);
    const int64_t start = t;
    for (const auto& s : stages) {
      std::vector<tr::PayloadView> in, out;
      for (const auto& p : s.inputs) in.push_back({p.name, p.type, p.sample_rate, p.data.data(), p.data.size()});
      for (const auto& p : s.outputs) out.push_back({p.name, p.type, p.sample_rate, p.data.data(), p.data.size()});
      tr::StageEvent e;
      e.turn = key;
      e.stage_id = s.id;
      e.plugin = s.id;
      e.plugin_version = "1";
      e.start_ns = t;
      e.end_ns = t + s.duration_ns;
      t = e.end_ns;
      e.status = s.status;
      e.inputs = in;
      e.outputs = out;
      writer_->write(0, e);
    }
    const std::string g = gold.dump();
    tr::TurnEvent te;
    te.turn = key;
    te.start_ns = start;
    te.end_ns = t;
    te.gold_json = g;
    te.result_json = "{}";
    writer_->write(0, te);
    ++seq_;
  }
  fs::path close() {
    writer_->close();
    return path_;
  }

 private:
  fs::path path_;
  std::unique_ptr<tr::Writer> writer_;
  uint64_t seq_ = 0;
};

fs::path temp_root() { return fs::temp_directory_path() / ("cascade_eval_test_" + std::to_string(::getpid())); }

// Removes this process's temporary traces after the last test.
class TempCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(temp_root(), ec);
  }
};
[[maybe_unused]] auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new TempCleanup);

fs::path temp_dir(const std::string& name) {
  fs::path d = temp_root() / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

json slot(const std::string& type, const std::string& value) { return {{"type", type}, {"value", value}}; }
json result(bool success, const std::string& action) {
  return {{"success", success}, {"supported", true}, {"action", {{"type", action}}}, {"answer", nullptr}, {"say", "ok"}};
}
json refusal() {
  return {{"success", false}, {"supported", false}, {"action", nullptr}, {"answer", nullptr},
          {"say", "Sorry, I can't do that yet."}};
}

// The speech assistant's shape: speech -> wake -> asr -> nlu -> er -> result.
std::vector<Stage> speech_turn(double audio_s, bool woke, const std::string& heard, const json& nlu, const json& er,
                               const json& res) {
  std::vector<Stage> s;
  s.push_back({"speech", {text("text", "x")}, {audio("audio", audio_s)}});
  Stage wake{"wake", {audio("audio", audio_s)}, {js("wake", {{"detected", woke}, {"keyword", "alexa"}})}};
  if (woke) wake.outputs.push_back(audio("audio", audio_s - 0.5));
  s.push_back(wake);
  if (!woke) {
    for (const char* id : {"asr", "nlu", "er", "result"}) s.push_back({id, {}, {}, tr::StageStatus::Skipped});
    return s;
  }
  s.push_back({"asr", {audio("audio", audio_s - 0.5)}, {text("text", heard)}, tr::StageStatus::Ok, 500'000'000});
  s.push_back({"nlu", {text("text", heard)}, {js("nlu", nlu)}});
  s.push_back({"er", {js("nlu", nlu)}, {js("er", er)}});
  if (!res.is_null()) s.push_back({"result", {js("er", er)}, {js("result", res), text("say", "ok")}});
  return s;
}

json gold(bool addressed, const std::string& asr, const json& nlu, const json& er, const json& res) {
  if (!addressed) return {{"wake", {{"detected", false}}}, {"asr", nullptr}, {"nlu", nullptr}, {"er", nullptr},
                          {"result", nullptr}};
  return {{"wake", {{"detected", true}}}, {"asr", {{"text", asr}}}, {"nlu", nlu}, {"er", er}, {"result", res}};
}

TEST(WordErrors, CountsSubstitutionsDeletionsAndInsertions) {
  auto e = ev::word_errors("turn off kitchen lights", "turn on kitchen lights");
  EXPECT_EQ(e.substitutions, 1u);
  EXPECT_EQ(e.errors(), 1u);
  EXPECT_EQ(e.ref_words, 4u);
  e = ev::word_errors("turn kitchen lights now", "turn on kitchen lights");
  EXPECT_EQ(e.deletions, 1u);
  EXPECT_EQ(e.insertions, 1u);
  EXPECT_EQ(e.substitutions, 0u);
  e = ev::word_errors("", "what time is it");
  EXPECT_EQ(e.deletions, 4u);
  e = ev::word_errors("hello", "");
  EXPECT_EQ(e.insertions, 1u);
  EXPECT_EQ(e.ref_words, 0u);
}

// Four turns whose every metric is known:
//   t0 addressed, "turn on THE kitchen lights" heard as "turn off the kitchen
//      lights" (1 substitution over 4 canonical words; "the" is dropped),
//      right intent, slot "the kitchen" == gold "kitchen", right result;
//   t1 addressed, heard right (4 words), wrong intent, one spurious slot,
//      the gold refusal executed as an action (task wrong);
//   t2 NOT addressed but woke (a false wake) on 36 s of audio, and an
//      action ran (task wrong);
//   t3 addressed, wake missed: nothing ran (intent wrong, its slot missed).
ev::QualityReport known_report(const fs::path& dir) {
  TraceBuilder b(dir / "known.cas");
  const json lights_nlu = {{"intent", "iot_hue_lighton"}, {"slots", {slot("house_place", "the kitchen")}}};
  const json lights_gold_nlu = {{"intent", "iot_hue_lighton"}, {"slots", {slot("house_place", "kitchen")}}};
  const json lights_er = {{"entities", {{{"type", "house_place"}, {"value", "kitchen"}, {"resolved", "kitchen"}}}}};
  b.turn(gold(true, "turn on the kitchen lights", lights_gold_nlu, lights_er, result(true, "lights.on")),
         speech_turn(4, true, "turn off the kitchen lights", lights_nlu, lights_er, result(true, "lights.on")));
  const json time_gold_nlu = {{"intent", "datetime_query"}, {"slots", json::array()}};
  const json time_nlu = {{"intent", "datetime_convert"}, {"slots", {slot("place_name", "london")}}};
  const json empty_er = {{"entities", json::array()}};
  b.turn(gold(true, "what time is it", time_gold_nlu, empty_er, refusal()),
         speech_turn(3, true, "what time is it", time_nlu, empty_er, result(true, "clock.show")));
  b.turn(gold(false, "", nullptr, nullptr, nullptr),
         speech_turn(36, true, "play music", lights_nlu, lights_er, result(true, "music.play")));
  const json alarm_nlu = {{"intent", "alarm_set"}, {"slots", {slot("time", "seven am")}}};
  b.turn(gold(true, "wake me up at seven am", alarm_nlu, empty_er, result(true, "alarm.set")),
         speech_turn(5, false, "", nullptr, nullptr, nullptr));
  return ev::compute_report(b.close());
}

TEST(QualityReport, AsrSubstitutionGivesTheExactCorpusWer) {
  const auto r = known_report(temp_dir("wer"));
  ASSERT_TRUE(r.wer().has_value());
  EXPECT_DOUBLE_EQ(*r.wer(), 1.0 / 8.0);  // 1 error over 4 + 4 canonical words
  EXPECT_EQ(r.wer_turns, 2u);
  EXPECT_EQ(r.wer_missing_turns, 1u);  // the wake miss is counted apart
}

TEST(QualityReport, CountsWakeHitsAndFalseWakesPerHourOfNonAddressedAudio) {
  const auto r = known_report(temp_dir("wake"));
  EXPECT_EQ(r.turns, 4u);
  EXPECT_EQ(r.addressed, 3u);
  EXPECT_EQ(r.wake_hits.num, 2u);
  EXPECT_EQ(r.wake_hits.den, 3u);
  EXPECT_EQ(r.false_wakes, 1u);
  ASSERT_TRUE(r.false_wakes_per_hour().has_value());
  EXPECT_NEAR(*r.false_wakes_per_hour(), 100.0, 1e-9);  // 1 wake in 36 s
}

TEST(QualityReport, IntentAccuracyCountsUnrunNluAsWrongAndSlotF1IsMicro) {
  const auto r = known_report(temp_dir("nlu"));
  EXPECT_EQ(r.intent.num, 1u);
  EXPECT_EQ(r.intent.den, 3u);
  EXPECT_EQ(r.slots.tp, 1u);  // "the kitchen" == "kitchen" after canonicalisation
  EXPECT_EQ(r.slots.fp, 1u);  // london
  EXPECT_EQ(r.slots.fn, 1u);  // the missed alarm's time
  EXPECT_DOUBLE_EQ(*r.slots.f1(), 0.5);
  // Majority baseline: three gold intents once each -> 1/3.
  EXPECT_EQ(r.intent_baseline.num, 1u);
  EXPECT_EQ(r.intent_baseline.den, 3u);
}

TEST(QualityReport, TaskSuccessWantsNothingExecutedOnNonAddressedTurns) {
  const auto r = known_report(temp_dir("task"));
  EXPECT_EQ(r.task_addressed.num, 1u);  // only t0
  EXPECT_EQ(r.task_addressed.den, 3u);
  EXPECT_EQ(r.task_non_addressed.num, 0u);  // the false wake executed
  EXPECT_EQ(r.task_non_addressed.den, 1u);
  EXPECT_EQ(r.er.den, 3u);
  EXPECT_EQ(r.er.num, 2u);  // the wake miss has no er output
  // asr heard 3.5 + 2.5 + 35.5 s in 3 x 0.5 s.
  ASSERT_TRUE(r.asr_x_realtime.has_value());
  EXPECT_NEAR(*r.asr_x_realtime, 41.5 / 1.5, 1e-9);
}

TEST(QualityReport, JsonHasExactlyTheDocumentedKeys) {
  const json j = ev::to_json(known_report(temp_dir("json")));
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  std::vector<std::string> want = {"addressed",       "asr_x_realtime", "er_accuracy", "false_wakes",
                                   "false_wakes_per_hour", "intent_accuracy", "latency_ms", "slot_f1",
                                   "task_success",    "turns",          "wake_hit_rate", "wake_x_realtime", "wer"};
  std::sort(keys.begin(), keys.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(keys, want);
  EXPECT_TRUE(j["latency_ms"].contains("asr"));
  EXPECT_TRUE(j["latency_ms"]["asr"].contains("p99"));
}

TEST(QualityReport, TextPipelineTraceHasNullWakeMetrics) {
  const fs::path dir = temp_dir("text");
  TraceBuilder b(dir / "text.cas");
  const json nlu = {{"intent", "weather_query"}, {"slots", json::array()}};
  const json er = {{"entities", json::array()}};
  b.turn(gold(true, "what is the weather", nlu, er, refusal()),
         {{"asr", {text("text", "alexa what is the weather")}, {text("text", "what is the weather")}},
          {"nlu", {text("text", "what is the weather")}, {js("nlu", nlu)}},
          {"er", {js("nlu", nlu)}, {js("er", er)}},
          {"result", {js("er", er)}, {js("result", refusal())}}});
  const auto r = ev::compute_report(b.close());
  const json j = ev::to_json(r);
  EXPECT_EQ(j["turns"], 1);
  EXPECT_DOUBLE_EQ(j["wer"].get<double>(), 0.0);
  EXPECT_TRUE(j["wake_hit_rate"].is_null());
  EXPECT_TRUE(j["false_wakes"].is_null());
  EXPECT_TRUE(j["false_wakes_per_hour"].is_null());
  EXPECT_TRUE(j["asr_x_realtime"].is_null());
  EXPECT_DOUBLE_EQ(j["intent_accuracy"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["task_success"].get<double>(), 1.0);
  EXPECT_TRUE(j["slot_f1"].is_null());  // no slot anywhere: nothing to measure
}

TEST(SnrLevels, AreTomlFloatsAndRejectJunk) {
  EXPECT_EQ(ev::snr_toml("inf"), "inf");
  EXPECT_EQ(ev::snr_toml("20"), "20.0");
  EXPECT_EQ(ev::snr_toml("7.5"), "7.5");
  EXPECT_THROW(ev::snr_toml("loud"), std::invalid_argument);
  EXPECT_THROW(ev::snr_toml("20dB"), std::invalid_argument);
}

// End to end: the real text assistant over the small eval set, then the
// CLI on its trace.
TEST(CascadeEvalReport, TextAssistantOnSmallEvalSetGivesSaneJson) {
  const fs::path dir = temp_dir("e2e");
  ev::RunRequest rq;
  rq.pipeline = CASCADE_EVAL_TEXT_PIPELINE;
  rq.input = CASCADE_EVAL_SMALL_INPUT;
  rq.trace = dir / "text.cas";
  const auto run = ev::run_pipeline(rq);
  ASSERT_GT(run.turns, 0u);
  EXPECT_EQ(run.failed, 0u);

  const std::string cmd = std::string(CASCADE_EVAL_BINARY) + " report --json " + rq.trace.string();
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ASSERT_EQ(::pclose(p), 0) << out;
  const json j = json::parse(out);
  for (const char* k : {"turns", "addressed", "wer", "wake_hit_rate", "false_wakes", "false_wakes_per_hour",
                        "intent_accuracy", "slot_f1", "er_accuracy", "task_success", "asr_x_realtime",
                        "wake_x_realtime", "latency_ms"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["turns"].get<uint64_t>(), run.turns);
  for (const char* k : {"wer", "intent_accuracy", "slot_f1", "er_accuracy", "task_success"}) {
    ASSERT_TRUE(j[k].is_number()) << k;
    EXPECT_GE(j[k].get<double>(), 0.0) << k;
    EXPECT_LE(j[k].get<double>(), 1.0) << k;
  }
  EXPECT_GT(j["intent_accuracy"].get<double>(), 0.3);
  EXPECT_TRUE(j["latency_ms"].contains("nlu"));
}

// The speech assistant through run_levels: the snr override reaches the
// speech stage (a bad value would fail validation) and the trace lands
// where the report reads it. Four turns keep it to a few seconds.
TEST(RunLevels, SpeechAssistantWritesOneScoredTracePerLevel) {
  const fs::path dir = temp_dir("levels");
  const fs::path input = dir / "four.jsonl";
  {
    std::ifstream in(CASCADE_EVAL_SMALL_INPUT);
    std::ofstream out(input);
    std::string line;
    for (int i = 0; i < 4 && std::getline(in, line); ++i) out << line << "\n";
  }
  ev::LevelsRequest rq;
  rq.pipeline = CASCADE_EVAL_SPEECH_PIPELINE;
  rq.input = input;
  rq.out_dir = dir / "out";
  rq.snr_levels = {"inf"};
  const auto levels = ev::run_levels(rq);
  ASSERT_EQ(levels.size(), 1u);
  EXPECT_EQ(levels[0].trace, dir / "out" / "assistant-snrinf.cas");
  EXPECT_TRUE(fs::exists(levels[0].trace));
  EXPECT_EQ(levels[0].run.turns, 4u);
  EXPECT_EQ(levels[0].report.turns, 4u);
  EXPECT_TRUE(levels[0].report.has_wake);
  const json j = ev::to_json(levels);
  ASSERT_EQ(j["levels"].size(), 1u);
  EXPECT_EQ(j["levels"][0]["snr_db"], "inf");
  EXPECT_TRUE(j["levels"][0]["wake_hit_rate"].is_number());
  EXPECT_TRUE(j["levels"][0]["wake_x_realtime"].is_number());
}

}  // namespace
