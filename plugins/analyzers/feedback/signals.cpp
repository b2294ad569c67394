// The feedback rules (signals.hpp).
#include "signals.hpp"

#include "phonetic.hpp"

#include "common/words.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <sstream>

namespace cascade::feedback {

using analyzers::split_words;

double trigram_cosine(std::string_view a, std::string_view b) {
  const auto grams = [](std::string_view s) {
    const std::string padded = " " + std::string(s) + " ";
    std::map<std::string, double> counts;
    for (size_t i = 0; i + 3 <= padded.size(); ++i) counts[padded.substr(i, 3)] += 1;
    return counts;
  };
  if (a.empty() || b.empty()) return 0;
  const auto ga = grams(a), gb = grams(b);
  double dot = 0, na = 0, nb = 0;
  for (const auto& [g, c] : ga) {
    na += c * c;
    if (auto it = gb.find(g); it != gb.end()) dot += c * it->second;
  }
  for (const auto& [g, c] : gb) nb += c * c;
  return dot / std::sqrt(na * nb);
}

bool is_negative(std::string_view text) {
  static constexpr std::array<std::string_view, 4> kLeading = {"no", "nope", "wrong", "incorrect"};
  static constexpr std::array<std::string_view, 16> kWhole = {
      "stop",          "stop it",           "stop that",       "cancel",        "cancel that",       "never mind",
      "nevermind",     "forget it",         "that's wrong",    "that is wrong", "that's not right",  "that is not right",
      "not that",      "that's not what i said", "you're wrong", "shut up"};
  static constexpr std::array<std::string_view, 3> kInside = {"that's wrong", "that is wrong", "not what i"};
  const auto words = split_words(text);
  if (words.empty()) return false;
  if (std::find(kLeading.begin(), kLeading.end(), words.front()) != kLeading.end()) return true;
  if (std::find(kWhole.begin(), kWhole.end(), text) != kWhole.end()) return true;
  return std::any_of(kInside.begin(), kInside.end(), [&](std::string_view p) { return text.find(p) != std::string_view::npos; });
}

Signals detect(const TurnFacts& turn, const std::optional<TurnFacts>& next, const Rules& rules) {
  Signals s;
  s.response_end_s = turn.processing_s + turn.response_s;
  s.next_in_session = next && next->time_s - turn.time_s <= rules.session_gap_s;
  if (s.next_in_session) {
    s.gap_s = next->time_s - turn.time_s;
    s.similarity = trigram_cosine(turn.text, next->text);
    s.phonetic_similarity = phonetic::similarity(turn.text, next->text);
    const bool soon = s.gap_s <= rules.rephrase_gap_s;
    s.explicit_negative = soon && is_negative(next->text);
    s.repeat = soon && !turn.text.empty() && turn.text == next->text;
    const double sim = std::max(s.similarity, s.phonetic_similarity);
    const double needed = turn.failed ? rules.rephrase_min_after_failure : rules.rephrase_min;
    s.rephrased = soon && !s.repeat && !s.explicit_negative && !turn.text.empty() && sim >= needed;
    s.barge_in = s.gap_s < s.response_end_s;
  } else {
    s.abandoned = turn.failed;
  }
  s.success = !turn.failed;
  return s;
}

std::vector<std::string> Signals::fired() const {
  std::vector<std::string> out;
  if (explicit_negative) out.emplace_back("explicit_negative");
  if (repeat) out.emplace_back("repeat");
  if (rephrased) out.emplace_back("rephrased");
  if (barge_in) out.emplace_back("barge_in");
  if (abandoned) out.emplace_back("abandoned");
  if (success) out.emplace_back("success");
  return out;
}

std::string Signals::label() const {
  const auto f = fired();
  return f.empty() ? "none" : f.front();
}

}  // namespace cascade::feedback
