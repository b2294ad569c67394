#include "judges/judges.hpp"

#include <gtest/gtest.h>

using namespace cascade::language::judges;
using json = nlohmann::json;

TEST(WakeJudge, ComparesTheDetectedFlag) {
  EXPECT_EQ(judge_wake(json{{"detected", true}}, json{{"detected", true}}), Verdict::Exact);
  EXPECT_EQ(judge_wake(json{{"detected", true}}, json{{"detected", false}}), Verdict::Wrong);
  EXPECT_EQ(judge_wake(json(false), json{{"detected", false}}), Verdict::Exact);
  EXPECT_EQ(judge_wake(json::object(), json{{"detected", false}}), Verdict::Wrong);
}

TEST(AsrJudge, DroppedArticleIsEquivalent) {
  EXPECT_EQ(judge_asr_text("open garage door", "open the garage door"), Verdict::Equivalent);
}

TEST(AsrJudge, ApostrophesAreSpellingNotHearing) {
  EXPECT_EQ(judge_asr_text("what's the weather", "whats the weather"), Verdict::Equivalent);
  EXPECT_EQ(judge_asr_text("what's the weather", "what is the weather"), Verdict::Wrong);
}

TEST(AsrJudge, DigitsAndNumberWordsAreEquivalent) {
  EXPECT_EQ(judge_asr_text("set a timer for 10 minutes", "set a timer for ten minutes"), Verdict::Equivalent);
  EXPECT_EQ(judge_asr_text("wake me at 7 25", "wake me at seven twenty five"), Verdict::Equivalent);
}

// A recogniser that writes numerals and "a.m." heard what SLURP spells out.
TEST(AsrJudge, WrittenFormsOfTimesAndOrdinalsAreEquivalent) {
  EXPECT_EQ(judge_asr_text("Set an alarm for 5:30 a.m.", "set an alarm for five thirty am"), Verdict::Equivalent);
  EXPECT_EQ(judge_asr_text("since 3 p.m.", "since three pm"), Verdict::Equivalent);
  EXPECT_EQ(judge_asr_text("Is the 23rd of April a Saturday?", "is the twenty third of april a saturday"),
            Verdict::Equivalent);
  EXPECT_EQ(judge_asr_text("since 3 p.m.", "since three am"), Verdict::Wrong);
}

TEST(AsrJudge, PunctuationCaseAndFillersAreEquivalent) {
  EXPECT_EQ(judge_asr_text("Um, what's the weather?", "what's the weather"), Verdict::Equivalent);
}

TEST(AsrJudge, ALeadingWakeWordIsEquivalent) {
  EXPECT_EQ(judge_asr_text("alexa turn on the lights", "turn on the lights"), Verdict::Equivalent);
  EXPECT_EQ(judge_asr_text("hey computer play jazz", "play jazz"), Verdict::Equivalent);
  EXPECT_EQ(judge_asr_text("turn on alexa", "turn on"), Verdict::Wrong);
}

TEST(AsrJudge, IdenticalIsExactAndAChangedWordIsWrong) {
  EXPECT_EQ(judge_asr_text("turn on the lights", "turn  on the lights "), Verdict::Exact);
  EXPECT_EQ(judge_asr_text("built in the garage door", "open the garage door"), Verdict::Wrong);
  EXPECT_EQ(judge_asr(json{{"text", "a"}}, json(nullptr)), Verdict::Wrong);
}

TEST(NluJudge, IntentAndSlotMultisetDecide) {
  json gold{{"intent", "alarm_set"}, {"slots", {{{"type", "time"}, {"value", "seven am"}}}}};
  json same{{"intent", "alarm_set"}, {"confidence", 0.9}, {"slots", {{{"type", "time"}, {"value", "seven am"}, {"start", 3}}}}};
  json digits{{"intent", "alarm_set"}, {"slots", {{{"type", "time"}, {"value", "7 am"}}}}};
  json other_intent{{"intent", "alarm_query"}, {"slots", gold["slots"]}};
  json missing_slot{{"intent", "alarm_set"}, {"slots", json::array()}};
  json wrong_type{{"intent", "alarm_set"}, {"slots", {{{"type", "date"}, {"value", "seven am"}}}}};
  EXPECT_EQ(judge_nlu(same, gold), Verdict::Exact);
  EXPECT_EQ(judge_nlu(digits, gold), Verdict::Equivalent);
  EXPECT_EQ(judge_nlu(other_intent, gold), Verdict::Wrong);
  EXPECT_EQ(judge_nlu(missing_slot, gold), Verdict::Wrong);
  EXPECT_EQ(judge_nlu(wrong_type, gold), Verdict::Wrong);
}

TEST(ErJudge, SameResolutionFromAnotherSurfaceIsEquivalent) {
  json gold{{"entities", {{{"type", "house_place"}, {"value", "kitchen"}, {"resolved", "kitchen"}}}}};
  json typo{{"intent", "x"}, {"entities", {{{"type", "house_place"}, {"value", "kitchn"}, {"resolved", "kitchen"}, {"score", 0.86}}}}};
  json other{{"entities", {{{"type", "house_place"}, {"value", "kitchen"}, {"resolved", "bedroom"}}}}};
  json unresolved{{"entities", {{{"type", "house_place"}, {"value", "kitchen"}, {"resolved", nullptr}}}}};
  EXPECT_EQ(judge_er(gold, gold), Verdict::Exact);
  EXPECT_EQ(judge_er(typo, gold), Verdict::Equivalent);
  EXPECT_EQ(judge_er(other, gold), Verdict::Wrong);
  EXPECT_EQ(judge_er(unresolved, gold), Verdict::Wrong);
}

TEST(ErJudge, UnresolvedEntitiesCompareByCanonicalSurface) {
  json gold{{"entities", {{{"type", "person"}, {"value", "zorblax"}, {"resolved", nullptr}}}}};
  json same{{"entities", {{{"type", "person"}, {"value", "the zorblax"}, {"resolved", nullptr}}}}};
  json other{{"entities", {{{"type", "person"}, {"value", "zorba"}, {"resolved", nullptr}}}}};
  EXPECT_EQ(judge_er(same, gold), Verdict::Equivalent);
  EXPECT_EQ(judge_er(other, gold), Verdict::Wrong);
}

TEST(ResultJudge, ActionAndAnswerDecideSayOnlyGrades) {
  json gold{{"success", true}, {"supported", true}, {"action", {{"type", "light.set"}, {"room", "kitchen"}, {"on", true}}},
            {"answer", nullptr}, {"say", "Turning on the lights in the kitchen."}};
  json reworded = gold;
  reworded["say"] = "Kitchen lights on.";
  json other_room = gold;
  other_room["action"]["room"] = "bedroom";
  json failed = gold;
  failed["success"] = false;
  EXPECT_EQ(judge_result(gold, gold), Verdict::Exact);
  EXPECT_EQ(judge_result(reworded, gold), Verdict::Equivalent);
  EXPECT_EQ(judge_result(other_room, gold), Verdict::Wrong);
  EXPECT_EQ(judge_result(failed, gold), Verdict::Wrong);
  EXPECT_EQ(judge_result(json(nullptr), json(nullptr)), Verdict::Exact);
  EXPECT_EQ(judge_result(gold, json(nullptr)), Verdict::Wrong);
}

TEST(Judge, DispatchesByKindAndRejectsUnknownKinds) {
  EXPECT_EQ(judge("asr", json("open garage door"), json("open the garage door")), Verdict::Equivalent);
  EXPECT_THROW(judge("tts", json(), json()), std::invalid_argument);
  EXPECT_EQ(to_string(Verdict::Equivalent), "equivalent");
}
