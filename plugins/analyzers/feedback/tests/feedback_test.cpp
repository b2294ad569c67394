// The feedback analyzer on hand-built traces: each turn a real trace record
// (asr -> result, optionally tts, the turn record with its timestamp and
// result line) written with the traces Writer, the real plugin run by the
// AnalyzerHost. Each signal fires on its case and not on its near miss.
#include "phonetic.hpp"
#include "signals.hpp"

#include <cascade/core/analyze.hpp>
#include <cascade/core/loader.hpp>
#include <cascade/trace/reader.hpp>
#include <cascade/trace/writer.hpp>

#include <nlohmann/json.hpp>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <optional>

namespace fs = std::filesystem;
using nlohmann::json;
using namespace cascade;

namespace {

struct Turn {
  std::string dialogue = "d1";
  std::string text;     // what the asr stage heard (wake word included or not)
  double at_s = 0;      // seconds after 2026-01-15T09:00:00Z
  bool success = true;
  std::string say = "Okay.";
  std::optional<double> tts_s{};  // a tts stage reporting duration_s
};

std::string stamp(double at_s) {
  const int whole = static_cast<int>(at_s);
  const int millis = static_cast<int>((at_s - whole) * 1000 + 0.5);
  char buf[64];
  std::snprintf(buf, sizeof buf, "2026-01-15T%02d:%02d:%02d.%03dZ", 9 + whole / 3600, (whole / 60) % 60, whole % 60, millis);
  return buf;
}

void write_trace(const fs::path& file, const std::vector<Turn>& turns) {
  trace::WriterOptions wo;
  wo.path = file;
  trace::Writer w(wo);
  std::map<std::string, uint32_t> next_index;
  int64_t t = 1'800'000'000'000'000'000;  // the run's clock: unrelated to the timestamps
  for (uint64_t seq = 0; seq < turns.size(); ++seq) {
    const Turn& turn = turns[seq];
    const uint32_t index = next_index[turn.dialogue]++;
    const trace::TurnKey key{turn.dialogue, "u1", index, seq};
    const std::string result = json{{"success", turn.success}, {"say", turn.say}}.dump();
    const int64_t start = t;
    auto stage = [&](const char* id, const trace::PayloadView& out, std::vector<trace::FeatureView> features) {
      trace::StageEvent ev;
      ev.turn = key;
      ev.stage_id = id;
      ev.plugin = id;
      ev.plugin_version = "1.0.0";
      ev.start_ns = t;
      ev.end_ns = t += 2'000'000;
      ev.status = trace::StageStatus::Ok;
      ev.outputs = {&out, 1};
      ev.features = features;
      w.write(0, ev);
    };
    stage("asr", {"text", CASCADE_PAYLOAD_TEXT, 0, turn.text.data(), turn.text.size()}, {});
    stage("result", {"result", CASCADE_PAYLOAD_JSON, 0, result.data(), result.size()}, {});
    if (turn.tts_s) stage("tts", {"audio", CASCADE_PAYLOAD_TEXT, 0, "x", 1}, {{"duration_s", *turn.tts_s}});
    const std::string when = stamp(turn.at_s);
    trace::TurnEvent te;
    te.turn = key;
    te.timestamp = when;
    te.start_ns = start;
    te.end_ns = t;
    te.input = {"input", CASCADE_PAYLOAD_TEXT, 0, turn.text.data(), turn.text.size()};
    te.result_json = result;
    w.write(0, te);
  }
  w.close();
}

class Feedback : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cascade-feedback-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Verdicts of `turns`, in order.
  std::vector<Verdict> run(const std::vector<Turn>& turns, std::map<std::string, std::string> params = {}) {
    write_trace(dir_ / "t.cas", turns);
    const auto data = trace::read_turns(dir_ / "t.cas");
    PluginRegistry reg;
    const LoadedPlugin& plugin = reg.load(FEEDBACK_SO);
    AnalysisOptions o;
    o.params = std::move(params);
    AnalyzerHost host(plugin, o);
    auto r = host.run(data);
    EXPECT_EQ(r.verdicts.size(), turns.size());
    for (const auto& v : r.verdicts) EXPECT_TRUE(v.analyzed) << v.error;
    return r.verdicts;
  }
  // The label of the first of two turns.
  std::string first(const Turn& a, const Turn& b) { return run({a, b}).at(0).label; }

  fs::path dir_;
};

