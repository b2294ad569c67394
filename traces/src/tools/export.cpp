// export.cpp — Perfetto (Chrome trace-event JSON) and OTLP/JSON exports.
#include <cascade/trace/tools.hpp>

#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <tuple>

namespace cascade::trace {
namespace {

constexpr int kPid = 1;  // one process per run
constexpr uint32_t kDialogueTidBase = 100000;

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

uint64_t run_id_of(const TraceData& d) { return d.files.empty() ? 0 : d.files.front().run_id; }

int64_t trace_start(const TraceData& d) {
  int64_t t0 = std::numeric_limits<int64_t>::max();
  for (const auto& t : d.turns) {
    if (t.record) t0 = std::min(t0, t.record->start_ns);
    for (const auto& s : t.stages) t0 = std::min(t0, s.start_ns);
  }
  return t0 == std::numeric_limits<int64_t>::max() ? 0 : t0;
}

double us(int64_t ns) { return static_cast<double>(ns) / 1000.0; }

nlohmann::json stage_args(const StageRecord& s) {
  nlohmann::json a{{"dialogue", s.turn.dialogue_id}, {"turn", s.turn.turn_index}, {"seq", s.turn.turn_seq},
                   {"plugin", s.plugin}, {"plugin_version", s.plugin_version}, {"status", to_string(s.status)}};
  if (s.status != StageStatus::Ok || s.error_code != 0) {
    a["error_code"] = s.error_code;
    a["error_message"] = s.error_message;
    a["transient"] = s.transient;
  }
  if (s.has_confidence) a["confidence"] = s.confidence;
  for (const auto& f : s.features) a["feature." + f.key] = f.value;
  for (const auto& t : s.text_features) a["feature." + t.key] = t.value;
  return a;
}

struct Span {
  int64_t start = std::numeric_limits<int64_t>::max();
  int64_t end = std::numeric_limits<int64_t>::min();
  void add(int64_t s, int64_t e) {
    start = std::min(start, s);
    end = std::max(end, e);
  }
};

}  // namespace

nlohmann::json export_perfetto(const TraceData& data) {
  const int64_t t0 = trace_start(data);
  nlohmann::json events = nlohmann::json::array();
  auto x_event = [&](std::string name, const char* cat, uint32_t tid, int64_t start, int64_t end,
                     nlohmann::json args) {
    return nlohmann::json{{"name", std::move(name)}, {"cat", cat},  {"ph", "X"},
                          {"ts", us(start - t0)},    {"dur", us(std::max<int64_t>(0, end - start))},
                          {"pid", kPid},             {"tid", tid}, {"args", std::move(args)}};
  };
  auto meta = [&](const char* what, uint32_t tid, nlohmann::json args) {
    return nlohmann::json{{"name", what}, {"ph", "M"}, {"ts", 0}, {"dur", 0},
                          {"pid", kPid},  {"tid", tid}, {"args", std::move(args)}};
  };

  std::vector<nlohmann::json> slices;
  std::map<uint32_t, bool> workers;
  std::map<std::string, Span> dialogues;
  for (const auto& t : data.turns) {
    const std::string turn_name = "turn " + t.id.dialogue_id + "/" + std::to_string(t.id.turn_index);
    nlohmann::json targs{{"dialogue", t.id.dialogue_id}, {"user", t.id.user_id}, {"turn", t.id.turn_index},
                         {"seq", t.id.turn_seq}};
    if (t.record) {
      targs["status"] = to_string(t.record->status);
      targs["turn_start_ns"] = t.record->start_ns;
      targs["turn_end_ns"] = t.record->end_ns;
      targs["timestamp"] = t.record->timestamp;
    }
    // A turn slice on every worker track it used, enclosing its stages
    // there, so Perfetto nests turn -> stage on each track.
    std::map<uint32_t, Span> per_worker;
    for (const auto& s : t.stages) {
      per_worker[s.worker].add(s.start_ns, s.end_ns);
      slices.push_back(x_event(s.stage_id, "stage", s.worker, s.start_ns, s.end_ns, stage_args(s)));
    }
    if (per_worker.empty() && t.record) per_worker[t.record->worker].add(t.record->start_ns, t.record->end_ns);
    for (const auto& [w, span] : per_worker) {
      workers[w] = true;
      slices.push_back(x_event(turn_name, "turn", w, span.start, span.end, targs));
    }
    Span& d = dialogues[t.id.dialogue_id];
    d.add(t.start_ns(), t.end_ns());
    for (const auto& [w, span] : per_worker) d.add(span.start, span.end);
  }

  // Dialogues on lanes of a "dialogues" group: greedy interval partitioning
  // so slices on one lane never overlap (which Perfetto would mis-nest).
  std::vector<std::pair<std::string, Span>> ds(dialogues.begin(), dialogues.end());
  std::sort(ds.begin(), ds.end(), [](const auto& a, const auto& b) { return a.second.start < b.second.start; });
  std::vector<int64_t> lane_end;
  for (const auto& [id, span] : ds) {
    size_t lane = 0;
    while (lane < lane_end.size() && lane_end[lane] > span.start) ++lane;
    if (lane == lane_end.size()) lane_end.push_back(span.end);
    lane_end[lane] = span.end;
    slices.push_back(x_event("dialogue " + id, "dialogue", kDialogueTidBase + static_cast<uint32_t>(lane), span.start,
                             span.end, {{"dialogue", id}}));
  }
  // Parents before children at equal timestamps: by track, start, longest first.
  std::stable_sort(slices.begin(), slices.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return std::make_tuple(a["tid"].get<uint32_t>(), a["ts"].get<double>(), -a["dur"].get<double>()) <
           std::make_tuple(b["tid"].get<uint32_t>(), b["ts"].get<double>(), -b["dur"].get<double>());
  });

