#include "speechsim.hpp"

#include "../common/audio.hpp"
#include "../common/espeak_engine.hpp"

#include <flite/flite.h>
#include <xxhash.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

extern "C" cst_voice* register_cmu_us_slt(const char* voxdir);

namespace cascade::speech {

// flite keeps global state too; same process-wide lock trick as espeak.
struct FliteProcessState {
  std::mutex mutex;
  cst_voice* slt = nullptr;
};
__attribute__((visibility("default"))) inline FliteProcessState& flite_process_state() {
  static FliteProcessState state;
  return state;
}

namespace {

std::vector<int16_t> flite_slt(std::string_view text, uint32_t* rate) {
  auto& st = flite_process_state();
  std::lock_guard lock(st.mutex);
  if (st.slt == nullptr) {
    flite_init();
    st.slt = register_cmu_us_slt(nullptr);
    if (st.slt == nullptr) throw SpeechError("A021", "flite could not register the slt voice");
  }
  // slt's excitation uses libc rand(): reseed it so that the same text
  // always gives the same samples (replay and regeneration depend on it).
  // Anything else in the process calling rand() concurrently would still
  // perturb this; nothing in Cascade does.
  std::srand(1);
  const std::string t(text);
  cst_wave* w = flite_text_to_wave(t.c_str(), st.slt);
  if (w == nullptr) throw SpeechError("A022", "flite failed to synthesise the text");
  std::vector<int16_t> out(w->samples, w->samples + static_cast<size_t>(w->num_samples) * w->num_channels);
  *rate = static_cast<uint32_t>(w->sample_rate);
  delete_wave(w);
  return out;
}

}  // namespace

std::vector<int16_t> synthesize_16k(std::string_view text, const std::string& voice, int rate_wpm) {
  uint32_t rate = 0;
  std::vector<int16_t> pcm =
      voice == "slt" ? flite_slt(text, &rate) : espeak_synthesize(text, voice, rate_wpm, &rate);
  return resample(pcm, rate, 16000);
}

SimAudio simulate(std::string_view text, const SimOptions& o) {
  constexpr uint32_t kRate = 16000;
  auto ms = [](int v) { return static_cast<size_t>(std::max(0, v)) * kRate / 1000; };
  SimAudio a;
  std::vector<int16_t> speech = synthesize_16k(text, o.voice, o.rate_wpm);
  if (speech.empty()) throw SpeechError("A023", "the text '" + std::string(text) + "' synthesises to no audio");
  a.speech_rms = rms(speech);

  a.samples.assign(ms(o.lead_silence_ms), 0);
  if (!o.wake_prefix.empty()) {
    std::vector<int16_t> wake = synthesize_16k(o.wake_prefix, o.voice, o.rate_wpm);
    a.samples.insert(a.samples.end(), wake.begin(), wake.end());
    a.samples.insert(a.samples.end(), ms(o.wake_pause_ms), 0);
  }
  a.request_start = a.samples.size();
  a.samples.insert(a.samples.end(), speech.begin(), speech.end());
  a.samples.insert(a.samples.end(), ms(o.trail_silence_ms), 0);

  const double floor_sigma = std::max(1.0, noise_sigma_for_snr(a.speech_rms, o.floor_db));
  a.noise_sigma = std::max(floor_sigma, noise_sigma_for_snr(a.speech_rms, o.snr_db));
  const uint64_t seed = XXH64(text.data(), text.size(), o.seed);
  add_gaussian_noise(a.samples, a.noise_sigma, seed);
  return a;
}

double parse_snr(std::string_view s) {
  if (s == "inf" || s == "+inf" || s == "none" || s == "clean" || s == "infinity")
    return std::numeric_limits<double>::infinity();
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size())
    throw std::invalid_argument("SNR must be a number of dB or 'inf'/'none', got '" + std::string(s) + "'");
  return v;
}

}  // namespace cascade::speech