std::vector<std::string> signals_of(const Verdict& v) {
  return json::parse(v.evidence)["signals"].get<std::vector<std::string>>();
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

TEST(Phonetic, SoundexFollowsTheStandardExamples) {
  EXPECT_EQ(phonetic::soundex("Robert"), "R163");
  EXPECT_EQ(phonetic::soundex("Rupert"), "R163");
  EXPECT_EQ(phonetic::soundex("Ashcraft"), "A261");  // h does not separate s and c
  EXPECT_EQ(phonetic::soundex("Tymczak"), "T522");
  EXPECT_EQ(phonetic::soundex("Pfister"), "P236");   // the first letter's own digit is dropped
  EXPECT_EQ(phonetic::soundex("Honeyman"), "H555");
  EXPECT_EQ(phonetic::soundex("10"), "10");
}

TEST(Phonetic, SimilarityIsOneForTheSameSoundsAndLowForOthers) {
  EXPECT_DOUBLE_EQ(phonetic::similarity("play imagine dragons", "play imagin dragon's"), 1.0);
  EXPECT_DOUBLE_EQ(phonetic::similarity("turn on the light", "what time is it"), 0.0);
  EXPECT_DOUBLE_EQ(phonetic::similarity("", "what"), 0.0);
}

TEST(Signals, NegativesAreReactionsNotRequests) {
  for (const char* s : {"no", "no i said the kitchen", "stop", "cancel that", "that's wrong", "never mind"})
    EXPECT_TRUE(feedback::is_negative(s)) << s;
  for (const char* s : {"stop the vacuum", "cancel my meeting", "is there snow today", "play nothing else matters"})
    EXPECT_FALSE(feedback::is_negative(s)) << s;
}

TEST_F(Feedback, RephraseOfAFailedTurnFiresAndAnUnrelatedNextTurnDoesNot) {
  const Turn failed{.text = "alexa play maj and dragons", .at_s = 0, .success = false, .say = "Sorry, I can't do that yet."};
  const auto v = run({failed, {.text = "alexa play imagine dragons", .at_s = 10}});
  EXPECT_EQ(v[0].label, "rephrased") << v[0].evidence;
  const json ev = json::parse(v[0].evidence);
  EXPECT_EQ(ev["next_turn"]["previous_outcome"], "failure");
  EXPECT_NEAR(ev["next_turn"]["gap_s"].get<double>(), 10.0, 1e-6);
  EXPECT_GT(ev["next_turn"]["similarity"].get<double>(), 0.4);
  EXPECT_EQ(v[1].label, "success");  // the last turn of its session, and it succeeded

  const auto unrelated = run({failed, {.text = "what time is it", .at_s = 10}});
  EXPECT_EQ(unrelated[0].label, "none") << "unrelated: not a rephrase, and the session goes on";
  EXPECT_LT(json::parse(unrelated[0].evidence)["next_turn"]["similarity"].get<double>(), 0.4);
}

TEST_F(Feedback, ThePreviousOutcomeSetsTheBar) {
  // Similar enough after a failure, not after a success (the user asked something new but close).
  const Turn next{.text = "play the latest album by imagine dragons on spotify in the kitchen", .at_s = 10};
  const auto after_failure = run({{.text = "play imagine dragons", .at_s = 0, .success = false}, next});
  EXPECT_EQ(after_failure[0].label, "rephrased") << after_failure[0].evidence;
  const double sim = json::parse(after_failure[0].evidence)["next_turn"]["similarity"].get<double>();
  ASSERT_GT(sim, 0.4);
  ASSERT_LT(sim, 0.6);
  EXPECT_EQ(first({.text = "play imagine dragons", .at_s = 0, .success = true}, next), "success");
}

TEST_F(Feedback, RephraseTooLateIsNot) {
  const Turn failed{.text = "play maj and dragons", .at_s = 0, .success = false};
  EXPECT_EQ(first(failed, {.text = "play imagine dragons", .at_s = 40}), "rephrased");
  EXPECT_EQ(first(failed, {.text = "play imagine dragons", .at_s = 50}), "none");  // same session, too late to be a retry
}

TEST_F(Feedback, RepeatIsTheSameWordsAndOneWordMoreIsARephrase) {
  const Turn a{.text = "alexa turn on the kitchen lights", .at_s = 0, .success = false};
  EXPECT_EQ(first(a, {.text = "Turn on the  kitchen lights", .at_s = 8}), "repeat");
  EXPECT_EQ(first(a, {.text = "turn on the kitchen lights please", .at_s = 8}), "rephrased");
}

TEST_F(Feedback, BargeInUsesTheTtsDurationElseTheSayLength) {
  // "Here is the weather for today in london." = 8 words = 2.76 s at the default 2.9 words a
  // second, after the default 1 s before a response starts: it ends at 3.76 s.
  const Turn spoken{.text = "what's the weather", .at_s = 0, .say = "Here is the weather for today in london."};
  const auto v = run({spoken, {.text = "set an alarm", .at_s = 3.5}});
  EXPECT_EQ(v[0].label, "barge_in") << v[0].evidence;
  EXPECT_EQ(json::parse(v[0].evidence)["response"]["source"], "say");
  EXPECT_EQ(first(spoken, {.text = "set an alarm", .at_s = 4.0}), "success");  // after the response ended

  Turn with_tts = spoken;
  with_tts.tts_s = 1.0;  // the tts stage said it in one second: 3 s later is no interruption
  const auto t = run({with_tts, {.text = "set an alarm", .at_s = 3.0}});
  EXPECT_EQ(t[0].label, "success") << t[0].evidence;
  EXPECT_EQ(json::parse(t[0].evidence)["response"]["source"], "tts");
  EXPECT_EQ(first(with_tts, {.text = "set an alarm", .at_s = 0.5}), "barge_in");
}

TEST_F(Feedback, ExplicitNegativeFiresOnNoAndStopButNotOnAStopRequest) {
  const Turn a{.text = "turn on the light in the bedroom", .at_s = 0, .say = "Okay."};
  EXPECT_EQ(first(a, {.text = "alexa no", .at_s = 5}), "explicit_negative");
  EXPECT_EQ(first(a, {.text = "that's wrong", .at_s = 5}), "explicit_negative");
  EXPECT_EQ(first(a, {.text = "stop the vacuum", .at_s = 5}), "success");
}

TEST_F(Feedback, AbandonedIsAFailedLastTurnOfItsSession) {
  const Turn failed{.text = "order a pizza", .at_s = 0, .success = false};
  auto v = run({failed});
  EXPECT_EQ(v[0].label, "abandoned");
  // The next turn of the dialogue comes after the session gap: this one still ended its session.
  EXPECT_EQ(first(failed, {.text = "order a pizza", .at_s = 400}), "abandoned");
  // A successful last turn is a success, and a failed turn followed by something new is not abandoned.
  EXPECT_EQ(run({{.text = "order a pizza", .at_s = 0, .success = true}})[0].label, "success");
  EXPECT_EQ(first(failed, {.text = "what time is it", .at_s = 100}), "none");
}

TEST_F(Feedback, SessionsAreCutByDialogue) {
  const Turn failed{.dialogue = "d1", .text = "order a pizza", .at_s = 0, .success = false};
  const Turn other{.dialogue = "d2", .text = "order a pizza", .at_s = 5};
  const auto v = run({failed, other});
  EXPECT_EQ(v[0].label, "abandoned") << "a turn of another dialogue is no repeat";
}

TEST_F(Feedback, EvidenceListsEverySignalAndTheParametersAreHonoured) {
  // A failed turn, interrupted by its own repetition: both signals fire, the stronger labels the turn.
  const Turn failed{.text = "call mom", .at_s = 0, .success = false, .say = "Sorry, I did not catch who to call."};
  const auto v = run({failed, {.text = "call mom", .at_s = 1.5}});
  const auto s = signals_of(v[0]);
  EXPECT_TRUE(has(s, "repeat"));
  EXPECT_TRUE(has(s, "barge_in"));
  EXPECT_EQ(v[0].label, "repeat");
  const auto fast = run({failed, {.text = "call mom", .at_s = 1.5}}, {{"speaking_rate_wps", "100"}});
  EXPECT_FALSE(has(signals_of(fast[0]), "barge_in")) << fast[0].evidence;
  const auto prompt = run({failed, {.text = "call mom", .at_s = 1.5}}, {{"response_latency_s", "0"}});
  EXPECT_TRUE(has(signals_of(prompt[0]), "barge_in")) << "8 words at 2.9 a second still outlast 1.5 s";
  const auto slow_start = run({failed, {.text = "call mom", .at_s = 3.5}}, {{"response_latency_s", "0"}});
  EXPECT_FALSE(has(signals_of(slow_start[0]), "barge_in")) << slow_start[0].evidence;
}

}  // namespace
