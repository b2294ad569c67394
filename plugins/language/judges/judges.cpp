#include "judges/judges.hpp"

#include "text/spoken.hpp"
#include "text/text.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <tuple>
#include <vector>

namespace cascade::language::judges {

using json = nlohmann::json;

std::string_view to_string(Verdict v) noexcept {
  switch (v) {
    case Verdict::Exact: return "exact";
    case Verdict::Equivalent: return "equivalent";
    case Verdict::Wrong: return "wrong";
  }
  return "wrong";
}

std::string canonical_text(std::string_view text) {
  static const std::set<std::string, std::less<>> drop{"a", "an", "the", "uh", "um", "umm", "er",
                                                       "erm", "ah", "hmm", "uhm", "mm"};
  // Written and spoken forms are one ("5:30 a.m." == "five thirty am"):
  // spelling, not hearing.
  auto toks = tokenize(spoken_form(text));
  // A leading wake word ("alexa ...", "hey computer ...") is not part of the
  // request: an ASR that keeps or drops it heard the same thing.
  size_t b = 0;
  if (toks.size() > 1 && (toks[0] == "hey" || toks[0] == "ok" || toks[0] == "okay") &&
      (toks[1] == "alexa" || toks[1] == "computer"))
    b = 2;
  else if (!toks.empty() && (toks[0] == "alexa" || toks[0] == "computer"))
    b = 1;
  std::vector<std::string> kept;
  for (size_t i = b; i < toks.size(); ++i) {
    if (drop.count(toks[i]) != 0) continue;
    // Orthography, not hearing: "what's" and SLURP's "whats" are one word.
    std::erase(toks[i], '\'');
    kept.push_back(std::move(toks[i]));
  }
  return join(numbers_to_digits(kept));
}

namespace {

std::string fold_space(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string text_of(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("text") && j["text"].is_string()) return j["text"].get<std::string>();
  return {};
}

std::string str_field(const json& o, const char* key) {
  if (!o.is_object() || !o.contains(key)) return {};
  const auto& v = o[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return {};
  return v.dump();
}

const json& array_field(const json& o, const char* key) {
  static const json empty = json::array();
  if (o.is_object() && o.contains(key) && o[key].is_array()) return o[key];
  return empty;
}

}  // namespace

Verdict judge_wake(const json& out, const json& gold) {
  auto flag = [](const json& j) -> int {
    if (j.is_boolean()) return j.get<bool>() ? 1 : 0;
    if (j.is_object() && j.contains("detected") && j["detected"].is_boolean()) return j["detected"].get<bool>() ? 1 : 0;
    return -1;
  };
  int o = flag(out), g = flag(gold);
  return (o >= 0 && o == g) ? Verdict::Exact : Verdict::Wrong;
}

Verdict judge_asr_text(std::string_view out, std::string_view gold) {
  if (fold_space(out) == fold_space(gold)) return Verdict::Exact;
  if (canonical_text(out) == canonical_text(gold)) return Verdict::Equivalent;
  return Verdict::Wrong;
}

Verdict judge_asr(const json& out, const json& gold) {
  if (gold.is_null()) return out.is_null() ? Verdict::Exact : Verdict::Wrong;
  if (out.is_null()) return Verdict::Wrong;
  return judge_asr_text(text_of(out), text_of(gold));
}

Verdict judge_nlu(const json& out, const json& gold) {
  if (gold.is_null() || out.is_null()) return gold.is_null() && out.is_null() ? Verdict::Exact : Verdict::Wrong;
  if (str_field(out, "intent") != str_field(gold, "intent")) return Verdict::Wrong;
  auto pairs = [](const json& o, bool canon) {
    std::vector<std::pair<std::string, std::string>> v;
    for (const auto& s : array_field(o, "slots")) {
      std::string val = str_field(s, "value");
      v.emplace_back(str_field(s, "type"), canon ? canonical_text(val) : val);
    }
    std::sort(v.begin(), v.end());
    return v;
  };
  if (pairs(out, false) == pairs(gold, false)) return Verdict::Exact;
  auto a = pairs(out, true), b = pairs(gold, true);
  a.erase(std::unique(a.begin(), a.end()), a.end());
  b.erase(std::unique(b.begin(), b.end()), b.end());
  return a == b ? Verdict::Equivalent : Verdict::Wrong;
}

Verdict judge_er(const json& out, const json& gold) {
  if (gold.is_null() || out.is_null()) return gold.is_null() && out.is_null() ? Verdict::Exact : Verdict::Wrong;
  auto exact = [](const json& o) {
    std::vector<std::tuple<std::string, std::string, std::string>> v;
    for (const auto& e : array_field(o, "entities")) {
      const json& r = e.is_object() && e.contains("resolved") ? e["resolved"] : json(nullptr);
      v.emplace_back(str_field(e, "type"), str_field(e, "value"), r.is_string() ? "=" + r.get<std::string>() : "null");
    }
    std::sort(v.begin(), v.end());
    return v;
  };
  if (exact(out) == exact(gold)) return Verdict::Exact;
  auto loose = [](const json& o) {
    std::set<std::pair<std::string, std::string>> s;
    for (const auto& e : array_field(o, "entities")) {
      const json& r = e.is_object() && e.contains("resolved") ? e["resolved"] : json(nullptr);
      s.emplace(str_field(e, "type"),
                r.is_string() ? "=" + r.get<std::string>() : "~" + canonical_text(str_field(e, "value")));
    }
    return s;
  };
  return loose(out) == loose(gold) ? Verdict::Equivalent : Verdict::Wrong;
}

Verdict judge_result(const json& out, const json& gold) {
  if (gold.is_null() || out.is_null()) return gold.is_null() && out.is_null() ? Verdict::Exact : Verdict::Wrong;
  if (!out.is_object() || !gold.is_object()) return Verdict::Wrong;
  auto field = [](const json& o, const char* k) { return o.contains(k) ? o[k] : json(nullptr); };
  for (const char* k : {"success", "supported", "action", "answer"})
    if (field(out, k) != field(gold, k)) return Verdict::Wrong;
  return field(out, "say") == field(gold, "say") ? Verdict::Exact : Verdict::Equivalent;
}

Verdict judge(std::string_view kind, const json& out, const json& gold) {
  if (kind == "wake") return judge_wake(out, gold);
  if (kind == "asr") return judge_asr(out, gold);
  if (kind == "nlu") return judge_nlu(out, gold);
  if (kind == "er") return judge_er(out, gold);
  if (kind == "result") return judge_result(out, gold);
  throw std::invalid_argument("judges: unknown stage kind '" + std::string(kind) + "'");
}

}  // namespace cascade::language::judges
