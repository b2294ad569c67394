#include <cascade/core/engine.hpp>

#include <nlohmann/json.hpp>

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

}  // namespace cascade
