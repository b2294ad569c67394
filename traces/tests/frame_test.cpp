// frame_test.cpp — turn frames: a whole turn in one record (the turn
// record's fields, then its stages, their ports bound to the turn's
// payloads) reads back as exactly the StageRecords and TurnRecord that
// separate declared records would give; payloads shared along the turn
// are stored once; every chunk decodes alone; misuse writes nothing.
#include "test_util.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <csignal>

namespace cascade::trace {
namespace {

using testing::read_all;
using testing::TempDir;

// A three-stage turn:
//
//   input(audio) -> wake --audio--> asr --text--> nlu --json-->
//                   (forwards)      (hint unbound,  (confidence)
//                                    nbest absent)
//
// Payload table: 0 the input, 1 wake.audio (the input's bytes, forwarded),
// 2 asr.text, 3 asr.nbest (type 0: absent), 4 nlu.intent, 5 the input's
// bytes again, away from their first entry (no port reads it).
struct Turn3 {
  std::string audio = std::string(1024, '\x5a');  // 512 samples, easy to count in the file
  std::string text = "turn on the kitchen lights";
  std::string json = R"({"intent":"iot_hue_lighton"})";
  std::string_view wake_in[1] = {"audio"}, wake_out[1] = {"audio"};
  std::string_view asr_in[2] = {"audio", "hint"}, asr_out[2] = {"text", "nbest"};
  std::string_view nlu_in[1] = {"text"}, nlu_out[1] = {"intent"};
  uint32_t wake_ports[2] = {0, 1};
  uint32_t asr_ports[4] = {1, kNoPayload, 2, 3};
  uint32_t nlu_ports[2] = {2, 4};
  const uint32_t* ports[3] = {wake_ports, asr_ports, nlu_ports};
  StageDecl decls[3] = {{"wake", "sphinx-kws", "5.0.0", wake_in, wake_out, wake_ports},
                        {"asr", "pocketsphinx", "5.0.0", asr_in, asr_out, asr_ports},
                        {"nlu", "fasttext", "0.9.2", nlu_in, nlu_out, nlu_ports}};
  PayloadView table[6] = {{{}, 2, 16000, audio.data(), audio.size()},
                          {{}, 2, 16000, audio.data(), audio.size()},
                          {{}, 1, 0, text.data(), text.size()},
                          {},
                          {{}, 3, 0, json.data(), json.size()},
                          {{}, 2, 16000, audio.data(), audio.size()}};
  int64_t t0 = 1'763'000'000'000'000'000;
  TurnEvent turn;

  Turn3() {
    turn.turn = TurnKey{"dialogue-7", "user-3", 4, 99};
    turn.timestamp = "2026-11-21T19:00:00Z";
    turn.config_digest = 0x0123456789ABCDEFull;
    turn.start_ns = t0;
    turn.end_ns = t0 + 90'000;
    turn.input = {"input", 2, 16000, audio.data(), audio.size()};
    turn.gold_json = R"({"asr":"turn on the kitchen lights"})";
    turn.result_json = json;
  }
  // wake starts before the turn (a negative offset) and nlu takes 5 s:
  // both need the frame's wide times; asr fits the u32 ones.
  int64_t start(int s) const { return s == 0 ? t0 - 100 : t0 + 1'000 + s * 30'000; }
  int64_t end(int s) const { return start(s) + (s == 2 ? 5'000'000'000 : 20'000 + s); }

  // Declares the three stages; their handles go to h[0..2].
  void declare(Writer& w, uint32_t* h) const {
    for (int s = 0; s < 3; ++s) h[s] = w.declare(decls[s]);
  }

  // The same turn as separate declared stage records and a turn record.
  void write_records(Writer& w, const uint32_t* handles, uint32_t worker = 0) const {
    for (int s = 0; s < 3; ++s) {
      std::vector<PayloadView> ins, outs;
      const size_t n_in = decls[s].input_ports.size();
      for (size_t i = 0; i < n_in + decls[s].output_ports.size(); ++i) {
        const PayloadView v = ports[s][i] == kNoPayload ? PayloadView{} : table[ports[s][i]];
        (i < n_in ? ins : outs).push_back(v);
      }
      StageEvent e;
      e.turn = turn.turn;
      e.decl = handles[s];
      e.start_ns = start(s);
      e.end_ns = end(s);
      e.worker = worker;
      e.inputs = ins;
      e.outputs = outs;
      e.has_confidence = s == 2;
      e.confidence = 0.75;
      w.write(worker, e);
    }
    w.write(worker, turn);
  }

