// Defect signals from the stages' JSON (signals.hpp).
#include "online/signals.hpp"

#include <nlohmann/json.hpp>

namespace cascade::rewriting {

namespace {

nlohmann::json parse(std::string_view text) {
  if (text.empty()) return nullptr;
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

std::optional<double> number(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

}  // namespace

TurnSignals read_signals(const SignalPayloads& p) {
  TurnSignals s;
  s.asr_confidence = number(parse(p.asr), "confidence");
  const auto nlu = parse(p.nlu);
  s.nlu_confidence = number(nlu, "confidence");
  if (nlu.is_object() && nlu.contains("intent") && nlu["intent"].is_string()) {
    s.intent = nlu["intent"].get<std::string>();
    if (nlu.contains("slots") && nlu["slots"].is_array()) s.slots = static_cast<uint32_t>(nlu["slots"].size());
  }
  if (const auto er = parse(p.er); er.is_object() && er.contains("entities") && er["entities"].is_array())
    for (const auto& e : er["entities"])
      if (e.is_object() && e.value("status", std::string()) == "unresolved") ++s.unresolved;
  if (const auto result = parse(p.result); result.is_object()) {
    const auto success = result.find("success");
    if (success != result.end() && success->is_boolean())
      s.result_ok = success->get<bool>() && result.value("supported", true);
  }
  return s;
}

}  // namespace cascade::rewriting
