// feedback — implicit feedback from the dialogue: what the user's next move
// says about each turn (rephrase, repeat, barge-in, "no"/"stop", walking
// away) and the result's success flag. No gold, no replay: it reads what a
// production trace holds. The rules are in signals.hpp; this file reads the
// trace into TurnFacts and writes the verdict.
//
// What it reads of a turn (stage ids of the reference assistant; a stage
// the trace lacks is not consulted):
//   request   the text the `nlu` stage received, else the `asr` stage's
//             output `text`, else the turn's text input; canonical form
//             (plugins/rewriting/table: canonical_request), a leading
//             `wake_word` dropped
//   time      the input's ISO 8601 timestamp (rewriting/tools/timestamp),
//             else the turn record's start
//   outcome   the turn record's result line, else the `result` stage's
//             `result` output: {"success": true} is success, anything else
//             (no result, a failed turn) looks failed
//   response  a stage's `duration_s` feature (the tts stage records it),
//             else response_latency_s (the time a voice front end takes to
//             start speaking, which a text pipeline's run time lacks) plus
//             the result's `say` at speaking_rate_wps words a second
//
// Evidence: "signals" (every signal that fired), "next_turn" (gap_s,
// similarity, phonetic_similarity, previous_outcome: this turn's outcome,
// which the next turn reacts to), "response" (end_s, source), "session_end".
// The score is 1 for the fixed rules and the similarity for a rephrase.
//
// Lifecycle: open() reads the parameters; analyze() only reads them, so
// turns run concurrently.
#include "phonetic.hpp"
#include "signals.hpp"
#include "table/table.hpp"
#include "tools/timestamp.hpp"

#include <cascade/sdk/analyzer.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>

using namespace cascade::sdk;
using nlohmann::json;
namespace fb = cascade::feedback;

