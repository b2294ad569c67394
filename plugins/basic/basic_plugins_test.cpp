// The built-in basic plugins, loaded from their .so files and run through
// the SDK harness exactly as a plugin team would test theirs.
#include <cascade/sdk/testing.hpp>

#include <gtest/gtest.h>

using cascade::sdk::Status;
using cascade::sdk::testing::Harness;
using cascade::sdk::testing::Value;

TEST(Normalize, LowercasesFoldsSpacesAndStripsPunctuationButApostrophes) {
  auto h = Harness::load(NORMALIZE_SO);
  auto r = h->run({{"text", Value::text("  Turn ON the   kitchen's Lights! ")}});
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  EXPECT_EQ(r.outputs.at("text").bytes, "turn on the kitchen's lights");
  EXPECT_GT(r.features.at("chars_changed"), 0.0);
}

TEST(Normalize, StripsAConfiguredLeadingWord) {
  auto h = Harness::load(NORMALIZE_SO, {{"strip_prefix", "alexa"}});
  auto r = h->run({{"text", Value::text("Alexa, what time is it")}});
  EXPECT_EQ(r.outputs.at("text").bytes, "what time is it");
  EXPECT_EQ(r.features.at("stripped_prefix"), 1.0);
}

TEST(Normalize, RefusesAnAudioInputWithAClearError) {
  auto h = Harness::load(NORMALIZE_SO);
  auto r = h->run({{"text", Value::audio({1, 2, 3}, 16000)}});
  EXPECT_EQ(r.status, Status::InvalidArgument);
  EXPECT_NE(r.error.find("'text'"), std::string::npos) << r.error;
}

TEST(Normalize, RefusesAnInvalidBoolParameterAtOpen) {
  EXPECT_THROW(Harness::load(NORMALIZE_SO, {{"lowercase", "maybe"}}), std::runtime_error);
}

TEST(Join, JoinsBothInputsAndPassesOneWhenTheOtherIsMissing) {
  auto h = Harness::load(JOIN_SO, {{"separator", "+"}, {"weight", "0.25"}});
  auto both = h->run({{"a", Value::text("x")}, {"b", Value::text("y")}});
  EXPECT_EQ(both.outputs.at("text").bytes, "x+y");
  EXPECT_EQ(both.confidence, 0.25);
  auto one = h->run({{"b", Value::text("y")}});
  EXPECT_EQ(one.outputs.at("text").bytes, "y");
}

TEST(Join, RefusesANegativeMaxLenAtOpen) {
  EXPECT_THROW(Harness::load(JOIN_SO, {{"max_len", "-1"}}), std::runtime_error);
}

TEST(Passthrough, ForwardsAudioWithItsSampleRate) {
  auto h = Harness::load(PASSTHROUGH_SO);
  auto r = h->run({{"in", Value::audio({1, -2, 3}, 8000)}});
  ASSERT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.outputs.at("out").sample_rate, 8000u);
  EXPECT_EQ(r.outputs.at("out").samples(), (std::vector<int16_t>{1, -2, 3}));
}

TEST(Passthrough, ForwardsByHostForwardOnA11HostAndByEmitOnA10Host) {
  auto h = Harness::load(PASSTHROUGH_SO);
  const auto in = Value::audio({4, 5}, 16000);
  auto r = h->run({{"in", in}});
  ASSERT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.forwards, 1u);
  h->emulate_host_minor(0);  // no forward() in the host table: the SDK must fall back to emit()
  auto old = h->run({{"in", in}});
  ASSERT_EQ(old.status, Status::Ok);
  EXPECT_EQ(old.forwards, 0u);
  EXPECT_EQ(old.outputs.at("out").samples(), r.outputs.at("out").samples());
  EXPECT_EQ(old.outputs.at("out").sample_rate, 16000u);
}

TEST(Noop, EmitsNothingWhenItsOptionalInputIsMissing) {
  auto h = Harness::load(NOOP_SO);
  auto r = h->run({});
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_TRUE(r.outputs.empty());
}

// ------------------------------------------------- batch calls (ABI 1.2)

TEST(Noop, ABatchCallPassesEveryTurnsInputOnAndLeavesAnAbsentOneAbsent) {
  auto h = Harness::load(NOOP_SO);
  auto r = h->run_batch({{{"in", Value::text("one")}}, {}, {{"in", Value::json("{}")}}});
  ASSERT_EQ(r.size(), 3u);
  for (const auto& t : r) EXPECT_EQ(t.status, Status::Ok) << t.error;
  EXPECT_EQ(r[0].outputs.at("out").bytes, "one");
  EXPECT_EQ(r[0].outputs.at("out").type, static_cast<uint32_t>(CASCADE_PAYLOAD_TEXT));
  EXPECT_TRUE(r[1].outputs.empty());
  EXPECT_EQ(r[2].outputs.at("out").type, static_cast<uint32_t>(CASCADE_PAYLOAD_JSON));
  // Stored in the output entries by Batch::forward_all: no host call.
  EXPECT_EQ(r[0].forwards, 0u);
  EXPECT_EQ(r[0].stored, 1u);
}

TEST(Passthrough, ABatchCallRunsProcessOnceATurnAndStoresTheForwardsItself) {
  // Passthrough declares no process_batch: the SDK calls process() per turn,
  // and Call::forward writes the batch's output entry instead of calling
  // the host.
  auto h = Harness::load(PASSTHROUGH_SO);
  auto r = h->run_batch({{{"in", Value::text("a")}}, {{"in", Value::audio({7, 8}, 8000)}}});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].outputs.at("out").bytes, "a");
  EXPECT_EQ(r[1].outputs.at("out").samples(), (std::vector<int16_t>{7, 8}));
  EXPECT_EQ(r[1].outputs.at("out").sample_rate, 8000u);
  EXPECT_EQ(r[0].forwards + r[1].forwards, 0u);
  EXPECT_EQ(r[0].stored + r[1].stored, 2u);
}

TEST(Normalize, InABatchATurnThatThrowsFailsAloneWithItsMessage) {
  auto h = Harness::load(NORMALIZE_SO);
  auto r = h->run_batch({{{"text", Value::text("Hello, World")}},
                         {{"text", Value::audio({1, 2}, 16000)}},
                         {{"text", Value::text("  Again  ")}}});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].status, Status::Ok);
  EXPECT_EQ(r[0].outputs.at("text").bytes, "hello world");
  EXPECT_EQ(r[1].status, Status::InvalidArgument);
  EXPECT_NE(r[1].error.find("'text'"), std::string::npos) << r[1].error;
  EXPECT_TRUE(r[1].outputs.empty());
  EXPECT_EQ(r[2].status, Status::Ok);
  EXPECT_EQ(r[2].outputs.at("text").bytes, "again");
  EXPECT_GT(r[2].features.at("chars_changed"), 0.0);  // host calls reach each turn's own context
}
