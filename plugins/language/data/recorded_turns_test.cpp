// cascade-assistant-data's recorded-ASR mode on the sample in testdata/
// (20 SLURP devel EVAL records with a recogniser transcript in "asr_text",
// some perturbed, one without it): turns carry the recorded hypothesis,
// their gold is the eval dialogues' gold for the same record, and bad
// records are reported with file:line and a code, never dropped silently.
#include "data/recorded_turns.hpp"

#include <cascade/core/baselines.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

using namespace cascade::language;
using json = nlohmann::json;

namespace {
const std::string kDir = CASCADE_ASSISTANT_DATA_DIR;
const std::string kSample = CASCADE_RECORDED_ASR_SAMPLE;
const data::AsrFields kAllFields{"asr_text", "asr_confidence", "asr_nbest"};

const Catalog& shipped_catalog() {
  static const Catalog c = Catalog::load(kDir + "/catalog.json");
  return c;
}
std::map<std::string, json> sample_records() {  // by slurp_id
  std::ifstream in(kSample);
  std::map<std::string, json> out;
  for (std::string l; std::getline(in, l);) {
    json j = json::parse(l);
    out[std::to_string(j["slurp_id"].get<long>())] = j;
  }
  return out;
}
data::RecordedTurns from_lines(const std::vector<std::string>& lines, const std::string& name,
                               const data::AsrFields& fields = kAllFields) {
  const auto path = std::filesystem::temp_directory_path() / name;
  {
    std::ofstream f(path);
    for (const auto& l : lines) f << l << "\n";
  }
  auto r = data::build_recorded_turns(path.string(), fields, shipped_catalog(), {});
  std::filesystem::remove(path);
  return r;
}
const std::string kGood =
    R"({"slurp_id": 2470, "sentence": "switch on the lights", "sentence_annotation": "switch on the lights", "intent": "iot_hue_lighton", "asr_text": "switch on the light"})";
}  // namespace

TEST(RecordedTurns, EveryRecordWithATranscriptBecomesATurnCarryingItsHypothesis) {
  auto rec = data::build_recorded_turns(kSample, kAllFields, shipped_catalog(), {});
  EXPECT_EQ(rec.records, 20u);
  ASSERT_EQ(rec.turns.size(), 19u);
  EXPECT_EQ(rec.train_side, 0u);  // the sample is made of EVAL records only
  auto records = sample_records();
  size_t confident = 0, with_nbest = 0;
  for (const auto& t : rec.turns) {
    const json& r = records.at(std::to_string(t["slurp_id"].get<long>()));
    const json& hyp = t["payload"]["json"];
    EXPECT_EQ(hyp["text"], r["asr_text"]);
    EXPECT_EQ(hyp.contains("confidence"), r.contains("asr_confidence"));
    if (r.contains("asr_confidence")) {
      EXPECT_EQ(hyp["confidence"], r["asr_confidence"]);
      ++confident;
    }
    EXPECT_EQ(hyp.contains("nbest"), r.contains("asr_nbest"));
    if (r.contains("asr_nbest")) {
      EXPECT_EQ(hyp["nbest"], r["asr_nbest"]);
      ++with_nbest;
    }
    EXPECT_EQ(t["addressed"], true);
    EXPECT_FALSE(t["payload"].contains("text"));  // the recorded hypothesis is the whole input
  }
  EXPECT_EQ(confident, rec.with_confidence);
  EXPECT_EQ(with_nbest, rec.with_nbest);
  EXPECT_EQ(rec.with_confidence, 17u);
  EXPECT_EQ(rec.with_nbest, 3u);
  // The sample perturbs some transcripts: the hypotheses are not the gold.
  size_t differ = 0;
  for (const auto& t : rec.turns) differ += t["payload"]["json"]["text"] != t["gold"]["asr"]["text"] ? 1 : 0;
  EXPECT_GE(differ, 8u);
}

TEST(RecordedTurns, GoldIsTheEvalDialoguesGoldForTheSameRecord) {
  std::map<long, json> eval_gold;
  std::ifstream in(kDir + "/eval_dialogues.jsonl");
  for (std::string l; std::getline(in, l);) {
    json t = json::parse(l);
    if (t["addressed"]) eval_gold[t["slurp_id"].get<long>()] = t["gold"];
  }
  ASSERT_EQ(eval_gold.size(), 190u);
  auto rec = data::build_recorded_turns(kSample, kAllFields, shipped_catalog(), {});
  ASSERT_EQ(rec.turns.size(), 19u);
  for (const auto& t : rec.turns) EXPECT_EQ(t["gold"], eval_gold.at(t["slurp_id"].get<long>())) << t["slurp_id"];
}

