#include "eval/quality.hpp"

#include "judges/judges.hpp"

#include <cascade/abi/cascade_abi.h>
#include <cascade/trace/tools.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <utility>

namespace cascade::language::eval {
namespace {

using nlohmann::json;
namespace judges = cascade::language::judges;

std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    const size_t b = i;
    while (i < s.size() && !(s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    if (i > b) out.push_back(s.substr(b, i - b));
  }
  return out;
}

// A payload parsed as JSON; discarded (null) when it is not JSON.
json parse_json(const trace::Payload* p) {
  if (p == nullptr) return nullptr;
  return json::parse(p->text(), nullptr, /*allow_exceptions=*/false);
}

const json& member(const json& j, const char* key) {
  static const json null_json;
  if (!j.is_object()) return null_json;
  auto it = j.find(key);
  return it == j.end() ? null_json : *it;
}

// The output `port` of stage `id` when the stage ran Ok, else nullptr.
const trace::Payload* ok_output(const trace::Turn& t, std::string_view id, std::string_view port) {
  const trace::StageRecord* s = t.stage(id);
  if (s == nullptr || s->status != trace::StageStatus::Ok) return nullptr;
  return s->output(port);
}

double audio_seconds(const trace::Payload* p) {
  if (p == nullptr || p->type != CASCADE_PAYLOAD_AUDIO || p->sample_rate == 0) return 0;
  return static_cast<double>(p->size) / 2.0 / p->sample_rate;
}

// Sets of (type, canonical value) — the NLU judge's equivalence.
std::set<std::pair<std::string, std::string>> slot_set(const json& slots) {
  std::set<std::pair<std::string, std::string>> out;
  if (!slots.is_array()) return out;
  for (const auto& s : slots) {
    if (!s.is_object()) continue;
    const json& type = member(s, "type");
    const json& value = member(s, "value");
    if (!type.is_string() || !value.is_string()) continue;
    out.emplace(type.get<std::string>(), judges::canonical_text(value.get<std::string>()));
  }
  return out;
}

// Audio seconds a stage heard on its input `port` and the seconds it ran,
// over its Ok records; nullopt when it heard no audio at all.
struct Speed {
  double audio_s = 0, run_s = 0;
};
void add_speed(Speed& sp, const trace::StageRecord* s, std::string_view port) {
  if (s == nullptr || s->status != trace::StageStatus::Ok) return;
  const double a = audio_seconds(s->input(port));
  if (a <= 0) return;
  sp.audio_s += a;
  sp.run_s += static_cast<double>(s->end_ns - s->start_ns) / 1e9;
}
std::optional<double> x_realtime(const Speed& sp) {
  if (sp.audio_s <= 0 || sp.run_s <= 0) return std::nullopt;
  return sp.audio_s / sp.run_s;
}

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

std::string pct(const Ratio& r) {
  char buf[96];
  if (auto v = r.value())
    std::snprintf(buf, sizeof buf, "%6.1f%%  (%llu/%llu)", *v * 100, static_cast<unsigned long long>(r.num),
                  static_cast<unsigned long long>(r.den));
  else
    std::snprintf(buf, sizeof buf, "     -   (0 turns)");
  return buf;
}
std::string num(const std::optional<double>& v, const char* fmt = "%.3f") {
  if (!v) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, *v);
  return buf;
}

}  // namespace

std::optional<double> Ratio::value() const {
  if (den == 0) return std::nullopt;
  return static_cast<double>(num) / static_cast<double>(den);
}

std::optional<double> SlotCounts::precision() const {
  if (tp + fp == 0) return std::nullopt;
  return static_cast<double>(tp) / static_cast<double>(tp + fp);
}
std::optional<double> SlotCounts::recall() const {
  if (tp + fn == 0) return std::nullopt;
  return static_cast<double>(tp) / static_cast<double>(tp + fn);
}
std::optional<double> SlotCounts::f1() const {
  if (tp + fp + fn == 0) return std::nullopt;
  // 2PR/(P+R) == 2tp / (2tp + fp + fn), defined (0) even when tp == 0.
  return 2.0 * static_cast<double>(tp) / static_cast<double>(2 * tp + fp + fn);
}