  const uint64_t run = run_id_of(data);
  events.push_back(meta("process_name", 0, {{"name", "cascade run " + hex64(run)}}));
  for (const auto& [w, _] : workers) {
    events.push_back(meta("thread_name", w, {{"name", "worker " + std::to_string(w)}}));
    events.push_back(meta("thread_sort_index", w, {{"sort_index", w}}));
  }
  for (size_t lane = 0; lane < lane_end.size(); ++lane) {
    const auto tid = kDialogueTidBase + static_cast<uint32_t>(lane);
    events.push_back(meta("thread_name", tid, {{"name", "dialogues " + std::to_string(lane)}}));
    events.push_back(meta("thread_sort_index", tid, {{"sort_index", -1000 + static_cast<int>(lane)}}));
  }
  for (auto& s : slices) events.push_back(std::move(s));
  return {{"traceEvents", std::move(events)},
          {"displayTimeUnit", "ms"},
          {"otherData", {{"trace_start_unix_ns", t0}, {"run_id", hex64(run)}}}};
}

namespace {

std::string hex128(XXH128_hash_t h) { return hex64(h.high64) + hex64(h.low64); }

// OTLP forbids all-zero ids.
uint64_t nonzero(uint64_t v) { return v == 0 ? 1 : v; }

uint64_t span_hash(uint64_t run, char kind, std::string_view a, uint64_t b, int64_t c, uint64_t d) {
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset_withSeed(st, run);
  XXH3_64bits_update(st, &kind, 1);
  const uint64_t n = a.size();
  XXH3_64bits_update(st, &n, sizeof n);
  XXH3_64bits_update(st, a.data(), a.size());
  XXH3_64bits_update(st, &b, sizeof b);
  XXH3_64bits_update(st, &c, sizeof c);
  XXH3_64bits_update(st, &d, sizeof d);
  const uint64_t h = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  return nonzero(h);
}

nlohmann::json attr(const std::string& key, const nlohmann::json& value) {
  nlohmann::json v;
  if (value.is_string()) v["stringValue"] = value;
  else if (value.is_boolean()) v["boolValue"] = value;
  else if (value.is_number_float()) v["doubleValue"] = value;
  else v["intValue"] = value.dump();  // int64 is a decimal string in OTLP/JSON
  return {{"key", key}, {"value", v}};
}

nlohmann::json otlp_span(const std::string& trace_id, const std::string& span_id, const std::string& parent,
                         const std::string& name, int64_t start, int64_t end, nlohmann::json attrs, bool error,
                         const std::string& message) {
  nlohmann::json s{{"traceId", trace_id},
                   {"spanId", span_id},
                   {"name", name},
                   {"kind", 1},  // SPAN_KIND_INTERNAL
                   {"startTimeUnixNano", std::to_string(start)},
                   {"endTimeUnixNano", std::to_string(std::max(start, end))},
                   {"attributes", std::move(attrs)},
                   {"status", error ? nlohmann::json{{"code", 2}, {"message", message}} : nlohmann::json{{"code", 1}}}};
  if (!parent.empty()) s["parentSpanId"] = parent;
  return s;
}

}  // namespace

