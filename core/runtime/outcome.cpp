#include <cascade/core/engine.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>

namespace cascade {

// The result line of a turn, without the turn's identity (the run loop
// adds dialogue/turn ids). JSON results are embedded as JSON.
std::string TurnOutcome::result_json() const {
  nlohmann::json j;
  j["status"] = status == trace::TurnStatus::Ok ? "ok" : status == trace::TurnStatus::Failed ? "failed" : "cancelled";
  if (!failed_stage.empty()) j["failed_stage"] = failed_stage;
  if (!error_code.empty()) j["error"] = {{"code", error_code}, {"message", error}};
  if (result_type == CASCADE_PAYLOAD_JSON) {
    auto parsed = nlohmann::json::parse(result, nullptr, /*allow_exceptions=*/false);
    j["result"] = parsed.is_discarded() ? nlohmann::json(result) : parsed;
  } else if (result_type == CASCADE_PAYLOAD_TEXT) {
    j["result"] = result;
  } else if (result_type == CASCADE_PAYLOAD_AUDIO) {
    j["result"] = {{"type", "audio"}, {"bytes", result.size()}};
  } else {
    j["result"] = nullptr;
  }
  j["latency_ms"] = static_cast<double>(end_ns - start_ns) / 1e6;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// On the recording path of every turn with a text result: a plain escape
// loop into a reused buffer, no JSON library. Bytes of invalid UTF-8 pass
// through (readers show such a result as invalid_json, bytes intact).
std::string_view TurnOutcome::result_for_trace(std::string& scratch) const {
  if (result_type == CASCADE_PAYLOAD_JSON) return result;
  if (result_type != CASCADE_PAYLOAD_TEXT) return {};
  scratch.clear();
  scratch.reserve(result.size() + 2);
  scratch.push_back('"');
  for (const char c : result) {
    switch (c) {
      case '"': scratch += "\\\""; break;
      case '\\': scratch += "\\\\"; break;
      case '\n': scratch += "\\n"; break;
      case '\r': scratch += "\\r"; break;
      case '\t': scratch += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char code[8];
          std::snprintf(code, sizeof code, "\\u%04x", static_cast<unsigned>(c));
          scratch += code;
        } else {
          scratch.push_back(c);
        }
    }
  }
  scratch.push_back('"');
  return scratch;
}

}  // namespace cascade
