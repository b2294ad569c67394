// rules — failure-point isolation from the trace alone (no gold, no replay):
// what runs on production traces. Every rule is in this file, in the order
// it is tried; the first that fires gives the label, and the evidence names
// it with the values it read.
//
//   R1 a stage ended in error, timeout or cancellation -> that stage's class
//   R2 woke, but the transcript does not start with the wake word
//      (speech not addressed to the device)            -> false_wake
//   R3 the result says it succeeded and the next turn of the dialogue is
//      not a rephrase of this one                      -> correct
//   R4 nothing ran after the wake stage (not woken) and the next turn is
//      not a rephrase                                  -> correct
//   R5 not woken, and the user said it again right after -> false_wake (a miss)
//   R6 ASR confidence below asr_min                    -> asr
//   R7 NLU confidence below nlu_min, or its top-2 margin below margin_min -> nlu
//   R8 an entity the ER stage left unresolved          -> er
//   R9 the result refused (unsupported) with a confident NLU -> correct
//   R10 otherwise                                      -> result
//
// Stage ids are the reference assistant's (wake, asr, request, nlu, er,
// result); a stage the trace does not have is simply not consulted. Scores
// are fixed per rule: how often the rule agreed with the oracle on the eval
// dialogues it was tuned on (docs/isolate.md).
#include <cascade/sdk/analyzer.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

using namespace cascade::sdk;
using nlohmann::json;

namespace {

std::string class_of(std::string_view stage) {
  if (stage == "wake" || stage == "speech") return "false_wake";
  if (stage == "asr" || stage == "request") return "asr";
  if (stage == "nlu" || stage == "er") return std::string(stage);
  return "result";
}

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::string w;
  for (const char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '\'') {
      w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!w.empty()) {
      out.push_back(w);
      w.clear();
    }
  }
  if (!w.empty()) out.push_back(w);
  return out;
}

// Word-set Jaccard similarity: a rephrase shares most of its words.
double similarity(std::string_view a, std::string_view b) {
  const auto wa = words(a), wb = words(b);
  const std::set<std::string> sa(wa.begin(), wa.end()), sb(wb.begin(), wb.end());
  if (sa.empty() || sb.empty()) return 0;
  size_t common = 0;
  for (const auto& w : sa) common += sb.count(w);
  return static_cast<double>(common) / static_cast<double>(sa.size() + sb.size() - common);
}

std::string text_of(const TurnView& t) {
  if (auto asr = t.stage("asr"))
    if (auto out = asr->output("text")) return std::string(out->bytes());
  if (t.input().type() == PayloadType::Text) return std::string(t.input().bytes());
  return {};
}

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

}  // namespace

class Rules : public Analyzer {
 public:
  static inline Param<double> asr_min{"asr_min", 0.55, "R6: ASR confidence below this is an ASR failure"};
  static inline Param<double> nlu_min{"nlu_min", 0.45, "R7: NLU confidence below this is an NLU failure"};
  static inline Param<double> margin_min{"margin_min", 0.10, "R7: NLU top-2 margin below this is an NLU failure"};
  static inline Param<double> rephrase_min{"rephrase_min", 0.5, "R3-R5: word similarity that makes the next turn a rephrase"};
  static inline Param<double> rephrase_gap_s{"rephrase_gap_s", 60.0, "R3-R5: a rephrase starts within this many seconds"};
  static inline Param<std::string> wake_word{"wake_word", "alexa", "R2: the word a woken transcript starts with"};

  static AnalyzerInfo info() {
    return {.name = "rules",
            .version = "1.0.0",
            .description = "failure point from confidences, statuses and the dialogue, by readable rules",
            .labels = {"false_wake", "asr", "nlu", "er", "result", "correct"},
            .dialogue = true,
            .params = param_list(asr_min, nlu_min, margin_min, rephrase_min, rephrase_gap_s, wake_word)};
  }

  void open(Context& ctx) override {
    asr_min_ = ctx.get(asr_min);
    nlu_min_ = ctx.get(nlu_min);
    margin_min_ = ctx.get(margin_min);
    rephrase_min_ = ctx.get(rephrase_min);
    rephrase_gap_ns_ = static_cast<int64_t>(ctx.get(rephrase_gap_s) * 1e9);
    wake_word_ = ctx.get(wake_word);
  }

