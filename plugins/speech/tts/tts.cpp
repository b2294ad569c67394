// tts — speaks the assistant's answer with espeak-ng, into memory.
//
//   [text] --> ( tts ) --> [audio]  PCM16 mono, resampled from espeak's
//                                   22050 Hz to 16 kHz (sample_rate = 16000)
//
// Optional `wav_dir`: also writes <wav_dir>/<hash>.wav (16 kHz), the hash
// being XXH64 of voice, rate and text in hex, and reports it as the text
// feature `wav_path`.
//
// Threading: espeak-ng is process-global and not thread-safe: declared
// max_concurrency = 1, initialised once per process, and every synthesis
// also holds a process-wide lock shared with speechsim (see
// common/espeak_engine.hpp).
#include "audio.hpp"
#include "espeak_engine.hpp"

#include <cascade/sdk/stage.hpp>

#include <xxhash.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

using namespace cascade::sdk;
namespace sp = cascade::speech;

class Tts : public Stage {
 public:
  static inline Input in{"text", PayloadType::Text, "what to say"};
  static inline Output out{"audio", PayloadType::Audio, "speech, PCM16 mono 16 kHz"};
  static inline Param<std::string> voice{"voice", "en-us", "espeak-ng voice ('en-us', 'en-us+f2', 'en-us+klatt')"};
  static inline Param<int64_t> rate{"rate", 175, "speaking rate in words per minute (80..450)"};
  static inline Param<std::string> wav_dir{"wav_dir", "", "if set, also write <wav_dir>/<hash>.wav"};

  void open(Context& ctx) override {
    voice_ = ctx.get(voice);
    rate_ = ctx.get(rate);
    if (rate_ < 80 || rate_ > 450) throw Error(Status::InvalidArgument, "parameter 'rate' must be in 80..450");
    wav_dir_ = ctx.get(wav_dir);
    if (!wav_dir_.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(wav_dir_, ec);
      if (ec) throw Error(Status::Unavailable, "A020: cannot create wav_dir " + wav_dir_ + ": " + ec.message());
    }
    // Speak once now: an unknown voice fails at open, not on the first turn.
    try {
      uint32_t r = 0;
      (void)sp::espeak_synthesize("ok", voice_, static_cast<int>(rate_), &r);
    } catch (const sp::SpeechError& e) {
      throw Error(e.code() == "A022" ? Status::InvalidArgument : Status::Unavailable, e.what());
    }
  }

  void process(Call& call) override {
    const std::string_view text = call.text(in);
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
      throw Error(Status::InvalidArgument, "A023: empty text: nothing to say");
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<int16_t> pcm;
    try {
      uint32_t native = 0;
      pcm = sp::espeak_synthesize(text, voice_, static_cast<int>(rate_), &native);
      pcm = sp::resample(pcm, native, 16000);
    } catch (const sp::SpeechError& e) {
      throw Error(Status::Internal, e.what());
    }
    const double synth_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double duration = static_cast<double>(pcm.size()) / 16000.0;
    call.feature("duration_s", duration);
    call.feature("synth_s", synth_s);
    if (!wav_dir_.empty()) {
      const std::string key = voice_ + '\n' + std::to_string(rate_) + '\n' + std::string(text);
      char name[32];
      std::snprintf(name, sizeof name, "%016llx.wav",
                    static_cast<unsigned long long>(XXH64(key.data(), key.size(), 0)));
      const std::string path = (std::filesystem::path(wav_dir_) / name).string();
      try {
        sp::write_wav(path, pcm, 16000);
      } catch (const sp::SpeechError& e) {
        throw Error(Status::Unavailable, e.what(), /*transient=*/true);
      }
      call.feature("wav_path", path);
    }
    call.emit_audio(out, pcm.data(), pcm.size(), 16000);
  }

 private:
  std::string voice_, wav_dir_;
  int64_t rate_ = 175;
};
CASCADE_PLUGIN(Tts,
               Info{.name = "tts",
                    .version = "1.0.0",
                    .description = "espeak-ng text to speech (16 kHz)",
                    .max_concurrency = 1,
                    // espeak-ng keeps jitter/phase state across utterances:
                    // the same text gives slightly different samples.
                    .deterministic = false},
               ports(Tts::in), ports(Tts::out), params(Tts::voice, Tts::rate, Tts::wav_dir))
