// The gold probes of `cascade isolate train --probe`
// (isolate_train_probes.hpp) on turns built here: each answers from gold
// what it says it does, and is missing where the turn cannot tell.
#include "isolate_train_probes.hpp"

#include <cascade/core/diagnostic.hpp>

#include <gtest/gtest.h>

#include <cmath>

namespace it = cascade::isolate_train;
using cascade::trace::Payload;
using cascade::trace::StageRecord;
using cascade::trace::Turn;
using cascade::trace::TurnRecord;

namespace {

constexpr int kAsr = 1, kCorrect = 5;

// A turn whose NLU read `heard` and chose `intent`, with gold `gold`.
Turn turn(const std::string& heard, const std::string& intent, const std::string& gold) {
  Turn t;
  StageRecord nlu;
  nlu.stage_id = "nlu";
  Payload in;
  in.port = "text";
  in.bytes = heard;
  nlu.inputs.push_back(in);
  Payload out;
  out.port = "nlu";
  out.bytes = R"({"intent": ")" + intent + R"(", "slots": [], "confidence": 0.9})";
  nlu.outputs.push_back(out);
  t.stages.push_back(nlu);
  TurnRecord r;
  r.gold_json = gold;
  t.record = r;
  return t;
}

const char* kGold = R"({"asr": {"text": "tell me the hour"}, "nlu": {"intent": "datetime_query", "slots": []}})";

}  // namespace

TEST(Probes, ParseNamesInOrderAndRefusesUnknownOrRepeated) {
  const auto p = it::parse_probes({"intent", "failed"});
  ASSERT_EQ(p.size(), 2U);
  EXPECT_EQ(p[0], it::Probe::Intent);
  EXPECT_EQ(it::probe_column(p[1]), "probe_failed");
  for (const auto& bad : std::vector<std::vector<std::string>>{{"slots"}, {"failed", "failed"}}) {
    try {
      it::parse_probes(bad);
      ADD_FAILURE() << "accepted " << bad.back();
    } catch (const cascade::CascadeError& e) {
      EXPECT_EQ(e.code(), "N022");
    }
  }
}

TEST(Probes, FailedReadsTheOraclesLabel) {
  EXPECT_EQ(it::probe_value(it::Probe::Failed, {}, kAsr), 1.0F);
  EXPECT_EQ(it::probe_value(it::Probe::Failed, {}, kCorrect), 0.0F);
  EXPECT_TRUE(std::isnan(it::probe_value(it::Probe::Failed, {}, -1)));
}

TEST(Probes, TranscriptComparesWhatTheNluReadWithTheReferenceWordForWord) {
  EXPECT_EQ(it::probe_value(it::Probe::Transcript, turn("Tell me, the hour.", "datetime_query", kGold), kCorrect), 0.0F);
  EXPECT_EQ(it::probe_value(it::Probe::Transcript, turn("tell me the our", "datetime_query", kGold), kCorrect), 1.0F);
  EXPECT_EQ(it::probe_value(it::Probe::Transcript, turn("tell me hour", "datetime_query", kGold), kCorrect), 1.0F);
}

TEST(Probes, IntentComparesTheNlusTopIntentWithGold) {
  EXPECT_EQ(it::probe_value(it::Probe::Intent, turn("tell me the hour", "datetime_query", kGold), kCorrect), 0.0F);
  EXPECT_EQ(it::probe_value(it::Probe::Intent, turn("tell me the hour", "music_query", kGold), kAsr), 1.0F);
}

TEST(Probes, MissingWhereTheTurnCannotTell) {
  EXPECT_TRUE(std::isnan(it::probe_value(it::Probe::Transcript, turn("tell me the hour", "x", "{}"), kCorrect)));
  EXPECT_TRUE(std::isnan(it::probe_value(it::Probe::Intent, turn("tell me the hour", "x", "not json"), kCorrect)));
  EXPECT_TRUE(std::isnan(it::probe_value(it::Probe::Intent, Turn{}, kCorrect)));  // no NLU stage, no record
  Turn no_gold = turn("tell me the hour", "x", "");
  no_gold.record.reset();
  EXPECT_TRUE(std::isnan(it::probe_value(it::Probe::Transcript, no_gold, kCorrect)));
}
