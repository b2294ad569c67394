// json.cpp — records as JSON, the shape `cascade trace cat` prints.
#include <cascade/trace/tools.hpp>

#include "../format.hpp"

#include <cstdio>

namespace cascade::trace {

namespace {
std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Recorded JSON strings are embedded as JSON; if one does not parse (a
// plugin bug) it is shown as text rather than failing the whole tool.
nlohmann::json embed_json(const std::string& s) {
  if (s.empty()) return nullptr;
  auto j = nlohmann::json::parse(s, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return nlohmann::json{{"invalid_json", s}};
  return j;
}

nlohmann::json key_fields(const TurnId& id) {
  return {{"dialogue", id.dialogue_id}, {"user", id.user_id}, {"turn", id.turn_index}, {"seq", id.turn_seq}};
}
}  // namespace

std::string dump_line(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json to_json(const Payload& p) {
  nlohmann::json j;
  j["port"] = p.port;
  switch (p.type) {
    case format::kPayloadNone: j["type"] = "none"; break;
    case format::kPayloadText:
      j["type"] = "text";
      if (p.hashed) j["xxh64"] = hex64(p.xxh64()); else j["text"] = p.bytes;
      break;
    case format::kPayloadJson:
      j["type"] = "json";
      if (p.hashed) j["xxh64"] = hex64(p.xxh64()); else j["json"] = embed_json(p.bytes);
      break;
    case format::kPayloadAudio:
      j["type"] = "audio";
      j["sample_rate"] = p.sample_rate;
      j["samples"] = p.size / 2;  // PCM16 mono
      j["bytes"] = p.size;
      j["xxh64"] = hex64(p.xxh64());
      j["stored"] = !p.hashed;
      break;
    default:
      j["type"] = p.type;
      j["bytes"] = p.size;
      j["xxh64"] = hex64(p.xxh64());
      break;
  }
  return j;
}

nlohmann::json to_json(const StageRecord& r) {
  nlohmann::json j = key_fields(r.turn);
  j["record"] = "stage";
  j["stage"] = r.stage_id;
  j["plugin"] = r.plugin;
  j["plugin_version"] = r.plugin_version;
  j["start_ns"] = r.start_ns;
  j["end_ns"] = r.end_ns;
  j["dur_ns"] = r.end_ns - r.start_ns;
  j["worker"] = r.worker;
  j["status"] = to_string(r.status);
  j["error_code"] = r.error_code;
  j["transient"] = r.transient;
  j["error_message"] = r.error_message;
  j["inputs"] = nlohmann::json::array();
  for (const auto& p : r.inputs) j["inputs"].push_back(to_json(p));
  j["outputs"] = nlohmann::json::array();
  for (const auto& p : r.outputs) j["outputs"].push_back(to_json(p));
  j["confidence"] = r.has_confidence ? nlohmann::json(r.confidence) : nlohmann::json(nullptr);
  j["nbest"] = nlohmann::json::array();
  for (const auto& b : r.nbest) j["nbest"].push_back({{"text", b.text}, {"score", b.score}});
  j["features"] = nlohmann::json::object();
  for (const auto& f : r.features) j["features"][f.key] = f.value;
  j["text_features"] = nlohmann::json::object();
  for (const auto& t : r.text_features) j["text_features"][t.key] = t.value;
  return j;
}

nlohmann::json to_json(const TurnRecord& r) {
  nlohmann::json j = key_fields(r.turn);
  j["record"] = "turn";
  j["worker"] = r.worker;
  j["timestamp"] = r.timestamp;
  j["config_digest"] = hex64(r.config_digest);
  j["start_ns"] = r.start_ns;
  j["end_ns"] = r.end_ns;
  j["dur_ns"] = r.end_ns - r.start_ns;
  j["status"] = to_string(r.status);
  j["input"] = to_json(r.input);
  j["gold"] = embed_json(r.gold_json);
  j["result"] = embed_json(r.result_json);
  return j;
}

nlohmann::json to_json(const Turn& t) {
  nlohmann::json j;
  if (t.record) {
    j = to_json(*t.record);
  } else {
    j = key_fields(t.id);
    j["record"] = "turn";
    j["record_missing"] = true;  // its TurnRecord was lost (e.g. cut off)
  }
  j["stages"] = nlohmann::json::array();
  for (const auto& s : t.stages) j["stages"].push_back(to_json(s));
  return j;
}

nlohmann::json to_json(const Damage& d) {
  return {{"code", d.code}, {"file", d.file.string()}, {"offset", d.offset}, {"bytes", d.bytes}, {"message", d.message}};
}

}  // namespace cascade::trace
