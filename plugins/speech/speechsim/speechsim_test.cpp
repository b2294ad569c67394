// Runs the real speechsim plugin (flite/espeak-ng) through the SDK harness.
#include <cascade/sdk/testing.hpp>

#include <gtest/gtest.h>

using cascade::sdk::Status;
using cascade::sdk::testing::Harness;
using cascade::sdk::testing::Value;

namespace {
cascade::sdk::testing::Result say(const std::map<std::string, std::string>& params, const std::string& text) {
  auto h = Harness::load(CASCADE_SPEECHSIM_SO, params);
  return h->run({{"text", Value::text(text)}});
}
}  // namespace

TEST(SpeechSim, ProducesSixteenKilohertzAudioOfPlausibleLength) {
  auto r = say({}, "turn on the lights in the kitchen");
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  const auto& a = r.outputs.at("audio");
  EXPECT_EQ(a.type, CASCADE_PAYLOAD_AUDIO);
  EXPECT_EQ(a.sample_rate, 16000u);
  const double seconds = static_cast<double>(a.samples().size()) / 16000.0;
  EXPECT_GT(seconds, 1.0);  // seven words
  EXPECT_LT(seconds, 5.0);
  EXPECT_GT(r.features.at("speech_rms"), 100.0);
}

TEST(SpeechSim, SameSeedGivesIdenticalBytesDifferentSeedDifferentNoise) {
  auto a = say({{"snr_db", "20"}, {"seed", "7"}}, "what time is it");
  auto b = say({{"snr_db", "20"}, {"seed", "7"}}, "what time is it");
  auto c = say({{"snr_db", "20"}, {"seed", "8"}}, "what time is it");
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  // EXPECT_TRUE, not EXPECT_EQ: a failure must not print megabytes of PCM.
  EXPECT_TRUE(a.outputs.at("audio").bytes == b.outputs.at("audio").bytes);
  EXPECT_EQ(a.outputs.at("audio").bytes.size(), c.outputs.at("audio").bytes.size());
  EXPECT_TRUE(a.outputs.at("audio").bytes != c.outputs.at("audio").bytes);
}

TEST(SpeechSim, CleanSpeechStillHasANoiseFloorSoNoSampleRunIsDigitallySilent) {
  auto r = say({{"lead_silence_ms", "300"}}, "hello");
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  auto s = r.outputs.at("audio").samples();
  int zeros = 0;
  for (size_t i = 0; i < 4000; ++i) zeros += s[i] == 0;
  EXPECT_LT(zeros, 4000 / 2);
  EXPECT_GE(r.features.at("noise_sigma"), 1.0);
}

TEST(SpeechSim, LowerSnrMeansMoreNoise) {
  auto hi = say({{"snr_db", "30"}}, "set a timer");
  auto lo = say({{"snr_db", "5"}}, "set a timer");
  EXPECT_GT(lo.features.at("noise_sigma"), 10 * hi.features.at("noise_sigma"));
}

TEST(SpeechSim, WakePrefixComesBeforeTheRequest) {
  auto plain = say({}, "turn on the lights");
  auto woke = say({{"wake_prefix", "alexa"}}, "turn on the lights");
  ASSERT_EQ(woke.status, Status::Ok) << woke.error;
  EXPECT_GT(woke.features.at("request_start_s"), plain.features.at("request_start_s") + 0.3);
  EXPECT_GT(woke.outputs.at("audio").bytes.size(), plain.outputs.at("audio").bytes.size());
}

TEST(SpeechSim, EspeakVoicesWorkToo) {
  // Seven words take well over a second; a synthesis that loses chunks
  // without word events (a real bug once) comes out far shorter.
  auto r = say({{"voice", "en-us+f2"}, {"lead_silence_ms", "0"}}, "turn on the lights in the kitchen");
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  EXPECT_GT(r.features.at("duration_s"), 1.4);
}

TEST(SpeechSim, UnknownVoiceFailsAtOpen) {
  EXPECT_THROW(Harness::load(CASCADE_SPEECHSIM_SO, {{"voice", "no-such-voice-xyz"}}), std::runtime_error);
}

TEST(SpeechSim, EmptyTextIsRejectedWithA023) {
  auto r = say({}, "   ");
  EXPECT_EQ(r.status, Status::InvalidArgument);
  EXPECT_EQ(r.error.rfind("A023", 0), 0u) << r.error;
}
