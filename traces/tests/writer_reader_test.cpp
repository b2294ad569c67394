// writer_reader_test.cpp — what the writer records, the reader returns:
// every field, in order, across rotation and concurrent workers.
#include "test_util.hpp"

#include <xxhash.h>

#include <cstring>
#include <thread>

namespace cascade::trace {
namespace {

using testing::read_all;
using testing::TempDir;

// Storage for a StageEvent with every field set to a non-default value.
struct FullStage {
  std::string audio = std::string("\x01\x00\xff\x7f\x00\x80", 6);
  std::string text = "turn on the kitchen lights";
  std::string json = R"({"intent":"iot_hue_lighton","slots":{"room":"kitchen"}})";
  std::string binary = std::string("a\0b\0c", 5);
  PayloadView inputs[2] = {{"audio", 2, 16000, audio.data(), audio.size()}, {"hint", 1, 0, "", 0}};
  PayloadView outputs[3] = {{"text", 1, 0, text.data(), text.size()},
                            {"nlu", 3, 0, json.data(), json.size()},
                            {"raw", 7, 0, binary.data(), binary.size()}};
  NBestView nbest[2] = {{"turn on the kitchen lights", -12.5}, {"turn on the kitten lights", -14.25}};
  FeatureView features[2] = {{"rtf", 0.125}, {"words", 5}};
  TextFeatureView text_features[2] = {{"lang", "en"}, {"model", "en-us-ptm"}};
  StageEvent ev;

