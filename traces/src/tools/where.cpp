// where.cpp — the tiny filter language of `cascade trace cat --where`.
#include <cascade/trace/tools.hpp>

#include <algorithm>

namespace cascade::trace {

Where Where::parse(const std::vector<std::string>& terms) {
  Where w;
  for (const auto& t : terms) {
    const auto eq = t.find('=');
    if (eq == std::string::npos || eq == 0)
      throw TraceError(codes::kUsage, {}, "--where '" + t + "': expected key=value or key!=value");
    Term term;
    std::string key = t.substr(0, eq);
    if (key.back() == '!') {
      term.negate = true;
      key.pop_back();
    }
    term.value = t.substr(eq + 1);
    if (key == "dialogue") term.key = Key::Dialogue;
    else if (key == "user") term.key = Key::User;
    else if (key == "turn") term.key = Key::Turn;
    else if (key == "seq") term.key = Key::Seq;
    else if (key == "stage") term.key = Key::Stage;
    else if (key == "plugin") term.key = Key::Plugin;
    else if (key == "status") term.key = Key::Status;
    else if (key == "worker") term.key = Key::Worker;
    else
      throw TraceError(codes::kUsage, {},
                       "--where '" + t + "': unknown key '" + key +
                           "' (known: dialogue, user, turn, seq, stage, plugin, status, worker)");
    w.terms_.push_back(std::move(term));
  }
  return w;
}

namespace {
bool id_field(const TurnId& id, int key, const std::string& v, bool& known) {
  known = true;
  switch (key) {
    case 0: return id.dialogue_id == v;
    case 1: return id.user_id == v;
    case 2: return std::to_string(id.turn_index) == v;
    case 3: return std::to_string(id.turn_seq) == v;
    default: known = false; return false;
  }
}
}  // namespace

bool Where::matches(const StageRecord& r) const {
  for (const auto& t : terms_) {
    bool hit = false;
    switch (t.key) {
      case Key::Dialogue: hit = r.turn.dialogue_id == t.value; break;
      case Key::User: hit = r.turn.user_id == t.value; break;
      case Key::Turn: hit = std::to_string(r.turn.turn_index) == t.value; break;
      case Key::Seq: hit = std::to_string(r.turn.turn_seq) == t.value; break;
      case Key::Stage: hit = r.stage_id == t.value; break;
      case Key::Plugin: hit = r.plugin == t.value; break;
      case Key::Status: hit = to_string(r.status) == t.value; break;
      case Key::Worker: hit = std::to_string(r.worker) == t.value; break;
    }
    if (hit == t.negate) return false;
  }
  return true;
}

bool Where::matches(const Turn& turn) const {
  for (const auto& t : terms_) {
    bool known = false;
    bool hit = id_field(turn.id, static_cast<int>(t.key), t.value, known);
    if (!known) {
      auto any_stage = [&](auto pred) { return std::any_of(turn.stages.begin(), turn.stages.end(), pred); };
      switch (t.key) {
        case Key::Stage: hit = any_stage([&](const StageRecord& s) { return s.stage_id == t.value; }); break;
        case Key::Plugin: hit = any_stage([&](const StageRecord& s) { return s.plugin == t.value; }); break;
        case Key::Worker:
          hit = (turn.record && std::to_string(turn.record->worker) == t.value) ||
                any_stage([&](const StageRecord& s) { return std::to_string(s.worker) == t.value; });
          break;
        case Key::Status:
          hit = (turn.record && to_string(turn.record->status) == t.value) ||
                any_stage([&](const StageRecord& s) { return to_string(s.status) == t.value; });
          break;
        default: break;
      }
    }
    if (hit == t.negate) return false;
  }
  return true;
}

}  // namespace cascade::trace
