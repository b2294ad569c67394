// cascade-speechsim — write the speech the `speechsim` plugin would produce
// for a text to a 16 kHz mono WAV, so an experiment's audio can be
// regenerated (or listened to) from its text and options alone.
//
//   cascade-speechsim "turn on the lights" -o lights.wav --snr 20 --seed 7 --wake alexa
#include "speechsim.hpp"

#include "../common/audio.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"Synthesise a spoken request to a 16 kHz mono WAV (same engine as the speechsim plugin)"};
  std::string text, outpath, snr = "inf";
  cascade::speech::SimOptions o;
  app.add_option("text", text, "what to say")->required();
  app.add_option("-o,--output", outpath, "WAV file to write")->required();
  app.add_option("--voice", o.voice, "'slt' (flite) or an espeak-ng voice ('en-us+f2', 'en-us+klatt')")
      ->capture_default_str();
  app.add_option("--snr", snr, "noise SNR in dB relative to the speech RMS, or 'none'")->capture_default_str();
  app.add_option("--seed", o.seed, "noise seed")->capture_default_str();
  app.add_option("--wake", o.wake_prefix, "wake word to say first (e.g. alexa)");
  app.add_option("--lead-silence-ms", o.lead_silence_ms, "silence before the speech")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    o.snr_db = cascade::speech::parse_snr(snr);
    auto a = cascade::speech::simulate(text, o);
    cascade::speech::write_wav(outpath, a.samples, a.sample_rate);
    std::cout << outpath << ": " << a.samples.size() << " samples, "
              << static_cast<double>(a.samples.size()) / a.sample_rate << " s, speech rms " << a.speech_rms
              << ", noise sigma " << a.noise_sigma << "\n";
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
