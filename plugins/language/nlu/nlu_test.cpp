#include "text/text.hpp"

#include <cascade/sdk/testing.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <thread>

using cascade::sdk::Status;
using cascade::sdk::testing::Harness;
using cascade::sdk::testing::Value;
using json = nlohmann::json;

namespace {
const std::string kDir = CASCADE_ASSISTANT_DATA_DIR;

std::unique_ptr<Harness> load(std::map<std::string, std::string> params = {}) {
  return Harness::load(CASCADE_NLU_PLUGIN, std::move(params));
}
json run(Harness& h, const std::string& text) {
  auto r = h.run({{"text", Value::text(text)}});
  EXPECT_EQ(r.status, Status::Ok) << r.error;
  return json::parse(r.outputs.at("nlu").bytes);
}
}  // namespace

TEST(Nlu, IntentAccuracyOnEvalIsWellAboveTheMajorityClassBaseline) {
  // Majority class of TRAIN, applied to EVAL.
  std::map<std::string, int> train_counts;
  std::ifstream tf(kDir + "/train_fasttext.txt");
  for (std::string l; std::getline(tf, l);) ++train_counts[l.substr(9, l.find(' ') - 9)];
  std::string majority;
  for (const auto& [k, n] : train_counts)
    if (majority.empty() || n > train_counts[majority]) majority = k;

  auto h = load();
  std::ifstream ef(kDir + "/eval_dialogues.jsonl");
  int n = 0, correct = 0, baseline = 0;
  for (std::string l; std::getline(ef, l);) {
    auto t = json::parse(l);
    if (!t["addressed"]) continue;
    const auto& g = t["gold"];
    auto o = run(*h, g["asr"]["text"]);
    ++n;
    correct += o["intent"] == g["nlu"]["intent"];
    baseline += g["nlu"]["intent"] == majority;
  }
  ASSERT_EQ(n, 190);
  double acc = static_cast<double>(correct) / n, base = static_cast<double>(baseline) / n;
  std::printf("intent accuracy %.3f (%d/%d), majority-class baseline %.3f ('%s')\n", acc, correct, n, base,
              majority.c_str());
  EXPECT_GT(acc, 2 * base);
  EXPECT_GT(acc, 0.5);
}

TEST(Nlu, ReportsTopKIntentsWithProbabilitiesAndConfidence) {
  auto h = load({{"top_k", "4"}});
  auto r = h->run({{"text", Value::text("Wake me up at seven AM tomorrow!")}});
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  auto o = json::parse(r.outputs.at("nlu").bytes);
  EXPECT_EQ(o["intent"], "alarm_set");
  ASSERT_EQ(o["top"].size(), 4u);
  ASSERT_EQ(r.nbest.size(), 4u);
  double sum = 0, prev = 1.0;
  for (const auto& t : o["top"]) {
    EXPECT_LE(t["p"].get<double>(), prev);
    prev = t["p"];
    sum += prev;
  }
  EXPECT_LE(sum, 1.0 + 1e-6);
  ASSERT_TRUE(r.confidence);
  EXPECT_DOUBLE_EQ(*r.confidence, o["top"][0]["p"].get<double>());
  EXPECT_EQ(r.nbest[0].first, "alarm_set");
  EXPECT_TRUE(r.features.count("margin"));
}

TEST(Nlu, TagsSlotsWithOffsetsIntoTheNormalisedText) {
  auto h = load();
  auto o = run(*h, "wake me up at seven am tomorrow");
  std::map<std::string, std::string> slots;
  std::string text = o["text"];
  for (const auto& s : o["slots"]) {
    slots[s["type"]] = s["value"];
    EXPECT_EQ(text.substr(s["start"].get<size_t>(), s["end"].get<size_t>() - s["start"].get<size_t>()), s["value"]);
  }
  EXPECT_EQ(slots["time"], "seven am");
  EXPECT_EQ(slots["date"], "tomorrow");
}

// A recogniser that writes "7 a.m." gets what "seven am" gets: the NLU
// reads the spoken form its training data is in (text/spoken.hpp).
TEST(Nlu, ReadsWrittenNumeralsAsTheSpokenFormItLearnt) {
  auto h = load();
  const auto spoken = run(*h, "wake me up at seven am tomorrow");
  const auto written = run(*h, "Wake me up at 7 a.m. tomorrow.");
  EXPECT_EQ(written["text"], "wake me up at seven am tomorrow");
  EXPECT_EQ(written["intent"], spoken["intent"]);
  EXPECT_EQ(written["slots"], spoken["slots"]);
}

TEST(Nlu, GivesTheSameAnswerFromConcurrentCalls) {
  auto h = load();
  const std::vector<std::string> texts{"turn off the kitchen lights", "what is the weather in boston",
                                       "play some jazz", "add milk to my shopping list"};
  std::vector<std::string> expected;
  for (const auto& t : texts) expected.push_back(h->run({{"text", Value::text(t)}}).outputs.at("nlu").bytes);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(2, 0);
  for (int w = 0; w < 2; ++w)
    threads.emplace_back([&, w] {
      for (int rep = 0; rep < 50; ++rep)
        for (size_t i = 0; i < texts.size(); ++i)
          mismatches[static_cast<size_t>(w)] += h->run({{"text", Value::text(texts[i])}}).outputs.at("nlu").bytes != expected[i];
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches[0] + mismatches[1], 0);
}

TEST(Nlu, EmptyTextIsNoResult) {
  auto h = load();
  auto r = h->run({{"text", Value::text(" ?! ")}});
  EXPECT_EQ(r.status, Status::NoResult);
  EXPECT_NE(r.error.find("empty"), std::string::npos);
}

TEST(Nlu, MissingModelFailsOpenWithA010NamingThePath) {
  try {
    load({{"model", "/nonexistent/dir/intent.bin"}});
    FAIL() << "expected open to fail";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("A010: model file not found: /nonexistent/dir/intent.bin"), std::string::npos)
        << e.what();
  }
}

TEST(Nlu, AModelFileThatIsNotFastTextFailsOpenClearly) {
  try {
    load({{"model", kDir + "/catalog.json"}});
    FAIL() << "expected open to fail";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("A012"), std::string::npos) << e.what();
  }
}
