// cascade-speech-bench — measures the speech plugins on synthetic speech:
// ASR word error rate and real-time factor per SNR, wake-word hit and
// false-alarm rates and real-time factor. Runs the real plugin libraries
// through the SDK harness, exactly as the pipeline host would load them.
//
//   cascade-speech-bench [--sentences FILE] [--lm F --dict F] [--voice slt] [--snr inf,20,10]
#include "speechsim.hpp"
#include "sphinx.hpp"
#include "wer.hpp"

#include <cascade/sdk/testing.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

using cascade::sdk::testing::Harness;
using cascade::sdk::testing::Value;
namespace sp = cascade::speech;

int main(int argc, char** argv) {
  CLI::App app{"Measure ASR WER/RTF and wake-word accuracy/RTF on synthetic speech"};
  std::string sentences_path = CASCADE_BENCH_SENTENCES, lm = CASCADE_BENCH_LM, dict = CASCADE_BENCH_DICT;
  std::string asr_so = CASCADE_BENCH_ASR_SO, wake_so = CASCADE_BENCH_WAKE_SO, voice = "slt", threshold, plp;
  std::vector<std::string> snrs = {"inf", "20", "10"};
  uint64_t seed = 1;
  size_t limit = 0;
  bool startup = false;
  app.add_option("--sentences", sentences_path, "reference sentences, one per line")->capture_default_str();
  app.add_option("--lm", lm, "ASR language model")->capture_default_str();
  app.add_option("--dict", dict, "ASR dictionary")->capture_default_str();
  app.add_option("--asr-plugin", asr_so, "asr plugin library")->capture_default_str();
  app.add_option("--wake-plugin", wake_so, "wake plugin library")->capture_default_str();
  app.add_option("--voice", voice, "speechsim voice")->capture_default_str();
  app.add_option("--snr", snrs, "SNRs in dB ('inf' = clean)")->delimiter(',')->capture_default_str();
  app.add_option("--seed", seed, "noise seed")->capture_default_str();
  app.add_option("--threshold", threshold, "wake threshold (default: the plugin's)");
  app.add_option("--plp", plp, "wake phone_loop_prob (default: the plugin's)");
  app.add_option("--limit", limit, "use only the first N sentences (0 = all)");
  app.add_flag("--startup", startup,
               "also time plugin start-up, and a keyword decoder loading the FULL cmudict for comparison");
  CLI11_PARSE(app, argc, argv);
  try {
    std::vector<std::string> sentences;
    std::ifstream in(sentences_path);
    if (!in) throw std::runtime_error("A010: sentences file not found: " + sentences_path);
    for (std::string l; std::getline(in, l);)
      if (!sp::tokenize(l).empty()) sentences.push_back(l);
    if (limit > 0 && sentences.size() > limit) sentences.resize(limit);
    using clock = std::chrono::steady_clock;
    auto secs = [](clock::time_point t0) { return std::chrono::duration<double>(clock::now() - t0).count(); };
    auto t0 = clock::now();
    auto asr = Harness::load(asr_so, {{"lm", lm}, {"dict", dict}});
    const double asr_open = secs(t0);
    t0 = clock::now();
    std::map<std::string, std::string> wake_params;
    if (!threshold.empty()) wake_params["threshold"] = threshold;
    if (!plp.empty()) wake_params["phone_loop_prob"] = plp;
    auto wake = Harness::load(wake_so, wake_params);
    const double wake_open = secs(t0);
    if (startup) {
      std::printf("start-up: asr open %.3f s, wake open (dictionary trimmed at open) %.3f s\n", asr_open, wake_open);
      t0 = clock::now();
      auto full = sp::make_decoder({{"-hmm", "/usr/share/pocketsphinx/model/en-us/en-us"},
                                    {"-dict", "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"},
                                    {"-keyphrase", "alexa"},
                                    {"-kws_threshold", threshold.empty() ? "1e-30" : threshold}});
      std::printf("start-up: keyword decoder with the full cmudict %.3f s\n", secs(t0));
    }
    std::printf("%zu sentences, voice %s, LM %s\n", sentences.size(), voice.c_str(), lm.c_str());
    // near|miss: requests with "alexa" the wake stage missed that its
    // second decode found (a near miss); near|bg: the same for requests
    // without it that did not wake it. The first should be high, the
    // second low: that is what tells a miss from background speech.
    std::printf("%-6s | %7s %9s %8s | %8s %8s %9s %8s | %9s %8s\n", "SNR", "ASR WER", "ASR RTF", "ASR xRT", "wake hit",
                "wake FA", "wake RTF", "wake xRT", "near|miss", "near|bg");
    for (const auto& snr_text : snrs) {
      sp::SimOptions o;
      o.voice = voice;
      o.seed = seed;
      o.snr_db = sp::parse_snr(snr_text);
      size_t errors = 0, words = 0, hits = 0, false_alarms = 0;
      size_t near_missed = 0, near_bg = 0;
      double asr_audio = 0, asr_cpu = 0, wake_audio = 0, wake_cpu = 0;
      for (const auto& s : sentences) {
        o.wake_prefix.clear();
        auto plain = sp::simulate(s, o);
        auto r = asr->run({{"audio", Value::audio(plain.samples, 16000)}});
        if (r.status != cascade::sdk::Status::Ok) throw std::runtime_error("asr failed: " + r.error);
        errors += sp::word_errors(s, r.outputs.at("text").bytes);
        words += sp::word_count(s);
        asr_audio += r.features.at("duration_s");
        asr_cpu += r.features.at("decode_s");
        auto w0 = wake->run({{"audio", Value::audio(plain.samples, 16000)}});
        const auto j0 = nlohmann::json::parse(w0.outputs.at("wake").bytes);
        false_alarms += j0.at("detected").get<bool>();
        near_bg += !j0.at("detected").get<bool>() && j0.value("near_miss", nlohmann::json()).is_object();
        o.wake_prefix = "alexa";
        auto woke = sp::simulate(s, o);
        auto w1 = wake->run({{"audio", Value::audio(woke.samples, 16000)}});
        const auto j1 = nlohmann::json::parse(w1.outputs.at("wake").bytes);
        hits += j1.at("detected").get<bool>();
        near_missed += !j1.at("detected").get<bool>() && j1.value("near_miss", nlohmann::json()).is_object();
        for (const auto* w : {&w0, &w1}) {
          wake_audio += w->features.at("duration_s");
          wake_cpu += w->features.at("decode_s");
        }
      }
      const double n = static_cast<double>(sentences.size());
      auto share = [](size_t k, size_t of) {
        return of == 0 ? std::string("-") : std::to_string(k) + "/" + std::to_string(of);
      };
      std::printf("%-6s | %6.1f%% %9.4f %7.1fx | %7.1f%% %7.1f%% %9.4f %7.1fx | %9s %8s\n", snr_text.c_str(),
                  100.0 * static_cast<double>(errors) / static_cast<double>(words), asr_cpu / asr_audio,
                  asr_audio / asr_cpu, 100.0 * static_cast<double>(hits) / n,
                  100.0 * static_cast<double>(false_alarms) / n, wake_cpu / wake_audio, wake_audio / wake_cpu,
                  share(near_missed, sentences.size() - hits).c_str(),
                  share(near_bg, sentences.size() - false_alarms).c_str());
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
