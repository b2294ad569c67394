// Turns -> requests -> sessions, and the feedback-loop guard (sessions.hpp).
#include "tools/sessions.hpp"

#include <cascade/abi/cascade_abi.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
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

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool digits(std::string_view s, size_t at, size_t n, int64_t& out) {
  if (at + n > s.size()) return false;
  const char* b = s.data() + at;
  auto [ptr, ec] = std::from_chars(b, b + n, out);
  return ec == std::errc{} && ptr == b + n;
}

}  // namespace

std::optional<double> parse_iso8601(std::string_view s) {
  int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  if (!digits(s, 0, 4, y) || !digits(s, 5, 2, mo) || !digits(s, 8, 2, d) || !digits(s, 11, 2, h) ||
      !digits(s, 14, 2, mi) || !digits(s, 17, 2, sec))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  double t = static_cast<double>(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec);
  size_t at = 19;
  if (at < s.size() && s[at] == '.') {
    double scale = 0.1;
    for (++at; at < s.size() && s[at] >= '0' && s[at] <= '9'; ++at, scale /= 10) t += (s[at] - '0') * scale;
  }
  if (at == s.size() || (s[at] == 'Z' && at + 1 == s.size())) return t;
  int64_t oh = 0, om = 0;
  if ((s[at] == '+' || s[at] == '-') && s.size() == at + 6 && s[at + 3] == ':' && digits(s, at + 1, 2, oh) &&
      digits(s, at + 4, 2, om))
    return t - (s[at] == '+' ? 1 : -1) * static_cast<double>(oh * 3600 + om * 60);
  return std::nullopt;
}

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
