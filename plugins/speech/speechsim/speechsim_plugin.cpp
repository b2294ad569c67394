// speechsim — turns the text of a request into the 16 kHz speech a user
// would have said, with reproducible noise: the audio source for
// experiments without recordings.
//
//   [text] --> ( speechsim ) --> [audio]  (PCM16 mono 16 kHz)
//
// Deterministic: the noise is a function of (seed, text), so replay gets
// identical bytes. Threading: process() may run concurrently; synthesis is
// serialised inside simulate() (flite/espeak are process-global).
#include "speechsim.hpp"

#include "../common/audio.hpp"

#include <cascade/sdk/stage.hpp>

#include <cmath>
using namespace cascade::sdk;

class SpeechSim : public Stage {
 public:
  static inline Input in{"text", PayloadType::Text, "the request's text"};
  static inline Output out{"audio", PayloadType::Audio, "synthetic speech, PCM16 mono 16 kHz"};
  static inline Param<std::string> voice{"voice", "slt",
                                         "'slt' (flite) or an espeak-ng voice such as 'en-us+f2', 'en-us+klatt'"};
  static inline Param<double> snr_db{"snr_db", std::numeric_limits<double>::infinity(),
                                     "Gaussian noise SNR in dB relative to the speech RMS; inf = clean (a -60 dB floor is always added)"};
  static inline Param<int64_t> seed{"seed", 0, "noise seed; the noise is a function of (seed, text)"};
  static inline Param<std::string> wake_prefix{"wake_prefix", "", "if set, say this word, pause, then the text"};
  static inline Param<int64_t> lead_silence_ms{"lead_silence_ms", 200, "silence before the speech"};

  void open(Context& ctx) override {
    opt_.voice = ctx.get(voice);
    opt_.snr_db = ctx.get(snr_db);
    if (std::isnan(opt_.snr_db)) throw Error(Status::InvalidArgument, "parameter 'snr_db' must not be NaN");
    opt_.seed = static_cast<uint64_t>(ctx.get(seed));
    opt_.wake_prefix = ctx.get(wake_prefix);
    opt_.lead_silence_ms = static_cast<int>(ctx.get(lead_silence_ms));
    if (opt_.lead_silence_ms < 0 || opt_.lead_silence_ms > 60000)
      throw Error(Status::InvalidArgument, "parameter 'lead_silence_ms' must be in 0..60000");
    // Synthesise once now so an unknown voice fails at open, not on turn 1.
    try {
      (void)cascade::speech::synthesize_16k("hello", opt_.voice);
    } catch (const cascade::speech::SpeechError& e) {
      throw Error(Status::InvalidArgument, e.what());
    }
  }

  void process(Call& call) override {
    std::string_view text = call.text(in);
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
      throw Error(Status::InvalidArgument, "A023: empty text: nothing to say");
    cascade::speech::SimAudio a;
    try {
      a = cascade::speech::simulate(text, opt_);
    } catch (const cascade::speech::SpeechError& e) {
      throw Error(Status::InvalidArgument, e.what());
    }
    call.feature("duration_s", static_cast<double>(a.samples.size()) / a.sample_rate);
    call.feature("speech_rms", a.speech_rms);
    call.feature("noise_sigma", a.noise_sigma);
    call.feature("request_start_s", static_cast<double>(a.request_start) / a.sample_rate);
    call.emit_audio(out, a.samples.data(), a.samples.size(), a.sample_rate);
  }

 private:
  cascade::speech::SimOptions opt_;
};
CASCADE_PLUGIN(SpeechSim,
               Info{.name = "speechsim",
                    .version = "1.0.0",
                    .description = "synthetic spoken requests (flite/espeak-ng) with seeded noise",
                    .max_concurrency = 0,
                    .deterministic = true},
               ports(SpeechSim::in), ports(SpeechSim::out),
               params(SpeechSim::voice, SpeechSim::snr_db, SpeechSim::seed, SpeechSim::wake_prefix,
                      SpeechSim::lead_silence_ms))
