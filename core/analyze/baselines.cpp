// baselines.cpp — see cascade/core/baselines.hpp.
#include <cascade/core/baselines.hpp>
#include <cascade/abi/cascade_analyzer.h>
#include <cascade/trace/reader.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>

namespace cascade {

std::string stage_failure_class(std::string_view id) {
  if (id == "wake") return "false_wake";
  if (id == "asr" || id == "request") return "asr";
  if (id == "nlu" || id == "er" || id == "result") return std::string(id);
  return "";
}

std::string lowest_confidence_label(const trace::Turn& t) {
  if (const trace::StageRecord* res = t.stage("result")) {
    if (const auto* p = res->output("result")) {
      const auto r = nlohmann::json::parse(p->bytes, nullptr, false);
      if (r.is_object() && r.value("success", false)) return "correct";
    }
  } else if (t.record && t.record->status == trace::TurnStatus::Ok) {
    return "correct";
  }
  std::string best = "result";
  double low = 2;
  for (const auto& s : t.stages) {
    const std::string c = stage_failure_class(s.stage_id);
    if (c.empty() || !s.has_confidence) continue;
    if (s.confidence < low) {
      low = s.confidence;
      best = c;
    }
  }
  return best;
}

uint64_t fnv1a(std::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

const std::vector<std::string>& failure_classes() {
  static const std::vector<std::string> c = CASCADE_FAILURE_POINTS;
  return c;
}

std::string_view split_key(std::string_view dialogue_id) { return dialogue_id.substr(0, dialogue_id.find('#')); }

std::string split_side(std::string_view dialogue_id) {
  return (fnv1a(split_key(dialogue_id)) & 1u) != 0 ? "test" : "train";
}

}  // namespace cascade