  void analyze(Analysis& a) override {
    const TurnView t = a.turn();
    auto say = [&](const char* rule, const std::string& label, double score, const std::string& why) {
      a.evidence("rule", quote(rule));
      a.evidence("why", quote(why));
      a.label(label, score);
    };
    const bool rephrased = next_is_rephrase(a);
    if (rephrased) a.evidence("next_turn_rephrase", "true");

    // R1
    for (const StageView& s : t.stages())
      if (s.status() == StageStatus::Error || s.status() == StageStatus::Timeout || s.status() == StageStatus::Cancelled)
        return say("R1", class_of(s.id()), 0.95,
                   "stage '" + std::string(s.id()) + "' did not finish: " + std::string(s.error_message()));

    const auto wake = t.stage("wake");
    const bool woke = !wake || wake->feature("detected").value_or(1.0) > 0.5;
    const std::string heard = heard_text(t);
    // R2
    if (woke && !heard.empty()) {
      const auto w = words(heard);
      if (w.empty() || w.front() != wake_word_)
        return say("R2", "false_wake", 0.9, "woke, but the transcript '" + heard + "' does not start with '" + wake_word_ + "'");
    }
    // R3
    const auto result = t.stage("result");
    json res;
    if (result)
      if (auto out = result->output("result")) res = json::parse(out->bytes(), nullptr, false);
    const bool success = res.is_object() && res.value("success", false);
    if (success && !rephrased && confident(t)) return say("R3", "correct", 0.85, "the result succeeded with confident stages");
    // R4, R5
    if (!woke) {
      if (rephrased) return say("R5", "false_wake", 0.7, "not woken, and the user said it again");
      return say("R4", "correct", 0.9, "not woken, and nobody insisted");
    }
    // R6
    if (auto asr = t.stage("asr"); asr && asr->confidence() && *asr->confidence() < asr_min_)
      return say("R6", "asr", 0.7, "ASR confidence " + num(*asr->confidence()) + " < " + num(asr_min_));
    // R7
    if (auto nlu = t.stage("nlu"); nlu && nlu->confidence()) {
      const double c = *nlu->confidence(), m = nlu->feature("margin").value_or(1.0);
      if (c < nlu_min_ || m < margin_min_)
        return say("R7", "nlu", 0.65, "NLU confidence " + num(c) + " (min " + num(nlu_min_) + "), margin " + num(m) +
                                          " (min " + num(margin_min_) + ")");
    }
    // R8
    if (auto er = t.stage("er"); er && er->feature("unresolved").value_or(0) > 0)
      return say("R8", "er", 0.6, num(*er->feature("unresolved")) + " entities left unresolved");
    // R9
    if (res.is_object() && !res.value("supported", true) && !rephrased)
      return say("R9", "correct", 0.6, "the request was refused as unsupported, and the stages before were confident");
    if (success && !rephrased) return say("R3", "correct", 0.6, "the result succeeded");
    // R10
    say("R10", "result", 0.5, "no stage before the result looks wrong, and the result did not succeed");
  }

 private:
  static std::string num(double v) {
    std::ostringstream o;
    o.precision(3);
    o << v;
    return o.str();
  }

  bool confident(const TurnView& t) const {
    if (auto asr = t.stage("asr"); asr && asr->confidence() && *asr->confidence() < asr_min_) return false;
    if (auto nlu = t.stage("nlu"); nlu && nlu->confidence()) {
      if (*nlu->confidence() < nlu_min_ || nlu->feature("margin").value_or(1.0) < margin_min_) return false;
    }
    if (auto er = t.stage("er"); er && er->feature("unresolved").value_or(0) > 0) return false;
    return true;
  }

  // The next turn of the dialogue says nearly the same, soon after.
  bool next_is_rephrase(const Analysis& a) const {
    if (a.position() + 1 >= a.dialogue_size()) return false;
    const TurnView now = a.dialogue(a.position()), next = a.dialogue(a.position() + 1);
    if (next.start_ns() - now.end_ns() > rephrase_gap_ns_) return false;
    std::string said_now = text_of(now), said_next = text_of(next);
    if (said_now.empty()) said_now = std::string(now.input().type() == PayloadType::Text ? now.input().bytes() : "");
    return similarity(said_now, said_next) >= rephrase_min_;
  }

  double asr_min_ = 0, nlu_min_ = 0, margin_min_ = 0, rephrase_min_ = 0;
  int64_t rephrase_gap_ns_ = 0;
  std::string wake_word_;
};

CASCADE_ANALYZER(Rules)
