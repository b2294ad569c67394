// judges/judges.hpp — one comparator per stage kind: is a stage's output
// EXACTLY the gold, EQUIVALENT to it (differs harmlessly), or WRONG?
// The failure-point oracle walks the stages with these (see
// docs in /work/shared/guide/self-learning.md: "judged counterfactual replay").
// No dependency on the core: only nlohmann_json and the language text lib.
//
// Rules (stable: the oracle's labels depend on them):
//
//   wake    out/gold: {"detected": bool} (a bare bool is accepted too).
//           exact when the flags are equal, else wrong. Never equivalent.
//
//   asr     out/gold: {"text": "..."} or a plain string.
//           exact      byte-identical after trimming and folding white space.
//           equivalent identical after canonicalisation: written forms
//                      spoken (text/spoken.hpp: "5:30 a.m." == "five
//                      thirty am", "23rd" == "twenty third"), lower case,
//                      punctuation and apostrophes removed ("what's" ==
//                      "whats": spelling, not hearing),
//                      articles (a, an, the) and fillers (uh, um, umm, er,
//                      erm, ah, hmm, uhm, mm) dropped, number words written
//                      as digits ("ten" == "10", "twenty five" == "25"),
//                      a leading wake word dropped ("alexa", "computer",
//                      optionally after "hey"/"ok"/"okay").
//                      "open garage door" == "open the garage door".
//           wrong      otherwise.
//
//   nlu     out/gold: {"intent": "...", "slots": [{"type","value",...}]}.
//           exact      same intent and the same multiset of (type, value).
//           equivalent same intent and the same SET of (type,
//                      canonical value) where the value is canonicalised
//                      as for asr ("the kitchen" == "kitchen", "7" ==
//                      "seven"); slot order and duplicates do not matter.
//           wrong      otherwise (a different intent is always wrong).
//
//   er      out/gold: {"entities": [{"type","value","resolved",...}]}
//           ("intent" is ignored: the NLU judge owns it).
//           exact      same multiset of (type, value, resolved).
//           equivalent same set of (type, resolved) — surface values may
//                      differ when they resolve alike ("kitchn" and
//                      "kitchen" -> "kitchen"); an unresolved entity
//                      (resolved null) is compared by its canonical
//                      surface value instead.
//           wrong      otherwise.
//
//   result  out/gold: {"success","supported","action","answer","say"}.
//           exact      success, supported, action, answer and say equal.
//           equivalent success, supported, action and answer equal (the
//                      sentence spoken may differ).
//           wrong      otherwise. A gold of null (nothing should run,
//                      e.g. a non-addressed turn) is matched only by null.
//
// Lifecycle: free functions. Threading: pure, safe from any thread.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace cascade::language::judges {

enum class Verdict { Exact, Equivalent, Wrong };

// "exact" | "equivalent" | "wrong".
std::string_view to_string(Verdict v) noexcept;
// True for exact and equivalent: the stage did its job.
inline bool acceptable(Verdict v) noexcept { return v != Verdict::Wrong; }

// Canonical form the asr judge compares ("Open the Garage door." ->
// "open garage door"; "set ten alarms" -> "set 10 alarms").
std::string canonical_text(std::string_view text);

Verdict judge_wake(const nlohmann::json& out, const nlohmann::json& gold);
Verdict judge_asr(const nlohmann::json& out, const nlohmann::json& gold);
Verdict judge_asr_text(std::string_view out, std::string_view gold);
Verdict judge_nlu(const nlohmann::json& out, const nlohmann::json& gold);
Verdict judge_er(const nlohmann::json& out, const nlohmann::json& gold);
Verdict judge_result(const nlohmann::json& out, const nlohmann::json& gold);

// Dispatch by stage kind: "wake", "asr", "nlu", "er", "result". Throws
// std::invalid_argument for another kind.
Verdict judge(std::string_view kind, const nlohmann::json& out, const nlohmann::json& gold);

}  // namespace cascade::language::judges
