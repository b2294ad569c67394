#include "espeak_engine.hpp"

#include "audio.hpp"

#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>

namespace cascade::speech {

namespace {
// The collector for the call in progress arrives as the events' user_data,
// so the callback needs no global. A chunk without word events still has
// the list terminator, which carries user_data too: look at it as well, or
// those chunks' samples would be lost.
int collect(short* wav, int n, espeak_EVENT* events) {
  if (wav == nullptr || n <= 0 || events == nullptr) return 0;
  for (espeak_EVENT* e = events;; ++e) {
    if (e->user_data != nullptr) {
      auto* out = static_cast<std::vector<int16_t>*>(e->user_data);
      out->insert(out->end(), wav, wav + n);
      return 0;
    }
    if (e->type == espeakEVENT_LIST_TERMINATED) return 0;
  }
}
}  // namespace

std::vector<int16_t> espeak_synthesize(std::string_view text, const std::string& voice, int rate_wpm,
                                       uint32_t* sample_rate) {
  auto& st = espeak_process_state();
  std::lock_guard lock(st.mutex);
  if (!st.initialized) {
    espeak_ng_InitializePath(nullptr);
    espeak_ng_ERROR_CONTEXT ctx = nullptr;
    espeak_ng_STATUS s = espeak_ng_Initialize(&ctx);
    if (s != ENS_OK) {
      espeak_ng_ClearErrorContext(&ctx);
      throw SpeechError("A021", "espeak-ng failed to initialise (status " + std::to_string(s) + ")");
    }
    s = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, nullptr);
    if (s != ENS_OK) throw SpeechError("A021", "espeak-ng output init failed (status " + std::to_string(s) + ")");
    st.sample_rate = espeak_ng_GetSampleRate();
    st.initialized = true;
  }
  // Every setting is global: set all of them on every call.
  espeak_SetSynthCallback(&collect);
  if (espeak_ng_SetVoiceByName(voice.c_str()) != ENS_OK)
    throw SpeechError("A022", "espeak-ng has no voice '" + voice + "'");
  if (rate_wpm > 0) espeak_ng_SetParameter(espeakRATE, rate_wpm, 0);
  else espeak_ng_SetParameter(espeakRATE, espeakRATE_NORMAL, 0);

  std::vector<int16_t> out;
  const std::string t(text);  // espeak wants a NUL-terminated buffer
  espeak_ng_STATUS s = espeak_ng_Synthesize(t.c_str(), t.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8,
                                            nullptr, &out);
  if (s == ENS_OK) s = espeak_ng_Synchronize();
  if (s != ENS_OK) throw SpeechError("A022", "espeak-ng synthesis failed (status " + std::to_string(s) + ")");
  *sample_rate = static_cast<uint32_t>(st.sample_rate);
  return out;
}

}  // namespace cascade::speech
