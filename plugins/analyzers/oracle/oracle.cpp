// oracle — failure-point isolation by judged counterfactual replay: the
// ground truth the isolators are measured against. Needs gold.
//
//   recorded turn --> judge each stage vs gold --> first WRONG stage i
//                          |                            |
//                          |            replay: stages before i forced to gold,
//                          |            i kept as recorded, the rest run for real
//                          v                            |
//                 result right? -> correct      result right? -> recovered, walk on
//                                                       | no
//                                               failure point = i
//
// The walk (docs/isolate.md, from the project's self-learning guide):
//   1. the final result judged exact/equivalent -> `correct`;
//   2. a pipeline without a wake stage that acted on speech not addressed
//      to it (gold wake: not detected) -> `false_wake`;
//      walk the judged stages in the order they ran; a stage that ended in
//      error, timeout or cancellation is the failure point at once (a
//      stage without a judge counts for the judged stage before it, or the
//      first one: `request` for asr, `speech` for wake);
//   3. skip stages judged exact or equivalent; at the first wrong one,
//      replay (or, when every stage before it was judged exact, take the
//      recorded run: it IS that replay) and judge the result: right ->
//      recovered, walk on; wrong -> this stage is the failure point;
//   4. no unrecovered wrong stage -> `result`.
// Classes: the wake stage's is `false_wake`, every other judged stage's is
// its kind (asr, nlu, er, result).
#include <cascade/sdk/analyzer.hpp>

#include "judges/judges.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

using namespace cascade::sdk;
using nlohmann::json;
namespace judges = cascade::language::judges;

namespace {

struct JudgedStage {
  std::string id;    // stage id in the pipeline
  std::string kind;  // judge kind and gold key: wake, asr, nlu, er, result
  std::string port;  // the output the judge reads
};

std::string class_of(const std::string& kind) { return kind == "wake" ? "false_wake" : kind; }

std::string default_port(const std::string& kind) {
  if (kind == "asr") return "text";
  return kind;  // wake, nlu, er, result: a JSON output named like the kind
}


json parse_or_null(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json() : j;
}

}  // namespace

class Oracle : public Analyzer {
 public:
  static inline Param<std::string> stages_param{
      "stages", "wake,asr,nlu,er,result",
      "judged stages in pipeline order: ID or ID:KIND (KIND: wake, asr, nlu, er, result)"};

  static AnalyzerInfo info() {
    return {.name = "oracle",
            .version = "1.0.0",
            .description = "failure point by judged counterfactual replay against gold",
            .labels = CASCADE_FAILURE_POINTS,
            .replays = true,
            .params = param_list(stages_param)};
  }

  void open(Context& ctx) override {
    std::stringstream ss(ctx.get(stages_param));
    std::string item;
    while (std::getline(ss, item, ',')) {
      if (item.empty()) continue;
      const auto colon = item.find(':');
      JudgedStage j;
      j.id = item.substr(0, colon);
      j.kind = colon == std::string::npos ? j.id : item.substr(colon + 1);
      if (j.kind != "wake" && j.kind != "asr" && j.kind != "nlu" && j.kind != "er" && j.kind != "result")
        throw Error(Status::InvalidArgument, "stage '" + j.id + "': unknown judge kind '" + j.kind + "'");
      j.port = default_port(j.kind);
      judged_.push_back(j);
    }
    if (judged_.empty() || judged_.back().kind != "result")
      throw Error(Status::InvalidArgument, "the last judged stage must be of kind 'result'");
  }

