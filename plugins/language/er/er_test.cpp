#include <cascade/sdk/testing.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using cascade::sdk::Status;
using cascade::sdk::testing::Harness;
using cascade::sdk::testing::Value;
using json = nlohmann::json;

namespace {
std::unique_ptr<Harness> load(std::map<std::string, std::string> params = {}) {
  return Harness::load(CASCADE_ER_PLUGIN, std::move(params));
}
json nlu(const std::string& intent, json slots) { return {{"intent", intent}, {"slots", std::move(slots)}}; }
}  // namespace

TEST(Er, ResolvesAMisspelledCatalogueEntryFuzzily) {
  auto h = load();
  auto r = h->run({{"nlu", Value::json(nlu("iot_hue_lighton", {{{"type", "house_place"}, {"value", "kitchn"}}}).dump())}});
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  auto o = json::parse(r.outputs.at("er").bytes);
  EXPECT_EQ(o["intent"], "iot_hue_lighton");
  ASSERT_EQ(o["entities"].size(), 1u);
  const auto& e = o["entities"][0];
  EXPECT_EQ(e["resolved"], "kitchen");
  EXPECT_EQ(e["status"], "resolved");
  EXPECT_GT(e["score"].get<double>(), 0.75);
  EXPECT_LT(e["score"].get<double>(), 1.0);
  EXPECT_EQ(o["slots"].size(), 1u);  // carried forward
}

TEST(Er, ReportsAnUnknownEntityAsUnresolved) {
  auto h = load();
  auto r = h->run({{"nlu", Value::json(nlu("iot_hue_lighton", {{{"type", "house_place"}, {"value", "zqxwv chamber"}}}).dump())}});
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  auto e = json::parse(r.outputs.at("er").bytes)["entities"][0];
  EXPECT_TRUE(e["resolved"].is_null());
  EXPECT_EQ(e["status"], "unresolved");
  EXPECT_EQ(r.features.at("unresolved"), 1.0);
}

TEST(Er, NormalisesDatesAndTimes) {
  auto h = load();
  auto r = h->run({{"nlu", Value::json(nlu("alarm_set", {{{"type", "time"}, {"value", "seven am"}},
                                                          {{"type", "date"}, {"value", "tomorrow"}}}).dump())}});
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  auto o = json::parse(r.outputs.at("er").bytes);
  EXPECT_EQ(o["entities"][0]["resolved"], "07:00");
  EXPECT_EQ(o["entities"][1]["resolved"], "day+1");
  EXPECT_DOUBLE_EQ(*r.confidence, 1.0);
}

TEST(Er, RejectsMalformedJsonWithA011) {
  auto h = load();
  auto r = h->run({{"nlu", Value::json("{\"intent\": ")}});
  EXPECT_EQ(r.status, Status::InvalidArgument);
  EXPECT_NE(r.error.find("A011"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("not valid JSON"), std::string::npos) << r.error;
  auto r2 = h->run({{"nlu", Value::json(R"({"slots": []})")}});
  EXPECT_EQ(r2.status, Status::InvalidArgument);
  EXPECT_NE(r2.error.find("intent"), std::string::npos);
  auto r3 = h->run({{"nlu", Value::json(R"({"intent": "x", "slots": [{"type": 1}]})")}});
  EXPECT_EQ(r3.status, Status::InvalidArgument);
  // The instance survives bad input.
  EXPECT_EQ(h->run({{"nlu", Value::json(nlu("x", json::array()).dump())}}).status, Status::Ok);
}

TEST(Er, MissingCatalogueFailsOpenWithA010NamingThePath) {
  try {
    load({{"catalog", "/nonexistent/catalog.json"}});
    FAIL() << "expected open to fail";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("A010: catalog file not found: /nonexistent/catalog.json"), std::string::npos)
        << e.what();
  }
}