  FullStage() {
    ev.turn = TurnKey{"dialogue-7", "user-3", 4, 123456789012345ull};
    ev.stage_id = "asr";
    ev.plugin = "pocketsphinx";
    ev.plugin_version = "5.0.0-rc1";
    ev.start_ns = 1'763'000'000'123'456'789;
    ev.end_ns = 1'763'000'000'223'456'789;
    ev.worker = 3;
    ev.status = StageStatus::Timeout;
    ev.error_code = 0xDEADBEEF;
    ev.transient = true;
    ev.error_message = "deadline of 100 ms exceeded";
    ev.inputs = inputs;
    ev.outputs = outputs;
    ev.has_confidence = true;
    ev.confidence = 0.8125;
    ev.nbest = nbest;
    ev.features = features;
    ev.text_features = text_features;
  }
};

void expect_payload(const Payload& got, const PayloadView& want) {
  EXPECT_EQ(got.port, want.port);
  EXPECT_EQ(got.type, want.type);
  EXPECT_EQ(got.sample_rate, want.sample_rate);
  EXPECT_FALSE(got.hashed);
  EXPECT_EQ(got.size, want.size);
  EXPECT_EQ(got.bytes, std::string(static_cast<const char*>(want.data), want.size));
}

TEST(RoundTrip, StageRecordKeepsEveryField) {
  TempDir dir;
  FullStage s;
  {
    Writer w({.path = dir / "t.cas"});
    w.write(3, s.ev);
  }
  auto recs = read_all(dir / "t.cas");
  ASSERT_EQ(recs.size(), 1u);
  const auto& r = std::get<StageRecord>(recs[0]);
  EXPECT_EQ(r.turn.dialogue_id, "dialogue-7");
  EXPECT_EQ(r.turn.user_id, "user-3");
  EXPECT_EQ(r.turn.turn_index, 4u);
  EXPECT_EQ(r.turn.turn_seq, 123456789012345ull);
  EXPECT_EQ(r.stage_id, "asr");
  EXPECT_EQ(r.plugin, "pocketsphinx");
  EXPECT_EQ(r.plugin_version, "5.0.0-rc1");
  EXPECT_EQ(r.start_ns, s.ev.start_ns);
  EXPECT_EQ(r.end_ns, s.ev.end_ns);
  EXPECT_EQ(r.worker, 3u);
  EXPECT_EQ(r.status, StageStatus::Timeout);
  EXPECT_EQ(r.error_code, 0xDEADBEEFu);
  EXPECT_TRUE(r.transient);
  EXPECT_EQ(r.error_message, "deadline of 100 ms exceeded");
  ASSERT_EQ(r.inputs.size(), 2u);
  for (size_t i = 0; i < 2; ++i) expect_payload(r.inputs[i], s.inputs[i]);
  ASSERT_EQ(r.outputs.size(), 3u);
  for (size_t i = 0; i < 3; ++i) expect_payload(r.outputs[i], s.outputs[i]);
  EXPECT_TRUE(r.has_confidence);
  EXPECT_EQ(r.confidence, 0.8125);
  ASSERT_EQ(r.nbest.size(), 2u);
  EXPECT_EQ(r.nbest[1].text, "turn on the kitten lights");
  EXPECT_EQ(r.nbest[1].score, -14.25);
  EXPECT_EQ(r.nbest[0].score, -12.5);
  ASSERT_EQ(r.features.size(), 2u);
  EXPECT_EQ(r.features[0].key, "rtf");
  EXPECT_EQ(r.features[0].value, 0.125);
  EXPECT_EQ(r.feature("words"), 5.0);
  ASSERT_EQ(r.text_features.size(), 2u);
  EXPECT_EQ(r.text_features[1].key, "model");
  EXPECT_EQ(r.text_feature("lang"), "en");
  EXPECT_EQ(r.output("nlu")->text(), s.json);
}

TEST(RoundTrip, DefaultStageRecordHasNoConfidenceAndNoLists) {
  TempDir dir;
  {
    Writer w({.path = dir / "t.cas"});
    w.write(0, StageEvent{});
  }
  auto recs = read_all(dir / "t.cas");
  ASSERT_EQ(recs.size(), 1u);
  const auto& r = std::get<StageRecord>(recs[0]);
  EXPECT_EQ(r, StageRecord{});
}

TEST(RoundTrip, TurnRecordKeepsEveryField) {
  TempDir dir;
  const std::string audio(3200, '\x11');
  TurnEvent te;
  te.turn = TurnKey{"d-42", "u-9", 17, 99};
  te.timestamp = "2026-11-21T14:27:30.123Z";
  te.config_digest = 0x0123456789ABCDEFull;
  te.start_ns = 1'000;
  te.end_ns = 5'000'000;
  te.status = TurnStatus::Cancelled;
  te.input = PayloadView{"audio", 2, 8000, audio.data(), audio.size()};
  te.gold_json = R"({"nlu":{"intent":"x"}})";
  te.result_json = R"({"text":"y"})";
  {
    Writer w({.path = dir / "t.cas"});
    w.write(5, te);
  }
  auto recs = read_all(dir / "t.cas");
  ASSERT_EQ(recs.size(), 1u);
  const auto& r = std::get<TurnRecord>(recs[0]);
  EXPECT_EQ(r.turn, (TurnId{"d-42", "u-9", 17, 99}));
  EXPECT_EQ(r.worker, 5u);
  EXPECT_EQ(r.timestamp, "2026-11-21T14:27:30.123Z");
  EXPECT_EQ(r.config_digest, 0x0123456789ABCDEFull);
  EXPECT_EQ(r.start_ns, 1'000);
  EXPECT_EQ(r.end_ns, 5'000'000);
  EXPECT_EQ(r.status, TurnStatus::Cancelled);
  expect_payload(r.input, te.input);
  EXPECT_EQ(r.gold_json, R"({"nlu":{"intent":"x"}})");
  EXPECT_EQ(r.result_json, R"({"text":"y"})");
}

TEST(RoundTrip, HashModeStoresOnlyHashSizeAndRateOfAudio) {
  TempDir dir;
  FullStage s;
  {
    Writer w({.path = dir / "t.cas", .audio = AudioMode::Hash});
    w.write(0, s.ev);
  }
  auto recs = read_all(dir / "t.cas");
  const auto& r = std::get<StageRecord>(recs.at(0));
  const Payload& a = r.inputs.at(0);
  EXPECT_TRUE(a.hashed);
  EXPECT_TRUE(a.bytes.empty());
  EXPECT_EQ(a.size, s.audio.size());
  EXPECT_EQ(a.sample_rate, 16000u);
  EXPECT_EQ(a.xxh64(), XXH64(s.audio.data(), s.audio.size(), 0));
  // Text and JSON stay inline.
  EXPECT_FALSE(r.outputs.at(0).hashed);
  EXPECT_EQ(r.outputs.at(0).bytes, s.text);
  Reader reader(dir / "t.cas");
  reader.next();
  EXPECT_TRUE(reader.files().at(0).audio_hashed);
}

TEST(RoundTrip, RecordLargerThanAChunkAndThan16MiBIsKeptWhole) {
  TempDir dir;
  std::string big(17 * 1024 * 1024 + 7, '\0');  // past the 24-bit record length
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131);
  PayloadView in{"audio", 2, 16000, big.data(), big.size()};
  StageEvent ev;
  ev.inputs = {&in, 1};
  {
    Writer w({.path = dir / "t.cas", .chunk_bytes = 4096});
    StageEvent small;
    small.stage_id = "before";
    w.write(0, small);
    w.write(0, ev);
    small.stage_id = "after";
    w.write(0, small);
  }
  auto recs = read_all(dir / "t.cas");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(std::get<StageRecord>(recs[0]).stage_id, "before");
  EXPECT_EQ(std::get<StageRecord>(recs[1]).inputs.at(0).bytes, big);
  EXPECT_EQ(std::get<StageRecord>(recs[2]).stage_id, "after");
}

TEST(RoundTrip, RecordsOfDifferentTurnsKeepTheirOwnKeys) {
  // Consecutive records share a stored key only when every key field is
  // equal: same seq but another user, same strings but another index...
  TempDir dir;
  const std::vector<TurnId> keys = {{"d1", "u1", 0, 5}, {"d1", "u1", 0, 5}, {"d1", "u2", 0, 5},
                                    {"d1", "u2", 1, 5}, {"d1", "u2", 1, 6}, {"d2", "u2", 1, 6},
                                    {"d2", "u2", 1, 6}, {"", "", 0, 0}};
  {
    Writer w({.path = dir / "t.cas"});
    for (size_t i = 0; i < keys.size(); ++i) {
      StageEvent ev;
      ev.turn = TurnKey{keys[i].dialogue_id, keys[i].user_id, keys[i].turn_index, keys[i].turn_seq};
      if (i % 3 == 2) {
        TurnEvent te;
        te.turn = ev.turn;
        w.write(0, te);
      } else {
        w.write(0, ev);
      }
    }
  }
  const auto recs = read_all(dir / "t.cas");
  ASSERT_EQ(recs.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i)
    std::visit([&](const auto& r) { EXPECT_EQ(r.turn, keys[i]) << i; }, recs[i]);
}

TEST(RoundTrip, ManyRepeatedAndDistinctStringsSurviveTheChunkStringTable) {
  // Names repeat (interned as references) and collide in the writer's
  // 256-slot table; lengths straddle the 4/8/16/32-byte copy paths.
  TempDir dir;
  auto name = [](size_t i) {
    std::string s = "n" + std::to_string(i % 700);
    s.append(i % 37, static_cast<char>('a' + i % 26));
    return s;
  };
  constexpr size_t kRecords = 5000;
  {
    Writer w({.path = dir / "t.cas", .chunk_bytes = 16 * 1024});
    for (size_t i = 0; i < kRecords; ++i) {
      const std::string stage = name(i), plugin = name(i * 7), port = name(i * 13), key = name(i * 3);
      const std::string dialogue = name(i / 4), text = "value " + std::to_string(i);
      PayloadView out{port, 1, 0, text.data(), text.size()};
      FeatureView feat{key, static_cast<double>(i)};
      TextFeatureView tf{key, stage};
      StageEvent ev;
      ev.turn = TurnKey{dialogue, dialogue, static_cast<uint32_t>(i / 4), i / 4};
      ev.stage_id = stage;
      ev.plugin = plugin;
      ev.plugin_version = plugin;
      ev.start_ns = static_cast<int64_t>(i % 3 == 0 ? i * 1000 : 1'700'000'000'000'000'000 - i);
      ev.end_ns = ev.start_ns + static_cast<int64_t>(i) - 2500;
      ev.outputs = {&out, 1};
      ev.features = {&feat, 1};
      ev.text_features = {&tf, 1};
      w.write(0, ev);
    }
  }
  const auto recs = read_all(dir / "t.cas");
  ASSERT_EQ(recs.size(), kRecords);
  for (size_t i = 0; i < kRecords; ++i) {
    const auto& r = std::get<StageRecord>(recs[i]);
    ASSERT_EQ(r.stage_id, name(i)) << i;
    ASSERT_EQ(r.plugin, name(i * 7)) << i;
    ASSERT_EQ(r.plugin_version, name(i * 7)) << i;
    ASSERT_EQ(r.turn.dialogue_id, name(i / 4)) << i;
    ASSERT_EQ(r.turn.user_id, name(i / 4)) << i;
    ASSERT_EQ(r.outputs.at(0).port, name(i * 13)) << i;
    ASSERT_EQ(r.outputs.at(0).bytes, "value " + std::to_string(i)) << i;
    ASSERT_EQ(r.features.at(0).key, name(i * 3)) << i;
    ASSERT_EQ(r.text_features.at(0).value, name(i)) << i;
    ASSERT_EQ(r.start_ns, static_cast<int64_t>(i % 3 == 0 ? i * 1000 : 1'700'000'000'000'000'000 - i)) << i;
    ASSERT_EQ(r.end_ns - r.start_ns, static_cast<int64_t>(i) - 2500) << i;
  }
}

TEST(Flush, MakesEveryRecordReadableWhileTheWriterStaysOpen) {
  TempDir dir;
  Writer w({.path = dir / "t.cas"});
  for (const auto& t : testing::make_run(50)) testing::write_turn(w, t);
  w.flush();
  // Read like a user would after kill -9: no end marker, but nothing lost.
  Reader r(dir / "t.cas");
  size_t n = 0;
  while (r.next()) ++n;
  EXPECT_EQ(n, 50u * 4);
  EXPECT_TRUE(r.damage().empty());
  EXPECT_FALSE(r.files().at(0).closed_cleanly);
  w.close();
  Reader r2(dir / "t.cas");
  while (r2.next()) {
  }
  EXPECT_TRUE(r2.files().at(0).closed_cleanly);
  EXPECT_EQ(w.stats().records, 200u);
}

TEST(Flush, ATicketCoversEveryRecordWrittenBeforeItNotTheOnesAfter) {
  TempDir dir;
  Writer w({.path = dir / "t.cas", .max_workers = 2});
  const auto run = testing::make_run(60, 3, 2);
  for (size_t i = 0; i < 30; ++i) testing::write_turn(w, run[i]);
  const uint64_t ticket = w.begin_flush();
  // The next batch: written while the first is on its way to the file.
  for (size_t i = 30; i < 60; ++i) testing::write_turn(w, run[i]);
  w.wait_flushed(ticket);
  Reader r(dir / "t.cas");
  size_t n = 0;
  while (r.next()) ++n;
  EXPECT_EQ(n, 30u * 4);  // all of the first batch; the second is still buffered
  EXPECT_TRUE(r.damage().empty());
  w.wait_flushed(w.begin_flush());
  Reader r2(dir / "t.cas");
  n = 0;
  while (r2.next()) ++n;
  EXPECT_EQ(n, 60u * 4);
}

TEST(Rotation, ProducesSeveralFilesThatReadBackInOrder) {
  TempDir dir;
  const auto trace_dir = dir / "run";
  const auto turns = testing::make_run(2000);
  testing::write_run(trace_dir, turns, {.path = {}, .rotate_bytes = 64 * 1024, .chunk_bytes = 4096});
  const auto files = trace_files(trace_dir);
  ASSERT_GE(files.size(), 3u);
  EXPECT_EQ(files.front().filename(), "trace-000001.cas");
  for (const auto& f : files) EXPECT_LE(std::filesystem::file_size(f), 64u * 1024 + 4096 + 100) << f;
  Reader r(trace_dir);
  uint64_t expect_seq = 0;
  size_t stages = 0;
  while (auto rec = r.next()) {
    if (auto* s = std::get_if<StageRecord>(&*rec)) {
      ASSERT_EQ(s->turn.turn_seq, expect_seq);
      if (++stages % 3 == 0) ++expect_seq;
    }
  }
  EXPECT_EQ(expect_seq, 2000u);
  EXPECT_TRUE(r.damage().empty());
  ASSERT_EQ(r.files().size(), files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(r.files()[i].file_index, i + 1);
    EXPECT_TRUE(r.files()[i].closed_cleanly);
    EXPECT_EQ(r.files()[i].run_id, r.files()[0].run_id);
  }
}

TEST(Rotation, StartingAgainReplacesTheEarlierRunsFiles) {
  TempDir dir;
  testing::write_run(dir / "run", testing::make_run(2000), {.path = {}, .rotate_bytes = 32 * 1024, .chunk_bytes = 4096});
  testing::write_run(dir / "run", testing::make_run(10), {.path = {}, .rotate_bytes = 32 * 1024, .chunk_bytes = 4096});
  EXPECT_EQ(trace_files(dir / "run").size(), 1u);
  EXPECT_EQ(read_all(dir / "run").size(), 40u);
}

TEST(Rotation, AMissingMiddleFileIsReported) {
  TempDir dir;
  testing::write_run(dir / "run", testing::make_run(2000), {.path = {}, .rotate_bytes = 32 * 1024, .chunk_bytes = 4096});
  const auto files = trace_files(dir / "run");
  ASSERT_GE(files.size(), 3u);
  std::filesystem::remove(files[1]);
  std::vector<Damage> damage;
  read_all(dir / "run", &damage);
  ASSERT_EQ(damage.size(), 1u);
  EXPECT_EQ(damage[0].code, codes::kMissingFile);
}

TEST(Concurrency, TwoWorkersOnTwoThreadsLoseNothing) {
  TempDir dir;
  constexpr uint64_t kPerWorker = 30000;
  {
    Writer w({.path = dir / "t.cas", .max_workers = 2, .chunk_bytes = 8192});
    auto work = [&](uint32_t worker) {
      const std::string text = "payload of worker " + std::to_string(worker);
      PayloadView out{"out", 1, 0, text.data(), text.size()};
      StageEvent ev;
      ev.stage_id = "s";
      ev.worker = worker;
      ev.outputs = {&out, 1};
      for (uint64_t i = 0; i < kPerWorker; ++i) {
        ev.turn.turn_seq = i;
        w.write(worker, ev);
      }
    };
    std::thread a(work, 0), b(work, 1);
    a.join();
    b.join();
    w.close();
    EXPECT_EQ(w.stats().records, 2 * kPerWorker);
  }
  uint64_t next[2] = {0, 0};
  for (const auto& rec : read_all(dir / "t.cas")) {
    const auto& s = std::get<StageRecord>(rec);
    ASSERT_LT(s.worker, 2u);
    // Per worker, records come back complete and in write order.
    ASSERT_EQ(s.turn.turn_seq, next[s.worker]++);
    ASSERT_EQ(s.outputs.at(0).bytes, "payload of worker " + std::to_string(s.worker));
  }
  EXPECT_EQ(next[0], kPerWorker);
  EXPECT_EQ(next[1], kPerWorker);
}

TEST(Errors, UncreatableFileThrowsT001NamingThePath) {
  TempDir dir;
  testing::write_bytes(dir / "file", "x");
  try {
    Writer w({.path = dir / "file" / "sub" / "t.cas"});
    FAIL() << "expected TraceError";
  } catch (const TraceError& e) {
    EXPECT_EQ(e.code(), codes::kOpen);
    EXPECT_NE(std::string(e.what()).find("file/sub/t.cas"), std::string::npos) << e.what();
  }
}

TEST(Errors, FullDiskThrowsT002NamingThePath) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  try {
    Writer w({.path = "/dev/full"});
    FAIL() << "expected TraceError";
  } catch (const TraceError& e) {
    EXPECT_EQ(e.code(), codes::kWrite);
    EXPECT_EQ(e.path(), "/dev/full");
  }
}

TEST(Errors, WriteAfterCloseThrowsT009) {
  TempDir dir;
  Writer w({.path = dir / "t.cas"});
  w.close();
  try {
    w.write(0, StageEvent{});
    FAIL() << "expected TraceError";
  } catch (const TraceError& e) {
    EXPECT_EQ(e.code(), codes::kMisuse);
  }
}

TEST(Errors, WorkerIndexOutOfRangeThrowsT009) {
  TempDir dir;
  Writer w({.path = dir / "t.cas", .max_workers = 2});
  try {
    w.write(2, StageEvent{});
    FAIL() << "expected TraceError";
  } catch (const TraceError& e) {
    EXPECT_EQ(e.code(), codes::kMisuse);
  }
}

TEST(Errors, ReaderRejectsMissingPathsAndNonTraces) {
  TempDir dir;
  try {
    Reader r(dir / "nope.cas");
    FAIL();
  } catch (const TraceError& e) {
    EXPECT_EQ(e.code(), codes::kOpen);
  }
  testing::write_bytes(dir / "x.cas", "{\"not\":\"a trace\"}\n");
  try {
    Reader r(dir / "x.cas");
    FAIL();
  } catch (const TraceError& e) {
    EXPECT_EQ(e.code(), codes::kNotATrace);
  }
  testing::write_run(dir / "v.cas", testing::make_run(1));
  auto bytes = testing::read_bytes(dir / "v.cas");
  bytes[8] = 9;  // format version 9
  testing::write_bytes(dir / "v.cas", bytes);
  try {
    Reader r(dir / "v.cas");
    FAIL();
  } catch (const TraceError& e) {
    EXPECT_EQ(e.code(), codes::kVersion);
  }
}

// Like the engine does: stage k's input is stage k-1's output (same
// address), a pass-through stage's output is its input, and the turn input
// is the first stage's input.
std::vector<Record> write_chain(const std::filesystem::path& path, const std::vector<std::string>& bufs, size_t stages,
                                AudioMode mode = AudioMode::Inline, uint32_t type = 1) {
  // bufs[i % bufs.size()] backs the i-th payload of the run (inputs before
  // outputs, the turn input last): one buffer = every payload shares it.
  size_t next = 0;
  auto view = [&](const char* port) {
    const std::string& b = bufs[next++ % bufs.size()];
    return PayloadView{port, type, 16000, b.data(), b.size()};
  };
  {
    Writer w({.path = path, .audio = mode});
    for (size_t k = 0; k < stages; ++k) {
      PayloadView in = view("in");
      PayloadView out = view("out");
      const std::string id = "s" + std::to_string(k);  // outlives write(): events are views
      StageEvent ev;
      ev.turn = TurnKey{"d", "u", 0, 1};
      ev.stage_id = id;
      ev.inputs = {&in, 1};
      ev.outputs = {&out, 1};
      w.write(0, ev);
    }
    TurnEvent te;
    te.turn = TurnKey{"d", "u", 0, 1};
    te.input = view("input");
    w.write(0, te);
  }
  return read_all(path);
}

TEST(PayloadRefs, BytesRepeatedAlongAChainAreStoredOnceAndReadBackInEveryRecord) {
  TempDir dir;
  std::string text(300, '\0');
  for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + i % 26);
  const std::vector<std::string> copies(11, text);  // same bytes, 11 addresses
  const auto shared = write_chain(dir / "shared.cas", {text}, 5);
  const auto distinct = write_chain(dir / "distinct.cas", copies, 5);
  ASSERT_EQ(shared.size(), 6u);
  EXPECT_EQ(shared, distinct);  // every record reads back the same, bytes included
  for (size_t k = 0; k < 5; ++k) {
    const auto& r = std::get<StageRecord>(shared[k]);
    EXPECT_EQ(r.inputs.at(0).bytes, text) << k;
    EXPECT_EQ(r.outputs.at(0).bytes, text) << k;
  }
  EXPECT_EQ(std::get<TurnRecord>(shared[5]).input.bytes, text);
  // 10 of the 11 payloads are references of a few bytes instead of 300.
  const auto shared_size = std::filesystem::file_size(dir / "shared.cas");
  const auto distinct_size = std::filesystem::file_size(dir / "distinct.cas");
  EXPECT_LE(shared_size + 10 * 290, distinct_size) << shared_size << " vs " << distinct_size;
}

