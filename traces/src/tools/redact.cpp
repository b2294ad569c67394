// redact.cpp — records with user content replaced by keyed hashes, for
// sharing a trace outside the team (`cascade trace cat|export --redact`).
//
// What goes, what stays (tools.hpp, "redact"): every string a user or the
// pipeline produced from a user's words becomes "redacted:<16 hex>"; the
// structure around it (stage names, plugins, ports, statuses, error codes,
// timings, numeric features, confidences, scores, JSON keys) stays, so a
// redacted trace still shows where time went and which stage failed.
// The hash is xxh64 seeded with the key: the same string gives the same
// hash under one key, so a dialogue's turns still group; without the key
// short strings ("u1", "yes") cannot be looked up in a dictionary.
#include <cascade/trace/tools.hpp>

#include "../format.hpp"

#include <xxhash.h>

#include <cstdio>

namespace cascade::trace {
namespace {

void redact_json_strings(nlohmann::json& j, const RedactOptions& options) {
  if (j.is_string()) {
    j = redacted(j.get_ref<const std::string&>(), options);
  } else if (j.is_structured()) {
    for (auto& item : j) redact_json_strings(item, options);
  }
}

// A recorded JSON document with every string value hashed; one that does
// not parse is hashed whole (as a JSON string, so it still embeds).
std::string redact_json_text(const std::string& text, const RedactOptions& options) {
  if (text.empty()) return text;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return nlohmann::json(redacted(text, options)).dump();
  redact_json_strings(j, options);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void redact_id(TurnId& id, const RedactOptions& options) {
  if (!id.dialogue_id.empty()) id.dialogue_id = redacted(id.dialogue_id, options);
  if (!id.user_id.empty()) id.user_id = redacted(id.user_id, options);
}

}  // namespace

std::string redacted(std::string_view text, const RedactOptions& options) {
  char buf[9 + 16 + 1];
  std::snprintf(buf, sizeof buf, "redacted:%016llx",
                static_cast<unsigned long long>(XXH64(text.data(), text.size(), options.key)));
  return buf;
}

void redact(Payload& p, const RedactOptions& options) {
  if (p.hashed) {
    // Only size and content hash were recorded. A plain hash of a short
    // text can be looked up; keyed, it cannot (audio's stays comparable).
    if (p.type == format::kPayloadText || p.type == format::kPayloadJson) {
      const uint64_t plain = p.stored_xxh64;
      p.stored_xxh64 = XXH64(&plain, sizeof plain, options.key);
    }
    return;
  }
  switch (p.type) {
    case format::kPayloadNone: return;
    case format::kPayloadText:
      p.bytes = redacted(p.bytes, options);
      p.size = p.bytes.size();
      return;
    case format::kPayloadJson:
      p.bytes = redact_json_text(p.bytes, options);
      p.size = p.bytes.size();
      return;
    default:  // audio and anything else: dropped, its plain content hash kept (as AudioMode::Hash records it)
      p.stored_xxh64 = p.xxh64();
      p.hashed = true;
      p.bytes.clear();
      p.bytes.shrink_to_fit();
      return;
  }
}

void redact(StageRecord& r, const RedactOptions& options) {
  redact_id(r.turn, options);
  if (!r.error_message.empty()) r.error_message = redacted(r.error_message, options);
  for (auto& p : r.inputs) redact(p, options);
  for (auto& p : r.outputs) redact(p, options);
  for (auto& b : r.nbest) b.text = redacted(b.text, options);
  for (auto& t : r.text_features) t.value = redacted(t.value, options);
}

void redact(TurnRecord& r, const RedactOptions& options) {
  redact_id(r.turn, options);
  redact(r.input, options);
  r.gold_json = redact_json_text(r.gold_json, options);
  r.result_json = redact_json_text(r.result_json, options);
}

void redact(Turn& t, const RedactOptions& options) {
  redact_id(t.id, options);
  if (t.record) redact(*t.record, options);
  for (auto& s : t.stages) redact(s, options);
}

void redact(TraceData& data, const RedactOptions& options) {
  for (auto& t : data.turns) redact(t, options);
}

}  // namespace cascade::trace
