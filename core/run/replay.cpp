// Replay: recorded turns made ready to run again, with injected stage
// outputs. The shape of the work for one turn (prepare_replay):
//   1. which stages run: every stage not given (with result_only, only
//      those the pipeline's result depends on through running stages);
//   2. a given stage whose outputs a running stage reads gets them from
//      the trace or the gold; any other stage that does not run is injected
//      empty, so the engine skips it (and nothing it recorded is needed);
//   3. the turn input is needed only when a running stage reads it.
#include <cascade/core/replay.hpp>
#include <cascade/trace/reader.hpp>
#include <cascade/trace/tools.hpp>

#include <nlohmann/json.hpp>

#include <set>

namespace cascade {
namespace {

bool reads(const StagePlan& sp, uint32_t from) {
  for (const auto& b : sp.inputs)
    if (b.kind == Binding::Kind::StageOutput && b.stage == from) return true;
  return false;
}

// Every stage `s` reads from, transitively.
void ancestors(const PipelinePlan& plan, uint32_t s, std::set<uint32_t>& out) {
  for (const auto& b : plan.stages[s].inputs)
    if (b.kind == Binding::Kind::StageOutput && out.insert(b.stage).second) ancestors(plan, b.stage, out);
}

// Step 1: the stages that run.
std::vector<bool> running(const PipelinePlan& plan, const std::map<uint32_t, std::string>& given, bool result_only) {
  const size_t n = plan.stages.size();
  std::vector<bool> run(n, false);
  if (!result_only) {
    for (uint32_t s = 0; s < n; ++s) run[s] = given.count(s) == 0;
    return run;
  }
  // From the result's stage upwards, stopping at given stages.
  if (plan.result.kind != Binding::Kind::StageOutput) return run;
  std::vector<uint32_t> todo{plan.result.stage};
  while (!todo.empty()) {
    const uint32_t s = todo.back();
    todo.pop_back();
    if (run[s] || given.count(s) != 0) continue;
    run[s] = true;
    for (const auto& b : plan.stages[s].inputs)
      if (b.kind == Binding::Kind::StageOutput) todo.push_back(b.stage);
    if (plan.stages[s].fallback >= 0) todo.push_back(static_cast<uint32_t>(plan.stages[s].fallback));
  }
  return run;
}

void inject_recorded(const PipelinePlan& plan, const trace::Turn& turn, uint32_t s, TurnInput& t) {
  const StagePlan& sp = plan.stages[s];
  const auto& outs = sp.plugin->info.outputs;
  const trace::StageRecord* rec = turn.stage(sp.id);
  if (rec == nullptr) throw CascadeError("R031", "the trace has no record of stage '" + sp.id + "' for this turn");
  bool any = false;
  for (uint32_t p = 0; p < outs.size(); ++p) {
    const trace::Payload* pl = rec->output(outs[p].name);
    if (pl == nullptr) continue;
    if (pl->hashed)
      throw CascadeError("R032", "stage '" + sp.id + "' output '" + outs[p].name +
                                     "' was recorded as a hash only, and a stage that runs reads it");
    t.injected.push_back({s, p, pl->type, pl->sample_rate, pl->bytes, "trace"});
    any = true;
  }
  if (!any) t.injected.push_back({s, 0, CASCADE_PAYLOAD_NONE, 0, {}, "trace"});
}

// Gold values map onto a stage's output ports by type (replay.hpp).
void inject_gold(const PipelinePlan& plan, uint32_t s, const std::string& src, TurnInput& t) {
  const StagePlan& sp = plan.stages[s];
  const auto& outs = sp.plugin->info.outputs;
  const std::string key = src.size() > 5 ? src.substr(5) : sp.id;
  auto gold = nlohmann::json::parse(t.gold_json.empty() ? "{}" : t.gold_json, nullptr, false);
  if (gold.is_discarded() || !gold.is_object())
    throw CascadeError("R033", "the turn's gold annotations are not a JSON object");
  auto it = gold.find(key);
  if (it == gold.end() || it->is_null()) {
    t.injected.push_back({s, 0, CASCADE_PAYLOAD_NONE, 0, {}, src});
    return;
  }
  bool any = false;
  for (uint32_t p = 0; p < outs.size(); ++p) {
    const uint32_t type = outs[p].type;
    if (type == CASCADE_PAYLOAD_TEXT) {
      if (it->is_string()) t.injected.push_back({s, p, type, 0, it->get<std::string>(), src});
      else if (it->is_object() && it->contains("text") && (*it)["text"].is_string())
        t.injected.push_back({s, p, type, 0, (*it)["text"].get<std::string>(), src});
      else continue;
    } else if (type == CASCADE_PAYLOAD_JSON || type == CASCADE_PAYLOAD_ANY) {
      t.injected.push_back({s, p, CASCADE_PAYLOAD_JSON, 0, it->dump(), src});
    } else {
      continue;  // audio cannot come from an annotation
    }
    any = true;
  }
  if (!any) throw CascadeError("R033", "gold '" + key + "' fits none of stage '" + sp.id + "' outputs");
}

class ReplaySource final : public TurnSource {
 public:
  ReplaySource(const std::filesystem::path& path, const PipelinePlan& plan, const ReplayOptions& o) : plan_(plan) {
    data_ = trace::read_turns(path);
    where_ = trace::Where::parse(o.turns);
    if (!o.from_stage.empty()) {
      std::set<uint32_t> up;
      ancestors(plan, replay_stage_index(plan, o.from_stage), up);
      for (uint32_t s : up) given_[s] = "trace";
    }
    for (const auto& [id, src] : o.substitute) {
      if (src != "trace" && src != "gold" && src.rfind("gold:", 0) != 0)
        throw CascadeError("R030", "replay: substitute '" + id + "=" + src + "': the source must be trace, gold or gold:KEY");
      given_[replay_stage_index(plan, id)] = src;
    }
  }