TEST(PayloadRefs, AnAddressReusedForOtherBytesIsStoredAgain) {
  TempDir dir;
  std::string buf(64, 'a');
  PayloadView v{"out", 1, 0, buf.data(), buf.size()};
  {
    Writer w({.path = dir / "t.cas"});
    StageEvent ev;
    ev.outputs = {&v, 1};
    w.write(0, ev);
    std::fill(buf.begin(), buf.end(), 'b');  // same address and size, new bytes
    ev.inputs = {&v, 1};
    ev.outputs = {};
    w.write(0, ev);
  }
  const auto recs = read_all(dir / "t.cas");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(std::get<StageRecord>(recs[0]).outputs.at(0).bytes, std::string(64, 'a'));
  EXPECT_EQ(std::get<StageRecord>(recs[1]).inputs.at(0).bytes, std::string(64, 'b'));
}

TEST(PayloadRefs, HashedAudioIsSharedWithinARecordAndRehashedInTheNext) {
  TempDir dir;
  std::string pcm(640, '\x05');
  PayloadView v{"audio", 2, 16000, pcm.data(), pcm.size()};
  {
    Writer w({.path = dir / "t.cas", .audio = AudioMode::Hash});
    StageEvent ev;
    ev.inputs = {&v, 1};
    ev.outputs = {&v, 1};  // a pass-through: the same view in and out
    w.write(0, ev);
    std::fill(pcm.begin(), pcm.end(), '\x06');  // same address, new samples
    w.write(0, ev);
  }
  const auto recs = read_all(dir / "t.cas");
  ASSERT_EQ(recs.size(), 2u);
  const std::string first(640, '\x05'), second(640, '\x06');
  for (size_t i = 0; i < 2; ++i) {
    const auto& r = std::get<StageRecord>(recs[i]);
    const std::string& want = i == 0 ? first : second;
    for (const Payload* p : {&r.inputs.at(0), &r.outputs.at(0)}) {
      EXPECT_TRUE(p->hashed) << i;
      EXPECT_EQ(p->size, 640u) << i;
      EXPECT_EQ(p->xxh64(), XXH64(want.data(), want.size(), 0)) << i;
    }
  }
}

