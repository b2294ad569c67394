// test_util.hpp — small helpers shared by the trace tests: temp dirs, raw
// file access, and a compact way to write a synthetic multi-turn run.
#pragma once

#include <cascade/trace/reader.hpp>
#include <cascade/trace/writer.hpp>

#include <gtest/gtest.h>
#include <unistd.h>
#include <xxhash.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace cascade::trace::testing {

// A fresh directory under /tmp, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("cascade-traces-" + std::to_string(::getpid()) + "-" + (info ? info->name() : "x"));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Every record of a trace, in file order; damage is returned, or must be none.
inline std::vector<Record> read_all(const std::filesystem::path& p, std::vector<Damage>* damage = nullptr) {
  Reader r(p);
  std::vector<Record> out;
  while (auto rec = r.next()) out.push_back(std::move(*rec));
  if (damage != nullptr) *damage = r.damage();
  else EXPECT_TRUE(r.damage().empty()) << r.damage().front().format();
  return out;
}

inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}
inline void write_bytes(const std::filesystem::path& p, std::string_view bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <class T>
T get_le(const std::string& bytes, size_t at) {
  T v;
  std::memcpy(&v, bytes.data() + at, sizeof v);
  return v;
}

// Chunks of a file, found by walking the layout FORMAT.md documents
// (independently of the reader under test).
struct ChunkPos {
  size_t offset;
  size_t size;  // header + payload
  uint16_t kind;
  uint32_t records;
};
inline std::vector<ChunkPos> walk_chunks(const std::string& bytes) {
  std::vector<ChunkPos> out;
  size_t at = get_le<uint32_t>(bytes, 12);  // file header length
  while (at + 32 <= bytes.size()) {
    const auto len = get_le<uint32_t>(bytes, at + 8);
    out.push_back({at, 32 + size_t{len}, get_le<uint16_t>(bytes, at + 4), get_le<uint32_t>(bytes, at + 12)});
    at += 32 + size_t{len};
  }
  return out;
}

// Record types (FORMAT.md "Records").
inline constexpr uint8_t kTurnRecord = 2;
inline constexpr uint8_t kStageRecord = 3;
inline constexpr uint8_t kDeclRecord = 4;
inline constexpr uint8_t kFrameRecord = 5;

// The record types of a records chunk, in order (FORMAT.md "Records").
inline std::vector<uint8_t> record_types(const std::string& bytes, const ChunkPos& c) {
  std::vector<uint8_t> out;
  size_t at = c.offset + 32;
  const size_t end = c.offset + c.size;
  while (at + 4 <= end) {
    const auto head = get_le<uint32_t>(bytes, at);
    uint64_t len = head >> 8;
    size_t hdr = 4;
    if (len == 0xFFFFFF) {
      len = get_le<uint64_t>(bytes, at + 4);
      hdr = 12;
    }
    out.push_back(static_cast<uint8_t>(head & 0xFF));
    at += hdr + len;
  }
  return out;
}

// Removes the `index`-th record of records chunk `c` from `bytes` and
// re-frames the chunk (length, record count, both checksums) and the end
// chunk's totals, so that only the reader's own record checks can notice
// what is missing. `counted`: the record is one the counts include (not a
// declaration).
inline void cut_record(std::string& bytes, const ChunkPos& c, size_t index, bool counted = true) {
  const size_t payload = c.offset + 32;
  size_t at = payload;
  for (size_t i = 0; i < index; ++i) at += 4 + (get_le<uint32_t>(bytes, at) >> 8);
  const size_t len = 4 + (get_le<uint32_t>(bytes, at) >> 8);
  bytes.erase(at, len);
  const auto body = static_cast<uint32_t>(c.size - 32 - len);
  const uint32_t records = c.records - (counted ? 1 : 0);
  std::memcpy(bytes.data() + c.offset + 8, &body, 4);
  std::memcpy(bytes.data() + c.offset + 12, &records, 4);
  const uint64_t body_sum = XXH3_64bits(bytes.data() + payload, body);
  std::memcpy(bytes.data() + c.offset + 16, &body_sum, 8);
  const uint64_t head_sum = XXH3_64bits(bytes.data() + c.offset, 24);
  std::memcpy(bytes.data() + c.offset + 24, &head_sum, 8);
  for (const ChunkPos& end : walk_chunks(bytes)) {
    if (end.kind != 1) continue;
    const uint64_t total = get_le<uint64_t>(bytes, end.offset + 32 + 8) - (counted ? 1 : 0);
    std::memcpy(bytes.data() + end.offset + 32 + 8, &total, 8);
    const uint64_t end_sum = XXH3_64bits(bytes.data() + end.offset + 32, end.size - 32);
    std::memcpy(bytes.data() + end.offset + 16, &end_sum, 8);
    const uint64_t end_head_sum = XXH3_64bits(bytes.data() + end.offset, 24);
    std::memcpy(bytes.data() + end.offset + 24, &end_head_sum, 8);
  }
}

// The file yields no record at all and exactly one T008 (malformed record)
// damage whose message says `why`.
inline void expect_only_record_damage(const std::filesystem::path& file, const std::string& why) {
  std::vector<Damage> damage;
  const auto recs = read_all(file, &damage);
  EXPECT_TRUE(recs.empty());
  ASSERT_EQ(damage.size(), 1u);
  EXPECT_EQ(damage[0].code, codes::kRecord);
  EXPECT_NE(damage[0].message.find(why), std::string::npos) << damage[0].message;
}

// One stage of a synthetic turn.
struct StageSpec {
  std::string stage_id;
  std::string output;  // text written on output port "out"
  StageStatus status = StageStatus::Ok;
  uint32_t worker = 0;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
};
struct TurnSpec {
  std::string dialogue_id;
  uint32_t turn_index = 0;
  uint64_t turn_seq = 0;
  std::vector<StageSpec> stages;
  TurnStatus status = TurnStatus::Ok;
};

inline void write_turn(Writer& w, const TurnSpec& t) {
  const std::string user = "user-" + t.dialogue_id;
  const TurnKey key{t.dialogue_id, user, t.turn_index, t.turn_seq};
  int64_t start = 0, end = 0;
  uint32_t last_worker = 0;
  for (const auto& s : t.stages) {
    PayloadView out{"out", 1, 0, s.output.data(), s.output.size()};
    FeatureView feat{"len", static_cast<double>(s.output.size())};
    StageEvent ev;
    ev.turn = key;
    ev.stage_id = s.stage_id;
    ev.plugin = "basic";
    ev.plugin_version = "1.0.0";
    ev.start_ns = s.start_ns;
    ev.end_ns = s.end_ns;
    ev.worker = s.worker;
    ev.status = s.status;
    ev.error_code = s.status == StageStatus::Ok ? 0 : 2;
    ev.error_message = s.status == StageStatus::Ok ? "" : "failed on purpose";
    ev.outputs = {&out, 1};
    ev.features = {&feat, 1};
    w.write(s.worker, ev);
    if (start == 0 || s.start_ns < start) start = s.start_ns;
    end = std::max(end, s.end_ns);
    last_worker = s.worker;
  }
  TurnEvent te;
  te.turn = key;
  te.timestamp = "2026-01-01T00:00:00Z";
  te.config_digest = 0xC0FFEE;
  te.start_ns = start;
  te.end_ns = end;
  te.status = t.status;
  te.result_json = R"({"ok":true})";
  w.write(last_worker, te);
}

// `turns` turns over `dialogues` dialogues, stages asr -> nlu -> tts on
// worker (turn_seq % workers), 1 ms per stage, turns 10 ms apart.
inline std::vector<TurnSpec> make_run(uint32_t turns, uint32_t dialogues = 2, uint32_t workers = 1) {
  std::vector<TurnSpec> out;
  const int64_t base = 1'700'000'000'000'000'000;
  for (uint32_t i = 0; i < turns; ++i) {
    TurnSpec t;
    t.dialogue_id = "d" + std::to_string(i % dialogues);
    t.turn_index = i / dialogues;
    t.turn_seq = i;
    const int64_t t0 = base + int64_t{i} * 10'000'000;
    const char* names[] = {"asr", "nlu", "tts"};
    for (int k = 0; k < 3; ++k)
      t.stages.push_back({names[k], std::string(names[k]) + " of turn " + std::to_string(i), StageStatus::Ok,
                          i % workers, t0 + k * 1'000'000, t0 + (k + 1) * 1'000'000});
    out.push_back(std::move(t));
  }
  return out;
}

inline void write_run(const std::filesystem::path& path, const std::vector<TurnSpec>& turns, WriterOptions opt = {}) {
  opt.path = path;
  Writer w(opt);
  for (const auto& t : turns) write_turn(w, t);
  w.close();
}

}  // namespace cascade::trace::testing
