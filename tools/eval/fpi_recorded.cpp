// eval/fpi_recorded.cpp — recorded-ASR runs made from a speech run's own
// hypotheses (fpi_recorded.hpp).
#include "eval/fpi_recorded.hpp"

#include <cascade/trace/reader.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <stdexcept>
#include <utility>

namespace cascade::language::eval {
namespace {

using nlohmann::json;

// The eval dialogues' lines by (dialogue_id, turn_index): the header and
// gold a recorded turn keeps.
std::map<std::pair<std::string, uint32_t>, json> input_lines(const std::filesystem::path& input) {
  std::ifstream f(input);
  if (!f) throw std::runtime_error("cannot read the turns " + input.string());
  std::map<std::pair<std::string, uint32_t>, json> out;
  for (std::string line; std::getline(f, line);) {
    json t = json::parse(line, nullptr, false);
    if (!t.is_object() || !t.contains("dialogue_id") || !t.contains("turn_index")) continue;
    const auto key = std::make_pair(t["dialogue_id"].get<std::string>(), t["turn_index"].get<uint32_t>());
    out.emplace(key, std::move(t));
  }
  return out;
}

// What the ASR stage logged, as a recorded hypothesis; null when it did
// not run or produced no text.
json hypothesis(const trace::Turn& t) {
  const trace::StageRecord* asr = t.stage("asr");
  if (asr == nullptr || asr->status != trace::StageStatus::Ok) return nullptr;
  const trace::Payload* text = asr->output("text");
  if (text == nullptr) return nullptr;
  json h = {{"text", std::string(text->text())}};
  if (asr->has_confidence) h["confidence"] = std::clamp(asr->confidence, 0.0, 1.0);
  if (!asr->nbest.empty()) {
    json nbest = json::array();
    for (const auto& n : asr->nbest) nbest.push_back({{"text", n.text}, {"score", n.score}});
    h["nbest"] = std::move(nbest);
  }
  return h;
}

}  // namespace

std::vector<std::string> recorded_sources(const std::string& size) {
  if (size == "small") return {"slt-snrinf"};
  return {"slt-snr20", "en-us+f2-snrinf"};
}

std::vector<FpiVariant> plan_recorded(const std::vector<FpiRun>& runs, const FpiDataRequest& data,
                                      const std::filesystem::path& recorded_pipeline, std::string& note) {
  if (recorded_pipeline.empty()) {
    note = "recorded-ASR runs: none (no recorded-ASR pipeline given)";
    return {};
  }
  const auto lines = input_lines(data.input);
  std::vector<FpiVariant> out;
  for (const auto& source : recorded_sources(data.size)) {
    const auto run = std::find_if(runs.begin(), runs.end(), [&](const FpiRun& r) { return r.variant.name == source; });
    if (run == runs.end()) continue;
    const trace::TraceData trace = trace::read_turns(run->trace);
    // Twice: as logged (text, confidence, n-best), and as a recogniser
    // that logs its transcript only, which an isolator must also handle.
    for (const bool text_only : {false, true}) {
      const std::string name = "recorded-" + source + (text_only ? "-text" : "");
      const auto file = std::filesystem::absolute(data.out_dir / (name + ".jsonl"));
      std::ofstream f(file, std::ios::trunc);
      uint64_t written = 0;
      for (const auto& t : trace.turns) {
        const auto line = lines.find({t.id.dialogue_id, t.id.turn_index});
        if (line == lines.end() || !line->second.value("addressed", false)) continue;
        json h = hypothesis(t);
        if (h.is_null()) continue;
        if (text_only) h = {{"text", h["text"]}};
        json turn = line->second;
        turn["payload"] = {{"json", std::move(h)}};
        f << turn.dump() << "\n";
        ++written;
      }
      f.flush();
      if (!f) throw std::runtime_error("cannot write " + file.string());
      if (written == 0) continue;
      FpiVariant v;
      v.name = name;
      v.family = text_only ? "recorded-text" : "recorded";
      v.condition = "recorded ASR: the hypotheses of " + source + (text_only ? ", the transcript only" : "");
      v.voice = run->variant.voice;
      v.snr_db = run->variant.snr_db;
      v.pipeline = recorded_pipeline;
      v.input = file;
      v.overrides = {"trace.audio=\"hash\""};
      out.push_back(std::move(v));
    }
  }
  note = "recorded-ASR runs: " + std::to_string(out.size()) +
         (out.empty() ? " (no source speech run)" : " (the speech runs' own hypotheses as another system's logs)");
  return out;
}

}  // namespace cascade::language::eval