TEST(StringTable, EqualStringsAtOtherAddressesAreStoredOnce) {
  // Like the engine: each turn's input holds its own copy of the dialogue id.
  TempDir dir;
  const std::string one = "dialogue-with-a-long-id-0001";
  std::vector<std::string> copies(500, one);
  auto write = [&](const std::filesystem::path& path, bool shared) {
    Writer w({.path = path});
    for (size_t i = 0; i < copies.size(); ++i) {
      StageEvent ev;
      ev.turn = TurnKey{shared ? std::string_view(one) : std::string_view(copies[i]), "u", 0, i};
      ev.stage_id = "s";
      w.write(0, ev);
    }
  };
  write(dir / "shared.cas", true);
  write(dir / "copies.cas", false);
  const auto recs = read_all(dir / "copies.cas");
  ASSERT_EQ(recs.size(), copies.size());
  for (const auto& r : recs) EXPECT_EQ(std::get<StageRecord>(r).turn.dialogue_id, one);
  EXPECT_EQ(std::filesystem::file_size(dir / "copies.cas"), std::filesystem::file_size(dir / "shared.cas"));
}

TEST(Versions, AFileOfAnEarlierVersionIsRefusedWithT004) {
  // Version 4 wrote the same header: only the version field tells the
  // records apart, and this reader reads version 5 alone.
  TempDir dir;
  FullStage s;
  {
    Writer w({.path = dir / "v5.cas"});
    w.write(3, s.ev);
  }
  auto bytes = testing::read_bytes(dir / "v5.cas");
  ASSERT_EQ(testing::get_le<uint16_t>(bytes, 8), 5u);
  bytes[8] = 4;
  const auto header_len = testing::get_le<uint32_t>(bytes, 12);
  const uint64_t sum = XXH3_64bits(bytes.data(), header_len - 8);
  std::memcpy(bytes.data() + header_len - 8, &sum, 8);
  testing::write_bytes(dir / "v4.cas", bytes);
  try {
    Reader r(dir / "v4.cas");
    FAIL() << "expected TraceError";
  } catch (const TraceError& e) {
    EXPECT_EQ(e.code(), codes::kVersion);
    EXPECT_NE(std::string(e.what()).find("version 4"), std::string::npos) << e.what();
  }
}

