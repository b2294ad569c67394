#include "data/recorded_turns.hpp"

#include <cmath>
#include <fstream>
#include <stdexcept>

namespace cascade::language::data {

using json = nlohmann::json;

json recorded_hypothesis(const json& record, const AsrFields& fields) {
  const auto text = record.find(fields.text);
  if (text == record.end()) throw std::invalid_argument("no recogniser transcript: field \"" + fields.text + "\" is missing");
  if (!text->is_string())
    throw std::invalid_argument("field \"" + fields.text + "\" must be a string (the 1-best), got " + text->dump());
  json hyp{{"text", *text}};
  if (!fields.confidence.empty()) {
    const auto c = record.find(fields.confidence);
    if (c != record.end() && !c->is_null()) {
      if (!c->is_number() || !(c->get<double>() >= 0.0 && c->get<double>() <= 1.0))
        throw std::invalid_argument("field \"" + fields.confidence + "\" must be a number in [0, 1], got " + c->dump());
      hyp["confidence"] = *c;
    }
  }
  if (!fields.nbest.empty()) {
    const auto nb = record.find(fields.nbest);
    if (nb != record.end() && !nb->is_null()) {
      bool ok = nb->is_array();
      for (size_t i = 0; ok && i < nb->size(); ++i) {
        const json& e = (*nb)[i];
        const auto t = e.find("text");
        const auto s = e.find("score");
        ok = e.is_object() && t != e.end() && t->is_string() && s != e.end() && s->is_number() &&
             std::isfinite(s->get<double>());
      }
      if (!ok)
        throw std::invalid_argument("field \"" + fields.nbest +
                                    "\" must be an array of {\"text\": string, \"score\": number}, got " + nb->dump());
      hyp["nbest"] = *nb;
    }
  }
  return hyp;
}

RecordedTurns build_recorded_turns(const std::string& path, const AsrFields& fields, const Catalog& catalog,
                                   const Options& opt) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("error[A010]: input file not found: " + path);
  RecordedTurns out;
  const World world = World::initial();
  DialogueLayout layout(opt);
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
    json hyp;
    try {
      hyp = recorded_hypothesis(j, fields);
    } catch (const std::invalid_argument& e) {
      out.problems.push_back(where + "error[A014]: " + e.what() + "; record skipped");
      continue;
    }
    out.with_confidence += hyp.contains("confidence") ? 1 : 0;
    out.with_nbest += hyp.contains("nbest") ? 1 : 0;
    out.train_side += is_eval(r.slurp_id) ? 0 : 1;
    json turn = layout.next_addressed();
    turn["addressed"] = true;
    turn["slurp_id"] = r.slurp_id;
    turn["payload"] = {{"json", std::move(hyp)}};
    turn["gold"] = gold_turn(r, catalog, world);
    out.turns.push_back(std::move(turn));
  }
  return out;
}

}  // namespace cascade::language::data
