// The turn recorder (see turn_recorder.hpp): a turn frame when the turn
// allows it, otherwise one record per stage and the turn record.
#include "runtime/turn_recorder.hpp"

#include <cascade/trace/writer.hpp>

#include "runtime/tsc_clock.hpp"

#include <string>
#include <string_view>

namespace cascade::runtime {

using trace::StageStatus;

namespace {

// A stage run a turn frame can carry: ran and finished ok with nothing to
// report but, perhaps, a confidence.
bool plain(const StageRun& r) {
  return r.status == StageStatus::Ok &&
         (!r.dirty || (r.code == 0 && !r.transient && r.message.empty() && r.nbest.empty() && r.feats.empty() &&
                       r.tfeats.empty()));
}

trace::TurnKey turn_key(const TurnState& t) {
  return {t.in->dialogue_id, t.in->user_id, t.in->turn_index, t.in->turn_seq};
}

// What changes per turn in a turn record, shared by both ways of recording
// a turn (a frame keeps its TurnEvent across turns).
void set_turn_fields(trace::TurnEvent& te, const TurnState& t, const TurnOutcome& o) {
  te.turn = turn_key(t);
  te.timestamp = t.in->timestamp;
  te.start_ns = o.start_ns;
  te.end_ns = o.end_ns;
  te.status = o.status;
  te.gold_json = t.in->gold_json;
  // The turn record carries the result payload itself when it is JSON, a
  // text result as a JSON string (status and errors are fields and stage
  // records). The view is written before this thread sets the next one.
  thread_local std::string text_result;
  te.result_json = o.result_for_trace(text_result);
}

}  // namespace

TurnRecorder::TurnRecorder(trace::Writer& writer, const CompiledPlan& plan) : writer_(writer), plan_(plan) {
  std::vector<std::string_view> in_names, out_names;
  std::vector<uint32_t> port_slots;
  for (uint32_t s = 0; s < plan_.stage_count(); ++s) {
    const auto& sp = plan_.plan.stages[s];
    in_names.clear();
    out_names.clear();
    port_slots.clear();
    for (const auto& p : sp.plugin->info.inputs) in_names.emplace_back(p.name);
    for (const auto& p : sp.plugin->info.outputs) out_names.emplace_back(p.name);
    // A turn frame's payload table is the turn's slots: the port -> slot
    // map is fixed for the plan, and the writer learns it once.
    for (const auto& b : sp.inputs) {
      const int64_t slot = plan_.slot_of(b);
      port_slots.push_back(slot >= 0 ? static_cast<uint32_t>(slot) : trace::kNoPayload);
    }
    for (uint32_t i = 0; i < plan_.stages[s].n_out; ++i) port_slots.push_back(plan_.stages[s].slot_base + i);
    decls_.push_back(
        writer_.declare({sp.id, sp.plugin->info.name, sp.plugin->info.version, in_names, out_names, port_slots}));
  }
}

void TurnRecorder::reserve(size_t turns) {
  const size_t first = frames_.size();
  if (first >= turns) return;
  frames_.resize(turns);
  for (size_t i = first; i < turns; ++i) {
    Frame& f = frames_[i];
    f.stages.resize(plan_.stage_count());
    f.payloads.resize(plan_.slot_count());
    f.frame.turn.config_digest = plan_.plan.digest;
    f.frame.turn.payloads_stable = true;
    f.frame.input = plan_.input_slot();
  }
}

void TurnRecorder::record(const TurnState& t, const TurnOutcome& o, uint32_t worker) {
  if (!record_frame(t, o, worker)) record_stages(t, o, worker);
}

// Returns false, having written nothing, for a turn a frame cannot carry.
bool TurnRecorder::record_frame(const TurnState& t, const TurnOutcome& o, uint32_t worker) {
  Frame& f = frames_[t.index];
  const int64_t off = epoch_offset_ns();
  const size_t n_stages = t.runs.size(), n_slots = t.vals.size();
  trace::FrameStage* const fs = f.stages.data();
  size_t n = 0;
  for (size_t s = 0; s < n_stages; ++s) {
    const StageRun& r = t.runs[s];
    if (!r.ran) {
      if (plan_.stages[s].standby) continue;  // a fallback nobody needed
      return false;
    }
    if (!plain(r)) return false;
    // A plain stage ran to its end: r.end is set.
    fs[n++] = {decls_[s], r.start + off, r.end + off, r.worker, r.has_conf, r.conf};
  }
  trace::PayloadView* const pv = f.payloads.data();
  for (size_t i = 0; i < n_slots; ++i) {
    const cascade_payload& v = t.vals[i];
    pv[i].type = v.type;
    pv[i].sample_rate = v.sample_rate;
    pv[i].data = v.data;
    pv[i].size = v.size;
  }
  set_turn_fields(f.frame.turn, t, o);  // the digest and the input index were set in reserve()
  f.frame.payloads = f.payloads;
  f.frame.stages = {fs, n};
  writer_.write(worker, f.frame);
  return true;
}

// One stage record per stage, then the turn record. A stage that ran is
// written as a DECLARED record (names and ports registered once: decls_).
void TurnRecorder::record_stages(const TurnState& t, const TurnOutcome& o, uint32_t worker) {
  thread_local std::vector<trace::PayloadView> ins, outs;
  thread_local std::vector<trace::NBestView> nb;
  thread_local std::vector<trace::FeatureView> fs;
  thread_local std::vector<trace::TextFeatureView> tfs;
  const int64_t off = epoch_offset_ns();
  trace::StageEvent ev;
  ev.turn = turn_key(t);
  ev.payloads_stable = true;  // the turn's slots do not change until its records are written
  if (ins.size() < plan_.max_ports) {
    ins.resize(plan_.max_ports);
    outs.resize(plan_.max_ports);
  }
  for (uint32_t s = 0; s < plan_.stage_count(); ++s) {
    const auto& sp = plan_.plan.stages[s];
    const StageRun& r = t.runs[s];
    if (sp.standby && !r.ran) continue;
    const StageRt& stage = plan_.stages[s];
    if (r.ran) {
      // Declared: every port by position, absent ones as type 0.
      for (uint32_t i = 0; i < stage.n_in; ++i) {
        cascade_payload p;
        plan_.payload_of(t.vals.data(), stage.inputs[i], p);
        ins[i] = {{}, p.type, p.sample_rate, p.data, p.size};
      }
      for (uint32_t i = 0; i < stage.n_out; ++i) {
        const cascade_payload& v = t.vals[stage.slot_base + i];
        outs[i] = {{}, v.type, v.sample_rate, v.data, v.size};
      }
      ev.decl = decls_[s];
      ev.inputs = {ins.data(), stage.n_in};
      ev.outputs = {outs.data(), stage.n_out};
    } else {
      // Not run: no payloads at all, which a declared record cannot say.
      const auto& info = sp.plugin->info;
      ev.decl = trace::kNotDeclared;
      ev.stage_id = sp.id;
      ev.plugin = info.name;
      ev.plugin_version = info.version;
      ev.inputs = {};
      ev.outputs = {};
    }
    ev.start_ns = r.start + off;
    ev.end_ns = (r.end != 0 ? r.end : r.start) + off;
    ev.worker = r.worker;
    ev.status = r.status;
    ev.error_code = r.code;
    ev.transient = r.transient;
    ev.error_message = r.message;
    ev.has_confidence = r.has_conf;
    ev.confidence = r.conf;
    ev.nbest = {};
    ev.features = {};
    ev.text_features = {};
    if (r.dirty) {  // else the features are still clear
      nb.clear();
      fs.clear();
      tfs.clear();
      for (const auto& [text, score] : r.nbest) nb.push_back({text, score});
      for (const auto& [k, v] : r.feats) fs.push_back({k, v});
      for (const auto& [k, v] : r.tfeats) tfs.push_back({k, v});
      ev.nbest = nb;
      ev.features = fs;
      ev.text_features = tfs;
    }
    writer_.write(worker, ev);
  }
  trace::TurnEvent te;
  te.config_digest = plan_.plan.digest;
  te.input = {"input", t.in->payload_type, t.in->sample_rate, t.in->payload.data(), t.in->payload.size()};
  te.payloads_stable = true;  // the turn's slots do not change until its records are written
  set_turn_fields(te, t, o);
  writer_.write(worker, te);
}

}  // namespace cascade::runtime