TEST(Turns, GroupsRecordsOfOneTurnFromSeveralWorkersInStartOrder) {
  TempDir dir;
  testing::TurnSpec t{"d1", 2, 7, {}, TurnStatus::Failed};
  t.stages = {{"asr", "a", StageStatus::Ok, 1, 100, 200},
              {"nlu", "n", StageStatus::Error, 0, 300, 400},
              {"vad", "v", StageStatus::Ok, 0, 50, 90}};
  {
    Writer w({.path = dir / "t.cas", .max_workers = 2});
    testing::write_turn(w, t);
  }
  const TraceData data = read_turns(dir / "t.cas");
  ASSERT_EQ(data.turns.size(), 1u);
  const Turn& turn = data.turns[0];
  EXPECT_EQ(turn.id, (TurnId{"d1", "user-d1", 2, 7}));
  ASSERT_TRUE(turn.record.has_value());
  EXPECT_EQ(turn.record->status, TurnStatus::Failed);
  ASSERT_EQ(turn.stages.size(), 3u);
  EXPECT_EQ(turn.stages[0].stage_id, "vad");
  EXPECT_EQ(turn.stages[1].stage_id, "asr");
  EXPECT_EQ(turn.stages[2].stage_id, "nlu");
  ASSERT_NE(turn.stage("nlu"), nullptr);
  EXPECT_EQ(turn.stage("nlu")->output("out")->text(), "n");
  EXPECT_EQ(data.find("d1", 2), &turn);
  EXPECT_EQ(data.find("d1", 3), nullptr);
  EXPECT_EQ(data.find_seq(7), &turn);
  EXPECT_EQ(data.find_seq(8), nullptr);
}

