// alternatives.cpp — the n-best replays of the learned isolator
// (alternatives.hpp).
#include "alternatives.hpp"
#include "readings.hpp"

#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::learned {

using namespace cascade::sdk;

AlternativeOutcomes replay_alternatives(const Analysis& a, size_t max) {
  constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();
  AlternativeOutcomes out{kMissing, kMissing, kMissing, kMissing};
  if (max == 0 || !a.can_replay()) return out;
  const TurnView turn = a.turn();
  const auto asr = turn.stage("asr");
  const auto result_stage = turn.stage("result");
  if (!asr || !result_stage || asr->status() != StageStatus::Ok) return out;
  const auto recorded = result_stage->output("result");
  if (!recorded) return out;

  // Distinct hypotheses other than the one the turn ran on, best first.
  const auto nbest = asr->nbest();
  const auto first = asr->output("text");
  std::vector<std::string_view> alternatives;
  for (const auto& entry : nbest) {
    const std::string_view text = entry.first;
    if (alternatives.size() == max) break;
    bool seen = first && text == first->bytes();
    for (const auto& s : alternatives) seen = seen || s == text;
    if (!seen && !text.empty()) alternatives.push_back(text);
  }
  if (alternatives.empty()) return out;

  double same = 0, success = 0;
  thread_local JsonTape tape;
  for (size_t i = 0; i < alternatives.size(); ++i) {
    const ReplayOutcome r = a.replay({Forced::given("asr", "text", std::string(alternatives[i]))});
    const bool same_result = r.ok && r.result == recorded->bytes();
    same += same_result ? 1 : 0;
    if (i == 0) out.first_same = same_result ? 1 : 0;
    if (r.ok && !r.result.empty()) success += read_result(r.result, tape).success.value_or(false) ? 1 : 0;
  }
  const double n = static_cast<double>(alternatives.size());
  out.replayed = n;
  out.same_result = same / n;
  out.success = success / n;
  return out;
}

}  // namespace cascade::learned
