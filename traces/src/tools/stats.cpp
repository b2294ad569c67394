// stats.cpp — counts and latency percentiles per stage.
#include <cascade/trace/tools.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

namespace cascade::trace {
namespace {

// Nearest-rank percentile: the smallest value with at least p% of values <= it.
Latency summarize(std::vector<int64_t> v) {
  Latency l;
  l.count = v.size();
  if (v.empty()) return l;
  std::sort(v.begin(), v.end());
  auto rank = [&](double p) {
    size_t k = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size()) + 0.999999999);
    return v[std::clamp<size_t>(k, 1, v.size()) - 1];
  };
  l.p50_ns = rank(50);
  l.p90_ns = rank(90);
  l.p99_ns = rank(99);
  l.max_ns = v.back();
  return l;
}

nlohmann::json latency_json(const Latency& l) {
  return {{"count", l.count}, {"p50_ns", l.p50_ns}, {"p90_ns", l.p90_ns}, {"p99_ns", l.p99_ns}, {"max_ns", l.max_ns}};
}

std::string ms(int64_t ns) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", static_cast<double>(ns) / 1e6);
  return b;
}

}  // namespace

StatsReport compute_stats(const TraceData& data) {
  StatsReport r;
  r.damage = data.damage;
  std::vector<int64_t> turn_lat;
  std::map<std::string, size_t> index;
  std::vector<std::vector<int64_t>> lat;
  for (const auto& t : data.turns) {
    ++r.turns;
    if (!t.record) {
      ++r.turns_without_record;
    } else {
      turn_lat.push_back(t.record->end_ns - t.record->start_ns);
      switch (t.record->status) {
        case TurnStatus::Ok: ++r.turns_ok; break;
        case TurnStatus::Failed: ++r.turns_failed; break;
        case TurnStatus::Cancelled: ++r.turns_cancelled; break;
      }
    }
    for (const auto& s : t.stages) {
      auto [it, inserted] = index.try_emplace(s.stage_id, r.stages.size());
      if (inserted) {
        r.stages.emplace_back().stage_id = s.stage_id;
        lat.emplace_back();
      }
      StageStats& st = r.stages[it->second];
      ++st.count;
      switch (s.status) {
        case StageStatus::Ok: ++st.ok; break;
        case StageStatus::Error: ++st.errors; break;
        case StageStatus::Timeout: ++st.timeouts; break;
        case StageStatus::Skipped: ++st.skipped; break;
        case StageStatus::Cancelled: ++st.cancelled; break;
        case StageStatus::Crashed: ++st.crashed; break;
      }
      lat[it->second].push_back(s.end_ns - s.start_ns);
    }
  }
  r.turn_latency = summarize(std::move(turn_lat));
  for (size_t i = 0; i < r.stages.size(); ++i) r.stages[i].latency = summarize(std::move(lat[i]));
  return r;
}

std::string format_text(const StatsReport& r) {
  std::ostringstream o;
  o << "turns: " << r.turns << " (ok " << r.turns_ok << ", failed " << r.turns_failed << ", cancelled "
    << r.turns_cancelled;
  if (r.turns_without_record != 0) o << ", without turn record " << r.turns_without_record;
  o << ")\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-20s %8s %8s %8s %8s %8s %10s %10s %10s %10s\n", "stage", "count", "errors",
                "timeouts", "skipped", "cancel", "p50 ms", "p90 ms", "p99 ms", "max ms");
  o << line;
  auto row = [&](const std::string& name, uint64_t count, uint64_t err, uint64_t to, uint64_t sk, uint64_t ca,
                 const Latency& l) {
    std::snprintf(line, sizeof line, "%-20s %8llu %8llu %8llu %8llu %8llu %10s %10s %10s %10s\n", name.c_str(),
                  static_cast<unsigned long long>(count), static_cast<unsigned long long>(err),
                  static_cast<unsigned long long>(to), static_cast<unsigned long long>(sk),
                  static_cast<unsigned long long>(ca), ms(l.p50_ns).c_str(), ms(l.p90_ns).c_str(),
                  ms(l.p99_ns).c_str(), ms(l.max_ns).c_str());
    o << line;
  };
  for (const auto& s : r.stages) row(s.stage_id, s.count, s.errors, s.timeouts, s.skipped, s.cancelled, s.latency);
  row("(turn)", r.turn_latency.count, r.turns_failed, 0, 0, r.turns_cancelled, r.turn_latency);
  for (const auto& d : r.damage) o << d.format() << "\n";
  return o.str();
}

nlohmann::json to_json(const StatsReport& r) {
  nlohmann::json j{{"turns", r.turns},
                   {"turns_ok", r.turns_ok},
                   {"turns_failed", r.turns_failed},
                   {"turns_cancelled", r.turns_cancelled},
                   {"turns_without_record", r.turns_without_record},
                   {"turn_latency", latency_json(r.turn_latency)}};
  j["stages"] = nlohmann::json::array();
  for (const auto& s : r.stages)
    j["stages"].push_back({{"stage", s.stage_id},
                           {"count", s.count},
                           {"ok", s.ok},
                           {"errors", s.errors},
                           {"timeouts", s.timeouts},
                           {"skipped", s.skipped},
                           {"cancelled", s.cancelled},
                           {"crashed", s.crashed},
                           {"latency", latency_json(s.latency)}});
  j["damage"] = nlohmann::json::array();
  for (const auto& d : r.damage) j["damage"].push_back(to_json(d));
  return j;
}

}  // namespace cascade::trace
