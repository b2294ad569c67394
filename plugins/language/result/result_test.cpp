#include "judges/judges.hpp"

#include <cascade/sdk/testing.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using cascade::sdk::Status;
using cascade::sdk::testing::Harness;
using cascade::sdk::testing::Value;
using json = nlohmann::json;
namespace judges = cascade::language::judges;

namespace {
std::unique_ptr<Harness> load() { return Harness::load(CASCADE_RESULT_PLUGIN); }
json er(const std::string& intent, json entities = json::array()) {
  return {{"intent", intent}, {"entities", std::move(entities)}};
}
}  // namespace

TEST(Result, PerformsAnActionOnTheWorldAndSaysSo) {
  auto h = load();
  auto r = h->run({{"er", Value::json(er("iot_hue_lightoff", {{{"type", "house_place"}, {"value", "bed room"},
                                                                {"resolved", "bedroom"}, {"status", "resolved"}}}).dump())}});
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  auto o = json::parse(r.outputs.at("result").bytes);
  EXPECT_TRUE(o["success"]);
  EXPECT_EQ(o["action"], (json{{"type", "light.set"}, {"room", "bedroom"}, {"on", false}}));
  EXPECT_EQ(r.outputs.at("say").bytes, "Turning off the lights in the bedroom.");
  EXPECT_EQ(r.outputs.at("say").type, static_cast<uint32_t>(CASCADE_PAYLOAD_TEXT));
  EXPECT_EQ(r.text_features.at("action"), "light.set");
}

TEST(Result, RefusesUnsupportedRequests) {
  auto h = load();
  auto r = h->run({{"er", Value::json(er("transport_taxi").dump())}});
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  auto o = json::parse(r.outputs.at("result").bytes);
  EXPECT_FALSE(o["success"]);
  EXPECT_FALSE(o["supported"]);
  EXPECT_EQ(r.outputs.at("say").bytes, "Sorry, I can't do that yet.");
  EXPECT_EQ(r.features.at("supported"), 0.0);
}

TEST(Result, GoldInterpretationsReproduceTheGoldResultsExactly) {
  auto h = load();
  std::ifstream in(std::string(CASCADE_ASSISTANT_DATA_DIR) + "/eval_dialogues.jsonl");
  int n = 0;
  for (std::string l; std::getline(in, l);) {
    auto t = json::parse(l);
    if (!t["addressed"]) continue;
    auto r = h->run({{"er", Value::json(t["gold"]["er"].dump())}});
    ASSERT_EQ(r.status, Status::Ok) << r.error;
    EXPECT_EQ(judges::judge_result(json::parse(r.outputs.at("result").bytes), t["gold"]["result"]), judges::Verdict::Exact);
    ++n;
  }
  EXPECT_EQ(n, 190);
}

TEST(Result, RejectsMalformedInputWithA011AndSurvives) {
  auto h = load();
  auto r = h->run({{"er", Value::json("not json")}});
  EXPECT_EQ(r.status, Status::InvalidArgument);
  EXPECT_NE(r.error.find("A011: input 'er' is not valid JSON"), std::string::npos) << r.error;
  auto r2 = h->run({{"er", Value::json(R"({"entities": []})")}});
  EXPECT_EQ(r2.status, Status::InvalidArgument);
  EXPECT_NE(r2.error.find("intent"), std::string::npos) << r2.error;
  EXPECT_EQ(h->run({{"er", Value::json(er("general_joke").dump())}}).status, Status::Ok);
}

TEST(Result, ABrokenSkillFailsItsSupportedRequestsAndNoOther) {
  auto h = Harness::load(CASCADE_RESULT_PLUGIN, {{"broken_skill", "iot,weather"}});
  const json lights = er("iot_hue_lightoff", {{{"type", "house_place"}, {"value", "bedroom"},
                                               {"resolved", "bedroom"}, {"status", "resolved"}}});
  auto r = h->run({{"er", Value::json(lights.dump())}});
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  auto o = json::parse(r.outputs.at("result").bytes);
  EXPECT_FALSE(o["success"]);
  EXPECT_TRUE(o["supported"]);
  EXPECT_TRUE(o["action"].is_null());
  EXPECT_EQ(r.outputs.at("say").bytes, "Sorry, something went wrong.");
  // Every intent of the skill fails; another skill works; an unsupported
  // request is still refused as such.
  auto coffee = json::parse(h->run({{"er", Value::json(er("iot_coffee").dump())}}).outputs.at("result").bytes);
  EXPECT_FALSE(coffee["success"]);
  auto joke = json::parse(h->run({{"er", Value::json(er("general_joke").dump())}}).outputs.at("result").bytes);
  EXPECT_TRUE(joke["success"]);
  auto taxi = json::parse(h->run({{"er", Value::json(er("transport_taxi").dump())}}).outputs.at("result").bytes);
  EXPECT_FALSE(taxi["supported"]);
  // Without the parameter the same request succeeds.
  auto fine = json::parse(load()->run({{"er", Value::json(lights.dump())}}).outputs.at("result").bytes);
  EXPECT_TRUE(fine["success"]);
}
