#include "audio.hpp"

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>
#include <random>

namespace cascade::speech {

namespace {
int16_t clip16(double v) {
  return static_cast<int16_t>(std::clamp(std::lround(v), -32768L, 32767L));
}
}  // namespace

std::vector<int16_t> resample(std::span<const int16_t> in, uint32_t from_rate, uint32_t to_rate) {
  if (from_rate == 0 || to_rate == 0) throw SpeechError("A003", "sample rate must not be 0");
  if (from_rate == to_rate || in.empty()) return {in.begin(), in.end()};
  const double ratio = static_cast<double>(to_rate) / from_rate;
  // Low-pass at the lower of the two Nyquist frequencies, a little inside it.
  const double cutoff = 0.95 * std::min(1.0, ratio);  // relative to input Nyquist
  constexpr int kHalf = 16;                             // taps each side (at the cut-off scale)
  const double half_width = kHalf / cutoff;              // in input samples
  const size_t n_out = static_cast<size_t>(std::floor(static_cast<double>(in.size()) * ratio));
  std::vector<int16_t> out(n_out);
  const auto n_in = static_cast<long>(in.size());
  for (size_t i = 0; i < n_out; ++i) {
    const double t = static_cast<double>(i) / ratio;  // position in input samples
    const long lo = std::max(0L, static_cast<long>(std::ceil(t - half_width)));
    const long hi = std::min(n_in - 1, static_cast<long>(std::floor(t + half_width)));
    double acc = 0.0;
    double wsum = 0.0;
    for (long k = lo; k <= hi; ++k) {
      const double x = (static_cast<double>(k) - t) * cutoff;  // in cut-off periods
      const double sinc = x == 0.0 ? 1.0 : std::sin(std::numbers::pi * x) / (std::numbers::pi * x);
      const double u = (static_cast<double>(k) - t) / half_width;  // -1..1
      const double win = 0.42 + 0.5 * std::cos(std::numbers::pi * u) + 0.08 * std::cos(2 * std::numbers::pi * u);
      const double w = sinc * win;
      acc += w * in[static_cast<size_t>(k)];
      wsum += w;
    }
    // Normalising by the kernel sum keeps DC gain exactly 1, also at the edges.
    out[i] = clip16(wsum != 0.0 ? acc / wsum : 0.0);
  }
  return out;
}

Wav read_wav(const std::string& path, bool downmix) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (f == nullptr) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw SpeechError("A004", "audio file not found: " + path);
    throw SpeechError("A003", "not a readable audio file: " + path + ": " + sf_strerror(nullptr));
  }
  if (info.channels != 1 && !downmix) {
    sf_close(f);
    throw SpeechError("A001", path + " has " + std::to_string(info.channels) +
                                  " channels; mono expected (downmix it first)");
  }
  std::vector<int16_t> inter(static_cast<size_t>(info.frames) * static_cast<size_t>(info.channels));
  const sf_count_t got = sf_readf_short(f, inter.data(), info.frames);
  sf_close(f);
  Wav w;
  w.sample_rate = static_cast<uint32_t>(info.samplerate);
  w.samples.resize(static_cast<size_t>(got));
  const auto ch = static_cast<size_t>(info.channels);
  for (size_t i = 0; i < w.samples.size(); ++i) {
    long sum = 0;
    for (size_t c = 0; c < ch; ++c) sum += inter[i * ch + c];
    w.samples[i] = static_cast<int16_t>(sum / static_cast<long>(ch));
  }
  return w;
}

void write_wav(const std::string& path, std::span<const int16_t> samples, uint32_t sample_rate) {
  SF_INFO info{};
  info.samplerate = static_cast<int>(sample_rate);
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (f == nullptr) throw SpeechError("A020", "cannot write audio file " + path + ": " + sf_strerror(nullptr));
  const auto n = static_cast<sf_count_t>(samples.size());
  const sf_count_t put = sf_write_short(f, samples.data(), n);
  sf_close(f);
  if (put != n) throw SpeechError("A020", "short write to " + path);
}

double rms(std::span<const int16_t> samples) {
  if (samples.empty()) return 0.0;
  double s = 0.0;
  for (int16_t v : samples) s += static_cast<double>(v) * v;
  return std::sqrt(s / static_cast<double>(samples.size()));
}

double estimate_snr_db(std::span<const int16_t> samples, uint32_t sample_rate) {
  constexpr double kLow = -10.0, kHigh = 60.0;
  const size_t frame = std::max<size_t>(1, sample_rate / 40), hop = std::max<size_t>(1, sample_rate / 100);
  if (samples.size() < frame) return kHigh;
  std::vector<double> energy;
  for (size_t at = 0; at + frame <= samples.size(); at += hop) {
    const double r = rms(samples.subspan(at, frame));
    energy.push_back(r * r);
  }
  auto percentile = [&energy](double q) {
    const auto k = static_cast<size_t>(q * static_cast<double>(energy.size() - 1));
    std::nth_element(energy.begin(), energy.begin() + static_cast<std::ptrdiff_t>(k), energy.end());
    return energy[k];
  };
  const double noise = percentile(0.10), speech = percentile(0.95);
  if (noise <= 0.0) return kHigh;
  if (speech <= noise) return kLow;
  return std::clamp(10.0 * std::log10((speech - noise) / noise), kLow, kHigh);
}

void add_gaussian_noise(std::vector<int16_t>& samples, double sigma, uint64_t seed) {
  if (sigma <= 0.0) return;
  std::mt19937_64 rng(seed);
  // 53 random bits -> (0, 1]; never 0 so the log is finite.
  auto uniform = [&rng] { return (static_cast<double>(rng() >> 11) + 1.0) * 0x1.0p-53; };
  for (size_t i = 0; i < samples.size(); i += 2) {
    const double r = std::sqrt(-2.0 * std::log(uniform()));
    const double th = 2.0 * std::numbers::pi * uniform();
    samples[i] = clip16(samples[i] + sigma * r * std::cos(th));
    if (i + 1 < samples.size()) samples[i + 1] = clip16(samples[i + 1] + sigma * r * std::sin(th));
  }
}

double noise_sigma_for_snr(double signal_rms, double snr_db) {
  if (!std::isfinite(snr_db)) return 0.0;
  return signal_rms / std::pow(10.0, snr_db / 20.0);
}

}  // namespace cascade::speech
