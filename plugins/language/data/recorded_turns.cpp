#include "data/recorded_turns.hpp"

#include <cmath>
#include <fstream>
#include <stdexcept>

namespace cascade::language::data {

using json = nlohmann::json;

ParsedAsrFields parse_asr_fields(const AsrFields& fields) {
  ParsedAsrFields f{RecordField::parse(fields.text), {}, {}};
  const auto optional_field = [&](const std::string& spec, const char* option) -> std::optional<RecordField> {
    if (spec.empty()) return std::nullopt;
    RecordField g = RecordField::parse(spec);
    if (g.elements() && g.elements() != f.text.elements())
      throw std::invalid_argument(std::string(option) + " \"" + spec + "\" runs \"*\" over another array than --asr-field \"" +
                                  fields.text + "\"");
    return g;
  };
  f.confidence = optional_field(fields.confidence, "--asr-confidence-field");
  f.nbest = optional_field(fields.nbest, "--asr-nbest-field");
  return f;
}

json recorded_hypothesis(const json& record, const ParsedAsrFields& fields, size_t element) {
  const json* text = fields.text.find(record, element);
  const std::string text_name = fields.text.name(element);
  if (text == nullptr) throw std::invalid_argument("no recogniser transcript: field \"" + text_name + "\" is missing");
  if (!text->is_string())
    throw std::invalid_argument("field \"" + text_name + "\" must be a string (the 1-best), got " + text->dump());
  json hyp{{"text", *text}};
  if (fields.confidence) {
    const json* c = fields.confidence->find(record, element);
    if (c != nullptr && !c->is_null()) {
      if (!c->is_number() || !(c->get<double>() >= 0.0 && c->get<double>() <= 1.0))
        throw std::invalid_argument("field \"" + fields.confidence->name(element) + "\" must be a number in [0, 1], got " +
                                    c->dump());
      hyp["confidence"] = *c;
    }
  }
  if (fields.nbest) {
    const json* nb = fields.nbest->find(record, element);
    if (nb != nullptr && !nb->is_null()) {
      bool ok = nb->is_array();
      for (size_t i = 0; ok && i < nb->size(); ++i) {
        const json& e = (*nb)[i];
        const auto t = e.find("text");
        const auto s = e.find("score");
        ok = e.is_object() && t != e.end() && t->is_string() && s != e.end() && s->is_number() &&
             std::isfinite(s->get<double>());
      }
      if (!ok)
        throw std::invalid_argument("field \"" + fields.nbest->name(element) +
                                    "\" must be an array of {\"text\": string, \"score\": number}, got " + nb->dump());
      hyp["nbest"] = *nb;
    }
  }
  return hyp;
}

RecordedTurns build_recorded_turns(const std::string& path, const AsrFields& asr_fields, const Catalog& catalog,
                                   const Options& opt) {
  const ParsedAsrFields fields = parse_asr_fields(asr_fields);
  std::ifstream in(path);
  if (!in) throw std::runtime_error("error[A010]: input file not found: " + path);
  RecordedTurns out;
  const World world = World::initial();
  DialogueLayout layout(opt);
  // The turns of the layout's current dialogue, by element: written
  // dialogue by dialogue (`<id>`, then `<id>#1`, ...) when it moves on.
  std::vector<std::vector<json>> pending;
  size_t pending_dialogue = 0;
  const auto flush = [&] {
    for (auto& turns : pending)
      for (auto& t : turns) out.turns.push_back(std::move(t));
    pending.clear();
  };
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    ++out.records;
    const std::string where = path + ":" + std::to_string(n) + ": ";
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      out.problems.push_back(where + "error[A012]: not a JSON object; record skipped");
      continue;
    }
    Record r;
    try {
      r = parse_record(j);
    } catch (const std::exception& e) {
      out.problems.push_back(where + "error[A012]: not a SLURP record (" + e.what() + "); record skipped");
      continue;
    }
    // One hypothesis, or one per element of the array a "*" runs over.
    size_t elements = 1;
    if (const auto& array = fields.text.elements()) {
      const json* a = find_pointer(j, *array);
      if (a == nullptr || !a->is_array() || a->empty()) {
        out.problems.push_back(where + "error[A014]: no recogniser transcript: field \"" + array->to_string() +
                               "\" is not a non-empty array; record skipped");
        continue;
      }
      elements = a->size();
    }
    // The record's turns, one per hypothesis read, by element.
    std::vector<std::pair<size_t, json>> turns;
    for (size_t e = 0; e < elements; ++e) {
      json hyp;
      try {
        hyp = recorded_hypothesis(j, fields, e);
      } catch (const std::invalid_argument& ex) {
        out.problems.push_back(where + "error[A014]: " + ex.what() +
                               (fields.text.elements() ? "; element skipped" : "; record skipped"));
        continue;
      }
      out.with_confidence += hyp.contains("confidence") ? 1 : 0;
      out.with_nbest += hyp.contains("nbest") ? 1 : 0;
      json turn;
      turn["addressed"] = true;
      turn["slurp_id"] = r.slurp_id;
      if (fields.text.elements()) turn["asr_field"] = fields.text.at(e).to_string();
      turn["payload"] = {{"json", std::move(hyp)}};
      turn["gold"] = gold_turn(r, catalog, world);
      turns.emplace_back(e, std::move(turn));
    }
    if (turns.empty()) continue;
    // One place in the layout for the record; element e > 0 takes it in
    // dialogue `<id>#e` (split_key(): the same side of every split).
    const json header = layout.next_addressed();
    if (layout.dialogue() != pending_dialogue) flush();
    pending_dialogue = layout.dialogue();
    for (auto& [e, turn] : turns) {
      json h = header;
      if (e > 0) {
        const std::string did = header["dialogue_id"].get<std::string>() + "#" + std::to_string(e);
        h["dialogue_id"] = did;
        h["turn_id"] = did + "-" + std::to_string(header["turn_index"].get<long>());
      }
      h.update(turn);
      if (pending.size() <= e) pending.resize(e + 1);
      pending[e].push_back(std::move(h));
    }
    if (!is_eval(r.slurp_id)) ++out.train_side;
  }
  flush();
  return out;
}

}  // namespace cascade::language::data