  bool next(TurnInput& t) override {
    while (i_ < data_.turns.size()) {
      const trace::Turn& turn = data_.turns[i_++];
      if (!turn.record || !where_.matches(turn)) continue;
      prepare_replay(plan_, turn, given_, false, t);
      return true;
    }
    return false;
  }
  [[nodiscard]] uint64_t size_hint() const override { return data_.turns.size(); }
  [[nodiscard]] const std::vector<trace::Damage>* damage() const override { return &data_.damage; }

 private:
  const PipelinePlan& plan_;
  trace::TraceData data_;
  trace::Where where_;
  std::map<uint32_t, std::string> given_;
  size_t i_ = 0;
};

}  // namespace

uint32_t replay_stage_index(const PipelinePlan& plan, const std::string& id) {
  for (uint32_t i = 0; i < plan.stages.size(); ++i)
    if (plan.stages[i].id == id) return i;
  throw CascadeError("R030", "replay: the pipeline has no stage '" + id + "'");
}

void prepare_replay(const PipelinePlan& plan, const trace::Turn& turn, const std::map<uint32_t, std::string>& given,
                    bool result_only, TurnInput& t, std::vector<InjectedOutput> extra) {
  const trace::TurnRecord& r = *turn.record;
  t = TurnInput{};
  t.dialogue_id = r.turn.dialogue_id;
  t.user_id = r.turn.user_id;
  t.turn_index = r.turn.turn_index;
  t.turn_seq = r.turn.turn_seq;
  t.timestamp = r.timestamp;
  t.gold_json = r.gold_json;
  t.payload_type = r.input.type;
  t.sample_rate = r.input.sample_rate;
  t.payload = r.input.bytes;
  try {
    const std::vector<bool> run = running(plan, given, result_only);
    bool needs_input = false;
    for (uint32_t s = 0; s < plan.stages.size(); ++s) {
      const StagePlan& sp = plan.stages[s];
      if (run[s]) {
        if (sp.standby) continue;
        for (const auto& b : sp.inputs) needs_input = needs_input || b.kind == Binding::Kind::TurnInput;
        continue;
      }
      if (sp.standby && given.count(s) == 0) continue;  // runs only in place of its primary
      bool extra_given = false;
      for (const auto& e : extra) extra_given = extra_given || e.stage == s;
      if (extra_given) continue;  // appended below as given
      bool consumed = false;
      for (uint32_t d = 0; d < plan.stages.size() && !consumed; ++d) consumed = run[d] && reads(plan.stages[d], s);
      if (plan.result.kind == Binding::Kind::StageOutput && plan.result.stage == s) consumed = true;
      auto g = given.find(s);
      const std::string origin = g != given.end() ? g->second : "pruned";
      if (!consumed || g == given.end()) {
        t.injected.push_back({s, 0, CASCADE_PAYLOAD_NONE, 0, {}, origin});
        continue;
      }
      if (origin == "trace") inject_recorded(plan, turn, s, t);
      else inject_gold(plan, s, origin, t);
    }
    for (auto& e : extra) t.injected.push_back(std::move(e));
    if (r.input.hashed && needs_input)
      throw CascadeError("R034", "the trace keeps only a hash of this turn's input; replay with --from past the stages that read it");
  } catch (const CascadeError& e) {
    t.input_error_code = e.code();
    t.input_error = e.what();
  }
}

std::unique_ptr<TurnSource> open_replay(const std::filesystem::path& trace, const PipelinePlan& plan,
                                        const ReplayOptions& options) {
  return std::make_unique<ReplaySource>(trace, plan, options);
}

}  // namespace cascade