nlohmann::json export_otlp(const TraceData& data) {
  const uint64_t run = run_id_of(data);
  nlohmann::json spans = nlohmann::json::array();
  std::map<std::string, Span> dialogues;
  for (const auto& t : data.turns) {
    const std::string& did = t.id.dialogue_id;
    std::string seed = std::to_string(run) + '\0' + did;
    const std::string trace_id = hex128(XXH3_128bits(seed.data(), seed.size()));
    const std::string dialogue_span = hex64(span_hash(run, 'd', did, 0, 0, 0));
    const std::string turn_span = hex64(span_hash(run, 't', did, t.id.turn_seq, 0, 0));
    nlohmann::json tattrs = nlohmann::json::array(
        {attr("cascade.dialogue_id", did), attr("cascade.user_id", t.id.user_id),
         attr("cascade.turn_index", t.id.turn_index), attr("cascade.turn_seq", t.id.turn_seq)});
    bool failed = false;
    if (t.record) {
      tattrs.push_back(attr("cascade.status", std::string(to_string(t.record->status))));
      tattrs.push_back(attr("cascade.config_digest", hex64(t.record->config_digest)));
      if (!t.record->timestamp.empty()) tattrs.push_back(attr("cascade.timestamp", t.record->timestamp));
      failed = t.record->status != TurnStatus::Ok;
    }
    Span hull;
    hull.add(t.start_ns(), t.end_ns());
    uint64_t ordinal = 0;
    for (const auto& s : t.stages) {
      hull.add(s.start_ns, s.end_ns);
      nlohmann::json sattrs = nlohmann::json::array(
          {attr("cascade.stage_id", s.stage_id), attr("cascade.plugin", s.plugin),
           attr("cascade.plugin_version", s.plugin_version), attr("cascade.worker", s.worker),
           attr("cascade.status", std::string(to_string(s.status)))});
      if (s.error_code != 0) sattrs.push_back(attr("cascade.error_code", s.error_code));
      if (s.transient) sattrs.push_back(attr("cascade.transient", true));
      if (s.has_confidence) sattrs.push_back(attr("cascade.confidence", s.confidence));
      for (const auto& f : s.features) sattrs.push_back(attr("cascade.feature." + f.key, f.value));
      for (const auto& f : s.text_features) sattrs.push_back(attr("cascade.feature." + f.key, f.value));
      const bool bad = s.status == StageStatus::Error || s.status == StageStatus::Timeout;
      spans.push_back(otlp_span(trace_id, hex64(span_hash(run, 's', s.stage_id, t.id.turn_seq, s.start_ns, ordinal++)),
                                turn_span, s.stage_id, s.start_ns, s.end_ns, std::move(sattrs), bad,
                                s.error_message));
    }
    spans.push_back(otlp_span(trace_id, turn_span, dialogue_span, "turn " + std::to_string(t.id.turn_index),
                              hull.start, hull.end, std::move(tattrs), failed, {}));
    dialogues[did].add(hull.start, hull.end);
  }
  for (const auto& [did, span] : dialogues) {
    std::string seed = std::to_string(run) + '\0' + did;
    spans.push_back(otlp_span(hex128(XXH3_128bits(seed.data(), seed.size())), hex64(span_hash(run, 'd', did, 0, 0, 0)),
                              {}, "dialogue " + did, span.start, span.end,
                              nlohmann::json::array({attr("cascade.dialogue_id", did)}), false, {}));
  }
  nlohmann::json resource{{"attributes", nlohmann::json::array({attr("service.name", std::string("cascade")),
                                                                attr("cascade.run_id", hex64(run))})}};
  return {{"resourceSpans",
           nlohmann::json::array({{{"resource", resource},
                                   {"scopeSpans", nlohmann::json::array({{{"scope", {{"name", "cascade.trace"}, {"version", "1"}}},
                                                                          {"spans", std::move(spans)}}})}}})}};
}

}  // namespace cascade::trace