WordErrors word_errors(std::string_view hypothesis, std::string_view reference) {
  const auto hyp = split_words(hypothesis);
  const auto ref = split_words(reference);
  // Levenshtein over words, keeping (S, D, I) of a minimal path; ties
  // prefer substitutions so the split is the conventional one.
  struct Cell {
    uint64_t cost = 0, s = 0, d = 0, i = 0;
  };
  std::vector<Cell> prev(hyp.size() + 1), cur(hyp.size() + 1);
  for (size_t j = 0; j <= hyp.size(); ++j) prev[j] = {j, 0, 0, j};
  for (size_t r = 1; r <= ref.size(); ++r) {
    cur[0] = {r, 0, r, 0};
    for (size_t j = 1; j <= hyp.size(); ++j) {
      const bool same = ref[r - 1] == hyp[j - 1];
      Cell best = prev[j - 1];
      best.cost += same ? 0 : 1;
      best.s += same ? 0 : 1;
      if (prev[j].cost + 1 < best.cost) {  // ref word deleted
        best = prev[j];
        best.cost += 1;
        best.d += 1;
      }
      if (cur[j - 1].cost + 1 < best.cost) {  // hyp word inserted
        best = cur[j - 1];
        best.cost += 1;
        best.i += 1;
      }
      cur[j] = best;
    }
    std::swap(prev, cur);
  }
  WordErrors e;
  e.substitutions = prev[hyp.size()].s;
  e.deletions = prev[hyp.size()].d;
  e.insertions = prev[hyp.size()].i;
  e.ref_words = ref.size();
  return e;
}

std::optional<double> QualityReport::wer() const {
  if (wer_counts.ref_words == 0) return std::nullopt;
  return static_cast<double>(wer_counts.errors()) / static_cast<double>(wer_counts.ref_words);
}

std::optional<double> QualityReport::false_wakes_per_hour() const {
  if (!has_wake || non_addressed_audio_s <= 0) return std::nullopt;
  return static_cast<double>(false_wakes) / (non_addressed_audio_s / 3600.0);
}

