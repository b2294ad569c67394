// Turns -> requests -> sessions, and the feedback-loop guard (sessions.hpp).
#include "rewrite/sessions.hpp"

#include <cascade/abi/cascade_abi.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <tuple>

namespace cascade::rewriting {

namespace {

// {"success": true}, also when wrapped as {"result": {...}} (a result line).
bool says_success(std::string_view json_text) {
  const auto j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  if (auto s = j.find("success"); s != j.end()) return s->is_boolean() && s->get<bool>();
  if (auto r = j.find("result"); r != j.end() && r->is_object())
    if (auto s = r->find("success"); s != r->end()) return s->is_boolean() && s->get<bool>();
  return false;
}

bool turn_succeeded(const trace::Turn& turn) {
  if (turn.record && !turn.record->result_json.empty()) return says_success(turn.record->result_json);
  if (const trace::StageRecord* result = turn.stage("result"))
    if (const trace::Payload* p = result->output("result")) return says_success(p->text());
  return false;
}

}  // namespace

std::optional<TurnRequest> turn_request(const trace::Turn& turn) {
  const trace::Payload* text = nullptr;
  if (const trace::StageRecord* nlu = turn.stage("nlu")) text = nlu->input("text");
  if (text == nullptr || text->type != CASCADE_PAYLOAD_TEXT)
    if (const trace::StageRecord* asr = turn.stage("asr")) text = asr->output("text");
  if (text == nullptr || text->type != CASCADE_PAYLOAD_TEXT) return std::nullopt;
  const std::string request = canonical_request(text->text());
  if (request.empty()) return std::nullopt;

  TurnRequest r;
  r.dialogue_id = turn.id.dialogue_id;
  r.turn_index = turn.id.turn_index;
  const auto stamp = turn.record ? parse_iso8601(turn.record->timestamp) : std::nullopt;
  r.time_s = stamp ? *stamp : static_cast<double>(turn.start_ns()) / 1e9;
  r.request = request;
  r.success = turn_succeeded(turn);
  for (const trace::StageRecord& s : turn.stages) {
    const auto by = s.text_feature("rewritten_by");
    if (!by) continue;
    DeployedTally fired;
    const auto original = s.text_feature("original_text");
    fired.from = canonical_request(original ? *original : std::string_view());
    const trace::Payload* out = s.output("text");
    fired.to = out != nullptr ? canonical_request(out->text()) : request;
    fired.rewritten_by = std::string(*by);
    r.rewrite = std::move(fired);
    break;
  }
  return r;
}

SessionSplit split_sessions(std::vector<TurnRequest> requests, double gap_s) {
  std::stable_sort(requests.begin(), requests.end(), [](const TurnRequest& a, const TurnRequest& b) {
    return std::tie(a.dialogue_id, a.time_s, a.turn_index) < std::tie(b.dialogue_id, b.time_s, b.turn_index);
  });
  SessionSplit out;
  std::map<std::tuple<std::string, std::string, std::string>, DeployedTally> deployed;
  const auto close = [&](size_t begin, size_t end) {
    if (begin == end) return;
    const bool success = requests[end - 1].success;
    bool fired = false;
    for (size_t k = begin; k < end; ++k) {
      if (!requests[k].rewrite) continue;
      fired = true;
      const DeployedTally& f = *requests[k].rewrite;
      DeployedTally& t = deployed[{f.from, f.to, f.rewritten_by}];
      if (t.sessions == 0) t.from = f.from, t.to = f.to, t.rewritten_by = f.rewritten_by;
      // A session counts once per rewrite however often that rewrite fired in it.
      bool first = true;
      for (size_t p = begin; p < k; ++p)
        if (requests[p].rewrite && requests[p].rewrite->from == f.from && requests[p].rewrite->to == f.to &&
            requests[p].rewrite->rewritten_by == f.rewritten_by)
          first = false;
      if (first) t.sessions += 1, t.successes += success ? 1 : 0;
    }
    if (fired) {
      ++out.held_out_sessions;
      return;
    }
    Session s;
    s.outcome = success ? Outcome::Success : Outcome::Failure;
    for (size_t k = begin; k < end; ++k) s.requests.push_back(requests[k].request);
    out.evidence.push_back(std::move(s));
  };
  size_t begin = 0;
  for (size_t k = 1; k <= requests.size(); ++k) {
    const bool cut = k == requests.size() || requests[k].dialogue_id != requests[k - 1].dialogue_id ||
                     requests[k].time_s - requests[k - 1].time_s > gap_s;
    if (cut) close(begin, k), begin = k;
  }
  for (auto& [key, tally] : deployed) out.deployed.push_back(std::move(tally));
  return out;
}

}  // namespace cascade::rewriting
