// summary.cpp — the summary page (failure points per stage, per dialogue
// position, per noise level; latency percentiles per stage), the timeline's
// per-stage latencies of the turns in view, and their Perfetto export.
#include "query.hpp"

#include <algorithm>
#include <cmath>

namespace cascade::ui {
namespace {

// Nearest-rank percentiles, the rule `cascade trace stats` uses.
nlohmann::json percentiles(std::vector<float>& v) {
  if (v.empty()) return {{"count", 0}};
  std::sort(v.begin(), v.end());
  auto rank = [&](double p) {
    const auto k = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    return v[std::clamp<size_t>(k, 1, v.size()) - 1];
  };
  return {{"count", v.size()}, {"p50_ms", rank(50)}, {"p90_ms", rank(90)}, {"p99_ms", rank(99)}, {"max_ms", v.back()}};
}

// {"rows": [{"key": k, "counts": {point: n}}], "points": [...]} from a map.
nlohmann::json table(const std::map<std::string, std::map<std::string, uint64_t>>& by_key,
                     const std::vector<std::string>& key_order) {
  nlohmann::json j{{"rows", nlohmann::json::array()}};
  std::vector<std::string> points;
  for (const auto& key : key_order) {
    const auto it = by_key.find(key);
    if (it == by_key.end()) continue;
    j["rows"].push_back({{"key", key}, {"counts", it->second}});
    for (const auto& [point, n] : it->second)
      if (std::find(points.begin(), points.end(), point) == points.end()) points.push_back(point);
  }
  std::sort(points.begin(), points.end());
  j["points"] = points;
  return j;
}

}  // namespace

nlohmann::json Catalog::summary(const Params& p) const {
  const size_t t = trace_param(p);
  nlohmann::json j{{"trace", t}, {"source", analysis_ && analysis_key_[t] ? "analysis" : "first failing stage"}};
  traces_[t]->with_rows([&](const IndexView& v) {
    std::map<std::string, uint64_t> points;
    std::map<std::string, std::map<std::string, uint64_t>> by_position, by_noise;
    std::vector<std::vector<float>> stage_ms(v.stage_names.size());
    std::vector<float> turn_ms;
    uint32_t max_position = 0;
    for (const auto& r : v.rows) {
      const auto point = failure_point(t, v, r);
      ++points[point];
      max_position = std::max(max_position, std::min<uint32_t>(r.turn_index, 9));
      ++by_position[r.turn_index >= 9 ? "9+" : std::to_string(r.turn_index)][point];
      ++by_noise[r.snr_db == kNoSnr ? "unknown" : std::to_string(r.snr_db) + " dB"][point];
      for (const auto& c : v.row_cells(r)) stage_ms[c.stage].push_back(c.dur_ms);
      if (r.status != kNoTurnRecord) turn_ms.push_back(r.dur_ms);
    }
    j["turns"] = v.rows.size();
    j["failure_points"] = points;
    std::vector<std::string> positions;
    for (uint32_t i = 0; i <= max_position; ++i) positions.push_back(i == 9 ? "9+" : std::to_string(i));
    j["by_position"] = table(by_position, positions);
    std::vector<std::pair<int, std::string>> noise;
    for (const auto& [k, _] : by_noise) noise.emplace_back(k == "unknown" ? 1000 : -std::stoi(k), k);
    std::sort(noise.begin(), noise.end());  // cleanest first, unknown last
    std::vector<std::string> noise_order;
    for (const auto& [_, k] : noise) noise_order.push_back(k);
    j["by_noise"] = table(by_noise, noise_order);
    auto& lat = j["latency"] = nlohmann::json::array();
    for (size_t s = 0; s < stage_ms.size(); ++s) {
      auto row = percentiles(stage_ms[s]);
      row["stage"] = v.stage_names[s];
      lat.push_back(std::move(row));
    }
    j["turn_latency"] = percentiles(turn_ms);
  });
  const auto pr = traces_[t]->progress();
  j["done"] = pr.done;
  return j;
}

nlohmann::json Catalog::timeline(const Params& p) const {
  const size_t t = trace_param(p);
  const auto selection = select(t, Filter::parse(p));
  const auto max = std::min<size_t>(std::strtoul(p("max").empty() ? "300" : p("max").c_str(), nullptr, 10), 5000);
  nlohmann::json j{{"trace", t}, {"total", selection->size()}};
  auto& turns = j["turns"] = nlohmann::json::array();
  traces_[t]->with_rows([&](const IndexView& v) {
    j["stages"] = v.stage_names;
    for (size_t i = 0; i < std::min(max, selection->size()); ++i) {
      const TurnRow& r = v.rows[(*selection)[i]];
      nlohmann::json ms = nlohmann::json::array();
      for (const auto& c : v.row_cells(r)) ms.push_back({v.stage_names[c.stage], c.dur_ms});
      turns.push_back({{"seq", r.seq}, {"dialogue", v.names[r.dialogue]}, {"turn", r.turn_index}, {"ms", r.dur_ms},
                       {"stages", std::move(ms)}});
    }
  });
  return j;
}

nlohmann::json Catalog::perfetto(const Params& p) const {
  const size_t t = trace_param(p);
  const auto selection = select(t, Filter::parse(p));
  const auto max = std::min<size_t>(std::strtoul(p("max").empty() ? "300" : p("max").c_str(), nullptr, 10), 5000);
  std::vector<uint64_t> seqs;
  traces_[t]->with_rows([&](const IndexView& v) {
    for (size_t i = 0; i < std::min(max, selection->size()); ++i) seqs.push_back(v.rows[(*selection)[i]].seq);
  });
  trace::TraceData data;
  data.turns = traces_[t]->load_turns(seqs);
  std::sort(data.turns.begin(), data.turns.end(),
            [](const trace::Turn& a, const trace::Turn& b) { return a.id.turn_seq < b.id.turn_seq; });
  return trace::export_perfetto(data);
}

}  // namespace cascade::ui
