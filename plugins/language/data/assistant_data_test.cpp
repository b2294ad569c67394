#include "data/assistant_data.hpp"
#include "text/text.hpp"
#include "world/world.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

using namespace cascade::language;
using json = nlohmann::json;

namespace {
const std::string kDir = CASCADE_ASSISTANT_DATA_DIR;

std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}
std::vector<json> turns(const std::string& file) {
  std::vector<json> out;
  for (const auto& l : lines(kDir + "/" + file)) out.push_back(json::parse(l));
  return out;
}
}  // namespace

TEST(Split, IsEvalExactlyWhenSlurpIdIsAMultipleOfTen) {
  EXPECT_TRUE(data::is_eval(0));
  EXPECT_TRUE(data::is_eval(13800));
  EXPECT_FALSE(data::is_eval(13804));
  auto rows = lines(kDir + "/split.tsv");
  ASSERT_GT(rows.size(), 1000u);
  size_t eval = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    std::istringstream is(rows[i]);
    long id = 0;
    std::string split;
    is >> id >> split;
    EXPECT_EQ(split, id % 10 == 0 ? "EVAL" : "TRAIN") << rows[i];
    eval += split == "EVAL";
  }
  EXPECT_EQ(eval, 190u);  // of the 2,033 SLURP devel records
}

TEST(Split, TrainingFilesNeverContainAnEvalSentence) {
  std::set<std::string> eval_text;
  for (const auto& t : turns("eval_dialogues.jsonl"))
    if (t["addressed"]) eval_text.insert(t["gold"]["asr"]["text"]);
  ASSERT_EQ(eval_text.size(), 190u);
  for (const auto& l : lines(kDir + "/train_sentences.txt")) {
    EXPECT_EQ(eval_text.count(l), 0u) << l;
    if (l.rfind("alexa ", 0) == 0) {  // a wake-word variant
      EXPECT_EQ(eval_text.count(l.substr(6)), 0u) << l;
    }
  }
  for (const auto& l : lines(kDir + "/train_fasttext.txt")) {
    auto sp = l.find(' ');
    ASSERT_EQ(l.rfind("__label__", 0), 0u);
    EXPECT_EQ(eval_text.count(l.substr(sp + 1)), 0u) << l;
  }
}

TEST(Split, RebuildingGivesByteIdenticalFiles) {
  auto records = data::read_records(CASCADE_SLURP_DEVEL);
  auto a = data::build(records, {});
  auto b = data::build(records, {});
  ASSERT_EQ(a.eval_turns.size(), b.eval_turns.size());
  EXPECT_EQ(a.train_fasttext, b.train_fasttext);
  auto on_disk = lines(kDir + "/eval_dialogues.jsonl");
  ASSERT_EQ(on_disk.size(), a.eval_turns.size());
  for (size_t i = 0; i < on_disk.size(); ++i) {
    EXPECT_EQ(a.eval_turns[i].dump(), on_disk[i]);
    EXPECT_EQ(a.eval_turns[i], b.eval_turns[i]);
  }
}

TEST(TrainFiles, AreNormalisedOneSentencePerLine) {
  auto s = lines(kDir + "/train_sentences.txt");
  ASSERT_GT(s.size(), 1500u);
  for (const auto& l : s) {
    EXPECT_EQ(normalize_sentence(l), l);
    EXPECT_FALSE(l.empty());
  }
}

TEST(EvalDialogues, HaveOneToThreeAddressedTurnsInIncreasingTime) {
  auto all = turns("eval_dialogues.jsonl");
  std::map<std::string, std::vector<json>> by_dialogue;
  for (const auto& t : all) by_dialogue[t["dialogue_id"]].push_back(t);
  size_t addressed = 0, background = 0;
  std::string last_ts;
  for (const auto& [id, ts] : by_dialogue) {
    size_t a = 0;
    for (size_t i = 0; i < ts.size(); ++i) {
      const auto& t = ts[i];
      EXPECT_EQ(t["turn_index"], i);
      if (i > 0) {
        EXPECT_LT(ts[i - 1]["timestamp"].get<std::string>(), t["timestamp"].get<std::string>());
      }
      EXPECT_EQ(t["user_id"], ts[0]["user_id"]);
      EXPECT_TRUE(t["payload"]["text"].is_string());
      a += t["addressed"].get<bool>();
      background += !t["addressed"].get<bool>();
    }
    EXPECT_GE(a, 1u);
    EXPECT_LE(a, 3u);
    EXPECT_GT(ts[0]["timestamp"].get<std::string>(), last_ts);
    last_ts = ts[0]["timestamp"];
    addressed += a;
  }
  EXPECT_EQ(addressed, 190u);
  EXPECT_NEAR(static_cast<double>(background) / static_cast<double>(addressed), 0.1, 0.02);
}

