// The SDK's analyzer harness (cascade/sdk/analyzer_testing.hpp) on its own:
// the oracle (a real analyzer that replays) answered by replay functions,
// the refusals a host makes at load, and the harness' JSON check against
// the parser the core host uses.
#include "analyzer_turns.hpp"

#include <nlohmann/json.hpp>
#include <gtest/gtest.h>

#include <fstream>

using nlohmann::json;
using namespace cascade::sdk;
using namespace cascade::sdk::testing;

namespace {

// A real gold from the eval dialogues: a supported request that succeeded,
// whose transcript has "the" (dropping it keeps the meaning) and whose ER
// found entities (an ER output without them is wrong).
json gold_with_the() {
  std::ifstream in(std::string(ASSISTANT_DATA_DIR) + "/eval_dialogues.jsonl");
  for (std::string line; std::getline(in, line);) {
    const json t = json::parse(line);
    const json& g = t["gold"];
    if (t["addressed"].get<bool>() && g["result"].is_object() && g["result"]["success"].get<bool>() &&
        !g["er"]["entities"].empty() && (" " + g["asr"]["text"].get<std::string>() + " ").find(" the ") != std::string::npos)
      return g;
  }
  ADD_FAILURE() << "no eval turn fits";
  return json::object();
}

// The recorded turn the oracle walks: the transcript drops "the" (judged
// equivalent, not exact: a replay must decide), then NLU, ER and the result
// are wrong.
RecordedTurn misheard_turn(const json& g) {
  std::string said = " " + g["asr"]["text"].get<std::string>() + " ";
  said.erase(said.find(" the "), 4);
  said = said.substr(1, said.size() - 2);
  const std::string wrong_nlu = R"({"intent":"general_quirky","slots":[]})";
  const std::string wrong_er = R"({"intent":"general_quirky","entities":[]})";
  return RecordedTurn("d", 0)
      .text("alexa " + g["asr"]["text"].get<std::string>())
      .gold(g.dump())
      .stage(RecordedStage("asr").output("text", Value::text(said)).confidence(0.8))
      .stage(RecordedStage("nlu").output("nlu", Value::json(wrong_nlu)).confidence(0.3))
      .stage(RecordedStage("er").output("er", Value::json(wrong_er)))
      .stage(RecordedStage("result").output("result", Value::json(result_json(false, false))));
}

struct ReplayLog {
  std::vector<std::vector<Forced>> calls;
};

TEST(AnalyzerHarness, OracleReplayThatStaysWrongBlamesTheFirstWrongStage) {
  const json g = gold_with_the();
  ReplayLog log;
  auto h = AnalyzerHarness::load(ORACLE_SO, {}, [&](const RecordedTurn& turn, const std::vector<Forced>& forced) {
    EXPECT_EQ(turn.dialogue_id, "d");
    log.calls.push_back(forced);
    return result_json(false, false);  // still wrong
  });
  const AnalyzerVerdict v = h->run_one(misheard_turn(g));
  ASSERT_TRUE(v.analyzed) << v.error;
  EXPECT_EQ(v.label, "nlu") << v.evidence;
  EXPECT_EQ(v.replays, 1u);
  ASSERT_EQ(log.calls.size(), 1u);
  // The stages before the wrong one forced to gold, the wrong one as recorded.
  ASSERT_EQ(log.calls[0].size(), 2u);
  EXPECT_EQ(log.calls[0][0].stage, "asr");
  EXPECT_EQ(log.calls[0][0].source, Forced::Source::Gold);
  EXPECT_EQ(log.calls[0][0].gold_key, "asr");
  EXPECT_EQ(log.calls[0][1].stage, "nlu");
  EXPECT_EQ(log.calls[0][1].source, Forced::Source::Recorded);
  const json ev = json::parse(v.evidence);
  EXPECT_EQ(ev["judgements"]["asr"], "equivalent");
  EXPECT_EQ(ev["replays"][0]["forced"]["nlu"], "recorded");
  EXPECT_FALSE(ev["replays"][0]["recovered"].get<bool>());
}

TEST(AnalyzerHarness, OracleReplayThatRecoversWalksOnToTheNextWrongStage) {
  const json g = gold_with_the();
  uint32_t calls = 0;
  auto h = AnalyzerHarness::load(ORACLE_SO, {}, [&](const RecordedTurn&, const std::vector<Forced>& forced) {
    ++calls;
    // With NLU as recorded the pipeline still gets it right (the replay
    // recovers); with ER as recorded it does not.
    return forced.back().stage == "nlu" ? ReplayReply(g["result"].dump()) : ReplayReply(result_json(false, false));
  });
  const AnalyzerVerdict v = h->run_one(misheard_turn(g));
  ASSERT_TRUE(v.analyzed) << v.error;
  EXPECT_EQ(v.label, "er") << v.evidence;
  EXPECT_EQ(v.replays, 2u);
  EXPECT_EQ(calls, 2u);
  EXPECT_TRUE(json::parse(v.evidence)["replays"][0]["recovered"].get<bool>());
}

TEST(AnalyzerHarness, AFailedReplayReachesTheAnalyzerWithItsCode) {
  const json g = gold_with_the();
  auto h = AnalyzerHarness::load(ORACLE_SO, {}, [](const RecordedTurn&, const std::vector<Forced>&) {
    return ReplayReply::failed("er", "R012", "er: timed out");
  });
  const AnalyzerVerdict v = h->run_one(misheard_turn(g));
  ASSERT_TRUE(v.analyzed) << v.error;
  EXPECT_EQ(v.label, "nlu");
  const json replay = json::parse(v.evidence)["replays"][0];
  EXPECT_EQ(replay["status"], "failed");
  EXPECT_EQ(replay["error"], "R012: er: timed out");
  EXPECT_TRUE(replay["result"].is_null());
}

TEST(AnalyzerHarness, ATurnWithoutGoldIsNotAnalyzedByTheOracle) {
  auto h = AnalyzerHarness::load(ORACLE_SO, {}, [](const RecordedTurn&, const std::vector<Forced>&) { return ReplayReply(); });
  const AnalyzerVerdict v = h->run_one(RecordedTurn("d", 0).stage(RecordedStage("result")));
  EXPECT_FALSE(v.analyzed);
  EXPECT_NE(v.error.find("gold"), std::string::npos) << v.error;
}

TEST(AnalyzerHarness, RefusesWhatTheHostRefusesAtLoad) {
  // An analyzer that replays, without a way to answer replays (cascade
  // isolate without -p: N003).
  EXPECT_THROW(AnalyzerHarness::load(ORACLE_SO), std::runtime_error);
  // A parameter the analyzer does not declare (N002).
  EXPECT_THROW(AnalyzerHarness::load(RULES_SO, {{"no_such", "1"}}), std::runtime_error);
  // A stage is not an analyzer (N001).
  EXPECT_THROW(AnalyzerHarness::load(NORMALIZE_SO), std::runtime_error);
  // A parameter that does not parse fails open() with the plugin's message.
  try {
    AnalyzerHarness::load(ORACLE_SO, {{"stages", "asr:bogus,result"}},
                          [](const RecordedTurn&, const std::vector<Forced>&) { return ReplayReply(); });
    ADD_FAILURE() << "open should fail";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown judge kind 'bogus'"), std::string::npos) << e.what();
  }
}

TEST(AnalyzerHarness, ParametersReachTheAnalyzer) {
  RecordedTurn t = assistant_turn("d", 0, "what is the weather", kFirstTurnNs);
  t.stages[1].confidence(0.5);  // above the default nlu_min (0.45)
  answer(t, false, true);
  EXPECT_EQ(AnalyzerHarness::load(RULES_SO)->run_one(t).label, "result");
  EXPECT_EQ(AnalyzerHarness::load(RULES_SO, {{"nlu_min", "0.6"}})->run_one(t).label, "nlu");
}

TEST(AnalyzerHarness, ReplayWithoutAReplayFunctionIsUnavailable) {
  const AnalyzerVerdict v = AnalyzerHarness::load(PROBE_SO)->run_one(RecordedTurn("d", 0).text("probe:replay"));
  ASSERT_TRUE(v.analyzed) << v.error;
  EXPECT_EQ(json::parse(v.evidence)["refused"], static_cast<int>(CASCADE_ERR_UNAVAILABLE));
}

TEST(AnalyzerHarness, TheExampleBlamesTheLeastConfidentStageBeforeTheResult) {
  auto h = AnalyzerHarness::load(EXAMPLE_SO);
  RecordedTurn t = assistant_turn("d", 0, "what is the weather", kFirstTurnNs);
  EXPECT_EQ(h->run_one(t).label, "correct");
  answer(t, false, true);
  t.stages[2].confidence(0.25);
  const AnalyzerVerdict v = h->run_one(t);
  EXPECT_EQ(v.label, "er");
  EXPECT_DOUBLE_EQ(v.score, 0.75);
  EXPECT_EQ(json::parse(v.evidence), json::parse(R"({"stage":"er","confidence":0.25})"));
}

// sdk/README.md's harness snippet, as written there.
TEST(AnalyzerHarness, TheReadmeSnippetGivesWhatTheReadmeSays) {
  auto h = AnalyzerHarness::load(EXAMPLE_SO);
  AnalyzerVerdict v = h->run_one(
      RecordedTurn("d1", 0)
          .text("alexa play jazz")
          .gold(R"({"result": {"success": true}})")
          .stage(RecordedStage("asr").output("text", Value::text("play jazz")).confidence(0.9))
          .stage(RecordedStage("nlu").output("nlu", Value::json(R"({"intent":"play_music"})")).confidence(0.2)
                     .feature("margin", 0.05).nbest("play_music", 0.2))
          .stage(RecordedStage("result").output("result", Value::json(R"({"success":false})")).feature("success", 0)));
  EXPECT_EQ(v.label, "nlu");
  EXPECT_EQ(v.evidence, R"({"confidence":0.200000,"stage":"nlu"})");
}

// The harness refuses evidence exactly when the core host's parser does.
TEST(AnalyzerHarness, JsonCheckAgreesWithTheCoreHostsParser) {
  const std::vector<std::string> texts = {
      "1", "-0", "0.5", "-1.5e-3", "1E+2", "01", "1.", ".5", "-", "1e", "+1", "1e400", "-1e400", "123456789012345678901234567890",
      "true", "false", "null", "nul", "True", "\"\"", "\"a\\\"b\"", "\"\\u00e9\"", "\"\\ud83d\\ude00\"", "\"\\ud83d\"",
      "\"\\ude00\"", "\"\\x\"", "\"tab\there\"", "\"caf\xc3\xa9\"", "\"\xc3\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"",
      "\"\xf4\x90\x80\x80\"", "\"\xf0\x9f\x98\x80\"", "\"\xff\"", "[]", "[1,2]", "[1,]", "[,1]", "{}", "{\"a\":1}", "{\"a\":1,}",
      "{a:1}", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "  {\"a\": [1, {\"b\": null}]}\n", "1 2", "", "   ", "[", "]", "{\"a\":",
      "\"unterminated", "[1]x", "/* c */ 1", "1 // c", std::string(400, '[') + std::string(400, ']')};
  for (const std::string& t : texts) {
    const bool core = !json::parse(t, nullptr, false).is_discarded();
    EXPECT_EQ(cascade::sdk::json_check::one_value(t), core) << "'" << t << "'";
  }
}

}  // namespace