TEST(RecordedTurns, FollowTheEvalDialogueLayout) {
  auto rec = data::build_recorded_turns(kSample, kAllFields, shipped_catalog(), {});
  ASSERT_EQ(rec.turns.size(), 19u);
  // Dialogues of 1, 2, 3, 1, 2, 3, ... turns, as the eval dialogues.
  const std::vector<std::string> expect_ids{"d0001", "d0002", "d0002", "d0003", "d0003", "d0003", "d0004"};
  for (size_t i = 0; i < expect_ids.size(); ++i) EXPECT_EQ(rec.turns[i]["dialogue_id"], expect_ids[i]) << i;
  EXPECT_EQ(rec.turns[0]["timestamp"], "2026-01-15T09:00:00Z");
  EXPECT_EQ(rec.turns[2]["turn_id"], "d0002-1");
  EXPECT_EQ(rec.turns[2]["timestamp"], "2026-01-15T09:10:20Z");
  EXPECT_EQ(rec.turns[2]["user_id"], "u2");
}

TEST(RecordedTurns, ARecordWithoutTheTranscriptIsReportedWithFileLineAndA014) {
  auto rec = data::build_recorded_turns(kSample, kAllFields, shipped_catalog(), {});
  ASSERT_EQ(rec.problems.size(), 1u);
  EXPECT_EQ(rec.problems[0], kSample + ":13: error[A014]: no recogniser transcript: field \"asr_text\" is missing; record skipped");
  // Another field name: every record lacks it, every one is reported.
  auto none = data::build_recorded_turns(kSample, {"whisper_text", "", ""}, shipped_catalog(), {});
  EXPECT_TRUE(none.turns.empty());
  EXPECT_EQ(none.problems.size(), 20u);
}

TEST(RecordedTurns, MalformedRecordsAreSkippedEachWithItsCodeAndLine) {
  const std::vector<std::pair<std::string, std::string>> bad{
      {"{\"slurp_id\": 10, \"sentence\": ", ":2: error[A012]: not a JSON object"},
      {R"({"slurp_id": 10, "sentence": "hi", "asr_text": "hi"})", ":3: error[A012]: not a SLURP record"},
      {R"({"slurp_id": 20, "sentence": "hi", "sentence_annotation": "hi", "intent": "general_greet", "asr_text": 7})",
       ":4: error[A014]: field \"asr_text\" must be a string"},
      {R"({"slurp_id": 30, "sentence": "hi", "sentence_annotation": "hi", "intent": "general_greet", "asr_text": "hi", "asr_confidence": 1.2})",
       ":5: error[A014]: field \"asr_confidence\" must be a number in [0, 1], got 1.2"},
      {R"({"slurp_id": 40, "sentence": "hi", "sentence_annotation": "hi", "intent": "general_greet", "asr_text": "hi", "asr_nbest": ["hi"]})",
       ":6: error[A014]: field \"asr_nbest\" must be an array of"},
  };
  std::vector<std::string> lines{kGood};
  for (const auto& [line, _] : bad) lines.push_back(line);
  lines.push_back(kGood);
  auto rec = from_lines(lines, "cascade_recorded_bad.jsonl");
  EXPECT_EQ(rec.records, 7u);
  EXPECT_EQ(rec.turns.size(), 2u);
  ASSERT_EQ(rec.problems.size(), bad.size());
  for (size_t i = 0; i < bad.size(); ++i) {
    EXPECT_NE(rec.problems[i].find("cascade_recorded_bad.jsonl" + bad[i].second), std::string::npos) << rec.problems[i];
    EXPECT_NE(rec.problems[i].find("record skipped"), std::string::npos) << rec.problems[i];
  }
}

TEST(RecordedTurns, NullConfidenceOrNbestIsUnknownAndUnnamedFieldsAreNotRead) {
  auto rec = from_lines(
      {R"({"slurp_id": 2470, "sentence": "switch on the lights", "sentence_annotation": "switch on the lights", "intent": "iot_hue_lighton", "asr_text": "switch on the light", "asr_confidence": null, "asr_nbest": null})"},
      "cascade_recorded_null.jsonl");
  ASSERT_EQ(rec.turns.size(), 1u);
  EXPECT_EQ(rec.turns[0]["payload"]["json"], json({{"text", "switch on the light"}}));
  auto sample_text_only = data::build_recorded_turns(kSample, {"asr_text", "", ""}, shipped_catalog(), {});
  ASSERT_EQ(sample_text_only.turns.size(), 19u);
  for (const auto& t : sample_text_only.turns) EXPECT_EQ(t["payload"]["json"].size(), 1u) << t["payload"];
  EXPECT_THROW((void)data::build_recorded_turns("/nonexistent/logs.jsonl", kAllFields, shipped_catalog(), {}),
               std::runtime_error);
}

