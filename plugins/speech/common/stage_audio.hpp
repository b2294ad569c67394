// The audio input check every speech stage does, in one place: refuse empty
// audio (A002) and a zero sample rate (A003) as invalid arguments, and bring
// anything else to the 16 kHz the models expect. Header-only and SDK-only,
// so it compiles into each plugin like the SDK itself.
#pragma once

#include "audio.hpp"

#include <cascade/sdk/stage.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace cascade::speech {

// Samples of `a` at 16 kHz; `storage` holds them when resampling was needed
// (the span then points into it, so keep `storage` alive while using it).
inline std::span<const int16_t> input_at_16k(const cascade::sdk::AudioView& a, std::vector<int16_t>& storage) {
  using cascade::sdk::Error;
  using cascade::sdk::Status;
  if (a.count == 0) throw Error(Status::InvalidArgument, "A002: empty audio");
  if (a.sample_rate == 0) throw Error(Status::InvalidArgument, "A003: audio has sample rate 0");
  std::span<const int16_t> pcm(a.samples, a.count);
  if (a.sample_rate == 16000) return pcm;
  storage = resample(pcm, a.sample_rate, 16000);
  return storage;
}

}  // namespace cascade::speech