// --- declared stages: names once per chunk, payloads by port position -------------

// FullStage as a declared record: names once, payloads by port position.
struct DeclaredStage : FullStage {
  std::string_view in_ports[2] = {"audio", "hint"};
  std::string_view out_ports[4] = {"text", "nlu", "raw", "unused"};
  PayloadView positional_out[4] = {outputs[0], outputs[1], outputs[2], {}};  // "unused": absent (type 0)
  StageDecl decl{"asr", "pocketsphinx", "5.0.0-rc1", in_ports, out_ports, {}};
  StageEvent declared(uint32_t handle) const {
    StageEvent d = ev;
    d.decl = handle;
    d.stage_id = d.plugin = d.plugin_version = "ignored when declared";
    d.outputs = positional_out;
    return d;
  }
};

TEST(Declared, ReadsBackExactlyAsTheSameRecordWrittenWithNames) {
  TempDir dir;
  DeclaredStage s;
  {
    Writer w({.path = dir / "named.cas"});
    w.write(3, s.ev);
  }
  {
    Writer w({.path = dir / "declared.cas"});
    w.write(3, s.declared(w.declare(s.decl)));
  }
  const auto named = read_all(dir / "named.cas");
  const auto declared = read_all(dir / "declared.cas");
  ASSERT_EQ(declared.size(), 1u);
  EXPECT_EQ(declared, named);  // every field, and the absent output left out
  EXPECT_EQ(std::get<StageRecord>(declared[0]).stage_id, "asr");
  EXPECT_EQ(std::get<StageRecord>(declared[0]).outputs.size(), 3u);
}