  // The same turn as one frame.
  void write_frame(Writer& w, const uint32_t* handles, uint32_t worker = 0) const {
    FrameStage st[3];
    for (int s = 0; s < 3; ++s)
      st[s] = {handles[s], start(s), end(s), worker, s == 2, 0.75};
    TurnFrame f;
    f.turn = turn;
    f.payloads = table;
    f.input = 0;
    f.stages = st;
    w.write(worker, f);
  }
};

TEST(Frame, ReadsBackExactlyAsDeclaredStageRecordsAndATurnRecordInEitherAudioMode) {
  for (const AudioMode mode : {AudioMode::Inline, AudioMode::Hash}) {
    TempDir dir;
    Turn3 t;
    uint32_t h[3];
    {
      Writer w({.path = dir / "records.cas", .audio = mode});
      t.declare(w, h);
      t.write_records(w, h, 2);
    }
    {
      Writer w({.path = dir / "frame.cas", .audio = mode});
      t.declare(w, h);
      t.write_frame(w, h, 2);
      EXPECT_EQ(w.stats().records, 4u);  // what the frame stands for
    }
    const auto want = read_all(dir / "records.cas");
    const auto got = read_all(dir / "frame.cas");
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got, want);  // every field: names, ports, absent ones, times, confidence, the turn
    const auto& asr = std::get<StageRecord>(got[1]);
    EXPECT_EQ(asr.stage_id, "asr");
    ASSERT_EQ(asr.inputs.size(), 2u);
    EXPECT_EQ(asr.inputs[1].port, "hint");  // unbound input: listed, type 0
    EXPECT_EQ(asr.inputs[1].type, 0u);
    ASSERT_EQ(asr.outputs.size(), 1u);  // the absent output is left out
    EXPECT_EQ(asr.outputs[0].text(), t.text);
    const auto& turn = std::get<TurnRecord>(got[3]);
    EXPECT_EQ(turn.input.port, "input");
    EXPECT_EQ(turn.worker, 2u);
    if (mode == AudioMode::Inline) {
      // The input, wake's input and output, asr's input and the table's
      // last entry are one buffer: its 1 KiB is in the file once.
      const std::string bytes = testing::read_bytes(dir / "frame.cas");
      size_t copies = 0;
      // Non-overlapping matches: a neighbouring byte that happens to be 0x5a
      // (a checksum, a time) would otherwise make a second, shifted match.
      for (size_t at = bytes.find(t.audio); at != std::string::npos; at = bytes.find(t.audio, at + t.audio.size())) ++copies;
      EXPECT_EQ(copies, 1u);
      EXPECT_EQ(asr.inputs[0].bytes, t.audio);
    } else {
      EXPECT_TRUE(asr.inputs[0].hashed);
      EXPECT_EQ(asr.inputs[0].size, t.audio.size());
    }
  }
}

TEST(Frame, IsOneRecordAfterItsDeclarationsAndEveryChunkCarriesItsOwn) {
  TempDir dir;
  Turn3 t;
  constexpr int kTurns = 60;
  {
    Writer w({.path = dir / "t.cas", .chunk_bytes = 4096});  // a few frames per chunk
    uint32_t h[3];
    t.declare(w, h);
    for (int i = 0; i < kTurns; ++i) {
      t.turn.turn.turn_seq = static_cast<uint64_t>(i);
      t.write_frame(w, h);
    }
  }
  std::string bytes = testing::read_bytes(dir / "t.cas");
  auto chunks = testing::walk_chunks(bytes);
  std::erase_if(chunks, [](const testing::ChunkPos& c) { return c.kind != 0; });
  ASSERT_GE(chunks.size(), 3u);
  for (const auto& c : chunks) {
    const auto types = testing::record_types(bytes, c);
    // The three declarations, then only frames (their stages inside).
    ASSERT_GE(types.size(), 4u);
    EXPECT_EQ(std::count(types.begin(), types.begin() + 3, testing::kDeclRecord), 3);
    EXPECT_EQ(std::count(types.begin() + 3, types.end(), testing::kFrameRecord), static_cast<long>(types.size() - 3));
    // record_count counts what readers get back: 4 records a frame.
    EXPECT_EQ(c.records, 4 * (types.size() - 3));
  }
  // Damage the FIRST chunk: the others still decode on their own.
  bytes[chunks[0].offset + 32 + 10] ^= 0x40;
  testing::write_bytes(dir / "t.cas", bytes);
  std::vector<Damage> damage;
  const auto recs = read_all(dir / "t.cas", &damage);
  ASSERT_EQ(damage.size(), 1u);
  const size_t lost_turns = chunks[0].records / 4;
  EXPECT_EQ(recs.size(), 4 * (kTurns - lost_turns));
  const auto turns = group_turns(recs);
  ASSERT_EQ(turns.size(), kTurns - lost_turns);
  for (const auto& turn : turns) {
    EXPECT_TRUE(turn.record.has_value());
    EXPECT_EQ(turn.stages.size(), 3u);
    EXPECT_EQ(turn.stage("nlu")->output("intent")->text(), t.json);
  }
}

TEST(Frame, MisuseIsRefusedWithT009AndWritesNothing) {
  TempDir dir;
  Turn3 t;
  {
    Writer w({.path = dir / "t.cas"});
    uint32_t h[3];
    t.declare(w, h);
    auto expect_misuse = [&](auto&& call) {
      try {
        call();
        ADD_FAILURE() << "expected TraceError";
      } catch (const TraceError& e) {
        EXPECT_EQ(e.code(), codes::kMisuse) << e.what();
      }
    };
    // A stage never declared.
    expect_misuse([&] {
      const uint32_t hb[3] = {h[0], 17, h[2]};
      t.write_frame(w, hb);
    });
    // A stage declared without frame_ports.
    StageDecl plain = t.decls[1];
    plain.frame_ports = {};
    const uint32_t hp[3] = {h[0], w.declare(plain), h[2]};
    expect_misuse([&] { t.write_frame(w, hp); });
    // A port past the frame's payload table.
    Turn3 far;
    far.asr_ports[3] = 6;
    const uint32_t hf[3] = {h[0], w.declare(far.decls[1]), h[2]};
    expect_misuse([&] { far.write_frame(w, hf); });
    // frame_ports that do not list every port.
    StageDecl short_ports = t.decls[1];
    short_ports.frame_ports = short_ports.frame_ports.first(3);
    expect_misuse([&] { w.declare(short_ports); });
    t.write_frame(w, h);  // and the writer goes on
  }
  const auto recs = read_all(dir / "t.cas");
  ASSERT_EQ(recs.size(), 4u);  // only the good frame: nothing of the refused ones
  EXPECT_EQ(std::get<StageRecord>(recs[0]).stage_id, "wake");
}

TEST(Frame, AFrameWhoseStageIsNotDeclaredInItsChunkYieldsNoneOfItsRecords) {
  TempDir dir;
  Turn3 t;
  {
    Writer w({.path = dir / "t.cas"});
    uint32_t h[3];
    t.declare(w, h);
    t.write_frame(w, h);
  }
  // Cut nlu's declaration (the third record) out, checksums kept valid:
  // wake's and asr's stages would decode, nlu's cannot, so the frame gives
  // nothing.
  std::string bytes = testing::read_bytes(dir / "t.cas");
  const auto chunk = testing::walk_chunks(bytes).at(0);
  using testing::kDeclRecord, testing::kFrameRecord;
  ASSERT_EQ(testing::record_types(bytes, chunk), (std::vector<uint8_t>{kDeclRecord, kDeclRecord, kDeclRecord, kFrameRecord}));
  testing::cut_record(bytes, chunk, 2, false);
  testing::write_bytes(dir / "t.cas", bytes);
  testing::expect_only_record_damage(dir / "t.cas", "not declared");
}

TEST(Frame, AnInputIndexOutsideThePayloadsIsRefused) {
  TempDir dir;
  Turn3 t;
  Writer w({.path = dir / "t.cas"});
  TurnFrame f;
  f.turn = t.turn;
  f.payloads = t.table;
  f.input = 6;  // one past the table
  EXPECT_THROW(w.write(0, f), TraceError);
}

// A write that fails on the background thread mid-run (here: the file size
// limit) reaches the caller as T002, at a write() or the next flush(), and
// the writer refuses to go on instead of losing records silently.
TEST(Frame, AWriteErrorOnTheBackgroundThreadIsThrownToTheCaller) {
  TempDir dir;
  ::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG instead of killing the process
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit small = old;
  small.rlim_cur = 64 * 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string code;
  {
    Writer w({.path = dir / "t.cas", .chunk_bytes = 16 * 1024});
    Turn3 t;
    uint32_t h[3];
    t.declare(w, h);
    try {
      for (uint32_t i = 0; i < 1000; ++i) {  // ~1.1 MB of frames, far past the limit
        t.turn.turn.turn_seq = i;
        t.write_frame(w, h);
      }
      w.flush();
    } catch (const TraceError& e) {
      code = e.code();
    }
    EXPECT_THROW(w.close(), TraceError);
  }
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  ::signal(SIGXFSZ, SIG_DFL);
  EXPECT_EQ(code, codes::kWrite);
}

}  // namespace
}  // namespace cascade::trace
