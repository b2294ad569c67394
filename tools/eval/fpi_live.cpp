// eval/fpi_live.cpp — scored runs with users who react (fpi_live.hpp).
#include "eval/fpi_live.hpp"

#include "population.hpp"
#include "rng.hpp"
#include "session.hpp"

#include "judges/judges.hpp"

#include <cascade/trace/reader.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <stdexcept>

namespace cascade::language::eval {
namespace {

using nlohmann::json;

// Seconds since 2026-01-15T00:00:00Z (sim::timestamp's origin) of an
// ISO 8601 UTC timestamp, or nullopt.
std::optional<double> sim_seconds(const std::string& iso) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  double sec = 0;
  if (std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d:%lf", &y, &mo, &d, &h, &mi, &sec) != 6) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  const auto days_since = (sys_days(ymd) - sys_days(year{2026} / January / 15)).count();
  return static_cast<double>(days_since) * 86400.0 + h * 3600.0 + mi * 60.0 + sec;
}

// Whether the user got what they asked for in a turn of the source run.
Perceived perceive(const trace::Turn& t, const json& gold) {
  Perceived p;
  p.failed = true;
  const trace::StageRecord* result = t.stage("result");
  const trace::Payload* out = result != nullptr ? result->output("result") : nullptr;
  if (out == nullptr) return p;  // nothing happened: the wake word was missed, or a stage failed
  const json r = json::parse(out->text(), nullptr, false);
  p.speaking_s = sim::response_seconds(r);
  const bool ok = t.record && t.record->status == trace::TurnStatus::Ok;
  p.failed = !(ok && r.is_object() && gold.contains("result") &&
               judges::acceptable(judges::judge_result(r, gold["result"])));
  return p;
}

// The same words said again: a text payload with a pause after its first
// word ("alexa, play jazz"). Spoken, that is a second take (other audio,
// other noise: speechsim seeds its noise with the text); typed, the
// normaliser drops the comma and the request is the same. A recorded
// hypothesis stays as it was: there is no second take to log.
json retake(json payload) {
  if (!payload.is_object() || !payload.contains("text") || !payload["text"].is_string()) return payload;
  std::string text = payload["text"].get<std::string>();
  const size_t space = text.find(' ');
  if (space != std::string::npos && space > 0 && text[space - 1] != ',') text.insert(space, ",");
  payload["text"] = text;
  return payload;
}

// What a request's gold asks for, whatever its words: the intent, slots
// and result. Requests with the same goal are rephrasings of each other.
std::string goal_of(const json& line) {
  const json gold = line.value("gold", json::object());
  return gold.value("nlu", json()).dump() + gold.value("result", json()).dump();
}

std::vector<json> read_lines(const std::filesystem::path& input) {
  std::ifstream f(input);
  if (!f) throw std::runtime_error("cannot read the turns " + input.string());
  std::vector<json> out;
  for (std::string line; std::getline(f, line);) {
    // Turns are untrusted: one without a string dialogue id and a
    // whole-number index is no turn of a dialogue (the run refuses it).
    json t = json::parse(line, nullptr, false);
    if (t.is_object() && t.contains("dialogue_id") && t["dialogue_id"].is_string() && t.contains("turn_index") &&
        t["turn_index"].is_number_unsigned())
      out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

std::vector<json> live_turns(const std::vector<json>& scripted, const std::map<TurnKey, Perceived>& perceived,
                             const LiveUser& user, LiveCounts& counts) {
  // The other phrasings of each goal among the addressed turns.
  std::map<std::string, std::vector<const json*>> phrasings;
  for (const json& line : scripted)
    if (line.value("addressed", false) && line.contains("gold")) phrasings[goal_of(line)].push_back(&line);
  std::vector<json> out;
  std::string dialogue;
  uint32_t index = 0;
  double clock = 0;           // the start of the last turn written, in sim seconds
  double next_gap = -1;       // when the next scripted turn starts after it; < 0: keep its own time
  for (const json& line : scripted) {
    const std::string id = line.value("dialogue_id", std::string());
    if (id != dialogue) {
      dialogue = id;
      index = 0;
      next_gap = -1;
    }
    json turn = line;
    const auto own = sim_seconds(line.value("timestamp", std::string()));
    if (next_gap >= 0 || !own) clock += std::max(next_gap, 0.0);
    else clock = *own;
    turn["turn_index"] = index++;
    turn["timestamp"] = sim::timestamp(clock);
    out.push_back(turn);
    ++counts.turns;

    const std::string turn_id = line.value("turn_id", id + "-" + std::to_string(line.value("turn_index", 0u)));
    const auto p = perceived.find({id, line.value("turn_index", 0u)});
    const double speaking = p != perceived.end() ? p->second.speaking_s : 1.0;
    sim::Rng rng(user.seed, {"live", turn_id});
    // A new request comes after the response was said and some pause; a
    // retry usually sooner (tools/simulate/session.cpp's gaps), or during it.
    next_gap = speaking + rng.uniform(1.5, 20.0);
    if (p == perceived.end() || !line.value("addressed", false)) continue;
    const bool failed = p->second.failed;
    if (!rng.chance(failed ? user.retry_after_failure : user.retry_after_success)) continue;
    const bool barge_in = rng.chance(user.barge_in);
    clock += barge_in ? rng.uniform(0.3, 0.8) * speaking : speaking + rng.uniform(1.5, 6.0);
    json retry = line;
    retry["payload"] = retake(line.value("payload", json()));
    if (rng.chance(user.rephrase)) {
      std::vector<const json*> others;
      for (const json* o : phrasings[goal_of(line)])
        if (o->value("payload", json()) != line.value("payload", json())) others.push_back(o);
      if (!others.empty()) {
        const json& other = *others[rng.below(others.size())];
        for (const char* k : {"payload", "gold", "slurp_id"})
          if (other.contains(k)) retry[k] = other[k];
        ++counts.rephrased;
      }
    }
    retry["turn_id"] = turn_id + "-retry";
    retry["turn_index"] = index++;
    retry["timestamp"] = sim::timestamp(clock);
    out.push_back(std::move(retry));
    ++counts.turns;
    ++counts.retries;
    counts.after_failure += failed ? 1 : 0;
    counts.barge_ins += barge_in ? 1 : 0;
    // The retry's own outcome is unknown here: the next request follows
    // as after any response.
    next_gap = speaking + rng.uniform(1.5, 20.0);
  }
  return out;
}

std::vector<std::string> live_sources(const std::string& size) {
  if (size == "small") return {"slt-snrinf", "text-broken-skill"};
  return {"slt-snr20",  "en-us+f2-snrinf",   "slt-snrinf-degraded",
          "text-er-cut", "text-broken-skill", "recorded-slt-snr20"};
}

std::vector<FpiRun> scored_live_sources(const std::vector<FpiRun>& runs, const std::string& size) {
  std::vector<FpiRun> out;
  for (const auto& name : live_sources(size))
    for (const auto& r : runs)
      if (r.variant.name == name) out.push_back(r);
  return out;
}

std::vector<FpiVariant> plan_live(const std::vector<FpiRun>& sources, const FpiDataRequest& data, std::string& note,
                                  const LiveUser& user) {
  std::vector<json> scripted;
  std::filesystem::path scripted_from;
  std::vector<FpiVariant> out;
  LiveCounts all;
  for (const FpiRun& run : sources) {
    const std::string& source = run.variant.name;
    const auto input = run.variant.input.empty() ? data.input : run.variant.input;
    if (input != scripted_from) {
      scripted = read_lines(input);
      scripted_from = input;
    }
    std::map<TurnKey, json> gold;
    for (const json& line : scripted)
      gold.emplace(TurnKey{line["dialogue_id"].get<std::string>(), line["turn_index"].get<uint32_t>()},
                   line.value("gold", json::object()));
    std::map<TurnKey, Perceived> perceived;
    for (const auto& t : trace::read_turns(run.trace).turns) {
      const auto g = gold.find({t.id.dialogue_id, t.id.turn_index});
      if (g != gold.end()) perceived[g->first] = perceive(t, g->second);
    }
    LiveCounts counts;
    const auto turns = live_turns(scripted, perceived, user, counts);
    const auto file = std::filesystem::absolute(data.out_dir / ("live-" + source + ".jsonl"));
    std::ofstream f(file, std::ios::trunc);
    for (const json& t : turns) f << t.dump() << "\n";
    f.flush();
    if (!f) throw std::runtime_error("cannot write " + file.string());
    all.turns += counts.turns;
    all.retries += counts.retries;
    all.after_failure += counts.after_failure;
    all.barge_ins += counts.barge_ins;
    all.rephrased += counts.rephrased;

    FpiVariant v = run.variant;
    v.name = source + "-live";
    v.family = v.family + "-live";
    v.condition += ", live users (simulated retries)";
    v.input = file;
    v.live = true;
    out.push_back(std::move(v));
  }
  if (out.empty()) {
    note = "live runs: none (none of the runs they are made from ran: fpi_live.hpp, live_sources)";
    return out;
  }
  note = "live runs: " + std::to_string(out.size()) + " (" + std::to_string(all.turns) + " turns, " +
         std::to_string(all.retries) + " simulated retries, " + std::to_string(all.after_failure) +
         " after a failure, " + std::to_string(all.rephrased) + " rephrased, " + std::to_string(all.barge_ins) +
         " barging in)";
  return out;
}

}  // namespace cascade::language::eval