QualityReport compute_report(const trace::TraceData& data) {
  QualityReport r;
  Speed asr_speed, wake_speed;
  std::map<std::string, uint64_t> gold_intents;

  // Decided over the whole trace first: a turn that failed before its wake
  // stage still counts against the wake metrics of a speech pipeline.
  for (const trace::Turn& t : data.turns)
    if (t.stage("wake") != nullptr) r.has_wake = true;

  for (const trace::Turn& t : data.turns) {
    add_speed(asr_speed, t.stage("asr"), "audio");
    add_speed(wake_speed, t.stage("wake"), "audio");

    if (!t.record || t.record->gold_json.empty()) {
      ++r.turns_without_gold;
      continue;
    }
    const json gold = json::parse(t.record->gold_json, nullptr, false);
    if (!gold.is_object()) {
      ++r.turns_without_gold;
      continue;
    }
    ++r.turns;

    const json& gold_wake = member(gold, "wake");
    const json& gold_asr = member(gold, "asr");
    bool addressed = false;
    if (gold_wake.is_object() && member(gold_wake, "detected").is_boolean())
      addressed = member(gold_wake, "detected").get<bool>();
    else if (gold_wake.is_boolean())
      addressed = gold_wake.get<bool>();
    else
      addressed = !gold_asr.is_null();
    addressed ? ++r.addressed : ++r.non_addressed;

    // Wake: the detected flag of the wake stage's "wake" output.
    const trace::StageRecord* wake = t.stage("wake");
    bool woke = false;
    if (wake != nullptr) {
      const json w = parse_json(ok_output(t, "wake", "wake"));
      woke = member(w, "detected").is_boolean() && member(w, "detected").get<bool>();
    }
    if (r.has_wake) {
      if (addressed) {
        ++r.wake_hits.den;
        if (woke) ++r.wake_hits.num;
      } else {
        if (woke) ++r.false_wakes;
        double a = wake != nullptr ? audio_seconds(wake->input("audio")) : 0;
        if (a <= 0)
          if (const auto* sp = t.stage("speech"); sp != nullptr) a = audio_seconds(sp->output("audio"));
        r.non_addressed_audio_s += a;
      }
    }

    const trace::Payload* result_out = ok_output(t, "result", "result");
    if (!addressed) {
      ++r.task.den;
      ++r.task_non_addressed.den;
      if (result_out == nullptr) {
        ++r.task.num;
        ++r.task_non_addressed.num;
      }
      continue;
    }

    // ASR.
    const json& gold_text = gold_asr.is_object() ? member(gold_asr, "text") : gold_asr;
    if (gold_text.is_string()) {
      const trace::Payload* text = ok_output(t, "asr", "text");
      if (text != nullptr && text->type == CASCADE_PAYLOAD_TEXT) {
        const WordErrors e =
            word_errors(judges::canonical_text(text->text()), judges::canonical_text(gold_text.get<std::string>()));
        r.wer_counts.substitutions += e.substitutions;
        r.wer_counts.deletions += e.deletions;
        r.wer_counts.insertions += e.insertions;
        r.wer_counts.ref_words += e.ref_words;
        ++r.wer_turns;
      } else {
        ++r.wer_missing_turns;
      }
    }

    // NLU.
    const json& gold_nlu = member(gold, "nlu");
    if (gold_nlu.is_object() && member(gold_nlu, "intent").is_string()) {
      const std::string gold_intent = member(gold_nlu, "intent").get<std::string>();
      ++gold_intents[gold_intent];
      const json nlu = parse_json(ok_output(t, "nlu", "nlu"));
      ++r.intent.den;
      if (member(nlu, "intent").is_string() && member(nlu, "intent").get<std::string>() == gold_intent) ++r.intent.num;
      const auto want = slot_set(member(gold_nlu, "slots"));
      const auto got = slot_set(member(nlu, "slots"));
      for (const auto& s : got) (want.contains(s) ? r.slots.tp : r.slots.fp) += 1;
      for (const auto& s : want)
        if (!got.contains(s)) ++r.slots.fn;
    }

    // ER.
    const json& gold_er = member(gold, "er");
    if (!gold_er.is_null()) {
      ++r.er.den;
      const json er = parse_json(ok_output(t, "er", "er"));
      if (!er.is_null() && judges::acceptable(judges::judge_er(er, gold_er))) ++r.er.num;
    }

    // Result: null output against the gold (a null gold wants null).
    ++r.task.den;
    ++r.task_addressed.den;
    const json result = parse_json(result_out);
    if (judges::acceptable(judges::judge_result(result, member(gold, "result")))) {
      ++r.task.num;
      ++r.task_addressed.num;
    }
  }

  // Majority class: ties go to the alphabetically first intent (map order),
  // so the baseline is deterministic.
  for (const auto& [intent, n] : gold_intents)
    if (n > r.intent_baseline.num) {
      r.intent_baseline.num = n;
      r.majority_intent = intent;
    }
  r.intent_baseline.den = r.intent.den;

  r.asr_audio_s = asr_speed.audio_s;
  r.wake_audio_s = wake_speed.audio_s;
  r.asr_x_realtime = x_realtime(asr_speed);
  r.wake_x_realtime = x_realtime(wake_speed);

  const trace::StatsReport st = trace::compute_stats(data);
  for (const auto& s : st.stages)
    r.latency.push_back({s.stage_id, s.latency.count, static_cast<double>(s.latency.p50_ns) / 1e6,
                         static_cast<double>(s.latency.p90_ns) / 1e6, static_cast<double>(s.latency.p99_ns) / 1e6});
  return r;
}

QualityReport compute_report(const std::filesystem::path& path) { return compute_report(trace::read_turns(path)); }

