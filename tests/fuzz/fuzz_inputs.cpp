// fuzz_inputs.cpp — the turn reader of `cascade run -i` (core/run/inputs.cpp)
// on any bytes: dialogue JSONL lines, and the WAV files they name.
//
// Input layout: JSONL lines, then optionally a line "#wav" followed by the
// bytes of a WAV file. The JSONL is read through open_jsonl, exactly as a
// run reads its turns (a line whose payload is {"audio":"audio.wav"} reads
// the WAV part); the WAV part is also read alone (read_wav) and as a
// directory of WAV files (open_wav_dir). A bad line or file must become a
// turn with a coded input error, never an exception out of next().
#include "fuzz_support.hpp"

#include <cascade/core/diagnostic.hpp>
#include <cascade/core/run.hpp>

#include <string>

namespace {

constexpr std::string_view kWavMarker = "\n#wav\n";

void read_every_turn(cascade::TurnSource& source) {
  cascade::TurnInput turn;
  while (source.next(turn)) {
    // A failed turn carries its code; a good one carries a payload type.
    if (!turn.input_error.empty() && turn.input_error_code.empty()) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cascade;
  auto& scratch = fuzz::Scratch::get();
  const std::string_view input = fuzz::as_text(data, size);
  const size_t marker = input.find(kWavMarker);
  const std::string_view jsonl = input.substr(0, marker);
  const bool has_wav = marker != std::string_view::npos;
  if (has_wav)
    scratch.write("audio.wav", input.substr(marker + kWavMarker.size()));
  else
    scratch.remove("audio.wav");

  const auto turns = scratch.write("turns.jsonl", jsonl);
  read_every_turn(*open_jsonl(turns));
  if (!has_wav) return 0;
  try {
    std::string pcm;
    uint32_t sample_rate = 0;
    read_wav(scratch.dir() / "audio.wav", pcm, sample_rate);
  } catch (const CascadeError&) {
    // A001-A004, A007: the coded refusals of a bad WAV.
  }
  read_every_turn(*open_wav_dir(scratch.dir()));
  return 0;
}
