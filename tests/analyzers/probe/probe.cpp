// probe — a test analyzer that tells back what it was given and exercises
// every way a verdict can go wrong, so that the conformance test can hold
// the two hosts of cascade_analyzer.h (core/analyze and the SDK's
// analyzer_testing.hpp) to the same views, checks and error texts.
//
//   turn --> input text "probe:WHAT"? --no--> evidence "turn": every field of the
//                 | yes                       views, as JSON; label "seen"
//                 v
//   WHAT: label:L (any label, declared or not), nolabel, score-high and
//         score-nan (a score outside [0, 1]), throw, bad-evidence,
//         evidence (overwritten keys, odd spacing), replay (refused without a
//         replay pipeline)
#include <cascade/sdk/analyzer.hpp>

#include <nlohmann/json.hpp>

#include <cmath>

using namespace cascade::sdk;
using nlohmann::json;

namespace {

json port_json(const PortValue& p) {
  return {{"port", p.port()}, {"type", static_cast<uint32_t>(p.type())}, {"hashed", p.hashed()},
          {"size", p.size()}, {"bytes", std::string(p.bytes())}};
}

// Everything a StageView says. Features are looked up by the keys the
// conformance test's turns use (the view offers lookup, not a listing).
json stage_json(const StageView& s) {
  json j = {{"id", s.id()},
            {"plugin", s.plugin()},
            {"status", static_cast<uint32_t>(s.status())},
            {"error_code", s.error_code()},
            {"error_message", s.error_message()},
            {"start_ns", s.start_ns()},
            {"end_ns", s.end_ns()},
            {"confidence", s.confidence() ? json(*s.confidence()) : json()}};
  for (const char* port : {"text", "nlu", "er", "result", "audio"}) {
    if (auto in = s.input(port)) j["inputs"][port] = port_json(*in);
    if (auto out = s.output(port)) j["outputs"][port] = port_json(*out);
  }
  for (const auto& [text, score] : s.nbest()) j["nbest"].push_back({text, score});
  for (const char* key : {"margin", "unresolved", "success", "supported", "detected", "min_word_conf"})
    if (auto f = s.feature(key)) j["features"][key] = *f;
  for (const char* key : {"model", "note"})
    if (auto f = s.text_feature(key)) j["text_features"][key] = *f;
  return j;
}

json turn_json(const TurnView& t) {
  json j = {{"dialogue_id", t.dialogue_id()}, {"user_id", t.user_id()},   {"turn_index", t.turn_index()},
            {"turn_seq", t.turn_seq()},       {"timestamp", t.timestamp()}, {"status", static_cast<uint32_t>(t.status())},
            {"start_ns", t.start_ns()},       {"end_ns", t.end_ns()},       {"input", port_json(t.input())},
            {"gold", t.gold()},               {"result", t.result()},       {"stages", json::array()}};
  for (const StageView& s : t.stages()) j["stages"].push_back(stage_json(s));
  return j;
}

}  // namespace

class Probe : public Analyzer {
 public:
  static AnalyzerInfo info() {
    return {.name = "probe",
            .version = "1.0.0",
            .description = "tells back its views; fails on request (tests only)",
            .labels = {"seen", "fine"},
            .dialogue = true,
            .params = {}};
  }

  void analyze(Analysis& a) override {
    const TurnView t = a.turn();
    const std::string text(t.input().bytes());
    const std::string what = text.starts_with("probe:") ? text.substr(6) : "";
    if (what.empty()) {
      a.evidence("turn", turn_json(t).dump());
      json dialogue = json::array();
      for (uint32_t i = 0; i < a.dialogue_size(); ++i) dialogue.push_back(a.dialogue(i).turn_index());
      a.evidence("dialogue", dialogue.dump());
      a.evidence("position", std::to_string(a.position()));
      a.evidence("can_replay", a.can_replay() ? "true" : "false");
      return a.label("seen", 0.5);
    }
    if (what.starts_with("label:")) return a.label(what.substr(6), 0.25);
    if (what == "nolabel") return a.evidence("said", "\"nothing\"");
    if (what == "score-high") return a.label("fine", 1.5);
    if (what == "score-nan") return a.label("fine", std::nan(""));
    if (what == "throw") throw Error(Status::Unavailable, "the probe was asked to fail");
    if (what == "bad-evidence") {
      a.evidence("fine", "1");
      a.evidence("broken", "{\"a\": ");  // throws: not one JSON value
    }
    if (what == "evidence") {
      a.evidence("b", "  [1, 2,\n 3]  ");
      a.evidence("a", "{\"x\": {\"y\": null}, \"s\": \"\\u00e9\\n\"}");
      a.evidence("b", "\"replaced\"");
      a.evidence("n", "-1.5e-3");
      return a.label("fine", 1.0);
    }
    if (what == "replay") {
      try {
        (void)a.replay({Forced::recorded("nlu")});
        a.evidence("refused", "false");
      } catch (const Error& e) {
        a.evidence("refused", std::to_string(static_cast<uint32_t>(e.status())));
      }
      return a.label("fine", 0.75);
    }
    throw Error(Status::InvalidArgument, "unknown probe '" + what + "'");
  }
};

CASCADE_ANALYZER(Probe)
