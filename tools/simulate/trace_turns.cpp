#include "trace_turns.hpp"

#include "text/text.hpp"

#include <cascade/trace/reader.hpp>

#include <nlohmann/json.hpp>

namespace cascade::sim {

std::vector<AsrTurn> asr_turns(const trace::TraceData& data, const std::function<bool(const trace::Turn&)>& keep,
                               bool require_confidence) {
  std::vector<AsrTurn> turns;
  for (const auto& turn : data.turns) {
    if (!turn.record || (keep && !keep(turn))) continue;
    const auto gold = nlohmann::json::parse(turn.record->gold_json, nullptr, false);
    if (!gold.is_object() || !gold.contains("asr") || !gold["asr"].is_object()) continue;
    const auto* asr = turn.stage("asr");
    const auto* text = asr != nullptr ? asr->output("text") : nullptr;
    if (text == nullptr || (require_confidence && !asr->has_confidence)) continue;
    auto words = language::tokenize(text->text());
    if (!words.empty() && words.front() == "alexa") words.erase(words.begin());
    turns.push_back({language::join(words), language::normalize_sentence(gold["asr"].value("text", "")),
                     asr->has_confidence ? asr->confidence : 0.0, asr->has_confidence});
  }
  return turns;
}

}  // namespace cascade::sim
