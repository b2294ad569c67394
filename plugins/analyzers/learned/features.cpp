// features.cpp — the learned isolator's feature vector. The enum and the
// name table below are the whole schema: add a feature by adding both (in
// the same place) and retrain; a model trained on another schema is
// refused by name.
#include "features.hpp"
#include "common/words.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <limits>
#include <set>

namespace cascade::learned {
namespace {

using namespace cascade::sdk;
using nlohmann::json;
using cascade::analyzers::word_jaccard;
using cascade::analyzers::words;

enum Feature : size_t {
  kWakePresent,
  kWakeDetected,
  kWakeConfidence,
  kWakeScore,
  kHeardStartsWithWakeWord,
  kHeardWords,
  kAsrConfidence,
  kAsrNbestMargin,
  kAsrNbestSize,
  kAsrMinWordConfidence,
  kNluConfidence,
  kNluMargin,
  kNluNbestSpread,
  kNluSecondScore,
  kNluTop2SameDomain,
  kNluSlots,
  kNluTokens,
  kNluMinSlotScore,
  kNluSlotCoverage,
  kErConfidence,
  kErMinEntityScore,
  kErEntities,
  kErUnresolved,
  kErUnresolvedShare,
  kResultPresent,
  kResultSuccess,
  kResultSupported,
  kResultHasAction,
  kResultHasAnswer,
  kStagesRan,
  kStagesSkipped,
  kTurnFailed,
  kTurnLogMs,
  kAsrLogMs,
  kPosition,
  kDialogueTurns,
  kNextOverlap,
  kNextGapS,
  kNextRephrase,
  kNextBargeIn,
  kSilenceAfter,
  kPrevOverlap,
  kPrevSuccess,
  kFeatureCount
};

constexpr std::array<const char*, kFeatureCount> kNames = {
    "wake_present", "wake_detected", "wake_confidence", "wake_score", "heard_starts_with_wake_word", "heard_words",
    "asr_confidence", "asr_nbest_margin", "asr_nbest_size", "asr_min_word_confidence",
    "nlu_confidence", "nlu_margin", "nlu_nbest_spread", "nlu_second_score", "nlu_top2_same_domain", "nlu_slots",
    "nlu_tokens", "nlu_min_slot_score", "nlu_slot_coverage",
    "er_confidence", "er_min_entity_score", "er_entities", "er_unresolved", "er_unresolved_share",
    "result_present", "result_success", "result_supported", "result_has_action", "result_has_answer",
    "stages_ran", "stages_skipped", "turn_failed", "turn_log_ms", "asr_log_ms",
    "position", "dialogue_turns", "next_overlap", "next_gap_s", "next_rephrase", "next_barge_in", "silence_after",
    "prev_overlap", "prev_success"};

// A name missing from kNames would be a null entry at the end.
constexpr bool every_feature_named() {
  for (const char* n : kNames)
    if (n == nullptr) return false;
  return true;
}
static_assert(every_feature_named(), "every Feature needs its name in kNames, in the same order");

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();


// What the device heard, wake word included: the ASR stage's text input
// (a text pipeline), else its transcript, else the turn's text input.
std::string heard_text(const TurnView& t) {
  if (auto asr = t.stage("asr")) {
    if (auto in = asr->input("text")) return std::string(in->bytes());
    if (auto out = asr->output("text")) return std::string(out->bytes());
  }
  if (t.input().type() == PayloadType::Text) return std::string(t.input().bytes());
  return {};
}

json result_of(const TurnView& t) {
  if (auto result = t.stage("result"))
    if (auto out = result->output("result")) return json::parse(out->bytes(), nullptr, false);
  return json();
}

double flag(bool b) { return b ? 1.0 : 0.0; }

// Seconds since the epoch of an ISO 8601 timestamp (2026-01-15T09:00:00Z,
// fractions and +hh:mm offsets allowed), or nullopt.
std::optional<double> epoch_seconds(std::string_view iso) {
  const std::string s(iso);
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, n = 0;
  double sec = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  double offset = 0;
  int oh = 0, om = 0;
  const char* rest = s.c_str() + n;
  if ((*rest == '+' || *rest == '-') && std::sscanf(rest + 1, "%2d:%2d", &oh, &om) == 2)
    offset = (*rest == '+' ? 1 : -1) * (oh * 3600.0 + om * 60.0);
  const auto days = std::chrono::sys_days(ymd).time_since_epoch().count();
  return static_cast<double>(days) * 86400.0 + h * 3600.0 + mi * 60.0 + sec - offset;
}

// Seconds from the end of `now` to the start of `next`: by the turns'
// timestamps when both have one (what the user did: inputs replayed from a
// log run back to back), else by the recorded run times.
double gap_seconds(const TurnView& now, const TurnView& next) {
  const auto a = epoch_seconds(now.timestamp()), b = epoch_seconds(next.timestamp());
  if (a && b) return *b - *a;
  return static_cast<double>(next.start_ns() - now.end_ns()) / 1e9;
}
double log_ms(double ms) { return std::log1p(std::max(0.0, ms)); }

// The NLU's JSON output: {"text", "slots": [{"start","end","score",...}]}:
// the least sure slot, and how much of the request the slots cover (a
// request mostly left out of every slot, or one slot swallowing it all,
// is often misread).
void slot_features(const StageView& nlu, std::vector<double>& f) {
  const auto out = nlu.output("nlu");
  if (!out) return;
  const json j = json::parse(out->bytes(), nullptr, false);
  if (!j.is_object() || !j.contains("slots") || !j["slots"].is_array()) return;
  const double length = j.contains("text") && j["text"].is_string() ? static_cast<double>(j["text"].get<std::string>().size()) : 0;
  double covered = 0;
  for (const auto& slot : j["slots"]) {
    if (!slot.is_object()) continue;
    if (slot.contains("score") && slot["score"].is_number())
      f[kNluMinSlotScore] = std::fmin(f[kNluMinSlotScore], slot["score"].get<double>());
    if (slot.contains("start") && slot.contains("end") && slot["start"].is_number() && slot["end"].is_number())
      covered += slot["end"].get<double>() - slot["start"].get<double>();
  }
  if (length > 0) f[kNluSlotCoverage] = covered / length;
}

void stage_features(const TurnView& t, const FeatureOptions& o, std::vector<double>& f) {
  if (auto wake = t.stage("wake")) {
    f[kWakePresent] = 1;
    f[kWakeDetected] = wake->feature("detected").value_or(kMissing);
    f[kWakeConfidence] = wake->confidence().value_or(kMissing);
    f[kWakeScore] = wake->feature("score").value_or(kMissing);
  } else {
    f[kWakePresent] = 0;
  }
  const auto heard = words(heard_text(t));
  f[kHeardWords] = static_cast<double>(heard.size());
  f[kHeardStartsWithWakeWord] = heard.empty() ? kMissing : flag(heard.front() == o.wake_word);

  if (auto asr = t.stage("asr")) {
    f[kAsrConfidence] = asr->confidence().value_or(kMissing);
    const auto nbest = asr->nbest();
    f[kAsrNbestSize] = static_cast<double>(nbest.size());
    if (nbest.size() >= 2) f[kAsrNbestMargin] = nbest[0].second - nbest[1].second;
    f[kAsrMinWordConfidence] = asr->feature("min_word_conf").value_or(kMissing);
    f[kAsrLogMs] = log_ms(asr->millis());
  }
  if (auto nlu = t.stage("nlu")) {
    f[kNluConfidence] = nlu->confidence().value_or(kMissing);
    f[kNluMargin] = nlu->feature("margin").value_or(kMissing);
    const auto nbest = nlu->nbest();
    if (nbest.size() >= 2) {
      f[kNluNbestSpread] = nbest.front().second - nbest.back().second;
      f[kNluSecondScore] = nbest[1].second;
      // Intents are domain_action (iot_hue_lightup): a runner-up from the
      // same domain is a near miss, one from another domain a confusion.
      const auto domain = [](std::string_view intent) { return intent.substr(0, intent.find('_')); };
      f[kNluTop2SameDomain] = flag(domain(nbest[0].first) == domain(nbest[1].first));
    }
    f[kNluSlots] = nlu->feature("slots").value_or(kMissing);
    f[kNluTokens] = nlu->feature("tokens").value_or(kMissing);
    slot_features(*nlu, f);
  }
  if (auto er = t.stage("er")) {
    f[kErConfidence] = er->confidence().value_or(kMissing);
    const double entities = er->feature("entities").value_or(kMissing);
    const double unresolved = er->feature("unresolved").value_or(kMissing);
    f[kErEntities] = entities;
    f[kErUnresolved] = unresolved;
    if (entities > 0) f[kErUnresolvedShare] = unresolved / entities;
    if (auto out = er->output("er")) {
      const json e = json::parse(out->bytes(), nullptr, false);
      if (e.is_object() && e.contains("entities") && e["entities"].is_array())
        for (const auto& entity : e["entities"])
          if (entity.is_object() && entity.contains("score") && entity["score"].is_number())
            f[kErMinEntityScore] = std::fmin(f[kErMinEntityScore], entity["score"].get<double>());  // fmin skips NaN
    }
  }
  const json res = result_of(t);
  f[kResultPresent] = flag(res.is_object());
  if (res.is_object()) {
    f[kResultSuccess] = flag(res.value("success", false));
    f[kResultSupported] = flag(res.value("supported", true));
    f[kResultHasAction] = flag(res.contains("action") && !res["action"].is_null());
    f[kResultHasAnswer] = flag(res.contains("answer") && !res["answer"].is_null());
  }
  double ran = 0, skipped = 0;
  for (const StageView& s : t.stages()) {
    ran += flag(s.status() == StageStatus::Ok);
    skipped += flag(s.status() == StageStatus::Skipped);
  }
  f[kStagesRan] = ran;
  f[kStagesSkipped] = skipped;
  f[kTurnFailed] = flag(t.status() != TurnStatus::Ok);
  f[kTurnLogMs] = log_ms(static_cast<double>(t.end_ns() - t.start_ns()) / 1e6);
}

void dialogue_features(const Analysis& a, const FeatureOptions& o, std::vector<double>& f) {
  const uint32_t n = a.dialogue_size();
  if (n == 0) return;  // the analyzer did not ask for the dialogue
  const uint32_t i = a.position();
  const TurnView now = a.dialogue(i);
  const std::string said = heard_text(now);
  f[kPosition] = static_cast<double>(i);
  f[kDialogueTurns] = static_cast<double>(n);
  if (i + 1 < n) {
    const TurnView next = a.dialogue(i + 1);
    const double gap = gap_seconds(now, next);
    f[kNextOverlap] = word_jaccard(said, heard_text(next));
    f[kNextGapS] = gap;
    f[kNextRephrase] = flag(gap <= o.rephrase_gap_s && f[kNextOverlap] >= o.rephrase_min);
    f[kNextBargeIn] = flag(gap < 0);
    f[kSilenceAfter] = flag(gap > o.rephrase_gap_s);
  } else {
    f[kNextRephrase] = 0;
    f[kNextBargeIn] = 0;
    f[kSilenceAfter] = 1;
  }
  if (i > 0) {
    const TurnView prev = a.dialogue(i - 1);
    f[kPrevOverlap] = word_jaccard(said, heard_text(prev));
    const json res = result_of(prev);
    if (res.is_object()) f[kPrevSuccess] = flag(res.value("success", false));
  }
}

}  // namespace

const std::vector<const char*>& classes() {
  static const std::vector<const char*> c = {"false_wake", "asr", "nlu", "er", "result", "correct"};
  return c;
}

const std::vector<std::string>& feature_names() {
  static const std::vector<std::string> names(kNames.begin(), kNames.end());
  return names;
}

std::vector<double> extract_features(const Analysis& a, const FeatureOptions& options) {
  std::vector<double> f(kFeatureCount, kMissing);
  stage_features(a.turn(), options, f);
  dialogue_features(a, options, f);
  return f;
}

std::string class_of_stage(std::string_view stage) {
  if (stage == "wake" || stage == "speech") return "false_wake";
  if (stage == "asr" || stage == "request") return "asr";
  if (stage == "nlu" || stage == "er") return std::string(stage);
  return "result";
}

std::optional<DirectAttribution> direct_attribution(const TurnView& t) {
  for (const StageView& s : t.stages()) {
    if (did_not_finish(s.status()))
      return DirectAttribution{class_of_stage(s.id()), std::string(s.id()), std::string(to_string(s.status())),
                               std::string(s.error_message())};
  }
  return std::nullopt;
}

}  // namespace cascade::learned
