// speech/common/audio.hpp — audio helpers shared by the speech plugins and
// tools: resampling, WAV files (libsndfile), RMS, an SNR estimate and
// seeded noise mixing.
//
// Everything here is a free function on values: no state, so every function
// is safe to call from any number of threads at once.
//
// Errors are thrown as SpeechError carrying a stable A0xx code (see
// plugins/speech/README.md) so a plugin can put the code in front of its
// message and a tool can print it.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace cascade::speech {

// An error with a stable code ("A001", ...). what() is "<code>: <message>".
class SpeechError : public std::runtime_error {
 public:
  SpeechError(std::string code, const std::string& message)
      : std::runtime_error(code + ": " + message), code_(std::move(code)) {}
  [[nodiscard]] const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

// Band-limited resampling (windowed-sinc, Blackman window, cut-off at the
// lower Nyquist) so that going 22.05 kHz -> 16 kHz does not fold the
// 8-11 kHz band back into the speech band, as linear interpolation would.
// Returns the input unchanged when from == to. Throws SpeechError A003 when
// a rate is 0.
std::vector<int16_t> resample(std::span<const int16_t> in, uint32_t from_rate, uint32_t to_rate);

// Mono PCM16 samples and their rate.
struct Wav {
  std::vector<int16_t> samples;
  uint32_t sample_rate = 0;
};

// Reads any file libsndfile understands as PCM16. A file with more than one
// channel is refused with A001 unless `downmix` is true (then the channels
// are averaged). A missing file throws A004, an unreadable one A003, both
// naming the path.
Wav read_wav(const std::string& path, bool downmix = false);

// Writes a 16-bit mono WAV. Throws A020 naming the path when it cannot.
void write_wav(const std::string& path, std::span<const int16_t> samples, uint32_t sample_rate);

// Root mean square of the samples (0 for none).
double rms(std::span<const int16_t> samples);

// The signal-to-noise ratio in dB, estimated from the samples alone (no
// clean reference), as a front end judges how noisy the room is: the
// energies of 25 ms frames every 10 ms; the noise floor is their 10th
// percentile (the pauses), the speech level their 95th; the estimate is
// 10 log10((speech - noise) / noise), clamped to [-10, 60]. Speech needs
// pauses for this (a leading or trailing silence is enough). Rough, but
// monotone in the noise added. Fewer samples than one frame: 60.
double estimate_snr_db(std::span<const int16_t> samples, uint32_t sample_rate);

// Adds white Gaussian noise of standard deviation `sigma` (in sample units),
// clipping to int16. The noise is a pure function of `seed`: the same seed
// gives the same samples on every run and machine (own Box-Muller over
// std::mt19937_64, whose output the standard fixes; std::normal_distribution
// is implementation-defined).
void add_gaussian_noise(std::vector<int16_t>& samples, double sigma, uint64_t seed);

// The sigma that puts white noise `snr_db` below a signal of RMS `signal_rms`.
double noise_sigma_for_snr(double signal_rms, double snr_db);

}  // namespace cascade::speech
