// turns.cpp — grouping records into turns.
//
// Records of one turn can be spread over several chunks (stages run on
// different workers, each worker fills its own chunks), and the TurnRecord
// may even precede its stages in the file. So grouping needs all records:
// it is done in memory, keyed by turn_seq (unique within a run).
#include <cascade/trace/reader.hpp>

#include <algorithm>
#include <unordered_map>

namespace cascade::trace {

const StageRecord* Turn::stage(std::string_view stage_id) const {
  for (const auto& s : stages)
    if (s.stage_id == stage_id) return &s;
  return nullptr;
}

int64_t Turn::start_ns() const {
  if (record) return record->start_ns;
  return stages.empty() ? 0 : stages.front().start_ns;
}

int64_t Turn::end_ns() const {
  if (record) return record->end_ns;
  int64_t e = 0;
  for (const auto& s : stages) e = std::max(e, s.end_ns);
  return e;
}

const Turn* TraceData::find(std::string_view dialogue_id, uint32_t turn_index) const {
  for (const auto& t : turns)
    if (t.id.turn_index == turn_index && t.id.dialogue_id == dialogue_id) return &t;
  return nullptr;
}

const Turn* TraceData::find_seq(uint64_t turn_seq) const {
  auto it = std::lower_bound(turns.begin(), turns.end(), turn_seq,
                             [](const Turn& t, uint64_t seq) { return t.id.turn_seq < seq; });
  return it != turns.end() && it->id.turn_seq == turn_seq ? &*it : nullptr;
}

std::vector<Turn> group_turns(std::vector<Record> records) {
  std::vector<Turn> turns;
  std::unordered_map<uint64_t, size_t> by_seq;
  auto slot = [&](const TurnId& id) -> Turn& {
    auto [it, inserted] = by_seq.try_emplace(id.turn_seq, turns.size());
    if (inserted) {
      turns.emplace_back();
      turns.back().id = id;
    }
    return turns[it->second];
  };
  for (auto& r : records) {
    if (auto* s = std::get_if<StageRecord>(&r)) {
      Turn& t = slot(s->turn);
      t.stages.push_back(std::move(*s));
    } else {
      auto& tr = std::get<TurnRecord>(r);
      Turn& t = slot(tr.turn);
      t.id = tr.turn;
      t.record = std::move(tr);
    }
  }
  for (auto& t : turns)
    std::stable_sort(t.stages.begin(), t.stages.end(),
                     [](const StageRecord& a, const StageRecord& b) { return a.start_ns < b.start_ns; });
  std::stable_sort(turns.begin(), turns.end(),
                   [](const Turn& a, const Turn& b) { return a.id.turn_seq < b.id.turn_seq; });
  return turns;
}

TraceData read_turns(const std::filesystem::path& path) {
  Reader reader(path);
  std::vector<Record> records;
  while (auto r = reader.next()) records.push_back(std::move(*r));
  TraceData data;
  data.turns = group_turns(std::move(records));
  data.damage = reader.damage();
  data.files = reader.files();
  data.stats = reader.stats();
  return data;
}

}  // namespace cascade::trace