namespace {

std::string request_text(const TurnView& t) {
  if (auto nlu = t.stage("nlu"))
    if (auto in = nlu->input("text"); in && in->type() == PayloadType::Text) return std::string(in->bytes());
  if (auto asr = t.stage("asr"))
    if (auto out = asr->output("text"); out && out->type() == PayloadType::Text) return std::string(out->bytes());
  if (t.input().type() == PayloadType::Text) return std::string(t.input().bytes());
  return {};
}

// The result object: the turn record's result line (bare or as {"result": {...}}), else the result stage's output.
json result_of(const TurnView& t) {
  json r;
  if (!t.result().empty()) r = json::parse(t.result(), nullptr, false);
  if (r.is_object() && r.contains("result") && r["result"].is_object()) r = r["result"];
  if (r.is_object()) return r;
  if (auto stage = t.stage("result"))
    if (auto out = stage->output("result")) r = json::parse(out->bytes(), nullptr, false);
  return r.is_object() ? r : json();
}

size_t word_count(std::string_view s) {
  size_t n = 0;
  bool in_word = false;
  for (const char c : s) {
    const bool space = c == ' ' || c == '\t' || c == '\n';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

}  // namespace

class Feedback : public Analyzer {
 public:
  static inline Param<double> session_gap_s{"session_gap_s", 300.0, "a dialogue's turns further apart start a new session"};
  static inline Param<double> rephrase_gap_s{"rephrase_gap_s", 45.0, "a repeat, rephrase or negative comes within this"};
  static inline Param<double> rephrase_min{"rephrase_min", 0.6, "max(text, phonetic) similarity of a rephrase"};
  static inline Param<double> rephrase_min_after_failure{"rephrase_min_after_failure", 0.4,
                                                         "the same, when the rephrased turn looks failed"};
  static inline Param<double> speaking_rate_wps{"speaking_rate_wps", 2.9,
                                                "words a second of a response without a tts duration_s (the tts default, 175 a minute)"};
  static inline Param<double> response_latency_s{"response_latency_s", 1.0,
                                                 "seconds before a response without a tts duration_s starts speaking"};
  static inline Param<std::string> wake_word{"wake_word", "alexa", "a leading word dropped from requests"};

  static AnalyzerInfo info() {
    return {.name = "feedback",
            .version = "1.0.0",
            .description = "implicit feedback per turn: rephrase, repeat, barge-in, negative, abandonment, success",
            .labels = {"explicit_negative", "repeat", "rephrased", "barge_in", "abandoned", "success", "none"},
            .dialogue = true,
            .params = param_list(session_gap_s, rephrase_gap_s, rephrase_min, rephrase_min_after_failure,
                                 speaking_rate_wps, response_latency_s, wake_word)};
  }

  void open(Context& ctx) override {
    rules_.session_gap_s = ctx.get(session_gap_s);
    rules_.rephrase_gap_s = ctx.get(rephrase_gap_s);
    rules_.rephrase_min = ctx.get(rephrase_min);
    rules_.rephrase_min_after_failure = ctx.get(rephrase_min_after_failure);
    rate_wps_ = ctx.get(speaking_rate_wps);
    if (rate_wps_ <= 0) throw Error(Status::InvalidArgument, "speaking_rate_wps must be > 0");
    latency_s_ = ctx.get(response_latency_s);
    wake_word_ = cascade::rewriting::canonical_request(ctx.get(wake_word));
  }

  void analyze(Analysis& a) override {
    const fb::TurnFacts now = facts(a.turn());
    std::optional<fb::TurnFacts> next;
    if (a.position() + 1 < a.dialogue_size()) next = facts(a.dialogue(a.position() + 1));
    const fb::Signals s = fb::detect(now, next, rules_);

    json fired = json::array();
    for (const auto& f : s.fired()) fired.push_back(f);
    a.evidence("signals", fired.dump());
    a.evidence("response", json{{"end_s", s.response_end_s}, {"source", now.response_source}}.dump());
    if (s.next_in_session)
      a.evidence("next_turn", json{{"gap_s", s.gap_s},
                                   {"similarity", s.similarity},
                                   {"phonetic_similarity", s.phonetic_similarity},
                                   {"previous_outcome", now.failed ? "failure" : "success"},
                                   {"text", next->text}}
                                  .dump());
    else
      a.evidence("session_end", "true");
    const std::string label = s.label();
    a.label(label, label == "rephrased" ? std::max(s.similarity, s.phonetic_similarity) : 1.0);
  }

 private:
  fb::TurnFacts facts(const TurnView& t) const {
    fb::TurnFacts f;
    f.text = cascade::rewriting::canonical_request(request_text(t));
    if (!wake_word_.empty() && (f.text == wake_word_ || f.text.starts_with(wake_word_ + " ")))
      f.text.erase(0, std::min(f.text.size(), wake_word_.size() + 1));
    const auto stamp = cascade::rewriting::parse_iso8601(t.timestamp());
    f.time_s = stamp ? *stamp : static_cast<double>(t.start_ns()) / 1e9;
    f.processing_s = std::max(0.0, static_cast<double>(t.end_ns() - t.start_ns()) / 1e9);
    const json r = result_of(t);
    f.has_result = r.is_object();
    f.failed = t.status() != TurnStatus::Ok || !r.is_object() || !r.value("success", false);
    f.response_source = "none";
    for (const StageView& st : t.stages())
      if (auto d = st.feature("duration_s")) f.response_s = *d, f.response_source = "tts";
    if (f.response_source == "none" && r.is_object() && r.contains("say") && r["say"].is_string()) {
      f.response_s = latency_s_ + static_cast<double>(word_count(r["say"].get<std::string>())) / rate_wps_;
      f.response_source = "say";
    }
    return f;
  }

  fb::Rules rules_;
  double rate_wps_ = 2.9, latency_s_ = 1.0;
  std::string wake_word_;
};

CASCADE_ANALYZER(Feedback)
