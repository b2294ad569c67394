// Online rewriting: the retrieval index, the ranker's rules (trigger,
// personal evidence), the index file's errors, the stage through the SDK
// harness, and `cascade rewrite index` on real trace files.
#include "online/index_file.hpp"
#include "online/ngram_index.hpp"
#include "online/rewriter.hpp"
#include "online/signals.hpp"
#include "rewrite/index_build.hpp"
#include "table/table.hpp"
#include "tests/trace_fixture.hpp"

#include <cascade/sdk/testing.hpp>

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

namespace cascade::rewriting {
namespace {

using cascade::sdk::Status;
using cascade::sdk::testing::Harness;
using cascade::sdk::testing::Value;
using testing_support::ScratchDir;
using testing_support::TraceFile;

OnlineIndexFile sample_index() {
  OnlineIndexFile f;
  f.global = {{"play imagine dragons", 20, 9},
              {"play imagine dragons radioactive", 3, 2},
              {"set an alarm for seven am", 10, 6},
              {"turn on the kitchen lights", 30, 12},
              {"what's the weather in wilkerson california", 3, 1},
              {"what's the weather in wilkes", 50, 20}};
  f.personal = {{"u1", "what's the weather in wilkerson california", 3},
                {"u2", "what's the weather in wilkerson california", 1},
                {"u3", "call grandma rosalind", 2},
                {"u4", "call grandma rosalind", 1}};
  return f;
}

TEST(NgramIndex, FindsTheClosestRequestFirstAndScoresCosines) {
  const NgramIndex index({"play imagine dragons", "turn on the kitchen lights", "set an alarm for seven am"});
  const auto hits = index.search("play imagin dragons", 3);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(index.text(hits[0].doc), "play imagine dragons");
  EXPECT_GT(hits[0].cosine, 0.6);
  for (size_t i = 1; i < hits.size(); ++i) EXPECT_LE(hits[i].cosine, hits[i - 1].cosine);
  EXPECT_NEAR(index.cosine("turn on the kitchen lights", "turn on the kitchen lights"), 1.0, 1e-6);
  EXPECT_NEAR(index.cosine("turn on the kitchen lights", "xyz"), 0.0, 1e-6);
  EXPECT_EQ(index.find("set an alarm for seven am"), 2);
  EXPECT_EQ(index.find("set an alarm"), -1);
  EXPECT_TRUE(index.knows_word("kitchen"));
  EXPECT_FALSE(index.knows_word("imagin"));
}

TEST(NgramIndex, SameSoundMatchesSoundexCodesWordForWord) {
  const NgramIndex index({"play imagine dragons", "turn on the kitchen lights"});
  const auto& same = index.same_sound("plai imagin dragon's");
  ASSERT_EQ(same.size(), 1u);
  EXPECT_EQ(same[0], 0u);
  EXPECT_TRUE(index.same_sound("play dragons").empty());
}

TEST(NgramIndex, SearchIsExactOnRareGramsAtScale) {
  // Many documents share the common grams; the one that shares the rare ones must still come first.
  std::vector<std::string> docs;
  for (int i = 0; i < 2000; ++i) docs.push_back("play song number " + std::to_string(i));
  docs.emplace_back("play zanzibar blues");
  const NgramIndex index(docs);
  const auto hits = index.search("play zanzibr blues", 5);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(index.text(hits[0].doc), "play zanzibar blues");
  EXPECT_NEAR(hits[0].cosine, index.cosine("play zanzibr blues", "play zanzibar blues"), 1e-5);
}

TEST(OnlineRewriter, RewritesAMisheardRequestToTheSuccessfulOne) {
  const OnlineRewriter r(sample_index(), {});
  const auto d = r.decide("Play Imagin  Dragons", "");
  EXPECT_TRUE(d.triggered);
  EXPECT_NEAR(d.oov, 1.0 / 3, 1e-9);
  ASSERT_TRUE(d.rewrite);
  EXPECT_EQ(d.best->text, "play imagine dragons");
}

TEST(OnlineRewriter, TriggersOnlyOnDefectiveLookingRequests) {
  const OnlineRewriter r(sample_index(), {});
  EXPECT_FALSE(r.decide("turn on the kitchen lights", "").triggered) << "a known successful request";
  EXPECT_FALSE(r.decide("turn on the alarm", "").triggered) << "every word known: nothing looks misheard";
  const auto unrelated = r.decide("order a pizza with anchovies", "");
  EXPECT_TRUE(unrelated.triggered);
  EXPECT_FALSE(unrelated.rewrite) << "nothing similar enough: " << (unrelated.best ? unrelated.best->text : "");
  OnlineParams strict;
  strict.oov_min = 0.5;
  EXPECT_FALSE(OnlineRewriter(sample_index(), strict).decide("play imagin dragons", "").triggered);
}

TEST(OnlineRewriter, WithSignalsTriggersOnWhatPrecedesAFailure) {
  const OnlineRewriter r(sample_index(), {});
  TurnSignals failed;
  failed.result_ok = false;
  // Every word known, so the text-only trigger stays quiet; the failed result does not.
  EXPECT_FALSE(r.decide("set an alarm for seven", "").triggered);
  const auto d = r.decide("set an alarm for seven", "", failed);
  EXPECT_TRUE(d.triggered);
  EXPECT_EQ(d.trigger, "result");
  ASSERT_TRUE(d.rewrite);
  EXPECT_EQ(d.best->text, "set an alarm for seven am");

  TurnSignals fine;
  fine.result_ok = true;
  fine.nlu_confidence = 0.9;
  EXPECT_FALSE(r.decide("play imagin dragons", "", fine).triggered) << "signals, when given, decide; not unknown words";
  TurnSignals unsure = fine;
  unsure.nlu_confidence = 0.3;
  EXPECT_EQ(r.decide("play imagin dragons", "", unsure).trigger, "nlu_confidence");
  TurnSignals unresolved = fine;
  unresolved.unresolved = 1;
  EXPECT_EQ(r.decide("play imagin dragons", "", unresolved).trigger, "unresolved");

  // The ASR confidence counts only when asked to.
  TurnSignals noisy = fine;
  noisy.asr_confidence = 0.4;
  EXPECT_FALSE(r.decide("play imagin dragons", "", noisy).triggered);
  OnlineParams asr;
  asr.asr_min_confidence = 0.6;
  const OnlineRewriter with_asr(sample_index(), asr);
  EXPECT_EQ(with_asr.decide("play imagin dragons", "", noisy).trigger, "asr_confidence");
  // A known successful request with only a low confidence against it is left alone...
  EXPECT_FALSE(with_asr.decide("set an alarm for seven am", "", noisy).triggered);
  // ...but not when it failed here, and then never to itself.
  const auto known_failed = with_asr.decide("set an alarm for seven am", "", failed);
  EXPECT_TRUE(known_failed.triggered);
  EXPECT_FALSE(known_failed.rewrite && known_failed.best->text == "set an alarm for seven am");
}

TEST(OnlineRewriter, AnIntentThatNeedsASlotFoundWithoutOneLooksDefective) {
  TurnSignals slotless;
  slotless.result_ok = true;
  slotless.nlu_confidence = 0.95;
  slotless.intent = "play_music";
  OnlineParams params;
  params.slot_intents = {"play_music", "play_radio"};
  const OnlineRewriter r(sample_index(), params);
  const auto d = r.decide("play imagin dragons", "", slotless);
  EXPECT_EQ(d.trigger, "missing_slot");
  ASSERT_TRUE(d.rewrite);
  EXPECT_EQ(d.best->text, "play imagine dragons");
  TurnSignals with_slot = slotless;
  with_slot.slots = 1;
  EXPECT_FALSE(r.decide("play imagin dragons", "", with_slot).triggered) << "it found a slot";
  TurnSignals other = slotless;
  other.intent = "weather_query";
  EXPECT_FALSE(r.decide("play imagin dragons", "", other).triggered) << "an intent that needs no slot";
  EXPECT_FALSE(OnlineRewriter(sample_index(), {}).decide("play imagin dragons", "", slotless).triggered)
      << "no slot_intents: not a trigger";
  EXPECT_FALSE(r.decide("play imagine dragons", "", slotless).triggered) << "a known successful request";
}

TEST(OnlineSignals, ReadsTheStagesJsonAndIgnoresWhatItCannotRead) {
  const TurnSignals s = read_signals({R"({"text":"x","confidence":0.42})", R"({"intent":"play_music","confidence":0.8})",
                                      R"({"entities":[{"status":"resolved"},{"status":"unresolved"}]})",
                                      R"({"success":true,"supported":false})"});
  EXPECT_DOUBLE_EQ(*s.asr_confidence, 0.42);
  EXPECT_DOUBLE_EQ(*s.nlu_confidence, 0.8);
  EXPECT_EQ(s.unresolved, 1U);
  EXPECT_EQ(*s.intent, "play_music");
  EXPECT_EQ(s.slots, 0U);
  EXPECT_EQ(read_signals({"", R"({"intent":"play_music","slots":[{"type":"artist_name"}]})", "", ""}).slots, 1U);
  EXPECT_FALSE(*s.result_ok) << "unsupported is no success";
  EXPECT_TRUE(*read_signals({"", "", "", R"({"success":true})"}).result_ok);
  const TurnSignals none = read_signals({"not json", "[1,2]", R"({"entities":"x"})", ""});
  EXPECT_FALSE(none.any());
}

TEST(OnlineRewriter, ThePersonalLayerWinsOnlyWithEvidence) {
  const OnlineRewriter r(sample_index(), {});
  const std::string asked = "what's the weather in wilkersn";
  const auto global = r.decide(asked, "");
  ASSERT_TRUE(global.rewrite);
  EXPECT_EQ(global.best->text, "what's the weather in wilkes") << "globally the common place wins";
  const auto one_success = r.decide(asked, "u2");
  ASSERT_TRUE(one_success.rewrite);
  EXPECT_EQ(one_success.best->text, "what's the weather in wilkes") << "one personal success is no evidence";
  const auto three = r.decide(asked, "u1");
  ASSERT_TRUE(three.rewrite);
  EXPECT_EQ(three.best->text, "what's the weather in wilkerson california") << "three are";
  EXPECT_GT(three.best->personal, 0);
}

TEST(OnlineRewriter, AFrequentButDissimilarPersonalRequestDoesNotBlockASimilarOne) {
  OnlineIndexFile f;
  f.global = {{"play imagine dragons", 20, 9}, {"play jazz", 40, 9}};
  f.personal = {{"u5", "play jazz", 6}};
  const OnlineRewriter r(f, {});
  // "play jazz" would outscore on support and u5's history, but it is not similar enough to compete.
  const auto d = r.decide("play imagin dragons", "u5");
  ASSERT_TRUE(d.rewrite);
  EXPECT_EQ(d.best->text, "play imagine dragons");
}

TEST(OnlineRewriter, APersonalOnlyRequestNeedsEvidenceToBeACandidate) {
  const OnlineRewriter r(sample_index(), {});
  EXPECT_EQ(r.decide("call grandma rosalnd", "u3").best->text, "call grandma rosalind");
  const auto d = r.decide("call grandma rosalnd", "u4");
  EXPECT_FALSE(d.rewrite && d.best->text == "call grandma rosalind") << "u4 said it once";
}

TEST(OnlineIndexFile, RoundTripsAndRefusesBadFilesWithCodes) {
  ScratchDir dir("online-index");
  const OnlineIndexFile f = sample_index();
  std::string id;
  const std::string written = write_online_index(f, dir.path / "index.json");
  const OnlineIndexFile back = read_online_index(dir.path / "index.json", &id);
  EXPECT_EQ(id, written);
  EXPECT_EQ(to_json(back), to_json(f));
  const auto code = [&](const std::string& text) {
    try {
      parse_online_index(text, "i.json");
    } catch (const TableError& e) {
      return e.code();
    }
    return std::string("none");
  };
  EXPECT_EQ(code("{"), "W011");
  EXPECT_EQ(code("{\"cascade_rewrites\": 1}"), "W012");
  EXPECT_EQ(code("{\"cascade_online_index\": 2}"), "W013");
  EXPECT_EQ(code("{\"cascade_online_index\": 1, \"global\": [{\"text\": \"Play\", \"successes\": 1, \"users\": 1}], \"personal\": []}"),
            "W014");
  EXPECT_EQ(code("{\"cascade_online_index\": 1, \"global\": [{\"text\": \"play\", \"successes\": -1, \"users\": 1}], \"personal\": []}"),
            "W014");
  EXPECT_EQ(code("{\"cascade_online_index\": 1, \"global\": [], \"personal\": []}"), "none");
  try {
    read_online_index(dir.path / "missing.json");
    FAIL();
  } catch (const TableError& e) {
    EXPECT_EQ(e.code(), "W010");
  }
}

TEST(OnlineRewriteStage, RewritesThroughTheHarnessAndRecordsWhy) {
  ScratchDir dir("online-stage");
  const std::string id = write_online_index(sample_index(), dir.path / "index.json");
  auto h = Harness::load(ONLINE_REWRITE_SO, {{"index", (dir.path / "index.json").string()}});
  const auto r = h->run({{"text", Value::text("play imagin dragons")}});
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  EXPECT_EQ(r.outputs.at("text").bytes, "play imagine dragons");
  EXPECT_EQ(r.text_features.at("original_text"), "play imagin dragons");
  EXPECT_EQ(r.text_features.at("rewritten_by"), id);
  EXPECT_EQ(r.text_features.at("rewrite_layer"), "global");
  EXPECT_GT(r.features.at("rewrite_score"), 0.45);

  const auto known = h->run({{"text", Value::text("turn on the kitchen lights")}});
  EXPECT_EQ(known.outputs.at("text").bytes, "turn on the kitchen lights");
  EXPECT_EQ(known.forwards, 1u);
  EXPECT_TRUE(known.text_features.empty());

  // The user from the optional input: u1's own history.
  const auto mine = h->run({{"text", Value::text("what's the weather in wilkersn")}, {"user", Value::text("u1")}});
  EXPECT_EQ(mine.outputs.at("text").bytes, "what's the weather in wilkerson california");
  EXPECT_EQ(mine.text_features.at("rewrite_layer"), "personal");
  // With a probe's failed result bound, an all-known request is rewritten too, and the trigger recorded.
  const auto probed = h->run({{"text", Value::text("set an alarm for seven")},
                              {"result", Value::json(R"({"success":false,"supported":true})")}});
  EXPECT_EQ(probed.outputs.at("text").bytes, "set an alarm for seven am");
  EXPECT_EQ(probed.text_features.at("rewrite_trigger"), "result");
  // ...or from the turn itself (host->turn, ABI 1.4)...
  h->set_turn("d9", "u1");
  const auto turn_user = h->run({{"text", Value::text("what's the weather in wilkersn")}});
  EXPECT_EQ(turn_user.outputs.at("text").bytes, "what's the weather in wilkerson california");
  EXPECT_EQ(turn_user.text_features.at("rewrite_layer"), "personal");
  h->set_turn("d9", "");
  EXPECT_EQ(h->run({{"text", Value::text("what's the weather in wilkersn")}}).text_features.at("rewrite_layer"), "global");
  // ...or from the parameter.
  auto h1 = Harness::load(ONLINE_REWRITE_SO, {{"index", (dir.path / "index.json").string()}, {"user", "u1"}});
  EXPECT_EQ(h1->run({{"text", Value::text("what's the weather in wilkersn")}}).outputs.at("text").bytes,
            "what's the weather in wilkerson california");
  // `personal = false`: the global index alone, whoever the turn says the user is.
  auto global = Harness::load(ONLINE_REWRITE_SO, {{"index", (dir.path / "index.json").string()}, {"personal", "false"}});
  global->set_turn("d9", "u1");
  const auto only_global = global->run({{"text", Value::text("what's the weather in wilkersn")}});
  EXPECT_EQ(only_global.outputs.at("text").bytes, "what's the weather in wilkes");
  EXPECT_EQ(only_global.text_features.at("rewrite_layer"), "global");
}

TEST(OnlineRewriteStage, RefusesToOpenWithoutAnIndexOrWithABadOne) {
  try {
    Harness::load(ONLINE_REWRITE_SO);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("'index' is required"), std::string::npos) << e.what();
  }
  ScratchDir dir("online-bad");
  std::ofstream(dir.path / "v2.json") << "{\"cascade_online_index\": 2}";
  try {
    Harness::load(ONLINE_REWRITE_SO, {{"index", (dir.path / "v2.json").string()}});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("error[W013]"), std::string::npos) << e.what();
  }
}

