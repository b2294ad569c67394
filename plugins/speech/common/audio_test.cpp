#include "audio.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numbers>

#include <sndfile.h>

using namespace cascade::speech;

namespace {
std::vector<int16_t> sine(double hz, uint32_t rate, double seconds, double amp = 10000) {
  std::vector<int16_t> v(static_cast<size_t>(rate * seconds));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<int16_t>(amp * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / rate));
  return v;
}
std::string tmp(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("cascade_speech_" + name)).string();
}
}  // namespace

TEST(Resample, KeepsDurationAndInBandToneWhenGoingFrom22050To16000) {
  auto in = sine(440, 22050, 1.0);
  auto out = resample(in, 22050, 16000);
  EXPECT_EQ(out.size(), 16000u);
  // A 440 Hz tone keeps its level (RMS of a sine of amplitude A is A/sqrt 2).
  EXPECT_NEAR(rms(std::span(out).subspan(1000, 14000)), 10000 / std::sqrt(2.0), 150);
}

TEST(Resample, RemovesToneAboveTheNewNyquistInsteadOfAliasingIt) {
  auto in = sine(10000, 22050, 0.5);  // above 8 kHz: must not fold down to 6 kHz
  auto out = resample(in, 22050, 16000);
  EXPECT_LT(rms(std::span(out).subspan(500, out.size() - 1000)), 300);
}

TEST(Resample, UpsamplesFrom8000) {
  auto out = resample(sine(300, 8000, 0.5), 8000, 16000);
  EXPECT_EQ(out.size(), 8000u);
  EXPECT_NEAR(rms(std::span(out).subspan(500, 7000)), 10000 / std::sqrt(2.0), 150);
}

TEST(Resample, RejectsZeroRateWithA003) {
  std::vector<int16_t> v(10);
  try {
    (void)resample(v, 0, 16000);
    FAIL();
  } catch (const SpeechError& e) {
    EXPECT_EQ(e.code(), "A003");
  }
}

TEST(Wav, RoundTripsMono) {
  auto v = sine(200, 16000, 0.25);
  write_wav(tmp("rt.wav"), v, 16000);
  Wav w = read_wav(tmp("rt.wav"));
  EXPECT_EQ(w.sample_rate, 16000u);
  EXPECT_EQ(w.samples, v);
}

TEST(Wav, RefusesStereoWithA001UnlessAskedToDownmix) {
  const std::string path = tmp("stereo.wav");
  SF_INFO info{};
  info.samplerate = 16000;
  info.channels = 2;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr);
  std::vector<int16_t> inter = {100, 300, -100, -300, 50, 150};
  sf_writef_short(f, inter.data(), 3);
  sf_close(f);
  try {
    (void)read_wav(path);
    FAIL() << "stereo accepted";
  } catch (const SpeechError& e) {
    EXPECT_EQ(e.code(), "A001");
    EXPECT_NE(std::string(e.what()).find("2 channels"), std::string::npos);
  }
  Wav w = read_wav(path, /*downmix=*/true);
  EXPECT_EQ(w.samples, (std::vector<int16_t>{200, -200, 100}));
}

TEST(Wav, MissingFileIsA004NamingThePath) {
  try {
    (void)read_wav("/nonexistent/x.wav");
    FAIL();
  } catch (const SpeechError& e) {
    EXPECT_EQ(e.code(), "A004");
    EXPECT_NE(std::string(e.what()).find("/nonexistent/x.wav"), std::string::npos);
  }
}

TEST(Noise, SameSeedSameNoiseDifferentSeedDifferentNoise) {
  std::vector<int16_t> a(4000, 0), b(4000, 0), c(4000, 0);
  add_gaussian_noise(a, 100, 1);
  add_gaussian_noise(b, 100, 1);
  add_gaussian_noise(c, 100, 2);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NEAR(rms(a), 100, 5);
}

TEST(Noise, SigmaForSnrPutsNoiseTheRequestedDecibelsBelow) {
  EXPECT_NEAR(noise_sigma_for_snr(1000, 20), 100, 1e-9);
  EXPECT_EQ(noise_sigma_for_snr(1000, std::numeric_limits<double>::infinity()), 0.0);
}

TEST(Wav, UnreadableFileIsA003) {
  const std::string path = tmp("not_audio.wav");
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("this is not audio", f);
  std::fclose(f);
  try {
    (void)read_wav(path);
    FAIL();
  } catch (const SpeechError& e) {
    EXPECT_EQ(e.code(), "A003");
  }
}

TEST(EstimateSnr, FollowsTheNoiseAddedToSpeechWithPauses) {
  // 0.3 s of pause, a 1 s tone, 0.3 s of pause, like speechsim's padding.
  std::vector<int16_t> clean(4800, 0);
  const auto tone = sine(300, 16000, 1.0);
  clean.insert(clean.end(), tone.begin(), tone.end());
  clean.insert(clean.end(), 4800, 0);
  double previous = 1e9;
  for (const double snr : {60.0, 30.0, 20.0, 10.0, 0.0}) {
    auto noisy = clean;
    add_gaussian_noise(noisy, noise_sigma_for_snr(rms(tone), snr), 7);
    const double est = estimate_snr_db(noisy, 16000);
    EXPECT_NEAR(est, snr, 2.0) << snr;
    EXPECT_LT(est, previous) << snr;
    previous = est;
  }
  EXPECT_EQ(estimate_snr_db(clean, 16000), 60.0);  // digital silence in the pauses
  EXPECT_EQ(estimate_snr_db(std::vector<int16_t>(100, 5), 16000), 60.0);  // shorter than a frame
  // Noise alone, no speech above it: the lowest value.
  std::vector<int16_t> hiss(16000, 0);
  add_gaussian_noise(hiss, 300, 7);
  EXPECT_LT(estimate_snr_db(hiss, 16000), 3.0);
}
