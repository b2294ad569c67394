#include "world/world.hpp"

#include <gtest/gtest.h>

using namespace cascade::language;
using json = nlohmann::json;

namespace {
json interp(const std::string& intent, json entities = json::array()) {
  return {{"intent", intent}, {"entities", std::move(entities)}};
}
json ent(const std::string& type, const std::string& value, const json& resolved) {
  return {{"type", type}, {"value", value}, {"resolved", resolved}};
}
}  // namespace

TEST(World, TurnsOnTheLightsOfAResolvedRoom) {
  auto r = World::initial().execute(interp("iot_hue_lighton", {ent("house_place", "kitchn", "kitchen")}));
  EXPECT_TRUE(r["success"]);
  EXPECT_EQ(r["action"], (json{{"type", "light.set"}, {"room", "kitchen"}, {"on", true}}));
  EXPECT_EQ(r["say"], "Turning on the lights in the kitchen.");
}

TEST(World, FailsOnAnUnresolvedRoomInsteadOfGuessing) {
  auto r = World::initial().execute(interp("iot_hue_lighton", {ent("house_place", "attic", nullptr)}));
  EXPECT_FALSE(r["success"]);
  EXPECT_TRUE(r["supported"]);
  EXPECT_TRUE(r["action"].is_null());
}

TEST(World, SetsAnAlarmOnlyWithATime) {
  auto w = World::initial();
  auto ok = w.execute(interp("alarm_set", {ent("time", "seven am", "07:00"), ent("date", "tomorrow", "day+1")}));
  EXPECT_TRUE(ok["success"]);
  EXPECT_EQ(ok["action"]["time"], "07:00");
  EXPECT_EQ(ok["action"]["date"], "day+1");
  EXPECT_FALSE(w.execute(interp("alarm_set"))["success"]);
}

TEST(World, AnswersFromItsTablesDeterministically) {
  auto w = World::initial();
  auto a = w.execute(interp("weather_query", {ent("place_name", "boston", "boston")}));
  auto b = w.execute(interp("weather_query", {ent("place_name", "boston", "boston")}));
  EXPECT_TRUE(a["success"]);
  EXPECT_TRUE(a["answer"].is_string());
  EXPECT_EQ(a, b);
  auto list = w.execute(interp("lists_query", {ent("list_name", "shopping list", "shopping")}));
  EXPECT_EQ(list["answer"], "milk, eggs, bread");
}

TEST(World, EveryTurnStartsFromTheSameInitialState) {
  auto w = World::initial();
  auto before = w.state();
  (void)w.execute(interp("lists_remove", {ent("list_name", "shopping", "shopping")}));
  EXPECT_EQ(w.state(), before);
}

TEST(World, RefusesUnsupportedIntents) {
  auto r = World::initial().execute(interp("email_sendemail"));
  EXPECT_EQ(r, (json{{"success", false}, {"supported", false}, {"action", nullptr}, {"answer", nullptr},
                     {"say", "Sorry, I can't do that yet."}}));
}

TEST(World, RejectsAnInterpretationWithoutIntent) {
  EXPECT_THROW((void)World::initial().execute(json{{"entities", json::array()}}), std::invalid_argument);
  EXPECT_THROW((void)World::initial().execute(json::array()), std::invalid_argument);
  EXPECT_THROW((void)World::initial().execute(json{{"intent", "x"}, {"entities", 3}}), std::invalid_argument);
  EXPECT_THROW((void)World::initial().execute(json{{"intent", "alarm_set"}, {"entities", {{{"type", 7}}}}}),
               std::invalid_argument);
}
