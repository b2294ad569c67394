// rules — failure-point isolation from the trace alone (no gold, no replay):
// what runs on production traces. Every rule is in this file, in the order
// it is tried; the first that fires gives the label, and the evidence names
// it with the values it read.
//
//   R1 a stage ended in error, timeout or cancellation -> that stage's class
//   R2 the device acted, but what it heard does not start with the wake
//      word (speech not addressed to it)               -> false_wake
//   R3 not woken, and the user said it again right after -> false_wake (a miss)
//   R4 not woken, but in a noisy room the wake stage's permissive second
//      decode found the wake word (a near miss)        -> false_wake (a miss)
//   R5 not woken                                       -> correct
//   R6 the result succeeded, but the NLU was unsure (confidence below
//      nlu_success_min): a confident wrong action      -> nlu
//   R7 the result succeeded, and the next turn is not a rephrase -> correct
//   R8 the request was refused as unsupported, and the next turn is not
//      a rephrase                                      -> correct
//      (before the doubts below: on the reference assistant a refusal is
//      right about three times in four even when the ASR or the NLU was
//      unsure, since a third of SLURP's intents have no skill)
//   R9 the ASR's least sure word is below asr_word_min -> asr
//   R10 the NLU confidence is below nlu_min            -> nlu
//   R11 an entity the ER stage left unresolved         -> er
//   R12 otherwise                                      -> result
//
// Stage ids are the reference assistant's (wake, asr, request, nlu, er,
// result); a stage the trace does not have is simply not consulted. The
// score is a rule's fixed confidence, not a probability. How well these
// rules agree with the oracle is measured by `cascade isolate -p` and
// `cascade eval fpi` (docs/results.md): they are the transparent baseline
// the learned isolator has to beat.
#include <cascade/sdk/analyzer.hpp>

#include "common/timing.hpp"
#include "common/words.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

using namespace cascade::sdk;
using nlohmann::json;
using cascade::analyzers::gap_seconds;
using cascade::analyzers::word_jaccard;
using cascade::analyzers::words;

namespace {

std::string class_of(std::string_view stage) {
  if (stage == "wake" || stage == "speech") return "false_wake";
  if (stage == "asr" || stage == "request") return "asr";
  if (stage == "nlu" || stage == "er") return std::string(stage);
  return "result";
}


// Whether the device received speech: a stage read audio. Then the
// turn's text input is a simulator's script (the gold transcript), which
// an isolator must not read.
bool received_speech(const TurnView& t) {
  for (const StageView& s : t.stages())
    if (auto in = s.input("audio"); in && in->type() == PayloadType::Audio) return true;
  return false;
}

// What was recognised, else the turn's text input when the device
// received text.
std::string text_of(const TurnView& t) {
  if (auto asr = t.stage("asr"))
    if (auto out = asr->output("text")) return std::string(out->bytes());
  if (t.input().type() == PayloadType::Text && !received_speech(t)) return std::string(t.input().bytes());
  return {};
}

// What the device heard, wake word included, where the wake word is part
// of it: the ASR stage's text input (a text pipeline), or the transcript of
// a pipeline whose wake stage forwards the whole utterance. Empty where the
// pipeline cannot say (another system's recorded hypothesis starts after
// its own wake word): R2 then does not apply.
std::string heard_text(const TurnView& t) {
  const auto asr = t.stage("asr");
  if (!asr) return {};
  if (auto in = asr->input("text")) return std::string(in->bytes());
  if (t.stage("wake"))
    if (auto out = asr->output("text")) return std::string(out->bytes());
  return {};
}

}  // namespace

class Rules : public Analyzer {
 public:
  static inline Param<double> asr_word_min{"asr_word_min", 0.05, "R9: the ASR's least sure word below this is an ASR failure"};
  static inline Param<double> nlu_min{"nlu_min", 0.4, "R10: NLU confidence below this, on a failed result, is an NLU failure"};
  static inline Param<double> nlu_success_min{"nlu_success_min", 0.35,
                                              "R6: NLU confidence below this, on a successful result, is an NLU failure"};
  static inline Param<double> rephrase_min{"rephrase_min", 0.5, "R3, R7, R8: word similarity that makes the next turn a rephrase"};
  static inline Param<double> rephrase_gap_s{"rephrase_gap_s", 60.0, "R3, R7, R8: a rephrase starts within this many seconds"};
  static inline Param<std::string> wake_word{"wake_word", "alexa", "R2: the word a woken transcript starts with"};
  static inline Param<double> noisy_snr_db{"noisy_snr_db", 40.0,
                                           "R4: a room whose estimated SNR (the wake stage's snr_db) is below this is noisy"};
  static inline Param<std::string> dialogue{
      "dialogue", "live",
      "R3, R7, R8: live: the next turn is the user's reaction and a rephrase counts; scripted: the dialogue was "
      "written in advance (eval dialogues, logged requests replayed), so no next turn is a rephrase"};

