// lowest_confidence — a whole analyzer, built out of tree: when the result
// did not succeed, blame the stage before it that was least sure.
//
//   turn --> result succeeded? --yes--> correct
//                 | no
//                 v
//   lowest confidence of wake, asr, nlu, er --> its class (none reported: result)
#include <cascade/sdk/analyzer.hpp>
using namespace cascade::sdk;

class LowestConfidence : public Analyzer {
 public:
  static AnalyzerInfo info() {
    return {.name = "lowest_confidence", .version = "1.0.0",
            .labels = CASCADE_FAILURE_POINTS, .params = {}};
  }
  void analyze(Analysis& a) override {
    const auto result = a.turn().stage("result");  // its own confidence only says it failed
    if (result && result->feature("success").value_or(0) > 0) return a.label("correct", 1.0);
    std::optional<StageView> low;
    for (const StageView& s : a.turn().stages())
      if (s.confidence() && (s.id() == "wake" || s.id() == "asr" || s.id() == "nlu" || s.id() == "er") &&
          (!low || *s.confidence() < *low->confidence())) low = s;
    if (!low) return a.label("result", 0.5);
    a.evidence("stage", quote(low->id()));
    a.evidence("confidence", std::to_string(*low->confidence()));
    a.label(low->id() == "wake" ? "false_wake" : std::string(low->id()), 1.0 - *low->confidence());
  }
};
CASCADE_ANALYZER(LowestConfidence)