TEST(RecordField, ANameIsOneKeyAPointerWalksAndOneStarRunsOverAnArray) {
  const json record = json::parse(
      R"({"a/b": 1, "asr": {"best": {"text": "hi"}}, "recordings": [{"t": "x"}, {"t": "y"}], "n": 3})");
  const auto name = data::RecordField::parse("a/b");
  EXPECT_FALSE(name.elements());
  ASSERT_NE(name.find(record), nullptr);
  EXPECT_EQ(*name.find(record), 1);
  EXPECT_EQ(name.name(), "a/b");
  const auto nested = data::RecordField::parse("/asr/best/text");
  ASSERT_NE(nested.find(record), nullptr);
  EXPECT_EQ(*nested.find(record), "hi");
  const auto each = data::RecordField::parse("/recordings/*/t");
  ASSERT_TRUE(each.elements());
  EXPECT_EQ(each.elements()->to_string(), "/recordings");
  EXPECT_EQ(*each.find(record, 1), "y");
  EXPECT_EQ(each.name(1), "/recordings/1/t");
  EXPECT_EQ(each.find(record, 2), nullptr);  // past the end: absent, no throw
  // Through a scalar or with a non-numeric index into an array: absent.
  EXPECT_EQ(data::RecordField::parse("/n/x").find(record), nullptr);
  EXPECT_EQ(data::RecordField::parse("/recordings/first/t").find(record), nullptr);
  // "*x" is an ordinary key, not the wildcard.
  EXPECT_FALSE(data::RecordField::parse("/recordings/*x").elements());
  EXPECT_THROW((void)data::RecordField::parse(""), std::invalid_argument);
  EXPECT_THROW((void)data::RecordField::parse("/a/*/b/*"), std::invalid_argument);
  EXPECT_THROW((void)data::RecordField::parse("/a~2b"), std::invalid_argument);
}

TEST(RecordedTurns, AStarFieldMakesATurnPerRecordingEachWithItsOwnHypothesis) {
  // SLURP keeps several recordings of a request; a recogniser logs one transcript each.
  const std::string record =
      R"({"slurp_id": 2470, "sentence": "switch on the lights", "sentence_annotation": "switch on the lights", "intent": "iot_hue_lighton", "device": "tablet", "recordings": [)"
      R"({"file": "a.flac", "asr": {"text": "switch on the light", "conf": 0.8}},)"
      R"({"file": "b.flac", "asr": {"text": "which on the lights"}},)"
      R"({"file": "c.flac"},)"
      R"({"file": "d.flac", "asr": {"text": "switch on the lights", "conf": 7}}]})";
  const std::string no_recordings =
      R"({"slurp_id": 2480, "sentence": "hi", "sentence_annotation": "hi", "intent": "general_greet", "recordings": []})";
  auto rec = from_lines({record, no_recordings}, "cascade_recorded_star.jsonl",
                        {"/recordings/*/asr/text", "/recordings/*/asr/conf", ""});
  EXPECT_EQ(rec.records, 2u);
  ASSERT_EQ(rec.turns.size(), 2u);
  EXPECT_EQ(rec.turns[0]["payload"]["json"], json({{"text", "switch on the light"}, {"confidence", 0.8}}));
  EXPECT_EQ(rec.turns[1]["payload"]["json"], json({{"text", "which on the lights"}}));
  EXPECT_EQ(rec.turns[0]["asr_field"], "/recordings/0/asr/text");
  EXPECT_EQ(rec.turns[1]["asr_field"], "/recordings/1/asr/text");
  EXPECT_EQ(rec.turns[0]["gold"], rec.turns[1]["gold"]);
  EXPECT_EQ(rec.turns[0]["slurp_id"], 2470);
  EXPECT_EQ(rec.with_confidence, 1u);
  ASSERT_EQ(rec.problems.size(), 3u);
  EXPECT_NE(rec.problems[0].find(":1: error[A014]: no recogniser transcript: field \"/recordings/2/asr/text\" is "
                                 "missing; element skipped"),
            std::string::npos)
      << rec.problems[0];
  EXPECT_NE(rec.problems[1].find(":1: error[A014]: field \"/recordings/3/asr/conf\" must be a number in [0, 1]"),
            std::string::npos)
      << rec.problems[1];
  EXPECT_NE(rec.problems[2].find(":2: error[A014]: no recogniser transcript: field \"/recordings\" is not a "
                                 "non-empty array; record skipped"),
            std::string::npos)
      << rec.problems[2];
  // A confidence outside the array is the record's, shared by its turns.
  auto shared = from_lines({R"({"slurp_id": 2470, "sentence": "switch on the lights", "sentence_annotation": "switch on the lights", "intent": "iot_hue_lighton", "conf": 0.5, "recordings": [{"t": "x"}, {"t": "y"}]})"},
                           "cascade_recorded_shared.jsonl", {"/recordings/*/t", "conf", ""});
  ASSERT_EQ(shared.turns.size(), 2u);
  for (const auto& t : shared.turns) EXPECT_EQ(t["payload"]["json"]["confidence"], 0.5);
}

