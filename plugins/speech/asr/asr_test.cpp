// Runs the real asr plugin (pocketsphinx, LM built by cascade-lm-build from
// testdata/sentences.txt) on speech synthesised by the speechsim engine.
#include "speechsim.hpp"

#include "audio.hpp"
#include "wer.hpp"

#include <cascade/sdk/testing.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <thread>

using cascade::sdk::Status;
using cascade::sdk::testing::Harness;
using cascade::sdk::testing::Value;
namespace sp = cascade::speech;

namespace {
std::map<std::string, std::string> test_model() {
  return {{"lm", CASCADE_ASR_TEST_LM}, {"dict", CASCADE_ASR_TEST_DICT}};
}
std::vector<std::string> sentences() {
  std::ifstream in(CASCADE_ASR_TEST_SENTENCES);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}
std::vector<int16_t> speech(const std::string& text, double snr = std::numeric_limits<double>::infinity()) {
  sp::SimOptions o;
  o.snr_db = snr;
  o.seed = 1;
  return sp::simulate(text, o).samples;
}
Harness& asr() {
  static auto h = Harness::load(CASCADE_ASR_SO, test_model());
  return *h;
}
}  // namespace

TEST(Asr, TranscribesCleanInDomainSpeechWithWerAtMostTwentyPercent) {
  size_t errors = 0, words = 0;
  double audio_s = 0, decode_s = 0;
  auto list = sentences();
  ASSERT_GE(list.size(), 10u);
  for (size_t i = 0; i < list.size(); i += 2) {  // every other sentence keeps the test short
    auto r = asr().run({{"audio", Value::audio(speech(list[i]), 16000)}});
    ASSERT_EQ(r.status, Status::Ok) << r.error;
    const std::string hyp = r.outputs.at("text").bytes;
    errors += sp::word_errors(list[i], hyp);
    words += sp::word_count(list[i]);
    audio_s += r.features.at("duration_s");
    decode_s += r.features.at("decode_s");
    if (hyp != list[i]) std::cout << "  ref: " << list[i] << "\n  hyp: " << hyp << "\n";
  }
  const double wer = static_cast<double>(errors) / static_cast<double>(words);
  std::cout << "[asr] clean slt WER " << 100 * wer << "% over " << words << " words; RTF "
            << decode_s / audio_s << " (" << audio_s / decode_s << "x faster than real time)\n";
  EXPECT_LE(wer, 0.20);
}

TEST(Asr, ReportsNbestConfidenceAndPerWordConfidence) {
  auto r = asr().run({{"audio", Value::audio(speech("set a timer for ten minutes"), 16000)}});
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  ASSERT_TRUE(r.confidence.has_value());
  EXPECT_GE(*r.confidence, 0.0);
  EXPECT_LE(*r.confidence, 1.0);
  ASSERT_FALSE(r.nbest.empty());
  EXPECT_LE(r.nbest.size(), 5u);
  auto nb = nlohmann::json::parse(r.outputs.at("nbest").bytes);
  ASSERT_TRUE(nb.is_array());
  ASSERT_EQ(nb.size(), r.nbest.size());
  double total = 0;
  for (const auto& e : nb) total += e.at("score").get<double>();
  EXPECT_NEAR(total, 1.0, 1e-6);
  auto wc = nlohmann::json::parse(r.text_features.at("word_conf"));
  ASSERT_TRUE(wc.is_array());
  EXPECT_EQ(wc.size(), static_cast<size_t>(r.features.at("n_words")));
  for (const auto& w : wc) {
    EXPECT_GE(w.at("conf").get<double>(), 0.0);
    EXPECT_LE(w.at("conf").get<double>(), 1.0);
    EXPECT_LT(w.at("start_s").get<double>(), w.at("end_s").get<double>());
  }
  EXPECT_EQ(r.features.at("resampled"), 0.0);
  EXPECT_GT(r.features.at("rtf"), 0.0);
}

TEST(Asr, ResamplesAudioAt22050And8000Hz) {
  const std::string ref = "turn on the lights in the kitchen";
  const auto pcm = speech(ref);
  for (uint32_t rate : {22050u, 8000u}) {
    auto r = asr().run({{"audio", Value::audio(sp::resample(pcm, 16000, rate), rate)}});
    ASSERT_EQ(r.status, Status::Ok) << r.error;
    EXPECT_EQ(r.features.at("resampled"), 1.0);
    const std::string hyp = r.outputs.at("text").bytes;
    std::cout << "[asr] at " << rate << " Hz: " << hyp << "\n";
    EXPECT_LE(sp::word_errors(ref, hyp), rate == 8000 ? 2u : 1u) << hyp;
    EXPECT_NEAR(r.features.at("duration_s"), static_cast<double>(pcm.size()) / 16000, 0.01);
  }
}

