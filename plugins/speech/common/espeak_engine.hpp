// speech/common/espeak_engine.hpp — espeak-ng synthesis into memory.
//
// WHY a process-wide lock: espeak-ng keeps ALL its state in globals (voice,
// rate, the one synth callback). Two plugins that both use it (tts and
// speechsim) live in two different .so files, each with its own copy of
// this code, so an ordinary static mutex would give each library its own
// lock and let them race. espeak_process_state() is an inline function with
// DEFAULT visibility: GCC emits its static local as an STB_GNU_UNIQUE
// symbol, which the dynamic loader unifies across every loaded library even
// under RTLD_LOCAL, so all copies share one mutex and one "initialised" flag.
//
// Threading: espeak_synthesize() is safe to call from any thread; calls are
// serialised process-wide. Initialisation happens once, on first use.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::speech {

struct EspeakProcessState {
  std::mutex mutex;
  bool initialized = false;
  int sample_rate = 0;  // espeak-ng's output rate (22050)
};

__attribute__((visibility("default"))) inline EspeakProcessState& espeak_process_state() {
  static EspeakProcessState state;
  return state;
}

// Synthesises `text` with espeak voice `voice` ("en-us", "en-us+f2",
// "en-us+klatt") at `rate_wpm` words per minute (0 = espeak's default).
// Returns PCM16 mono at espeak's native rate (22050 Hz) in *sample_rate.
// Throws SpeechError A021 when espeak cannot initialise, A022 for an unknown
// voice or a failed synthesis.
std::vector<int16_t> espeak_synthesize(std::string_view text, const std::string& voice, int rate_wpm,
                                       uint32_t* sample_rate);

}  // namespace cascade::speech