TEST(Declared, EveryChunkCarriesItsOwnDeclarationsSoADamagedChunkCostsOnlyItself) {
  TempDir dir;
  DeclaredStage s;
  constexpr int kRecords = 400;
  {
    Writer w({.path = dir / "t.cas", .chunk_bytes = 1024});
    const uint32_t h = w.declare(s.decl);
    for (int i = 0; i < kRecords; ++i) {
      StageEvent e = s.declared(h);
      e.turn.turn_seq = static_cast<uint64_t>(i);
      w.write(0, e);
    }
  }
  std::string bytes = testing::read_bytes(dir / "t.cas");
  const auto chunks = testing::walk_chunks(bytes);
  ASSERT_GE(chunks.size(), 4u);
  // Damage the FIRST chunk, the one that declared the stage first.
  bytes[chunks[0].offset + 32 + 10] ^= 0x40;
  testing::write_bytes(dir / "t.cas", bytes);
  std::vector<Damage> damage;
  const auto recs = read_all(dir / "t.cas", &damage);
  ASSERT_EQ(damage.size(), 1u);
  EXPECT_EQ(damage[0].code, codes::kChecksum);
  // Each chunk holds one declaration besides its stage records; the
  // chunk's record count counts only the records readers get back.
  EXPECT_EQ(recs.size(), static_cast<size_t>(kRecords) - chunks[0].records);
  for (const auto& r : recs) EXPECT_EQ(std::get<StageRecord>(r).stage_id, "asr");
}

