// Runs the real tts plugin (espeak-ng) through the SDK harness.
#include "audio.hpp"

#include <cascade/sdk/testing.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

using cascade::sdk::Status;
using cascade::sdk::testing::Harness;
using cascade::sdk::testing::Value;
namespace fs = std::filesystem;

TEST(Tts, ProducesSixteenKilohertzSpeechOfPlausibleLength) {
  auto h = Harness::load(CASCADE_TTS_SO);
  EXPECT_EQ(h->descriptor().max_concurrency, 1u);
  auto r = h->run({{"text", Value::text("The lights in the kitchen are now on.")}});
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  const auto& a = r.outputs.at("audio");
  EXPECT_EQ(a.sample_rate, 16000u);
  const double s = static_cast<double>(a.samples().size()) / 16000.0;
  EXPECT_GT(s, 1.2);
  EXPECT_LT(s, 6.0);
  EXPECT_GT(cascade::speech::rms(a.samples()), 300.0);
}

TEST(Tts, WritesAWavFileWhenWavDirIsSet) {
  const fs::path dir = fs::temp_directory_path() / "cascade_tts_test";
  fs::remove_all(dir);
  auto h = Harness::load(CASCADE_TTS_SO, {{"wav_dir", dir.string()}});
  auto r = h->run({{"text", Value::text("Timer set for ten minutes.")}});
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  const std::string path = r.text_features.at("wav_path");
  EXPECT_EQ(fs::path(path).parent_path(), dir);
  auto w = cascade::speech::read_wav(path);
  EXPECT_EQ(w.sample_rate, 16000u);
  EXPECT_EQ(w.samples, r.outputs.at("audio").samples());
}

// espeak-ng carries phase/jitter state from one utterance to the next, so
// the same text does not give byte-identical samples twice; the plugin must
// not claim otherwise (replay would flag it).
TEST(Tts, DeclaresItselfNotDeterministicAndRepeatsTextToTheSameLength) {
  auto h = Harness::load(CASCADE_TTS_SO);
  EXPECT_EQ(h->descriptor().flags & CASCADE_PLUGIN_DETERMINISTIC, 0u);
  auto a = h->run({{"text", Value::text("hello there")}});
  auto b = h->run({{"text", Value::text("hello there")}});
  EXPECT_NEAR(static_cast<double>(a.outputs.at("audio").bytes.size()),
              static_cast<double>(b.outputs.at("audio").bytes.size()), 0.01 * a.outputs.at("audio").bytes.size());
}

TEST(Tts, FasterRateGivesShorterAudio) {
  auto slow = Harness::load(CASCADE_TTS_SO, {{"rate", "120"}});
  auto fast = Harness::load(CASCADE_TTS_SO, {{"rate", "300"}});
  const auto text = Value::text("what is the weather like in london tomorrow");
  EXPECT_GT(slow->run({{"text", text}}).outputs.at("audio").bytes.size(),
            fast->run({{"text", text}}).outputs.at("audio").bytes.size() * 3 / 2);
}

TEST(Tts, EmptyTextIsA023AndUnknownVoiceFailsOpen) {
  auto h = Harness::load(CASCADE_TTS_SO);
  auto r = h->run({{"text", Value::text("  ")}});
  EXPECT_EQ(r.status, Status::InvalidArgument);
  EXPECT_EQ(r.error.rfind("A023", 0), 0u) << r.error;
  EXPECT_THROW(Harness::load(CASCADE_TTS_SO, {{"voice", "no-such-voice-xyz"}}), std::runtime_error);
}

// tts and speechsim are two libraries that both drive the one, global
// espeak-ng; their shared process-wide lock must keep concurrent use safe.
// Without it the two would swap callbacks and voices mid-utterance: outputs
// would come out empty, truncated, or holding the other's speech.
TEST(Tts, RunsSafelyAlongsideSpeechsimInOneProcess) {
  auto tts = Harness::load(CASCADE_TTS_SO, {{"voice", "en-us"}});
  auto sim = Harness::load(CASCADE_SPEECHSIM_SO, {{"voice", "en-us+f2"}, {"lead_silence_ms", "0"}});
  const auto t_text = Value::text("play some jazz music");
  const auto s_text = Value::text("what is the weather like in london tomorrow");
  const size_t tts_alone = tts->run({{"text", t_text}}).outputs.at("audio").bytes.size();
  const size_t sim_alone = sim->run({{"text", s_text}}).outputs.at("audio").bytes.size();
  std::vector<size_t> t_out(8), s_out(8);
  std::thread a([&] {
    for (auto& o : t_out) o = tts->run({{"text", t_text}}).outputs.at("audio").bytes.size();
  });
  std::thread b([&] {
    for (auto& o : s_out) o = sim->run({{"text", s_text}}).outputs.at("audio").bytes.size();
  });
  a.join();
  b.join();
  for (size_t o : t_out) EXPECT_NEAR(static_cast<double>(o), static_cast<double>(tts_alone), 0.02 * tts_alone);
  for (size_t o : s_out) EXPECT_NEAR(static_cast<double>(o), static_cast<double>(sim_alone), 0.02 * sim_alone);
}

// Closing the loop: what tts says, asr (with the test's domain LM) hears.
TEST(Tts, ItsSpeechIsRecognisedByTheAsrPlugin) {
  auto tts = Harness::load(CASCADE_TTS_SO, {{"voice", "en-us+f2"}});
  // The stock acoustic model: the asr default is adapted to speechsim's slt
  // voice and hears espeak's voices worse (docs/results.md).
  auto asr = Harness::load(CASCADE_ASR_SO,
                           {{"lm", CASCADE_ASR_TEST_LM}, {"dict", CASCADE_ASR_TEST_DICT}, {"hmm", CASCADE_ASR_STOCK_HMM}});
  auto speech = tts->run({{"text", Value::text("turn off the lights in the bedroom")}});
  ASSERT_EQ(speech.status, Status::Ok) << speech.error;
  // Pad with a little noise: digital silence at the edges hurts recognition.
  auto pcm = speech.outputs.at("audio").samples();
  pcm.insert(pcm.begin(), 3200, 0);
  pcm.insert(pcm.end(), 3200, 0);
  cascade::speech::add_gaussian_noise(pcm, 3.0, 1);
  auto r = asr->run({{"audio", Value::audio(pcm, 16000)}});
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  EXPECT_EQ(r.outputs.at("text").bytes, "turn off the lights in the bedroom");
}
