// The recorded turns the analyzer tests run on, built with the SDK's
// harness builder: the text assistant's stages (asr: the normaliser, nlu,
// er, result), each turn bent to reach one rule of the rules isolator or one
// branch of the example, and a dialogue of probe requests
// (tests/analyzers/probe). Keys: "<dialogue>/<turn_index>".
#pragma once

#include <cascade/sdk/analyzer_testing.hpp>

#include <string>
#include <vector>

namespace cascade::sdk::testing {

inline constexpr int64_t kFirstTurnNs = 1'700'000'000'000'000'000;

inline std::string result_json(bool success, bool supported) {
  return std::string(R"({"success":)") + (success ? "true" : "false") + R"(,"supported":)" + (supported ? "true" : "false") +
         R"(,"action":null,"say":")" + (success ? "Sunny." : "Sorry.") + "\"}";
}

// A turn of the text assistant that went right: "alexa " + `said`, every
// stage confident, the result a success. Stages take 1 ms each from `start`.
inline RecordedTurn assistant_turn(std::string dialogue, uint32_t index, const std::string& said, int64_t start) {
  const std::string nlu = R"({"intent":"weather_query","slots":[]})";
  const std::string er = R"({"intent":"weather_query","entities":[]})";
  int64_t t = start;
  auto next = [&] { return t += 1'000'000; };
  RecordedTurn turn(std::move(dialogue), index);
  turn.user("u-" + turn.dialogue_id).text("alexa " + said).timestamp("2024-05-01T10:00:00Z");
  turn.stage(RecordedStage("asr").plugin("normalize").times(t, next())
                 .input("text", Value::text("alexa " + said)).output("text", Value::text(said))
                 .feature("stripped_prefix", 1));
  turn.stage(RecordedStage("nlu").times(t, next()).input("text", Value::text(said)).output("nlu", Value::json(nlu))
                 .confidence(0.9).feature("margin", 0.5).nbest("weather_query", 0.9).nbest("alarm_set", 0.05)
                 .text_feature("model", "intent.bin"));
  turn.stage(RecordedStage("er").times(t, next()).input("nlu", Value::json(nlu)).output("er", Value::json(er))
                 .confidence(0.95).feature("unresolved", 0));
  turn.stage(RecordedStage("result").times(t, next()).input("er", Value::json(er))
                 .output("result", Value::json(result_json(true, true))).output("say", Value::text("Sunny."))
                 .confidence(1.0).feature("success", 1).feature("supported", 1));
  turn.times(start, t).result(R"({"result":)" + result_json(true, true) + "}");
  return turn;
}

// The result stage (the last) answered `success`/`supported` instead.
inline void answer(RecordedTurn& turn, bool success, bool supported) {
  RecordedStage& r = turn.stages.back();
  r.outputs[0].second = Value::json(result_json(success, supported));
  r.confidence_value = success ? 1.0 : 0.0;
  r.numeric_features = {{"success", success ? 1.0 : 0.0}, {"supported", supported ? 1.0 : 0.0}};
  turn.result(R"({"result":)" + result_json(success, supported) + "}");
}

// A stage that did not run: skipped, nothing recorded but its status.
inline RecordedStage skipped(const RecordedStage& s) {
  return RecordedStage(s.id).plugin(s.plugin_name).times(s.start_ns, s.start_ns).status(StageStatus::Skipped);
}

inline std::vector<RecordedTurn> analyzer_test_turns() {
  std::vector<RecordedTurn> turns;
  turns.reserve(32);  // turn() hands out references into it
  int64_t clock = kFirstTurnNs;
  auto turn = [&](std::string dialogue, uint32_t index, const std::string& said) -> RecordedTurn& {
    turns.push_back(assistant_turn(std::move(dialogue), index, said, clock));
    clock += 5'000'000'000;  // 5 s between turns: within the rules' rephrase gap
    return turns.back();
  };

  RecordedTurn& ok = turn("ok", 0, "what is the weather in paris");  // right all along
  ok.gold(R"({"result":)" + result_json(true, true) + "}");

  RecordedTurn& unsure = turn("rephrase", 0, "what's the weather like in paris");  // unsure NLU, then said again
  unsure.stages[1].confidence(0.2).numeric_features = {{"margin", 0.05}};
  answer(unsure, false, true);
  turn("rephrase", 1, "what is the weather like in paris");

  RecordedTurn& crash = turn("crash", 0, "set an alarm for six");  // NLU failed, the rest skipped
  crash.stages[1] = RecordedStage("nlu").times(crash.stages[1].start_ns, crash.stages[1].end_ns)
                        .input("text", Value::text("set an alarm for six"))
                        .status(StageStatus::Error, "model file missing", 3);
  crash.stages[2] = skipped(crash.stages[2]);
  crash.stages[3] = skipped(crash.stages[3]);
  crash.status(TurnStatus::Failed).result("");

  RecordedTurn& overheard = turn("overheard", 0, "x");  // no wake word: not addressed to the device
  overheard.text("turn the lights off");
  overheard.stages[0].inputs[0].second = Value::text("turn the lights off");

  RecordedTurn& asleep = turn("asleep", 0, "play some jazz");  // the wake stage did not wake
  const int64_t at = asleep.start_ns;
  asleep.stages.insert(asleep.stages.begin(),
                       RecordedStage("wake").times(at, at).confidence(0.3).feature("detected", 0));
  for (size_t i = 1; i < asleep.stages.size(); ++i) asleep.stages[i] = skipped(asleep.stages[i]);

  RecordedTurn& asr = turn("asr", 0, "play sum jazz");  // a recogniser unsure of what it heard
  asr.stages[0].confidence(0.3).feature("min_word_conf", 0.01);
  answer(asr, false, true);

  RecordedTurn& er = turn("er", 0, "turn on the hallway lamp");  // an entity left unresolved
  er.stages[2].confidence(0.375).numeric_features = {{"unresolved", 1}};
  answer(er, false, true);

  answer(turn("unsupported", 0, "order me a pizza"), false, false);  // refused, confidently
  answer(turn("skill", 0, "what is the weather in rome"), false, true);  // every stage sure, the answer wrong

  // The probe's requests: no stages, the request in the input text.
  const char* requests[] = {"label:zzz", "nolabel", "score-high", "score-nan", "throw", "bad-evidence", "evidence", "replay", "what"};
  for (uint32_t i = 0; i < std::size(requests); ++i) {
    RecordedTurn p("probe", i);
    p.user("tester").text(std::string("probe:") + requests[i]).times(clock, clock + 1000);
    clock += 5'000'000'000;
    turns.push_back(p);
  }
  return turns;
}

}  // namespace cascade::sdk::testing