TEST(EvalDialogues, GoldCarriesEveryStageAndTheWorldsResult) {
  auto world = World::initial();
  for (const auto& t : turns("eval_dialogues.jsonl")) {
    const auto& g = t["gold"];
    if (!t["addressed"]) {
      EXPECT_EQ(g["wake"]["detected"], false);
      EXPECT_TRUE(g["nlu"].is_null());
      EXPECT_TRUE(g["result"].is_null());
      continue;
    }
    EXPECT_EQ(g["wake"]["detected"], true);
    // Addressed requests are said after the wake word; the gold transcript is the request.
    const std::string said = t["payload"]["text"].get<std::string>();
    ASSERT_EQ(said.rfind("alexa ", 0), 0u) << said;
    EXPECT_EQ(g["asr"]["text"], normalize_sentence(said.substr(6)));
    EXPECT_EQ(g["nlu"]["intent"], g["er"]["intent"]);
    ASSERT_EQ(g["nlu"]["slots"].size(), g["er"]["entities"].size());
    for (const auto& e : g["er"]["entities"]) EXPECT_TRUE(e.contains("resolved"));
    EXPECT_EQ(world.execute(g["er"]), g["result"]);
  }
}

TEST(EvalDialogues, SmallFileIsThePrefixOfTwelveDialogues) {
  auto all = lines(kDir + "/eval_dialogues.jsonl");
  auto small = lines(kDir + "/eval_dialogues_small.jsonl");
  ASSERT_FALSE(small.empty());
  std::set<std::string> ids;
  for (size_t i = 0; i < small.size(); ++i) {
    EXPECT_EQ(small[i], all[i]);
    ids.insert(json::parse(small[i])["dialogue_id"].get<std::string>());
  }
  EXPECT_EQ(ids.size(), 12u);
}

TEST(Catalog, HoldsTrainValuesPerEntityType) {
  auto c = Catalog::load(kDir + "/catalog.json");
  ASSERT_TRUE(c.types().count("house_place"));
  EXPECT_TRUE(c.types().at("house_place").count("kitchen"));
  EXPECT_TRUE(c.types().at("date").count("day+1"));  // "tomorrow"
  EXPECT_EQ(*c.resolve("house_place", "kitchn").resolved, "kitchen");
}

TEST(ReadRecords, NamesFileAndLineOfAMalformedRecord) {
  auto path = std::filesystem::temp_directory_path() / "cascade_language_bad.jsonl";
  {
    std::ofstream f(path);
    f << R"({"slurp_id": 1, "sentence": "hi", "sentence_annotation": "hi", "intent": "general_greet"})" << "\n";
    f << R"({"slurp_id": 2, "sentence": "oops")" << "\n";
  }
  try {
    (void)data::read_records(path.string());
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find(path.string() + ":2:"), std::string::npos) << m;
    EXPECT_NE(m.find("A012"), std::string::npos) << m;
  }
  std::filesystem::remove(path);
  EXPECT_THROW((void)data::read_records("/nonexistent/devel.jsonl"), std::runtime_error);
}

// Fold mode: the held-out fold's requests are the dialogues and nothing
// built for it (training lines, sentences, catalogue counts) comes from them.
TEST(Folds, EveryTrainRecordIsHeldOutOnceAndNeverTrainedOnThere) {
  const auto records = data::read_records(CASCADE_SLURP_DEVEL);
  constexpr size_t kFolds = 5;
  std::set<long> held_out_somewhere;
  for (size_t k = 0; k < kFolds; ++k) {
    data::Options opt;
    opt.folds = kFolds;
    opt.fold = k;
    opt.dialogue_prefix = "f" + std::to_string(k) + "-d";
    const auto out = data::build(records, opt);
    std::set<std::string> held_text;
    for (const auto& t : out.eval_turns) {
      ASSERT_EQ(t["dialogue_id"].get<std::string>().rfind(opt.dialogue_prefix, 0), 0u) << t.dump();
      const long id = t["slurp_id"];
      EXPECT_FALSE(data::is_eval(id)) << id;
      EXPECT_EQ(data::train_fold(id, kFolds), k) << id;
      if (t["addressed"]) {
        held_out_somewhere.insert(id);
        held_text.insert(t["gold"]["asr"]["text"].get<std::string>());
      }
    }
    EXPECT_GT(out.heldout_records, 300u);
    EXPECT_EQ(out.train_records + out.heldout_records, 1843u);
    for (const auto& line : out.train_fasttext) {
      const auto text = line.substr(line.find(' ') + 1);
      EXPECT_EQ(held_text.count(text), 0u) << "fold " << k << " trains on its held-out " << text;
    }
    for (const auto& s : out.train_sentences) EXPECT_EQ(held_text.count(s), 0u) << s;
  }
  EXPECT_EQ(held_out_somewhere.size(), 1843u);  // every TRAIN record, each in one fold
}

TEST(Folds, AFoldOutsideTheCutIsRefused) {
  data::Options opt;
  opt.folds = 3;
  opt.fold = 3;
  EXPECT_THROW((void)data::build({}, opt), std::invalid_argument);
}
