// diff.cpp — where do two runs of the same inputs first diverge?
#include <cascade/trace/tools.hpp>

#include <cstdio>
#include <map>
#include <sstream>

namespace cascade::trace {
namespace {

// Why two records of one stage differ, or "" when they do not.
std::string compare(const StageRecord& a, const StageRecord& b) {
  if (a.status != b.status)
    return "status " + std::string(to_string(a.status)) + " -> " + std::string(to_string(b.status));
  for (const auto& pa : a.outputs) {
    const Payload* pb = b.output(pa.port);
    if (pb == nullptr) return "output '" + pa.port + "' missing in B";
    if (!pa.same_content(*pb)) return "output '" + pa.port + "' differs";
  }
  for (const auto& pb : b.outputs)
    if (a.output(pb.port) == nullptr) return "output '" + pb.port + "' missing in A";
  return {};
}

}  // namespace

DiffReport diff(const TraceData& a, const TraceData& b) {
  DiffReport r;
  r.turns_a = a.turns.size();
  r.turns_b = b.turns.size();
  r.damage = a.damage;
  r.damage.insert(r.damage.end(), b.damage.begin(), b.damage.end());
  std::map<std::pair<std::string, uint32_t>, const Turn*> in_b;
  for (const auto& t : b.turns) in_b.try_emplace({t.id.dialogue_id, t.id.turn_index}, &t);
  std::map<std::pair<std::string, uint32_t>, bool> seen;
  std::vector<std::string> stage_order;
  std::map<std::string, uint64_t> counts;
  for (const auto& ta : a.turns) {
    const std::pair<std::string, uint32_t> key{ta.id.dialogue_id, ta.id.turn_index};
    if (!seen.try_emplace(key, true).second) continue;  // a repeated key: first one wins
    auto it = in_b.find(key);
    if (it == in_b.end()) {
      ++r.only_in_a;
      continue;
    }
    const Turn& tb = *it->second;
    ++r.matched;
    TurnDivergence d{ta.id.dialogue_id, ta.id.turn_index, {}, {}};
    for (const auto& sa : ta.stages) {
      const StageRecord* sb = tb.stage(sa.stage_id);
      d.reason = sb == nullptr ? "stage missing in B" : compare(sa, *sb);
      if (!d.reason.empty()) {
        d.stage_id = sa.stage_id;
        break;
      }
    }
    if (d.reason.empty())
      for (const auto& sb : tb.stages)
        if (ta.stage(sb.stage_id) == nullptr) {
          d.stage_id = sb.stage_id;
          d.reason = "stage missing in A";
          break;
        }
    if (d.reason.empty()) {
      ++r.identical;
      continue;
    }
    if (counts[d.stage_id]++ == 0) stage_order.push_back(d.stage_id);
    r.divergences.push_back(std::move(d));
  }
  for (const auto& [key, t] : in_b)
    if (!seen.contains(key)) ++r.only_in_b;
  for (const auto& s : stage_order) r.by_stage.emplace_back(s, counts[s]);
  return r;
}

std::string format_text(const DiffReport& r) {
  std::ostringstream o;
  for (const auto& d : r.divergences)
    o << d.dialogue_id << "/" << d.turn_index << ": first divergence at stage '" << d.stage_id << "': " << d.reason
      << "\n";
  o << "turns: A " << r.turns_a << ", B " << r.turns_b << ", matched " << r.matched << ", only in A " << r.only_in_a
    << ", only in B " << r.only_in_b << "\n";
  char line[160];
  std::snprintf(line, sizeof line, "%-28s %10s\n", "first diverging stage", "turns");
  o << line;
  std::snprintf(line, sizeof line, "%-28s %10llu\n", "(identical)", static_cast<unsigned long long>(r.identical));
  o << line;
  for (const auto& [stage, n] : r.by_stage) {
    std::snprintf(line, sizeof line, "%-28s %10llu\n", stage.c_str(), static_cast<unsigned long long>(n));
    o << line;
  }
  for (const auto& d : r.damage) o << d.format() << "\n";
  return o.str();
}

nlohmann::json to_json(const DiffReport& r) {
  nlohmann::json j{{"turns_a", r.turns_a},     {"turns_b", r.turns_b},     {"matched", r.matched},
                   {"identical", r.identical}, {"only_in_a", r.only_in_a}, {"only_in_b", r.only_in_b}};
  j["divergences"] = nlohmann::json::array();
  for (const auto& d : r.divergences)
    j["divergences"].push_back(
        {{"dialogue", d.dialogue_id}, {"turn", d.turn_index}, {"stage", d.stage_id}, {"reason", d.reason}});
  j["by_stage"] = nlohmann::json::object();
  for (const auto& [stage, n] : r.by_stage) j["by_stage"][stage] = n;
  j["damage"] = nlohmann::json::array();
  for (const auto& d : r.damage) j["damage"].push_back(to_json(d));
  return j;
}

}  // namespace cascade::trace