nlohmann::json to_json(const QualityReport& r) {
  json j;
  j["turns"] = r.turns;
  j["addressed"] = r.addressed;
  j["wer"] = opt(r.wer());
  j["wake_hit_rate"] = r.has_wake ? opt(r.wake_hits.value()) : json(nullptr);
  j["false_wakes"] = r.has_wake ? json(r.false_wakes) : json(nullptr);
  j["false_wakes_per_hour"] = opt(r.false_wakes_per_hour());
  j["intent_accuracy"] = opt(r.intent.value());
  j["slot_f1"] = opt(r.slots.f1());
  j["er_accuracy"] = opt(r.er.value());
  j["task_success"] = opt(r.task.value());
  j["asr_x_realtime"] = opt(r.asr_x_realtime);
  j["wake_x_realtime"] = opt(r.wake_x_realtime);
  json lat = json::object();
  for (const auto& l : r.latency) lat[l.stage_id] = {{"p50", l.p50}, {"p90", l.p90}, {"p99", l.p99}};
  j["latency_ms"] = std::move(lat);
  return j;
}

std::string format_text(const QualityReport& r) {
  std::ostringstream o;
  char buf[256];
  o << "turns            " << r.turns << "  (" << r.addressed << " addressed, " << r.non_addressed
    << " not addressed)";
  if (r.turns_without_gold > 0) o << "  + " << r.turns_without_gold << " without gold (not scored)";
  o << "\n";
  std::snprintf(buf, sizeof buf, "wer              %s  (%llu errors: %llu sub, %llu del, %llu ins / %llu words; %llu turns)",
                num(r.wer()).c_str(), static_cast<unsigned long long>(r.wer_counts.errors()),
                static_cast<unsigned long long>(r.wer_counts.substitutions),
                static_cast<unsigned long long>(r.wer_counts.deletions),
                static_cast<unsigned long long>(r.wer_counts.insertions),
                static_cast<unsigned long long>(r.wer_counts.ref_words), static_cast<unsigned long long>(r.wer_turns));
  o << buf << "\n";
  o << "                 " << r.wer_missing_turns << " addressed turns without asr text (wake misses, asr errors)\n";
  if (r.has_wake) {
    o << "wake hit rate    " << pct(r.wake_hits) << "  (" << (r.wake_hits.den - r.wake_hits.num) << " misses)\n";
    std::snprintf(buf, sizeof buf, "false wakes      %llu  over %.1f s of non-addressed audio = %s per hour",
                  static_cast<unsigned long long>(r.false_wakes), r.non_addressed_audio_s,
                  num(r.false_wakes_per_hour(), "%.1f").c_str());
    o << buf << "\n";
  } else {
    o << "wake             - (no wake stage in this trace)\n";
  }
  o << "intent accuracy  " << pct(r.intent) << "\n";
  o << "  baseline       " << pct(r.intent_baseline) << "  (always \"" << r.majority_intent << "\")\n";
  std::snprintf(buf, sizeof buf, "slot f1          %s  (P %s, R %s; tp %llu, fp %llu, fn %llu)", num(r.slots.f1()).c_str(),
                num(r.slots.precision()).c_str(), num(r.slots.recall()).c_str(),
                static_cast<unsigned long long>(r.slots.tp), static_cast<unsigned long long>(r.slots.fp),
                static_cast<unsigned long long>(r.slots.fn));
  o << buf << "\n";
  o << "er accuracy      " << pct(r.er) << "\n";
  o << "task success     " << pct(r.task) << "\n";
  o << "  addressed      " << pct(r.task_addressed) << "\n";
  o << "  not addressed  " << pct(r.task_non_addressed) << "  (nothing executed)\n";
  std::snprintf(buf, sizeof buf, "asr speed        %s x real time  (%.1f s of audio)", num(r.asr_x_realtime, "%.2f").c_str(),
                r.asr_audio_s);
  o << buf << "\n";
  std::snprintf(buf, sizeof buf, "wake speed       %s x real time  (%.1f s of audio)",
                num(r.wake_x_realtime, "%.2f").c_str(), r.wake_audio_s);
  o << buf << "\n";
  o << "latency (ms)     stage          n      p50      p90      p99\n";
  for (const auto& l : r.latency) {
    std::snprintf(buf, sizeof buf, "                 %-10s %5llu %8.2f %8.2f %8.2f", l.stage_id.c_str(),
                  static_cast<unsigned long long>(l.count), l.p50, l.p90, l.p99);
    o << buf << "\n";
  }
  return o.str();
}

}  // namespace cascade::language::eval
