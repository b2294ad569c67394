#include "session.hpp"

#include "judges/judges.hpp"
#include "text/text.hpp"

#include <algorithm>
#include <string>

namespace cascade::sim {

namespace lang = cascade::language;
using nlohmann::json;

namespace {

std::string attempt_tag(uint32_t attempt) { return "a" + std::to_string(attempt); }

}  // namespace

double response_seconds(const json& result) {
  const std::string say = result.is_object() ? result.value("say", std::string()) : std::string();
  return 1.0 + 0.065 * static_cast<double>(say.size());
}

const json& SessionRunner::gold(const Session& s) const { return s.goal->golds[s.variant]; }

std::string SessionRunner::phrase(const Session& s, size_t variant, bool personal) const {
  const auto& record = s.goal->variants[variant];
  if (!personal || s.plan.habit < 0) return record.normalized;
  const Habit& habit = s.user->habits[static_cast<size_t>(s.plan.habit)];
  auto tokens = lang::tokenize(record.normalized);
  // Replace the annotated span(s) naming the entity, last first so the
  // earlier spans' positions stay valid.
  std::vector<lang::Annotation> spans;
  for (const auto& a : record.annotations)
    if (a.type == habit.type && lang::canonicalize(a.type, a.value) == habit.canonical && a.token_end <= tokens.size())
      spans.push_back(a);
  std::sort(spans.begin(), spans.end(), [](const auto& a, const auto& b) { return a.token_begin > b.token_begin; });
  for (const auto& a : spans) {
    auto spoken = lang::tokenize(habit.spoken);
    tokens.erase(tokens.begin() + static_cast<long>(a.token_begin), tokens.begin() + static_cast<long>(a.token_end));
    tokens.insert(tokens.begin() + static_cast<long>(a.token_begin), spoken.begin(), spoken.end());
  }
  return lang::join(tokens);
}

void SessionRunner::hear(Session& s, TurnTruth& t) const {
  Rng rng(seed_, {"asr", s.plan.id, attempt_tag(t.attempt)});
  Heard h = channel_.hear(t.said, s.user->voice, s.user->snr, rng);
  // A recogniser that heard nothing still reports something said.
  t.heard = h.text.empty() ? t.said : h.text;
  t.asr_errors = h.errors;
  t.confidence = h.confidence;
}

Session SessionRunner::begin(const PlannedSession& plan, const User& user) const {
  Session s;
  s.plan = plan;
  s.user = &user;
  s.goal = &goals_.goals.at(plan.goal);
  Rng rng(seed_, {"phrase", plan.id, attempt_tag(0)});
  s.variant = rng.below(s.goal->variants.size());
  TurnTruth t;
  t.action = "first";
  t.personal = plan.habit >= 0;
  t.slurp_id = s.goal->variants[s.variant].slurp_id;
  t.said = phrase(s, s.variant, t.personal);
  t.timestamp = timestamp(plan.start_s);
  hear(s, t);
  s.turns.push_back(std::move(t));
  return s;
}

json SessionRunner::turn_line(const Session& s) const {
  const TurnTruth& t = s.turns.back();
  json g = gold(s);
  g["asr"] = {{"text", t.said}};  // what was said, personal names included
  return {{"dialogue_id", s.plan.id},
          {"user_id", s.user->id},
          {"turn_index", t.attempt},
          {"turn_id", s.plan.id + "-" + std::to_string(t.attempt)},
          {"timestamp", t.timestamp},
          {"addressed", true},
          {"slurp_id", t.slurp_id},
          {"payload", {{"json", {{"text", t.heard}, {"confidence", t.confidence}}}}},
          {"gold", std::move(g)}};
}

void SessionRunner::conclude(Session& s, const std::string& status, const json& result) const {
  TurnTruth& t = s.turns.back();
  t.status = status;
  t.success = status == "ok" && result.is_object() &&
              lang::judges::acceptable(lang::judges::judge_result(result, gold(s)["result"]));
  if (t.success) {
    t.next = "end";
    s.open = false;
    s.success = true;
    s.ended = "success";
    return;
  }
  const uint32_t attempt = t.attempt;
  Rng rng(seed_, {"next", s.plan.id, attempt_tag(attempt)});
  if (attempt + 1 >= k_) {
    t.next = "give_up";
    s.open = false;
    s.ended = "attempts";
    return;
  }
  if (rng.chance(std::min(0.9, s.user->give_up + 0.1 * attempt))) {
    t.next = "give_up";
    s.open = false;
    s.ended = "gave_up";
    return;
  }
  TurnTruth n;
  n.attempt = attempt + 1;
  n.personal = t.personal;
  size_t variant = s.variant;
  if (rng.chance(s.user->rephrase)) {
    // Another phrasing: another variant when the goal has one; a personal
    // name is usually dropped for the catalogue's (the user tries "the
    // proper name").
    if (s.goal->variants.size() > 1) {
      variant = (s.variant + 1 + rng.below(s.goal->variants.size() - 1)) % s.goal->variants.size();
    }
    if (t.personal && rng.chance(0.7)) n.personal = false;
  }
  s.variant = variant;
  n.slurp_id = s.goal->variants[variant].slurp_id;
  n.said = phrase(s, variant, n.personal);
  // Named by what the user did: the same words again is a repeat.
  n.action = n.said == t.said ? "repeat" : "rephrase";
  t.next = n.action;
  const double speaking = response_seconds(result);
  n.barge_in = rng.chance(s.user->barge_in);
  const double gap = n.barge_in ? rng.uniform(0.3, 0.8) * speaking : speaking + rng.uniform(1.5, 6.0);
  n.timestamp = timestamp(s.plan.start_s + s.elapsed_s + gap);
  s.elapsed_s += gap;
  hear(s, n);
  s.turns.push_back(std::move(n));
}

json SessionRunner::truth(const Session& s) {
  json turns = json::array();
  for (const auto& t : s.turns)
    turns.push_back({{"turn_index", t.attempt},   {"timestamp", t.timestamp}, {"action", t.action},
                     {"barge_in", t.barge_in},    {"personal", t.personal},   {"slurp_id", t.slurp_id},
                     {"said", t.said},            {"heard", t.heard},         {"asr_errors", t.asr_errors},
                     {"status", t.status},        {"success", t.success},     {"next", t.next}});
  return {{"session", s.plan.id},
          {"user_id", s.user->id},
          {"day", s.plan.day},
          {"goal", s.goal->key},
          {"personal", s.plan.habit >= 0},
          {"success", s.success},
          {"ended", s.ended},
          {"attempts", s.turns.size()},
          {"turns", std::move(turns)}};
}

}  // namespace cascade::sim
