// synthetic.hpp — writes a trace shaped like the reference assistant's
// (speech -> asr -> nlu -> result) with the real Writer, for the index
// tests and the 1M-turn benchmark. Deterministic: turn i of dialogue
// "d<i/3>" at position i%3; every 7th turn fails at nlu (code 17); turn 5
// says "<script>alert(1)</script>"; two workers interleave their chunks.
#pragma once

#include <cascade/trace/writer.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace cascade::ui::testing {

struct SyntheticOptions {
  uint64_t turns = 100;
  trace::AudioMode audio = trace::AudioMode::Inline;
  uint32_t chunk_bytes = 4096;  // small: turns straddle chunks
};

inline std::string synthetic_text(uint64_t i) {
  return i == 5 ? std::string("<script>alert(1)</script>") : "turn on the kitchen lights number " + std::to_string(i);
}

inline void write_synthetic(const std::filesystem::path& path, const SyntheticOptions& o) {
  using namespace cascade::trace;
  WriterOptions wo;
  wo.path = path;
  wo.audio = o.audio;
  wo.max_workers = 2;
  wo.chunk_bytes = o.chunk_bytes;
  Writer w(wo);
  std::vector<char> pcm(3200);
  for (size_t k = 0; k < pcm.size(); k += 2) {
    const auto v = static_cast<int16_t>(3000.0 * std::sin(static_cast<double>(k) / 9.0));
    pcm[k] = static_cast<char>(v & 0xFF);
    pcm[k + 1] = static_cast<char>((v >> 8) & 0xFF);
  }
  for (uint64_t i = 0; i < o.turns; ++i) {
    const auto worker = static_cast<uint32_t>(i % 2);
    const std::string dialogue = "d" + std::to_string(i / 3), user = "u" + std::to_string(i % 5);
    const std::string text = synthetic_text(i);
    const std::string nlu = R"({"intent":"iot_hue_lighton","slots":[]})";
    const std::string result = R"({"say":"OK","success":true})";
    const TurnKey key{dialogue, user, static_cast<uint32_t>(i % 3), i};
    const int64_t t0 = 1'700'000'000'000'000'000 + static_cast<int64_t>(i) * 10'000'000;
    const bool fail = i % 7 == 3;
    PayloadView text_in{"text", 1, 0, text.data(), text.size()};
    PayloadView audio{"audio", 2, 16000, pcm.data(), pcm.size()};
    PayloadView asr_text{"text", 1, 0, text.data(), text.size()};
    PayloadView nlu_out{"nlu", 3, 0, nlu.data(), nlu.size()};
    PayloadView result_out{"result", 3, 0, result.data(), result.size()};
    // speech noise: SNR 20 dB for even dialogues, clean (60 dB) for odd ones
    const FeatureView speech_features[2] = {{"speech_rms", 1000.0}, {"noise_sigma", (i / 3) % 2 == 0 ? 100.0 : 1.0}};
    const NBestView nbest[2] = {{text, -1.5}, {"turn off the kitchen lights", -3.0}};
    auto stage = [&](const char* id, int64_t start_ms, int64_t dur_ms, std::span<const PayloadView> in,
                     std::span<const PayloadView> out) {
      StageEvent e;
      e.turn = key;
      e.stage_id = id;
      e.plugin = id;
      e.plugin_version = "1.0.0";
      e.start_ns = t0 + start_ms * 1'000'000;
      e.end_ns = e.start_ns + dur_ms * 1'000'000 + static_cast<int64_t>(i % 10) * 100'000;
      e.worker = worker;
      e.inputs = in;
      e.outputs = out;
      return e;
    };
    StageEvent speech = stage("speech", 0, 2, {&text_in, 1}, {&audio, 1});
    speech.features = speech_features;
    w.write(worker, speech);
    StageEvent asr = stage("asr", 2, 5, {&audio, 1}, {&asr_text, 1});
    asr.has_confidence = true;
    asr.confidence = 0.5 + static_cast<double>(i % 5) / 10.0;
    asr.nbest = nbest;
    w.write(worker, asr);
    StageEvent nl = stage("nlu", 7, 1, {&asr_text, 1}, fail ? std::span<const PayloadView>{} : std::span<const PayloadView>(&nlu_out, 1));
    if (fail) {
      nl.status = StageStatus::Error;
      nl.error_code = 17;
      nl.error_message = "model refused the input";
    }
    w.write(worker, nl);
    if (!fail) w.write(worker, stage("result", 8, 1, {&nlu_out, 1}, {&result_out, 1}));
    TurnEvent t;
    t.turn = key;
    t.start_ns = t0;
    t.end_ns = t0 + 9'000'000 + static_cast<int64_t>(i % 10) * 400'000;
    t.status = fail ? TurnStatus::Failed : TurnStatus::Ok;
    t.input = text_in;
    const std::string gold = R"({"asr":{"text":")" + std::string(i == 5 ? "script" : "turn on the kitchen lights") + R"("}})";
    t.gold_json = gold;
    t.result_json = fail ? std::string_view("null") : std::string_view(result);
    w.write(worker, t);
  }
  w.close();
}

}  // namespace cascade::ui::testing
