// speechsim/speechsim.hpp — synthetic spoken requests: text -> 16 kHz PCM16
// speech with controlled, reproducible noise. Used by the `speechsim`
// plugin, the `cascade-speechsim` CLI, `cascade-speech-bench` and the speech
// tests, so an experiment's audio can always be regenerated from its text
// and options.
//
// Voices: "slt" (flite cmu_us_slt, recognised best) or any espeak-ng voice
// name ("en-us+f2", "en-us+klatt", "en-us").
//
// Threading: simulate() may be called from any thread. The engines are
// process-global and not thread-safe, so synthesis is serialised
// process-wide (see common/espeak_engine.hpp for why the lock is shared even
// across plugin libraries); the noise mixing runs unlocked.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::speech {

struct SimOptions {
  std::string voice = "slt";
  // Noise level relative to the speech RMS. +inf = clean, but a noise floor
  // `floor_db` below the speech is ALWAYS added: digitally silent padding
  // makes pocketsphinx's noise estimation and CMN misbehave.
  double snr_db = std::numeric_limits<double>::infinity();
  double floor_db = 60.0;
  // Noise is a pure function of (seed, text): same pair, same bytes.
  uint64_t seed = 0;
  // If non-empty, "<wake_prefix>", a pause of `wake_pause_ms`, then the text.
  std::string wake_prefix;
  int wake_pause_ms = 300;
  int lead_silence_ms = 200;
  int trail_silence_ms = 200;
  int rate_wpm = 0;  // espeak voices only; 0 = default
};

struct SimAudio {
  std::vector<int16_t> samples;  // mono PCM16
  uint32_t sample_rate = 16000;
  double speech_rms = 0.0;       // RMS of the clean synthesis, before padding
  double noise_sigma = 0.0;      // standard deviation of the added noise
  size_t request_start = 0;      // sample where `text` begins (after lead silence / wake prefix)
};

// Throws SpeechError: A022 for an unknown voice or failed synthesis,
// A023 when the text synthesises to nothing.
SimAudio simulate(std::string_view text, const SimOptions& options);

// Clean synthesis only, resampled to 16 kHz, no padding and no noise.
std::vector<int16_t> synthesize_16k(std::string_view text, const std::string& voice, int rate_wpm = 0);

// Parses an SNR option: a number of dB, or "inf"/"none"/"clean" for +inf.
// Throws std::invalid_argument otherwise.
double parse_snr(std::string_view s);

}  // namespace cascade::speech
