// Replay: a TurnSource over a trace's turns, with injected stage outputs.
#include <cascade/core/replay.hpp>
#include <cascade/trace/reader.hpp>
#include <cascade/trace/tools.hpp>

#include <nlohmann/json.hpp>

#include <set>

namespace cascade {
namespace {

uint32_t stage_index(const PipelinePlan& plan, const std::string& id) {
  for (uint32_t i = 0; i < plan.stages.size(); ++i)
    if (plan.stages[i].id == id) return i;
  throw CascadeError("R030", "replay: the pipeline has no stage '" + id + "'");
}

// Every stage `s` reads from, transitively.
void ancestors(const PipelinePlan& plan, uint32_t s, std::set<uint32_t>& out) {
  for (const auto& b : plan.stages[s].inputs)
    if (b.kind == Binding::Kind::StageOutput && out.insert(b.stage).second) ancestors(plan, b.stage, out);
}

class ReplaySource final : public TurnSource {
 public:
  ReplaySource(const std::filesystem::path& path, const PipelinePlan& plan, const ReplayOptions& o) : plan_(plan) {
    data_ = trace::read_turns(path);
    where_ = trace::Where::parse(o.turns);
    if (!o.from_stage.empty()) {
      std::set<uint32_t> up;
      ancestors(plan, stage_index(plan, o.from_stage), up);
      for (uint32_t s : up) given_[s] = "trace";
    }
    for (const auto& [id, src] : o.substitute) {
      if (src != "trace" && src != "gold" && src.rfind("gold:", 0) != 0)
        throw CascadeError("R030", "replay: substitute '" + id + "=" + src + "': the source must be trace, gold or gold:KEY");
      given_[stage_index(plan, id)] = src;
    }
    for (uint32_t s = 0; s < plan.stages.size(); ++s) {
      if (given_.count(s) != 0 || plan.stages[s].standby) continue;
      for (const auto& b : plan.stages[s].inputs) needs_input_ = needs_input_ || b.kind == Binding::Kind::TurnInput;
    }
  }

  bool next(TurnInput& t) override {
    while (i_ < data_.turns.size()) {
      const trace::Turn& turn = data_.turns[i_++];
      if (!turn.record || !where_.matches(turn)) continue;
      fill(turn, t);
      return true;
    }
    return false;
  }
  [[nodiscard]] uint64_t size_hint() const override { return data_.turns.size(); }

 private:
  void fill(const trace::Turn& turn, TurnInput& t) {
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
      if (r.input.hashed && needs_input_)
        throw CascadeError("R034", "the trace keeps only a hash of this turn's input; replay with --from past the stages that read it");
      for (const auto& [s, src] : given_) inject(turn, s, src, t);
    } catch (const CascadeError& e) {
      t.input_error_code = e.code();
      t.input_error = e.what();
    }
  }

  void inject(const trace::Turn& turn, uint32_t s, const std::string& src, TurnInput& t) const {
    const StagePlan& sp = plan_.stages[s];
    const auto& outs = sp.plugin->info.outputs;
    auto none = [&] { t.injected.push_back({s, 0, CASCADE_PAYLOAD_NONE, 0, {}, src}); };
    if (src == "trace") {
      const trace::StageRecord* rec = turn.stage(sp.id);
      if (rec == nullptr) throw CascadeError("R031", "the trace has no record of stage '" + sp.id + "' for this turn");
      bool any = false;
      for (uint32_t p = 0; p < outs.size(); ++p) {
        const trace::Payload* pl = rec->output(outs[p].name);
        if (pl == nullptr) continue;
        if (pl->hashed) throw CascadeError("R032", "stage '" + sp.id + "' output '" + outs[p].name + "' was recorded as a hash only");
        t.injected.push_back({s, p, pl->type, pl->sample_rate, pl->bytes, "trace"});
        any = true;
      }
      if (!any) none();
      return;
    }
    const std::string key = src.size() > 5 ? src.substr(5) : sp.id;
    auto gold = nlohmann::json::parse(t.gold_json.empty() ? "{}" : t.gold_json, nullptr, false);
    if (gold.is_discarded() || !gold.is_object())
      throw CascadeError("R033", "the turn's gold annotations are not a JSON object");
    auto it = gold.find(key);
    if (it == gold.end() || it->is_null()) return none();
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
    if (!any)
      throw CascadeError("R033", "gold '" + key + "' fits none of stage '" + sp.id + "' outputs");
  }

  const PipelinePlan& plan_;
  trace::TraceData data_;
  trace::Where where_;
  std::map<uint32_t, std::string> given_;
  bool needs_input_ = false;
  size_t i_ = 0;
};

}  // namespace

std::unique_ptr<TurnSource> open_replay(const std::filesystem::path& trace, const PipelinePlan& plan,
                                        const ReplayOptions& options) {
  return std::make_unique<ReplaySource>(trace, plan, options);
}

}  // namespace cascade
