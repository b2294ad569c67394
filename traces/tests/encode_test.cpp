// encode_test.cpp — the record encoders and decoders alone: records
// encoded into a chunk in memory and decoded from its bytes, with no
// writer thread and no file. Every field, every status, inline and hashed
// payloads, references, declarations, records past the 24-bit length.
#include "../src/decode.hpp"
#include "../src/encode.hpp"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstring>
#include <deque>
#include <string>
#include <vector>

namespace cascade::trace {
namespace {

using encode::Chunk;

// Every record of `c`, decoded; the chunk must decode without failure.
std::vector<Record> decode_all(const Chunk& c) {
  std::deque<Record> out;
  const auto failed = decode::chunk(c.payload(), out);
  EXPECT_FALSE(failed.has_value()) << (failed ? failed->what : "");
  return {out.begin(), out.end()};
}

// Each record as the writer appends it: bound, room, encode.
void put(Chunk& c, const StageEvent& e, const encode::Declaration* d = nullptr, AudioMode mode = AudioMode::Inline) {
  const size_t bound = encode::stage_bound(e, d, mode);
  if (!c.room(bound)) c.grow(bound);
  encode::put_stage(c, e, e.decl, d, mode, bound);
}
void put(Chunk& c, const TurnEvent& e, uint32_t worker) {
  const size_t bound = encode::turn_bound(e, AudioMode::Inline);
  if (!c.room(bound)) c.grow(bound);
  encode::put_turn(c, e, worker, AudioMode::Inline, bound);
}

// A stage event with every field set, its storage alongside.
struct Stage {
  std::string audio = std::string("\x01\x00\xff\x7f\x00\x80\x10\x20\x30", 9);
  std::string text = "turn on the kitchen lights";
  PayloadView inputs[2] = {{"audio", 2, 16000, audio.data(), audio.size()}, {"hint", 1, 0, "", 0}};
  PayloadView outputs[2] = {{"text", 1, 0, text.data(), text.size()}, {"raw", 7, 0, "a\0b", 3}};
  NBestView nbest[2] = {{"turn on the kitchen lights", -12.5}, {"turn on the kitten lights", -14.25}};
  FeatureView features[1] = {{"rtf", 0.125}};
  TextFeatureView text_features[1] = {{"lang", "en"}};
  StageEvent ev;
  Stage() {
    ev.turn = TurnKey{"dialogue-7", "user-3", 4, 123456789012345ull};
    ev.stage_id = "asr";
    ev.plugin = "pocketsphinx";
    ev.plugin_version = "5.0.0";
    ev.start_ns = 1'763'000'000'123'456'789;
    ev.end_ns = ev.start_ns - 5;  // a clock step backwards: the duration is signed
    ev.worker = 300;
    ev.error_code = 0xDEADBEEF;
    ev.transient = true;
    ev.error_message = "deadline exceeded";
    ev.inputs = inputs;
    ev.outputs = outputs;
    ev.has_confidence = true;
    ev.confidence = 0.8125;
    ev.nbest = nbest;
    ev.features = features;
    ev.text_features = text_features;
  }
};

void expect_stage(const StageRecord& r, const StageEvent& e, StageStatus status) {
  EXPECT_EQ(r.turn, (TurnId{std::string(e.turn.dialogue_id), std::string(e.turn.user_id), e.turn.turn_index,
                            e.turn.turn_seq}));
  EXPECT_EQ(r.stage_id, "asr");
  EXPECT_EQ(r.plugin, "pocketsphinx");
  EXPECT_EQ(r.plugin_version, "5.0.0");
  EXPECT_EQ(r.start_ns, e.start_ns);
  EXPECT_EQ(r.end_ns, e.end_ns);
  EXPECT_EQ(r.worker, 300u);
  EXPECT_EQ(r.status, status);
  EXPECT_EQ(r.error_code, 0xDEADBEEFu);
  EXPECT_TRUE(r.transient);
  EXPECT_EQ(r.error_message, "deadline exceeded");
  ASSERT_EQ(r.inputs.size(), 2u);
  ASSERT_EQ(r.outputs.size(), 2u);
  const PayloadView* views[4] = {&e.inputs[0], &e.inputs[1], &e.outputs[0], &e.outputs[1]};
  const Payload* got[4] = {&r.inputs[0], &r.inputs[1], &r.outputs[0], &r.outputs[1]};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(got[i]->port, views[i]->port) << i;
    EXPECT_EQ(got[i]->type, views[i]->type) << i;
    EXPECT_EQ(got[i]->sample_rate, views[i]->sample_rate) << i;
    EXPECT_EQ(got[i]->bytes, std::string(static_cast<const char*>(views[i]->data), views[i]->size)) << i;
  }
  EXPECT_TRUE(r.has_confidence);
  EXPECT_EQ(r.confidence, 0.8125);
  ASSERT_EQ(r.nbest.size(), 2u);
  EXPECT_EQ(r.nbest[1].text, "turn on the kitten lights");
  EXPECT_EQ(r.nbest[1].score, -14.25);
  EXPECT_EQ(r.feature("rtf"), 0.125);
  EXPECT_EQ(r.text_feature("lang"), "en");
}

TEST(Encode, AStageRecordKeepsEveryFieldWithEveryStatusDeclaredOrNot) {
  Stage s;
  const std::string_view ins[2] = {"audio", "hint"}, outs[2] = {"text", "raw"};
  const std::vector<std::unique_ptr<encode::Declaration>> decls = [&] {
    std::vector<std::unique_ptr<encode::Declaration>> v;
    v.push_back(std::make_unique<encode::Declaration>(
        encode::make_declaration({"asr", "pocketsphinx", "5.0.0", ins, outs, {}})));
    return v;
  }();
  const StageStatus all[] = {StageStatus::Ok,       StageStatus::Error,     StageStatus::Timeout,
                             StageStatus::Skipped,  StageStatus::Cancelled, StageStatus::Crashed};
  for (const bool declared : {false, true}) {
    Chunk c(64 * 1024);
    for (const StageStatus status : all) {
      s.ev.status = status;
      s.ev.decl = declared ? 0 : kNotDeclared;
      put(c, s.ev, declared ? decls[0].get() : nullptr);
    }
    EXPECT_EQ(c.records, 6u);  // a declaration (made for the undeclared event too) is not a record to readers
    const auto recs = decode_all(c);
    ASSERT_EQ(recs.size(), 6u);
    for (size_t i = 0; i < 6; ++i) expect_stage(std::get<StageRecord>(recs[i]), s.ev, all[i]);
  }
}

TEST(Encode, APlainStageWithoutListsReadsBackAsWritten) {
  Chunk c(4096);
  StageEvent ev;
  ev.stage_id = "s";
  put(c, ev);
  ev.has_confidence = true;
  ev.confidence = -0.5;
  put(c, ev);
  const auto recs = decode_all(c);
  ASSERT_EQ(recs.size(), 2u);
  StageRecord want;
  want.stage_id = "s";
  EXPECT_EQ(std::get<StageRecord>(recs[0]), want);
  want.has_confidence = true;
  want.confidence = -0.5;
  EXPECT_EQ(std::get<StageRecord>(recs[1]), want);
}

TEST(Encode, ATurnRecordKeepsEveryFieldWithEveryStatus) {
  const std::string audio(320, '\x11');
  TurnEvent te;
  te.turn = TurnKey{"d-42", "u-9", 17, 99};
  te.timestamp = "2026-11-21T14:27:30.123Z";
  te.config_digest = 0x0123456789ABCDEFull;
  te.start_ns = -1'000;  // before the epoch: times are signed
  te.end_ns = 5'000'000;
  te.input = PayloadView{"audio", 2, 8000, audio.data(), audio.size()};
  te.gold_json = R"({"nlu":{"intent":"x"}})";
  te.result_json = R"({"text":"y"})";
  Chunk c(4096);
  for (const TurnStatus status : {TurnStatus::Ok, TurnStatus::Failed, TurnStatus::Cancelled}) {
    te.status = status;
    put(c, te, 5);
  }
  const auto recs = decode_all(c);
  ASSERT_EQ(recs.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const auto& r = std::get<TurnRecord>(recs[i]);
    EXPECT_EQ(r.turn, (TurnId{"d-42", "u-9", 17, 99}));
    EXPECT_EQ(r.worker, 5u);
    EXPECT_EQ(r.timestamp, te.timestamp);
    EXPECT_EQ(r.config_digest, te.config_digest);
    EXPECT_EQ(r.start_ns, -1'000);
    EXPECT_EQ(r.end_ns, 5'000'000);
    EXPECT_EQ(r.status, static_cast<TurnStatus>(i));
    EXPECT_EQ(r.input.port, "audio");
    EXPECT_EQ(r.input.sample_rate, 8000u);
    EXPECT_EQ(r.input.bytes, audio);
    EXPECT_EQ(r.gold_json, te.gold_json);
    EXPECT_EQ(r.result_json, te.result_json);
  }
}

TEST(Encode, HashedAudioKeepsSizeRateAndHashOnly) {
  Stage s;
  Chunk c(4096);
  put(c, s.ev, nullptr, AudioMode::Hash);
  const auto recs = decode_all(c);
  const Payload& a = std::get<StageRecord>(recs.at(0)).inputs.at(0);
  EXPECT_TRUE(a.hashed);
  EXPECT_TRUE(a.bytes.empty());
  EXPECT_EQ(a.size, s.audio.size());
  EXPECT_EQ(a.sample_rate, 16000u);
  EXPECT_EQ(a.xxh64(), XXH64(s.audio.data(), s.audio.size(), 0));
  // Text stays inline, and the audio bytes are nowhere in the chunk.
  EXPECT_EQ(std::get<StageRecord>(recs.at(0)).outputs.at(0).bytes, s.text);
  const auto payload = c.payload();
  EXPECT_EQ(std::search(payload.begin(), payload.end(), s.audio.begin(), s.audio.end()), payload.end());
}

TEST(Encode, RepeatedPayloadsAreReferencesThatReadBackWhole) {
  // One buffer as input and output of three records, and as the turn's
  // input: stored once, every record reads it back.
  const std::string text(100, 'x');
  PayloadView in{"in", 1, 0, text.data(), text.size()};
  PayloadView out{"out", 1, 0, text.data(), text.size()};
  Chunk c(4096);
  StageEvent ev;
  ev.turn = TurnKey{"d", "u", 0, 1};
  ev.inputs = {&in, 1};
  ev.outputs = {&out, 1};
  for (int i = 0; i < 3; ++i) put(c, ev);
  TurnEvent te;
  te.turn = ev.turn;
  te.input = in;
  put(c, te, 0);
  const auto payload = c.payload();
  EXPECT_LT(payload.size(), text.size() + 100);  // once, with room for the names and fields
  const auto recs = decode_all(c);
  ASSERT_EQ(recs.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(std::get<StageRecord>(recs[i]).inputs.at(0).bytes, text);
    EXPECT_EQ(std::get<StageRecord>(recs[i]).outputs.at(0).bytes, text);
  }
  EXPECT_EQ(std::get<TurnRecord>(recs[3]).input.bytes, text);
}

TEST(Encode, ATurnFrameIsItsStageRecordsAndTurnRecord) {
  const std::string audio(64, '\x5a'), text = "lights on";
  const std::string_view in[1] = {"audio"}, out[2] = {"text", "none"};
  const uint32_t ports[3] = {0, 1, kNoPayload};
  std::vector<std::unique_ptr<encode::Declaration>> decls;
  decls.push_back(std::make_unique<encode::Declaration>(encode::make_declaration({"asr", "p", "1", in, out, ports})));
  const PayloadView table[2] = {{{}, 2, 16000, audio.data(), audio.size()}, {{}, 1, 0, text.data(), text.size()}};
  const FrameStage stages[2] = {{0, 100, 250, 1, false, 0}, {0, 300, 260, 1, true, 0.5}};
  TurnFrame f;
  f.turn.turn = TurnKey{"d", "u", 3, 9};
  f.turn.start_ns = 90;
  f.turn.end_ns = 400;
  f.payloads = table;
  f.stages = stages;
  const size_t bound = encode::frame_bound(f, decls, AudioMode::Inline);
  ASSERT_NE(bound, 0u);
  Chunk c(4096);
  ASSERT_TRUE(c.room(bound));
  encode::put_frame(c, f, 1, decls, AudioMode::Inline, bound);
  EXPECT_EQ(c.records, 3u);  // two stages, the turn
  const auto recs = decode_all(c);
  ASSERT_EQ(recs.size(), 3u);
  for (int s = 0; s < 2; ++s) {
    const auto& r = std::get<StageRecord>(recs[s]);
    EXPECT_EQ(r.stage_id, "asr");
    EXPECT_EQ(r.start_ns, stages[s].start_ns);
    EXPECT_EQ(r.end_ns, stages[s].end_ns);
    EXPECT_EQ(r.has_confidence, s == 1);
    ASSERT_EQ(r.inputs.size(), 1u);
    EXPECT_EQ(r.inputs[0].bytes, audio);
    ASSERT_EQ(r.outputs.size(), 1u);  // "none" is unbound: left out
    EXPECT_EQ(r.outputs[0].text(), text);
  }
  const auto& t = std::get<TurnRecord>(recs[2]);
  EXPECT_EQ(t.input.port, "input");
  EXPECT_EQ(t.input.bytes, audio);
  f.input = 2;
  EXPECT_EQ(encode::frame_bound(f, decls, AudioMode::Inline), 0u);
  EXPECT_NE(encode::frame_error(f, decls).find("input index 2"), std::string::npos);
}

TEST(Encode, ARecordOf16MiBOrMoreHasItsLengthAsAU64) {
  std::string big(16 * 1024 * 1024 + 3, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131);
  PayloadView in{"audio", 2, 16000, big.data(), big.size()};
  StageEvent ev;
  ev.inputs = {&in, 1};
  Chunk c(1024);
  put(c, ev);
  // The declaration's header is a u32; the stage record's says 0xFFFFFF
  // and a u64 length follows.
  const auto payload = c.payload();
  uint32_t head;
  std::memcpy(&head, payload.data(), 4);
  const size_t decl_size = 4 + (head >> 8);
  std::memcpy(&head, payload.data() + decl_size, 4);
  EXPECT_EQ(head >> 8, 0xFFFFFFu);
  uint64_t len;
  std::memcpy(&len, payload.data() + decl_size + 4, 8);
  EXPECT_EQ(decl_size + 12 + len, payload.size());
  const auto recs = decode_all(c);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(std::get<StageRecord>(recs[0]).inputs.at(0).bytes, big);
}

TEST(Decode, ARecordCutShortIsAFailureAtItsOffsetAndTheRecordsBeforeItStay) {
  Chunk c(4096);
  StageEvent ev;
  ev.stage_id = "s";
  put(c, ev);
  const size_t first = c.payload().size();
  ev.error_message = "a message long enough to cut";
  ev.status = StageStatus::Error;
  put(c, ev);
  // The second record's header promises more bytes than the chunk holds.
  const auto payload = c.payload().first(c.payload().size() - 5);
  std::deque<Record> out;
  const auto failed = decode::chunk(payload, out);
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->offset, first);
  EXPECT_EQ(out.size(), 1u);
}

}  // namespace
}  // namespace cascade::trace
