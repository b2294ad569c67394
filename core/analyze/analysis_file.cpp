// analysis_file.cpp — see cascade/core/analysis_file.hpp.
#include <cascade/core/analysis_file.hpp>
#include <cascade/core/diagnostic.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <ostream>

namespace cascade {

using nlohmann::json;

void write_analysis(std::ostream& out, const AnalysisFile& file) {
  const AnalysisHeader& h = file.header;
  json head = {{"cascade_analysis", kAnalysisFormat},
               {"analyzer", h.analyzer},
               {"analyzer_version", h.analyzer_version},
               {"labels", h.labels},
               {"traces", h.traces},
               {"pipeline", h.pipeline},
               {"turns", h.turns},
               {"replays", h.replays},
               {"seconds", h.seconds}};
  out << head.dump() << "\n";
  for (const auto& l : file.lines) {
    const Verdict& v = l.verdict;
    json j = {{"trace", l.trace},          {"turn_seq", v.turn_seq}, {"dialogue_id", v.dialogue_id},
              {"user_id", v.user_id},      {"turn_index", v.turn_index}};
    if (v.analyzed) {
      j["label"] = v.label;
      j["score"] = v.score;
    } else {
      j["label"] = nullptr;
      j["error"] = v.error;
    }
    j["evidence"] = json::parse(v.evidence, nullptr, false);
    if (j["evidence"].is_discarded()) j["evidence"] = json::object();
    j["replays"] = v.replays;
    out << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  }
}

AnalysisFile read_analysis(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw CascadeError("N010", "cannot read the analysis file", path.string());
  AnalysisFile f;
  std::string line;
  uint64_t n = 0;
  auto where = [&] { return path.string() + ":" + std::to_string(n); };
  auto get_string = [&](const json& j, const char* k) -> std::string {
    auto it = j.find(k);
    if (it == j.end() || !it->is_string())
      throw CascadeError("N012", std::string("field '") + k + "' must be a string", where());
    return it->get<std::string>();
  };
  auto get_uint = [&](const json& j, const char* k) -> uint64_t {
    auto it = j.find(k);
    if (it == j.end() || !it->is_number_unsigned())
      throw CascadeError("N012", std::string("field '") + k + "' must be a non-negative integer", where());
    return it->get<uint64_t>();
  };
  // An optional count: absent is 0. Not json::value(): a float beyond
  // uint64 ("turns":3.6e24) converted to it is undefined behaviour.
  auto get_count = [&](const json& j, const char* k) -> uint64_t {
    return j.contains(k) ? get_uint(j, k) : 0;
  };
  // A field of the wrong type ("seconds":"slow") makes json::value() throw
  // type_error: a malformed line, not a crash (found by fuzzing).
  try {
    while (std::getline(in, line)) {
      ++n;
      if (line.empty()) continue;
      const json j = json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        if (n == 1) throw CascadeError("N010", "not an analysis file (the first line is not a JSON object)", where());
        throw CascadeError("N012", "not a JSON object", where());
      }
      if (n == 1) {
        auto v = j.find("cascade_analysis");
        if (v == j.end()) throw CascadeError("N010", "not an analysis file (no \"cascade_analysis\" header)", where());
        if (!v->is_number_integer() || v->get<int64_t>() != kAnalysisFormat)
          throw CascadeError("N011", "analysis format " + v->dump() + ", this cascade reads format " +
                                         std::to_string(kAnalysisFormat), where());
        f.header.analyzer = get_string(j, "analyzer");
        f.header.analyzer_version = j.value("analyzer_version", "");
        if (auto l = j.find("labels"); l != j.end() && l->is_array())
          for (const auto& x : *l)
            if (x.is_string()) f.header.labels.push_back(x.get<std::string>());
        if (auto t = j.find("traces"); t != j.end() && t->is_array())
          for (const auto& x : *t)
            if (x.is_string()) f.header.traces.push_back(x.get<std::string>());
        f.header.pipeline = j.value("pipeline", "");
        f.header.turns = get_count(j, "turns");
        f.header.replays = get_count(j, "replays");
        f.header.seconds = j.value("seconds", 0.0);
        continue;
      }
      AnalysisLine l;
      l.trace = get_string(j, "trace");
      Verdict& v = l.verdict;
      v.turn_seq = get_uint(j, "turn_seq");
      v.dialogue_id = get_string(j, "dialogue_id");
      v.user_id = j.value("user_id", "");
      const uint64_t ti = get_uint(j, "turn_index");
      if (ti > UINT32_MAX) throw CascadeError("N012", "field 'turn_index' is out of range", where());
      v.turn_index = static_cast<uint32_t>(ti);
      auto label = j.find("label");
      if (label != j.end() && label->is_string()) {
        v.analyzed = true;
        v.label = label->get<std::string>();
        auto s = j.find("score");
        if (s == j.end() || !s->is_number()) throw CascadeError("N012", "field 'score' must be a number", where());
        v.score = s->get<double>();
      } else if (label != j.end() && label->is_null()) {
        v.error = j.value("error", "");
      } else {
        throw CascadeError("N012", "field 'label' must be a string or null", where());
      }
      if (auto e = j.find("evidence"); e != j.end()) v.evidence = e->dump();
      v.replays = static_cast<uint32_t>(std::min<uint64_t>(get_count(j, "replays"), UINT32_MAX));
      f.lines.push_back(std::move(l));
    }
  } catch (const json::exception& e) {
    throw CascadeError("N012", std::string("malformed field: ") + e.what(), where());
  }
  if (n == 0) throw CascadeError("N010", "the analysis file is empty", path.string());
  return f;
}

}  // namespace cascade