  void analyze(Analysis& a) override {
    const TurnView turn = a.turn();
    const json gold = parse_or_null(turn.gold());
    if (!gold.is_object() || !gold.contains("result"))
      throw Error(Status::NoResult, "the turn has no gold result: the oracle needs gold");
    const JudgedStage& result_stage = judged_.back();
    json judgements = json::object();
    json replays = json::array();
    auto finish = [&](const std::string& label, const std::string& reason) {
      a.evidence("judgements", judgements.dump());
      a.evidence("replays", replays.dump());
      a.evidence("reason", quote(reason));
      a.label(label, 1.0);
    };

    // 1. The final result.
    const json result_out = output(turn, result_stage);
    const judges::Verdict final_verdict = judges::judge_result(result_out, gold["result"]);
    if (judges::acceptable(final_verdict)) {
      judgements[result_stage.id] = std::string(judges::to_string(final_verdict));
      return finish("correct", "the result is right");
    }

    // 2.-3. The walk. A pipeline without a wake stage acts on everything it
    // hears: on speech not addressed to it (gold wake: not detected), that
    // is where it went wrong.
    const bool has_wake = std::any_of(judged_.begin(), judged_.end(),
                                      [&](const JudgedStage& j) { return j.kind == "wake" && turn.stage(j.id); });
    if (!has_wake && gold.contains("wake") &&
        judges::judge_wake(json{{"detected", true}}, gold["wake"]) == judges::Verdict::Wrong) {
      judgements["wake"] = "wrong";
      return finish("false_wake", "the pipeline has no wake stage and acted on speech not addressed to it");
    }
    std::vector<Forced> forced_gold;  // judged stages before the current one
    bool upstream_exact = true;       // the recorded run equals the replay so far
    std::string owner = class_of(judged_.front().kind);
    for (uint32_t k = 0; k < turn.size(); ++k) {
      const StageView s = turn.stage(k);
      const JudgedStage* j = find(s.id());
      if (j != nullptr) owner = class_of(j->kind);
      if (did_not_finish(s.status()))
        return finish(owner, "stage '" + std::string(s.id()) + "' ended in " + std::string(to_string(s.status())) + ": " +
                                 std::string(s.error_message()));
      if (j == nullptr || !gold.contains(j->kind)) continue;
      const judges::Verdict v = judges::judge(j->kind, output(turn, *j), gold[j->kind]);
      judgements[j->id] = std::string(judges::to_string(v));
      if (judges::acceptable(v)) {
        upstream_exact = upstream_exact && v == judges::Verdict::Exact;
        forced_gold.push_back(Forced::gold(j->id, j->kind));
        continue;
      }
      if (j->kind == "result") break;  // wrong, and nothing downstream can recover it
      if (upstream_exact)
        return finish(class_of(j->kind), "stage '" + j->id + "' is wrong and every stage before it is exact: "
                                             "the recorded run is the counterfactual, and its result is wrong");
      std::vector<Forced> forced = forced_gold;
      forced.push_back(Forced::recorded(j->id));
      const ReplayOutcome r = a.replay(forced);
      const json replayed = r.result_type == PayloadType::None ? json() : parse_or_null(r.result);
      const bool recovered = r.ok && judges::acceptable(judges::judge_result(replayed, gold["result"]));
      json forced_json = json::object();
      for (const auto& f : forced) forced_json[f.stage] = f.source == Forced::Source::Gold ? "gold" : "recorded";
      replays.push_back({{"stage", j->id},
                         {"forced", forced_json},
                         {"status", r.ok ? "ok" : "failed"},
                         {"error", r.error_code.empty() ? json() : json(r.error_code + ": " + r.error)},
                         {"result", replayed},
                         {"recovered", recovered}});
      if (!recovered)
        return finish(class_of(j->kind), "stage '" + j->id + "' is wrong and, with every stage before it right, "
                                             "the pipeline still answers wrong");
      upstream_exact = false;
      forced_gold.push_back(Forced::gold(j->id, j->kind));
    }
    // 4.
    finish("result", "no stage before the result failed unrecovered: the result is where it went wrong");
  }

 private:
  const JudgedStage* find(std::string_view id) const {
    for (const auto& j : judged_)
      if (j.id == id) return &j;
    return nullptr;
  }

  // What the judge compares: the stage's recorded output as JSON (a text
  // output as a JSON string); null when the stage did not run or emitted
  // nothing. A wake stage that emitted no decision did not wake.
  static json output(const TurnView& turn, const JudgedStage& j) {
    const auto s = turn.stage(j.id);
    const auto out = s ? s->output(j.port) : std::nullopt;
    if (!out) return j.kind == "wake" ? json{{"detected", false}} : json();
    if (out->type() == PayloadType::Text) return json(std::string(out->bytes()));
    return parse_or_null(out->bytes());
  }

  std::vector<JudgedStage> judged_;
};

CASCADE_ANALYZER(Oracle)
