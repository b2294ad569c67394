// TurnOutcome: what a turn's result becomes in a result line and in the
// trace's turn record (a text result was recorded as nothing: null).
#include <cascade/core/engine.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace cascade;

namespace {

TurnOutcome with_result(uint32_t type, std::string bytes) {
  TurnOutcome o;
  o.result_type = type;
  o.result = std::move(bytes);
  return o;
}

}  // namespace

TEST(Outcome, ATextResultIsRecordedAsAJsonStringThatReadsBackAsTheText) {
  const std::string text = "play \"imagine\" \\ dragons\n\ttab\x01 caf\xc3\xa9";
  std::string scratch;
  const std::string_view recorded = with_result(CASCADE_PAYLOAD_TEXT, text).result_for_trace(scratch);
  const auto j = nlohmann::json::parse(recorded);
  ASSERT_TRUE(j.is_string()) << recorded;
  EXPECT_EQ(j.get<std::string>(), text);
  // The scratch buffer is reused: a shorter text leaves nothing behind.
  EXPECT_EQ(with_result(CASCADE_PAYLOAD_TEXT, "ok").result_for_trace(scratch), "\"ok\"");
  EXPECT_EQ(with_result(CASCADE_PAYLOAD_TEXT, "").result_for_trace(scratch), "\"\"");
}

TEST(Outcome, AJsonResultIsRecordedAsItIsAndOtherResultsAsNothing) {
  std::string scratch;
  const TurnOutcome json = with_result(CASCADE_PAYLOAD_JSON, R"({"intent":"play"})");
  EXPECT_EQ(json.result_for_trace(scratch), R"({"intent":"play"})");
  EXPECT_TRUE(with_result(CASCADE_PAYLOAD_AUDIO, std::string(64, '\0')).result_for_trace(scratch).empty());
  EXPECT_TRUE(with_result(CASCADE_PAYLOAD_NONE, "").result_for_trace(scratch).empty());
}

TEST(Outcome, TheResultLineCarriesATextResultAsAString) {
  const auto j = nlohmann::json::parse(with_result(CASCADE_PAYLOAD_TEXT, "hello").result_json());
  EXPECT_EQ(j.at("result"), "hello");
  EXPECT_EQ(j.at("status"), "ok");
}