// Real trace files: successes per user and globally; failures and rewritten turns stay out.
void write_traces(const std::filesystem::path& path) {
  TraceFile t(path);
  t.turn({.dialogue = "a", .index = 0, .seconds = 0, .asr = "Play Imagine Dragons", .success = true, .user = "u1"});
  t.turn({.dialogue = "a", .index = 1, .seconds = 20, .asr = "play imagine dragons", .success = true, .user = "u1"});
  t.turn({.dialogue = "b", .index = 0, .seconds = 0, .asr = "play imagine dragons", .success = true, .user = "u2"});
  t.turn({.dialogue = "b", .index = 1, .seconds = 30, .asr = "play maj and dragons", .success = false, .user = "u2"});
  t.turn({.dialogue = "c", .index = 0, .seconds = 0, .asr = "play maj and dragons", .rewritten_to = "play imagine dragons",
          .success = true, .user = "u3"});
  t.turn({.dialogue = "d", .index = 0, .seconds = 0, .asr = "call grandma rosalind", .success = true, .user = "u3"});
  t.close();
}

TEST(RewriteIndex, CountsSuccessesGloballyAndPerUserAndLeavesRewrittenTurnsOut) {
  ScratchDir dir("online-build");
  write_traces(dir.path / "t.cas");
  const auto r = build_online_index({dir.path / "t.cas"}, {});
  EXPECT_EQ(r.turns, 6u);
  EXPECT_EQ(r.successes, 4u);
  EXPECT_EQ(r.rewritten, 1u);
  ASSERT_EQ(r.index.global.size(), 2u);
  EXPECT_EQ(r.index.global[0].text, "call grandma rosalind");
  EXPECT_EQ(r.index.global[1].text, "play imagine dragons");
  EXPECT_EQ(r.index.global[1].successes, 3u);
  EXPECT_EQ(r.index.global[1].users, 2u);
  ASSERT_EQ(r.index.personal.size(), 3u);
  EXPECT_EQ(r.index.personal[0].user, "u1");
  EXPECT_EQ(r.index.personal[0].successes, 2u);
  const auto strict = build_online_index({dir.path / "t.cas"}, {.min_support = 2});
  ASSERT_EQ(strict.index.global.size(), 1u);
  EXPECT_EQ(strict.index.personal.size(), 3u) << "personal entries are kept whatever their count";
}

TEST(RewriteIndex, TheCommandWritesAnIndexTheStageLoads) {
  ScratchDir dir("online-cli");
  write_traces(dir.path / "t.cas");
  const std::string out = (dir.path / "index.json").string();
  const std::string cmd = std::string(CASCADE_REWRITE_BINARY) + " index " + (dir.path / "t.cas").string() + " -o " + out +
                          " 2>" + (dir.path / "err.txt").string();
  ASSERT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 0);
  const auto index = read_online_index(out);
  EXPECT_EQ(index.global.size(), 2u);
  auto h = Harness::load(ONLINE_REWRITE_SO, {{"index", out}});
  EXPECT_EQ(h->run({{"text", Value::text("play imagin dragons")}}).outputs.at("text").bytes, "play imagine dragons");
  const std::string bad = std::string(CASCADE_REWRITE_BINARY) + " index " + (dir.path / "t.cas").string() + " -o " + out +
                          " --min-support 0 2>/dev/null";
  EXPECT_EQ(WEXITSTATUS(std::system(bad.c_str())), 2);
}

}  // namespace
}  // namespace cascade::rewriting
