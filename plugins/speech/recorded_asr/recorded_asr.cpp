// recorded_asr — stands in the asr slot with a hypothesis another
// recogniser already produced (a team's logs), so NLU, ER and result run on
// that system's real errors. The turn carries the hypothesis as its JSON
// payload (`"payload": {"json": {...}}`, bound as `input.json`):
//
//   {"text": "turn on the kitchen light", "confidence": 0.83,
//    "nbest": [{"text": "turn on the kitchen light", "score": 0.83}, ...]}
//
//   [json] --> ( recorded_asr ) --> [text]   the 1-best, as recorded
//                               \-> [nbest]  JSON [{"text","score"}], when recorded
//
// Reports what the real asr reports, when the recording has it: the
// confidence and the n-best list (so the trace's asr record carries them),
// plus the feature n_words. "confidence" and "nbest" are optional; null is
// the same as absent.
//
// A malformed hypothesis (not JSON, not an object, "text" not a string,
// confidence outside [0, 1], an n-best entry without string "text" and
// finite "score") fails the turn with InvalidArgument "A011: ..." naming
// the field; the plugin keeps no state, so the next turn is unaffected.
//
// Threading: process() is a pure function of its input (max_concurrency 0).
#include <cascade/sdk/stage.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <string>
using namespace cascade::sdk;

namespace {

[[noreturn]] void malformed(const std::string& what) {
  throw Error(Status::InvalidArgument, "A011: recorded hypothesis: " + what);
}

size_t word_count(const std::string& s) {
  size_t n = 0;
  bool in_word = false;
  for (char c : s) {
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

}  // namespace

class RecordedAsr : public Stage {
 public:
  static inline Input in{"json", PayloadType::Json, "recorded hypothesis {\"text\", \"confidence\"?, \"nbest\"?}"};
  static inline Output text{"text", PayloadType::Text, "the recorded 1-best"};
  static inline Output nbest_out{"nbest", PayloadType::Json,
                                 "the recorded n-best list [{\"text\",\"score\"}] (absent when not recorded)"};

  void process(Call& call) override {
    const auto doc = nlohmann::json::parse(call.json(in), nullptr, false);
    if (doc.is_discarded()) malformed("input 'json' is not valid JSON");
    if (!doc.is_object()) malformed("expected an object {\"text\": ...}, got " + std::string(doc.type_name()));
    const auto t = doc.find("text");
    if (t == doc.end() || !t->is_string()) malformed("needs a string \"text\" (the 1-best)");

    const auto c = doc.find("confidence");
    const bool has_confidence = c != doc.end() && !c->is_null();
    if (has_confidence && (!c->is_number() || !(c->get<double>() >= 0.0 && c->get<double>() <= 1.0)))
      malformed("\"confidence\" must be a number in [0, 1], got " + c->dump());
    const auto nb = doc.find("nbest");
    const bool has_nbest = nb != doc.end() && !nb->is_null();
    if (has_nbest) {
      if (!nb->is_array()) malformed("\"nbest\" must be an array of {\"text\", \"score\"}");
      for (size_t i = 0; i < nb->size(); ++i) {
        const auto& e = (*nb)[i];
        const auto et = e.is_object() ? e.find("text") : e.end();
        const auto es = e.is_object() ? e.find("score") : e.end();
        if (et == e.end() || !et->is_string() || es == e.end() || !es->is_number() ||
            !std::isfinite(es->get<double>()))
          malformed("\"nbest\"[" + std::to_string(i) + "] needs a string \"text\" and a finite number \"score\"");
      }
    }

    // Checked whole before anything is reported: a bad field leaves no half record behind.
    if (has_confidence) call.confidence(c->get<double>());
    if (has_nbest) {
      for (const auto& e : *nb) call.nbest(e["text"].get<std::string>(), e["score"].get<double>());
      call.emit(nbest_out, nb->dump());
    }
    const auto& hyp = t->get_ref<const std::string&>();
    call.feature("n_words", static_cast<double>(word_count(hyp)));
    call.emit(text, hyp);
  }
};
CASCADE_PLUGIN(RecordedAsr,
               Info{.name = "recorded_asr",
                    .version = "1.0.0",
                    .description = "a recorded ASR hypothesis (another recogniser's 1-best, confidence, n-best)",
                    .deterministic = true},
               ports(RecordedAsr::in), ports(RecordedAsr::text, RecordedAsr::nbest_out))
