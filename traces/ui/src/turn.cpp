// turn.cpp — one turn in full (records, DAG edges, failure point, replay
// command), its audio as WAV, and the compare of two traces.
#include "query.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace cascade::ui {
namespace {

constexpr uint32_t kPayloadAudio = 2;  // cascade_payload_type: PCM16 mono little-endian

uint64_t seq_param(const Params& p) {
  const auto s = p("seq");
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size())
    throw BadRequest("parameter 'seq' must be a turn_seq");
  return v;
}

// A shell word: the string in single quotes unless it is plainly safe.
std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+") ==
                        std::string::npos)
    return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The DAG as the records show it: a stage reads a payload an earlier stage
// (or the turn's input) produced. Edges [from, to], "input" for the turn's.
nlohmann::json edges_of(const trace::Turn& t) {
  nlohmann::json edges = nlohmann::json::array();
  for (size_t i = 0; i < t.stages.size(); ++i) {
    std::vector<std::string> from;
    for (const auto& in : t.stages[i].inputs) {
      if (in.type == 0) continue;
      std::string source;
      for (size_t j = i; j-- > 0 && source.empty();)
        for (const auto& out : t.stages[j].outputs)
          if (out.type == in.type && out.same_content(in)) source = t.stages[j].stage_id;
      if (source.empty() && t.record && t.record->input.type == in.type && t.record->input.same_content(in))
        source = "input";
      if (!source.empty() && std::find(from.begin(), from.end(), source) == from.end()) from.push_back(source);
    }
    for (const auto& f : from) edges.push_back({f, t.stages[i].stage_id});
  }
  return edges;
}

std::string wav(const trace::Payload& p) {
  const auto u32 = [](std::string& s, uint32_t v) {
    for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  const auto u16 = [](std::string& s, uint16_t v) {
    s += static_cast<char>(v & 0xFF);
    s += static_cast<char>(v >> 8);
  };
  const auto data = static_cast<uint32_t>(p.bytes.size() & ~size_t{1});
  const uint32_t rate = p.sample_rate == 0 ? 16000 : p.sample_rate;
  std::string s = "RIFF";
  u32(s, 36 + data);
  s += "WAVEfmt ";
  u32(s, 16);
  u16(s, 1);  // PCM
  u16(s, 1);  // mono
  u32(s, rate);
  u32(s, rate * 2);
  u16(s, 2);
  u16(s, 16);
  s += "data";
  u32(s, data);
  s.append(p.bytes.data(), data);
  return s;
}

}  // namespace

nlohmann::json Catalog::turn_json(size_t t, const trace::Turn& turn) const {
  nlohmann::json j = trace::to_json(turn);
  j["trace"] = t;
  j["edges"] = edges_of(turn);
  j["audio_hashed"] = traces_[t]->progress().audio_hashed;
  j["failure_point"] = nullptr;
  j["analysis"] = nullptr;
  if (const auto* a = analysis_row(t, turn.id.turn_seq)) {
    j["failure_point"] = analysis_->classes()[a->label];
    auto line = nlohmann::json::parse(analysis_->line(*a), nullptr, false);
    j["analysis"] = line.is_discarded() ? nlohmann::json(nullptr) : line;
  } else {
    for (const auto& s : turn.stages)
      if (s.status != trace::StageStatus::Ok) {
        j["failure_point"] = s.stage_id;
        break;
      }
  }
  std::string cmd = "cascade replay " + shell_quote(traces_[t]->path().string()) + " -p " + shell_quote(pipeline_) +
                    " -o replay.cas --turns seq=" + std::to_string(turn.id.turn_seq);
  j["replay"] = cmd;
  return j;
}

nlohmann::json Catalog::turn(const Params& p) const {
  const size_t t = trace_param(p);
  auto turn = traces_[t]->load_turn(seq_param(p));
  if (!turn) throw NotFound("no turn with seq " + p("seq") + " in trace " + std::to_string(t));
  return turn_json(t, *turn);
}

std::string Catalog::audio(const Params& p) const {
  const size_t t = trace_param(p);
  auto turn = traces_[t]->load_turn(seq_param(p));
  if (!turn) throw NotFound("no such turn");
  const std::string stage = p("stage"), side = p("side"), port = p("port");
  const trace::Payload* payload = nullptr;
  if (stage == "input") {
    if (turn->record) payload = &turn->record->input;
  } else if (const auto* s = turn->stage(stage)) {
    payload = side == "out" ? s->output(port) : s->input(port);
  }
  if (payload == nullptr || payload->type != kPayloadAudio) throw NotFound("no audio payload there");
  if (payload->hashed) throw NotFound("this trace stores audio as a hash only (audio = \"hash\")");
  return wav(*payload);
}

std::shared_ptr<const trace::DiffReport> Catalog::diff_of(size_t a, size_t b) const {
  std::lock_guard lock(diff_mutex_);  // one diff at a time: each reads two whole traces
  auto& slot = diffs_[{a, b}];
  if (!slot) {
    const auto da = trace::read_turns(traces_[a]->path());
    const auto db = trace::read_turns(traces_[b]->path());
    slot = std::make_shared<const trace::DiffReport>(trace::diff(da, db));
  }
  return slot;
}

nlohmann::json Catalog::compare(const Params& p) const {
  const size_t a = trace_param(p, "a"), b = trace_param(p, "b");
  const auto report = diff_of(a, b);
  const std::string stage = p("stage");
  const auto offset = static_cast<size_t>(std::max(0L, std::atol(p("offset").c_str())));
  nlohmann::json j{{"a", a},
                   {"b", b},
                   {"turns_a", report->turns_a},
                   {"turns_b", report->turns_b},
                   {"matched", report->matched},
                   {"identical", report->identical},
                   {"only_in_a", report->only_in_a},
                   {"only_in_b", report->only_in_b}};
  j["by_stage"] = nlohmann::json::array();
  for (const auto& [s, n] : report->by_stage) j["by_stage"].push_back({{"stage", s}, {"turns", n}});
  auto& rows = j["divergences"] = nlohmann::json::array();
  size_t seen = 0;
  for (const auto& d : report->divergences) {
    if (!stage.empty() && d.stage_id != stage) continue;
    if (seen++ >= offset && rows.size() < 500)
      rows.push_back({{"dialogue", d.dialogue_id}, {"turn", d.turn_index}, {"stage", d.stage_id}, {"reason", d.reason}});
  }
  j["total"] = seen;
  return j;
}

nlohmann::json Catalog::pair(const Params& p) const {
  const size_t a = trace_param(p, "a"), b = trace_param(p, "b");
  const std::string dialogue = p("dialogue");
  const auto turn_index = static_cast<uint32_t>(std::strtoul(p("turn").c_str(), nullptr, 10));
  nlohmann::json j;
  for (const auto& [side, t] : {std::pair{"a", a}, std::pair{"b", b}}) {
    j[side] = nullptr;
    if (const auto seq = seq_of(t, dialogue, turn_index))
      if (auto turn = traces_[t]->load_turn(*seq)) j[side] = turn_json(t, *turn);
  }
  if (j["a"].is_null() && j["b"].is_null()) throw NotFound("no turn " + dialogue + "#" + p("turn") + " in either trace");
  return j;
}

}  // namespace cascade::ui
