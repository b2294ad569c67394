// The recorded_asr plugin from its .so, through the SDK harness: it emits
// the recorded 1-best, reports the recorded confidence and n-best as the
// real asr does, and fails a malformed hypothesis with A011 without
// harming the next turn.
#include <cascade/sdk/testing.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using cascade::sdk::Status;
using cascade::sdk::testing::Harness;
using cascade::sdk::testing::Result;
using cascade::sdk::testing::Value;

namespace {
Harness& recorded() {
  static auto h = Harness::load(CASCADE_RECORDED_ASR_SO);
  return *h;
}
Result run(const std::string& doc) { return recorded().run({{"json", Value::json(doc)}}); }
}  // namespace

TEST(RecordedAsr, EmitsTheOneBestAndReportsConfidenceAndNbest) {
  auto r = run(R"({"text": "turn of the kitchen light", "confidence": 0.83,
                  "nbest": [{"text": "turn of the kitchen light", "score": 0.6},
                            {"text": "turn off the kitchen light", "score": 0.4}]})");
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  EXPECT_EQ(r.outputs.at("text").bytes, "turn of the kitchen light");
  EXPECT_EQ(r.outputs.at("text").type, static_cast<uint32_t>(CASCADE_PAYLOAD_TEXT));
  ASSERT_TRUE(r.confidence.has_value());
  EXPECT_DOUBLE_EQ(*r.confidence, 0.83);
  ASSERT_EQ(r.nbest.size(), 2u);
  EXPECT_EQ(r.nbest[1].first, "turn off the kitchen light");
  EXPECT_DOUBLE_EQ(r.nbest[1].second, 0.4);
  auto nb = nlohmann::json::parse(r.outputs.at("nbest").bytes);
  ASSERT_EQ(nb.size(), 2u);
  EXPECT_EQ(nb[0]["text"], "turn of the kitchen light");
  EXPECT_DOUBLE_EQ(r.features.at("n_words"), 5.0);
}

TEST(RecordedAsr, TextAloneReportsNoConfidenceAndNoNbest) {
  for (const char* doc : {R"({"text": "what time is it"})", R"({"text": "what time is it", "confidence": null, "nbest": null})"}) {
    auto r = run(doc);
    ASSERT_EQ(r.status, Status::Ok) << r.error;
    EXPECT_EQ(r.outputs.at("text").bytes, "what time is it");
    EXPECT_FALSE(r.confidence.has_value()) << doc;
    EXPECT_TRUE(r.nbest.empty()) << doc;
    EXPECT_EQ(r.outputs.count("nbest"), 0u) << doc;
  }
}

TEST(RecordedAsr, AnEmptyHypothesisIsARecognitionNotAnError) {
  auto r = run(R"({"text": "", "confidence": 0.0})");
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  EXPECT_EQ(r.outputs.at("text").bytes, "");
  EXPECT_DOUBLE_EQ(r.features.at("n_words"), 0.0);
}

TEST(RecordedAsr, AMalformedHypothesisFailsTheTurnWithA011NamingWhatIsWrong) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"text": "half)", "not valid JSON"},
      {R"(["turn on the light"])", "expected an object"},
      {R"({"hypothesis": "turn on the light"})", "string \"text\""},
      {R"({"text": 7})", "string \"text\""},
      {R"({"text": "hi", "confidence": 1.5})", "\"confidence\" must be a number in [0, 1], got 1.5"},
      {R"({"text": "hi", "confidence": "high"})", "\"confidence\" must be a number"},
      {R"({"text": "hi", "nbest": {"text": "hi"}})", "\"nbest\" must be an array"},
      {R"({"text": "hi", "confidence": 0.5, "nbest": [{"text": "hi", "score": 1}, {"text": "high"}]})", "\"nbest\"[1] needs"},
  };
  for (const auto& [doc, says] : cases) {
    auto r = run(doc);
    EXPECT_EQ(r.status, Status::InvalidArgument) << doc;
    EXPECT_NE(r.error.find("A011: recorded hypothesis: "), std::string::npos) << r.error;
    EXPECT_NE(r.error.find(says), std::string::npos) << doc << " -> " << r.error;
    EXPECT_TRUE(r.outputs.empty()) << doc;
    EXPECT_TRUE(r.nbest.empty()) << doc << ": a rejected hypothesis leaves nothing reported";
    EXPECT_FALSE(r.confidence.has_value()) << doc;
  }
  auto next = run(R"({"text": "still fine"})");  // the plugin keeps no state
  ASSERT_EQ(next.status, Status::Ok) << next.error;
  EXPECT_EQ(next.outputs.at("text").bytes, "still fine");
}

TEST(RecordedAsr, ATextPayloadIsRefusedAsTheWrongType) {
  auto r = recorded().run({{"json", Value::text("turn on the light")}});
  EXPECT_EQ(r.status, Status::InvalidArgument);
  EXPECT_NE(r.error.find("wrong type"), std::string::npos) << r.error;
}
