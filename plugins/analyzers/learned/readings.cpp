// readings.cpp — the stage outputs' keys the features need, off a JsonTape.
#include "readings.hpp"

#include <nlohmann/json.hpp>

namespace cascade::learned {
namespace {

using Value = JsonTape::Value;

std::optional<double> number_member(const Value& object, std::string_view key) {
  if (const auto v = object.find(key); v && v->is_number()) return v->number();
  return std::nullopt;
}

std::optional<std::string_view> string_member(const Value& object, std::string_view key) {
  if (const auto v = object.find(key); v && v->is_string()) return v->string();
  return std::nullopt;
}

std::optional<bool> bool_member(const Value& object, std::string_view key) {
  if (const auto v = object.find(key); v && v->is_bool()) return v->boolean();
  return std::nullopt;
}

// Whether two values differ as JSON values (nlohmann's operator!=). The
// ER writes strings, compared here directly; any other pair is rare and
// left to nlohmann itself, whose rules for numbers and objects are subtle.
bool differ(const Value& a, const std::optional<Value>& b) {
  if (!b) return !a.is_null();  // an absent member reads as null
  if (a.is_string() && b->is_string()) return a.string() != b->string();
  return nlohmann::json::parse(a.text()) != nlohmann::json::parse(b->text());
}

}  // namespace

NluReading read_nlu(std::string_view json, JsonTape& tape) {
  NluReading r;
  tape.parse(json);
  const auto root = tape.root();
  if (!root || !root->is_object()) return r;
  r.object = true;
  r.text = string_member(*root, "text");
  r.intent = string_member(*root, "intent");
  const auto slots = root->find("slots");
  if (!slots || !slots->is_array()) return r;
  r.slots_array = true;
  for (const Value& slot : slots->elements()) {
    if (!slot.is_object()) continue;
    r.slots.push_back({number_member(slot, "score"), number_member(slot, "start"), number_member(slot, "end"),
                       string_member(slot, "value")});
  }
  return r;
}

std::vector<WordConfidence> read_word_confidences(std::string_view json, JsonTape& tape) {
  std::vector<WordConfidence> out;
  tape.parse(json);
  const auto root = tape.root();
  if (!root) return out;
  for (const Value& w : root->elements()) {
    const auto conf = number_member(w, "conf");
    if (conf) out.push_back({*conf, string_member(w, "word")});
  }
  return out;
}

ErReading read_er(std::string_view json, JsonTape& tape) {
  ErReading r;
  tape.parse(json);
  const auto root = tape.root();
  const auto entities = root ? root->find("entities") : std::nullopt;
  if (!entities) return r;
  for (const Value& entity : entities->elements()) {
    if (!entity.is_object()) continue;
    ErReading::Entity e;
    e.score = number_member(entity, "score");
    const auto value = entity.find("value");
    if (value && value->is_string()) e.value = value->string();
    if (const auto resolved = entity.find("resolved"); resolved && !resolved->is_null()) {
      e.resolved_null = false;
      e.resolved_differs = differ(*resolved, value);
    }
    r.entities.push_back(e);
  }
  return r;
}

ResultReading read_result(std::string_view json, JsonTape& tape) {
  ResultReading r;
  tape.parse(json);
  const auto root = tape.root();
  if (!root || !root->is_object()) return r;
  r.object = true;
  r.success = bool_member(*root, "success");
  r.supported = bool_member(*root, "supported");
  const auto present = [&](std::string_view key) {
    const auto v = root->find(key);
    return v && !v->is_null();
  };
  r.has_action = present("action");
  r.has_answer = present("answer");
  r.say = string_member(*root, "say");
  return r;
}

}  // namespace cascade::learned