  static AnalyzerInfo info() {
    return {.name = "rules",
            .version = "1.0.0",
            .description = "failure point from confidences, statuses and the dialogue, by readable rules",
            .labels = CASCADE_FAILURE_POINTS,
            .dialogue = true,
            .params = param_list(asr_word_min, nlu_min, nlu_success_min, rephrase_min, rephrase_gap_s, wake_word,
                                 noisy_snr_db, dialogue)};
  }

  void open(Context& ctx) override {
    asr_word_min_ = ctx.get(asr_word_min);
    nlu_min_ = ctx.get(nlu_min);
    nlu_success_min_ = ctx.get(nlu_success_min);
    rephrase_min_ = ctx.get(rephrase_min);
    rephrase_gap_s_ = ctx.get(rephrase_gap_s);
    wake_word_ = ctx.get(wake_word);
    noisy_snr_db_ = ctx.get(noisy_snr_db);
    live_ = cascade::analyzers::live_dialogue(ctx.get(dialogue));
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
      if (did_not_finish(s.status()))
        return say("R1", class_of(s.id()), 0.95,
                   "stage '" + std::string(s.id()) + "' did not finish: " + std::string(s.error_message()));

    const auto wake = t.stage("wake");
    const bool woke = !wake || wake->feature("detected").value_or(1.0) > 0.5;
    const std::string heard = heard_text(t);
    // R2
    if (woke && !heard.empty()) {
      const auto w = words(heard);
      if (w.empty() || w.front() != wake_word_)
        return say("R2", "false_wake", 0.9, "woke, but '" + heard + "' does not start with '" + wake_word_ + "'");
    }
    // R3, R4, R5
    if (!woke) {
      if (rephrased) return say("R3", "false_wake", 0.7, "not woken, and the user said it again");
      const double snr = wake->feature("snr_db").value_or(std::numeric_limits<double>::infinity());
      if (wake->feature("near_miss").value_or(0.0) > 0.5 && snr < noisy_snr_db_)
        return say("R4", "false_wake", 0.7, "not woken, but the wake word nearly fired in a noisy room (SNR " + num(snr) + " dB)");
      return say("R5", "correct", 0.9, "not woken, and nobody insisted");
    }
    const auto result = t.stage("result");
    json res;
    if (result)
      if (auto out = result->output("result")) res = json::parse(out->bytes(), nullptr, false);
    const bool success = res.is_object() && res.value("success", false);
    const auto nlu = t.stage("nlu");
    const double nlu_conf = nlu && nlu->confidence() ? *nlu->confidence() : 1.0;
    // R6, R7
    if (success) {
      if (nlu_conf < nlu_success_min_)
        return say("R6", "nlu", 0.6, "the action ran on an unsure NLU: confidence " + num(nlu_conf) + " < " + num(nlu_success_min_));
      if (!rephrased) return say("R7", "correct", 0.85, "the result succeeded");
    }
    // R8
    if (res.is_object() && !res.value("supported", true) && !rephrased)
      return say("R8", "correct", 0.6, "the request was refused as unsupported, and nobody insisted");
    // R9
    if (auto asr = t.stage("asr"))
      if (auto w = asr->feature("min_word_conf"); w && *w < asr_word_min_)
        return say("R9", "asr", 0.6, "the ASR's least sure word has confidence " + num(*w) + " < " + num(asr_word_min_));
    // R10
    if (nlu_conf < nlu_min_) return say("R10", "nlu", 0.6, "NLU confidence " + num(nlu_conf) + " < " + num(nlu_min_));
    // R11
    if (auto er = t.stage("er"); er && er->feature("unresolved").value_or(0) > 0)
      return say("R11", "er", 0.5, num(*er->feature("unresolved")) + " entities left unresolved");
    // R12
    say("R12", "result", 0.5, "no stage before the result looks wrong, and the result did not succeed");
  }

 private:
  static std::string num(double v) {
    std::ostringstream o;
    o.precision(3);
    o << v;
    return o.str();
  }

  // The next turn of the dialogue says nearly the same, soon after (by
  // the turns' timestamps: common/timing.hpp). Never in a scripted
  // dialogue, where the next turn is nobody's reaction.
  bool next_is_rephrase(const Analysis& a) const {
    if (!live_ || a.position() + 1 >= a.dialogue_size()) return false;
    const TurnView now = a.dialogue(a.position()), next = a.dialogue(a.position() + 1);
    if (gap_seconds(now, next) > rephrase_gap_s_) return false;
    return word_jaccard(text_of(now), text_of(next)) >= rephrase_min_;
  }

  double asr_word_min_ = 0, nlu_min_ = 0, nlu_success_min_ = 0, rephrase_min_ = 0, rephrase_gap_s_ = 0;
  double noisy_snr_db_ = 0;
  bool live_ = true;
  std::string wake_word_;
};

CASCADE_ANALYZER(Rules)