TEST(Asr, EmptyAudioIsInvalidArgumentA002) {
  auto r = asr().run({{"audio", Value::audio({}, 16000)}});
  EXPECT_EQ(r.status, Status::InvalidArgument);
  EXPECT_EQ(r.error.rfind("A002: empty audio", 0), 0u) << r.error;
}

TEST(Asr, MissingModelFileFailsOpenWithA010NamingThePath) {
  try {
    Harness::load(CASCADE_ASR_SO, {{"lm", "/nonexistent/domain.lm"}, {"dict", CASCADE_ASR_TEST_DICT}});
    FAIL() << "open succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("A010: model file not found: /nonexistent/domain.lm"), std::string::npos)
        << e.what();
  }
}

TEST(Asr, ConcurrentCallsGiveTheSameTranscriptsAsSequentialOnes) {
  ASSERT_EQ(asr().descriptor().max_concurrency, 0u);
  // The stock acoustic model: this test is about the decoder pool. With the
  // default (adapted) model these 20 dB decodes are borderline ("play the
  // news" -> "play" / "the"), and a pooled decoder's carried state (the
  // plugin is declared not deterministic) then tips them one way or the
  // other between the sequential and the parallel pass.
  static auto stock = [] {
    auto params = test_model();
    params["hmm"] = CASCADE_ASR_STOCK_HMM;
    return Harness::load(CASCADE_ASR_SO, params);
  }();
  const std::vector<std::string> refs = {"what time is it", "play the news", "stop the music"};
  std::vector<std::vector<int16_t>> pcm;
  std::vector<std::string> seq(refs.size()), par(refs.size());
  for (size_t i = 0; i < refs.size(); ++i) {
    pcm.push_back(speech(refs[i], 20));
    seq[i] = stock->run({{"audio", Value::audio(pcm[i], 16000)}}).outputs.at("text").bytes;
  }
  std::vector<std::thread> ts;
  for (size_t i = 0; i < refs.size(); ++i)
    ts.emplace_back([&, i] { par[i] = stock->run({{"audio", Value::audio(pcm[i], 16000)}}).outputs.at("text").bytes; });
  for (auto& t : ts) t.join();
  EXPECT_EQ(seq, par);
}

TEST(Asr, NoiseWithoutSpeechIsNotAnError) {
  std::vector<int16_t> noise(16000, 0);
  sp::add_gaussian_noise(noise, 30.0, 9);
  auto r = asr().run({{"audio", Value::audio(noise, 16000)}});
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  ASSERT_TRUE(r.outputs.count("text"));
  std::cout << "[asr] on noise: '" << r.outputs.at("text").bytes << "' confidence " << r.confidence.value_or(-1) << "\n";
  EXPECT_LE(sp::word_count(r.outputs.at("text").bytes), 2u);
  EXPECT_TRUE(nlohmann::json::parse(r.outputs.at("nbest").bytes).is_array());
}

TEST(Asr, ALanguageWeightOutOfRangeIsRejectedAtOpen) {
  for (const std::string name : {"lw", "bestpath_lw"}) {
    for (const char* bad : {"0", "-1", "1000"}) {
      auto params = test_model();
      params[name] = bad;
      try {
        Harness::load(CASCADE_ASR_SO, params);
        ADD_FAILURE() << name << " = " << bad << " was accepted";
      } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("parameter '" + name + "' must be in (0, 100]"), std::string::npos)
            << e.what();
      }
    }
  }
  auto params = test_model();
  params["lw"] = "6.5";  // pocketsphinx's own defaults still decode
  params["bestpath_lw"] = "9.5";
  auto h = Harness::load(CASCADE_ASR_SO, params);
  auto r = h->run({{"audio", Value::audio(speech(sentences().front()), 16000)}});
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  EXPECT_LE(sp::word_errors(sentences().front(), r.outputs.at("text").bytes), 1u);
}

TEST(Asr, VeryShortAudioIsNotAnError) {
  std::vector<int16_t> blip(100, 0);
  sp::add_gaussian_noise(blip, 30.0, 9);
  auto r = asr().run({{"audio", Value::audio(blip, 16000)}});
  EXPECT_EQ(r.status, Status::Ok) << r.error;
}