// Recording e of a record sits at the record's place in dialogue
// `<id>#e`, so a split by dialogue (core's split_side) never puts two
// recordings of one request on opposite sides; each dialogue's turns are
// written together.
TEST(RecordedTurns, EveryRecordingOfARequestFallsOnTheSameSideOfTheSplit) {
  std::vector<std::string> lines;
  for (int i = 0; i < 12; ++i) {
    std::string recordings;
    for (int e = 0; e < 2 + i % 2; ++e)  // two or three recordings
      recordings += std::string(e > 0 ? "," : "") + (i == 4 && e == 0 ? "{}" : R"({"t": "hello there"})");
    lines.push_back(R"({"slurp_id": )" + std::to_string(2470 + i) +
                    R"(, "sentence": "hello", "sentence_annotation": "hello", "intent": "general_greet", "recordings": [)" +
                    recordings + "]}");
  }
  const auto rec = from_lines(lines, "cascade_recorded_split.jsonl", {"/recordings/*/t", "", ""});
  ASSERT_EQ(rec.turns.size(), 12u * 2 + 6 - 1);  // record 4's recording 0 has no transcript
  std::map<long, std::set<std::string>> sides, keys;
  std::map<std::pair<std::string, long>, long> at;  // (dialogue, turn_index) -> slurp_id
  std::set<std::string> finished;
  std::string current;
  for (const auto& t : rec.turns) {
    const std::string d = t["dialogue_id"].get<std::string>();
    const long id = t["slurp_id"].get<long>();
    sides[id].insert(cascade::split_side(d));
    keys[id].insert(std::string(cascade::split_key(d)));
    at[{d, t["turn_index"].get<long>()}] = id;
    EXPECT_EQ(t["turn_id"], d + "-" + std::to_string(t["turn_index"].get<long>()));
    const std::string field = t["asr_field"].get<std::string>();
    const std::string e = field.substr(12, field.find('/', 12) - 12);  // "/recordings/<e>/t"
    EXPECT_EQ(d, std::string(cascade::split_key(d)) + (e == "0" ? "" : "#" + e)) << d << " " << field;
    if (d != current) {
      EXPECT_TRUE(finished.insert(d).second) << "dialogue " << d << " written in two pieces";
      current = d;
    }
  }
  std::set<std::string> both_sides;
  for (const auto& [id, s] : sides) {
    EXPECT_EQ(s.size(), 1u) << "request " << id << " on both sides";
    EXPECT_EQ(keys[id].size(), 1u) << "request " << id;
    both_sides.insert(s.begin(), s.end());
  }
  EXPECT_EQ(both_sides.size(), 2u) << "the records should span both sides";
  // `<id>#1` holds recording 1 of the records of `<id>`, at their places.
  for (const auto& [where, id] : at) {
    const auto& [d, index] = where;
    if (d.find('#') == std::string::npos) continue;
    const auto first = at.find({std::string(cascade::split_key(d)), index});
    if (first != at.end()) {
      EXPECT_EQ(first->second, id) << d << " turn " << index;
    }
  }
}

TEST(RecordedTurns, AStarOverAnotherArrayThanTheTranscriptsIsAUsageError) {
  EXPECT_THROW((void)data::parse_asr_fields({"/recordings/*/t", "/other/*/c", ""}), std::invalid_argument);
  EXPECT_THROW((void)data::parse_asr_fields({"/recordings/*/t", "", "/other/*/n"}), std::invalid_argument);
  EXPECT_THROW((void)data::parse_asr_fields({"asr_text", "/recordings/*/c", ""}), std::invalid_argument);
  EXPECT_NO_THROW((void)data::parse_asr_fields({"/recordings/*/t", "/recordings/*/c", "nbest"}));
}
