// turn_views.cpp — see turn_views.hpp. Two passes: count every array's
// entries, reserve them exactly, then fill; the arrays never reallocate, so
// the pointers between views stay valid.
#include "turn_views.hpp"

#include <algorithm>
#include <numeric>

namespace cascade::analyze {
namespace {

cascade_port_value port_value(const trace::Payload& p, const char* port) {
  cascade_port_value v{};
  v.struct_size = sizeof v;
  v.port = port;
  v.payload.struct_size = sizeof v.payload;
  v.payload.type = p.type;
  v.payload.sample_rate = p.sample_rate;
  v.payload.size = p.size;
  v.payload.data = p.hashed ? nullptr : p.bytes.data();
  v.hashed = p.hashed ? 1 : 0;
  v.xxh64 = p.hashed ? p.stored_xxh64 : 0;
  return v;
}

}  // namespace

TurnViews::TurnViews(const trace::TraceData& data) {
  for (const auto& t : data.turns) {
    if (t.record) source_.push_back(&t);
    else ++skipped_;
  }
  // Dialogue by dialogue, in turn order (stable: equal keys keep turn_seq order).
  std::stable_sort(source_.begin(), source_.end(), [](const trace::Turn* a, const trace::Turn* b) {
    if (a->id.dialogue_id != b->id.dialogue_id) return a->id.dialogue_id < b->id.dialogue_id;
    return a->id.turn_index < b->id.turn_index;
  });

  size_t n_stages = 0, n_ports = 0, n_nbest = 0, n_feats = 0;
  for (const trace::Turn* t : source_) {
    n_stages += t->stages.size();
    for (const auto& s : t->stages) {
      n_ports += s.inputs.size() + s.outputs.size();
      n_nbest += s.nbest.size();
      n_feats += s.features.size() + s.text_features.size();
    }
  }
  turns_.reserve(source_.size());
  stages_.reserve(n_stages);
  ports_.reserve(n_ports);
  nbest_.reserve(n_nbest);
  features_.reserve(n_feats);

  for (const trace::Turn* t : source_) {
    const trace::TurnRecord& r = *t->record;
    cascade_turn_view tv{};
    tv.struct_size = sizeof tv;
    tv.dialogue_id = r.turn.dialogue_id.c_str();
    tv.user_id = r.turn.user_id.c_str();
    tv.turn_index = r.turn.turn_index;
    tv.turn_seq = r.turn.turn_seq;
    tv.timestamp = r.timestamp.c_str();
    tv.status = static_cast<uint32_t>(r.status);
    tv.start_ns = r.start_ns;
    tv.end_ns = r.end_ns;
    tv.input = port_value(r.input, "input");
    tv.gold_json = r.gold_json.c_str();
    tv.gold_len = r.gold_json.size();
    tv.result_json = r.result_json.c_str();
    tv.result_len = r.result_json.size();
    tv.stages = stages_.data() + stages_.size();
    tv.n_stages = static_cast<uint32_t>(t->stages.size());
    for (const trace::StageRecord& s : t->stages) {
      cascade_stage_view sv{};
      sv.struct_size = sizeof sv;
      sv.stage_id = s.stage_id.c_str();
      sv.plugin = s.plugin.c_str();
      sv.plugin_version = s.plugin_version.c_str();
      sv.status = static_cast<uint32_t>(s.status);
      sv.error_code = s.error_code;
      sv.error_message = s.error_message.c_str();
      sv.start_ns = s.start_ns;
      sv.end_ns = s.end_ns;
      sv.inputs = ports_.data() + ports_.size();
      sv.n_inputs = static_cast<uint32_t>(s.inputs.size());
      for (const auto& p : s.inputs) ports_.push_back(port_value(p, p.port.c_str()));
      sv.outputs = ports_.data() + ports_.size();
      sv.n_outputs = static_cast<uint32_t>(s.outputs.size());
      for (const auto& p : s.outputs) ports_.push_back(port_value(p, p.port.c_str()));
      sv.has_confidence = s.has_confidence ? 1 : 0;
      sv.confidence = s.confidence;
      sv.nbest = nbest_.data() + nbest_.size();
      sv.n_nbest = static_cast<uint32_t>(s.nbest.size());
      for (const auto& nb : s.nbest) nbest_.push_back({sizeof(cascade_nbest_entry), nb.text.c_str(), nb.text.size(), nb.score});
      sv.features = features_.data() + features_.size();
      sv.n_features = static_cast<uint32_t>(s.features.size() + s.text_features.size());
      for (const auto& f : s.features) features_.push_back({sizeof(cascade_feature), f.key.c_str(), f.value, nullptr, 0});
      for (const auto& f : s.text_features)
        features_.push_back({sizeof(cascade_feature), f.key.c_str(), 0, f.value.c_str(), f.value.size()});
      stages_.push_back(sv);
    }
    turns_.push_back(tv);
  }

  dialogue_first_.resize(turns_.size());
  dialogue_count_.resize(turns_.size());
  for (size_t i = 0; i < source_.size();) {
    size_t j = i;
    while (j < source_.size() && source_[j]->id.dialogue_id == source_[i]->id.dialogue_id) ++j;
    for (size_t k = i; k < j; ++k) {
      dialogue_first_[k] = i;
      dialogue_count_[k] = j - i;
    }
    i = j;
  }
}

}  // namespace cascade::analyze
