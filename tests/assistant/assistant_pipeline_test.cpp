// The reference assistant end to end on a handful of eval dialogues: real
// synthesis, wake word, ASR, NLU, ER, result and TTS plugins loaded from
// their .so files; the trace must hold every stage of every turn with the
// features each plugin reports.
#include <cascade/core/run.hpp>
#include <cascade/trace/reader.hpp>
#include <cascade/trace/writer.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace cascade;

namespace {

struct Ran {
  trace::TraceData data;
  RunSummary summary;
};

Ran run_pipeline(const char* toml, const char* name) {
  PipelineLoad load = load_pipeline(fs::path(SOURCE_DIR) / "pipelines" / toml);
  for (const auto& d : load.problems) ADD_FAILURE() << d.format();
  const LoadedPipeline p = std::move(load).take();
  const fs::path tp = fs::temp_directory_path() / (std::string("cascade_assistant_") + name + std::to_string(::getpid()) + ".cas");
  Ran r;
  {
    trace::Writer w({.path = tp});
    Engine e(p.plan, {.threads = 2, .trace = &w});
    auto src = open_turns(fs::path(DATA_DIR) / "eval_dialogues_small.jsonl");
    RunOptions ro;
    ro.trace = &w;
    r.summary = run_turns(e, *src, ro);
    w.close();
  }
  r.data = trace::read_turns(tp);
  fs::remove(tp);
  return r;
}

bool addressed(const trace::Turn& t) {
  auto gold = nlohmann::json::parse(t.record->gold_json);
  return gold["wake"]["detected"].get<bool>();
}

}  // namespace

TEST(AssistantPipeline, EveryStageOfEveryTurnIsTracedWithItsFeatures) {
  auto r = run_pipeline("assistant.toml", "voice");
  ASSERT_GT(r.summary.turns, 10u);
  EXPECT_EQ(r.data.turns.size(), r.summary.turns);
  EXPECT_TRUE(r.data.damage.empty());
  size_t woken = 0, understood = 0;
  for (const auto& t : r.data.turns) {
    ASSERT_TRUE(t.record.has_value());
    EXPECT_FALSE(t.record->gold_json.empty());
    for (const char* id : {"speech", "wake", "asr", "nlu", "er", "result", "tts"})
      ASSERT_NE(t.stage(id), nullptr) << t.id.dialogue_id << " lacks " << id;
    const auto* speech = t.stage("speech");
    EXPECT_EQ(speech->status, trace::StageStatus::Ok);
    const auto* audio = speech->output("audio");
    ASSERT_NE(audio, nullptr);
    EXPECT_GT(audio->size, 16000u);  // more than half a second of speech
    EXPECT_EQ(audio->sample_rate, 16000u);
    const auto* wake = t.stage("wake");
    EXPECT_EQ(wake->status, trace::StageStatus::Ok);
    EXPECT_TRUE(wake->has_confidence);
    auto decision = nlohmann::json::parse(wake->output("wake")->text());
    if (!decision["detected"].get<bool>()) {
      // Not woken: nothing downstream runs, and the trace says why.
      EXPECT_EQ(t.stage("asr")->status, trace::StageStatus::Skipped);
      EXPECT_EQ(t.stage("result")->status, trace::StageStatus::Skipped);
      continue;
    }
    ++woken;
    const auto* asr = t.stage("asr");
    ASSERT_EQ(asr->status, trace::StageStatus::Ok) << asr->error_message;
    EXPECT_TRUE(asr->has_confidence);
    EXPECT_GE(asr->confidence, 0.0);
    EXPECT_LE(asr->confidence, 1.0);
    EXPECT_FALSE(asr->nbest.empty());
    EXPECT_TRUE(asr->feature("rtf").has_value());
    const auto* nlu = t.stage("nlu");
    ASSERT_EQ(nlu->status, trace::StageStatus::Ok) << nlu->error_message;
    EXPECT_TRUE(nlu->has_confidence);
    EXPECT_FALSE(nlu->nbest.empty());  // top-k intents
    auto interp = nlohmann::json::parse(nlu->output("nlu")->text());
    EXPECT_TRUE(interp.contains("intent"));
    understood += addressed(t) ? 1 : 0;
    EXPECT_EQ(t.stage("er")->status, trace::StageStatus::Ok);
    const auto* result = t.stage("result");
    ASSERT_EQ(result->status, trace::StageStatus::Ok) << result->error_message;
    EXPECT_TRUE(nlohmann::json::parse(result->output("result")->text()).contains("success"));
    EXPECT_EQ(t.stage("tts")->status, trace::StageStatus::Ok);
  }
  // Clean synthetic speech: the wake word is heard in most addressed turns.
  EXPECT_GT(woken, r.summary.turns / 2);
  EXPECT_GT(understood, 0u);
}

TEST(AssistantPipeline, TheTextPipelineUnderstandsTypedRequests) {
  auto r = run_pipeline("assistant-text.toml", "text");
  size_t right = 0, total = 0;
  for (const auto& t : r.data.turns) {
    if (!addressed(t)) continue;
    ++total;
    auto gold = nlohmann::json::parse(t.record->gold_json);
    auto interp = nlohmann::json::parse(t.stage("nlu")->output("nlu")->text());
    right += interp["intent"] == gold["nlu"]["intent"] ? 1 : 0;
    // The normaliser stands in the asr slot and removes the wake word.
    EXPECT_EQ(t.stage("asr")->output("text")->text().rfind("alexa ", 0), std::string::npos);
  }
  ASSERT_GT(total, 10u);
  EXPECT_GT(right * 2, total) << right << "/" << total << " intents right on typed text";
}