TEST(Declared, AnEventThatDoesNotListEveryDeclaredPortIsRefused) {
  TempDir dir;
  DeclaredStage s;
  Writer w({.path = dir / "t.cas"});
  StageEvent e = s.declared(w.declare(s.decl));
  e.outputs = std::span<const PayloadView>(s.positional_out, 3);
  try {
    w.write(0, e);
    FAIL() << "expected TraceError";
  } catch (const TraceError& err) {
    EXPECT_EQ(err.code(), codes::kMisuse);
  }
  e.decl = 7;  // never declared
  EXPECT_THROW(w.write(0, e), TraceError);
}


TEST(PayloadsStable, AnAddressReusedByTheNextTurnIsComparedAgainNotTrusted) {
  // payloads_stable promises unchanged bytes only until the turn key
  // changes: the next turn's different bytes at the same address must be
  // stored, not referenced.
  TempDir dir;
  std::string buf(24, 'a');
  {
    Writer w({.path = dir / "t.cas"});
    for (uint64_t turn = 0; turn < 2; ++turn) {
      buf.assign(24, turn == 0 ? 'a' : 'b');  // same address, new bytes
      PayloadView in{"in", 1, 0, buf.data(), buf.size()};
      PayloadView out{"out", 1, 0, buf.data(), buf.size()};
      StageEvent e;
      e.turn = TurnKey{"d", "u", 0, turn};
      e.stage_id = "s";
      e.inputs = {&in, 1};
      e.outputs = {&out, 1};
      e.payloads_stable = true;
      for (int stage = 0; stage < 3; ++stage) w.write(0, e);
    }
  }
  const auto recs = read_all(dir / "t.cas");
  ASSERT_EQ(recs.size(), 6u);
  for (size_t i = 0; i < recs.size(); ++i) {
    const auto& r = std::get<StageRecord>(recs[i]);
    const std::string want(24, i < 3 ? 'a' : 'b');
    EXPECT_EQ(r.inputs.at(0).bytes, want) << "record " << i;
    EXPECT_EQ(r.outputs.at(0).bytes, want) << "record " << i;
  }
}


TEST(Declared, ARecordWhoseDeclarationIsMissingFromItsChunkIsReportedNotGuessed) {
  TempDir dir;
  DeclaredStage s;
  {
    Writer w({.path = dir / "t.cas"});
    w.write(0, s.declared(w.declare(s.decl)));
  }
  // Cut the declaration (the chunk's first record) out of the chunk and
  // re-frame it with valid checksums: only the reader's handle check can
  // notice.
  std::string bytes = testing::read_bytes(dir / "t.cas");
  const auto chunk = testing::walk_chunks(bytes).at(0);
  ASSERT_EQ(chunk.records, 1u);  // the stage record: a declaration is not counted
  ASSERT_EQ(testing::record_types(bytes, chunk).at(0), testing::kDeclRecord);
  testing::cut_record(bytes, chunk, 0, false);
  testing::write_bytes(dir / "t.cas", bytes);
  testing::expect_only_record_damage(dir / "t.cas", "not declared");
}

}  // namespace
}  // namespace cascade::trace
