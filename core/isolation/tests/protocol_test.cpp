// The isolation messages, encoded and decoded without any process: every
// field survives the round trip, and a damaged message is a WireError,
// never a read past its end or an allocation sized by garbage.
#include "isolation/protocol.hpp"

#include <gtest/gtest.h>

#include <limits>

using namespace cascade::isolation;

namespace {

std::string_view body(const std::string& msg) { return std::string_view(msg).substr(wire::kHeaderSize); }

TEST(IsolationProtocol, HelloAndReadyRoundTrip) {
  Hello h{"/p/lib.so", "nlu", "understand", {{"model", "m.bin"}, {"beam", "4"}}, {512, 3, 1u << 20}};
  std::string msg;
  encode(msg, h);
  char head[wire::kHeaderSize];
  std::copy_n(msg.data(), wire::kHeaderSize, head);
  EXPECT_EQ(wire::parse_header(head, wire::Kind::Hello), msg.size() - wire::kHeaderSize);
  EXPECT_THROW(wire::parse_header(head, wire::Kind::Call), wire::WireError);
  const Hello back = decode_hello(body(msg));
  EXPECT_EQ(back.plugin_path, h.plugin_path);
  EXPECT_EQ(back.plugin_name, h.plugin_name);
  EXPECT_EQ(back.stage_id, h.stage_id);
  EXPECT_EQ(back.params, h.params);
  EXPECT_EQ(back.limits.memory_mb, 512u);
  EXPECT_EQ(back.limits.cpu_s, 3u);
  EXPECT_EQ(back.limits.max_payload, 1u << 20);

  encode(msg, Ready{false, "R002", "open failed: no model"});
  const Ready r = decode_ready(body(msg));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.code, "R002");
  EXPECT_EQ(r.message, "open failed: no model");
}

TEST(IsolationProtocol, CallCarriesInputsAndDeadlines) {
  const std::string audio(1000, '\x7f');
  cascade_payload t0[2] = {{sizeof(cascade_payload), CASCADE_PAYLOAD_TEXT, "hi", 2, 0},
                           {sizeof(cascade_payload), CASCADE_PAYLOAD_AUDIO, audio.data(), audio.size(), 16000}};
  cascade_payload t1[2] = {{sizeof(cascade_payload), CASCADE_PAYLOAD_NONE, nullptr, 0, 0},
                           {sizeof(cascade_payload), CASCADE_PAYLOAD_JSON, "{}", 2, 0}};
  std::string msg;
  begin_call(msg, 2, 2);
  add_call_turn(msg, 5'000'000, {"d7", "ann", 3, 42}, t0, 2);
  add_call_turn(msg, std::numeric_limits<int64_t>::max(), {}, t1, 2);
  wire::finish(msg);
  CallView c;
  decode_call(body(msg), c);
  ASSERT_EQ(c.n_turns, 2u);
  ASSERT_EQ(c.n_in, 2u);
  EXPECT_EQ(c.remaining_ns[0], 5'000'000);
  EXPECT_EQ(c.remaining_ns[1], std::numeric_limits<int64_t>::max());
  EXPECT_EQ(c.turns[0].dialogue_id, "d7");
  EXPECT_EQ(c.turns[0].user_id, "ann");
  EXPECT_EQ(c.turns[0].turn_index, 3u);
  EXPECT_EQ(c.turns[0].turn_seq, 42u);
  EXPECT_EQ(c.turns[1].user_id, "");
  EXPECT_EQ(std::string_view(static_cast<const char*>(c.inputs[0].data), c.inputs[0].size), "hi");
  EXPECT_EQ(c.inputs[1].type, CASCADE_PAYLOAD_AUDIO);
  EXPECT_EQ(c.inputs[1].sample_rate, 16000u);
  EXPECT_EQ(c.inputs[1].size, audio.size());
  EXPECT_EQ(c.inputs[2].type, CASCADE_PAYLOAD_NONE);
  EXPECT_EQ(c.inputs[2].size, 0u);
  EXPECT_EQ(c.inputs[3].type, CASCADE_PAYLOAD_JSON);
}

TEST(IsolationProtocol, ResultCarriesReportsAndOutputs) {
  TurnReport r[2];
  r[0].clear(2);
  r[0].has_conf = true;
  r[0].conf = 0.25;
  r[0].nbest = {{"play jazz", -1.5}, {"play chess", -2.0}};
  r[0].feats = {{"margin", 0.5}};
  r[0].tfeats = {{"intent", "play_music"}};
  r[0].outputs[0] = {CASCADE_PAYLOAD_TEXT, 0, -1, "out"};
  r[0].outputs[1] = {CASCADE_PAYLOAD_AUDIO, 8000, 1, {}};  // the turn's input 1, passed on
  r[1].clear(2);
  r[1].status = CASCADE_ERR_UNAVAILABLE;
  r[1].code = CASCADE_ERR_UNAVAILABLE;
  r[1].transient = true;
  r[1].message = "backend down";
  std::string msg;
  encode_result(msg, r, 2);
  std::vector<TurnView> v;
  decode_result(body(msg), 2, 2, 2, v);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_TRUE(v[0].has_conf);
  EXPECT_EQ(v[0].conf, 0.25);
  ASSERT_EQ(v[0].nbest.size(), 2u);
  EXPECT_EQ(v[0].nbest[1].first, "play chess");
  EXPECT_EQ(v[0].nbest[1].second, -2.0);
  EXPECT_EQ(v[0].feats[0].first, "margin");
  EXPECT_EQ(v[0].tfeats[0].second, "play_music");
  EXPECT_EQ(v[0].outputs[0].bytes, "out");
  EXPECT_EQ(v[0].outputs[0].from_input, -1);
  EXPECT_EQ(v[0].outputs[1].from_input, 1);
  EXPECT_EQ(v[0].outputs[1].sample_rate, 8000u);
  EXPECT_EQ(v[1].status, static_cast<uint32_t>(CASCADE_ERR_UNAVAILABLE));
  EXPECT_TRUE(v[1].transient);
  EXPECT_EQ(v[1].message, "backend down");
  EXPECT_EQ(v[1].outputs[0].type, static_cast<uint32_t>(CASCADE_PAYLOAD_NONE));
  // Another shape than the call's is refused.
  EXPECT_THROW(decode_result(body(msg), 3, 2, 2, v), wire::WireError);
  EXPECT_THROW(decode_result(body(msg), 2, 1, 2, v), wire::WireError);
  EXPECT_THROW(decode_result(body(msg), 2, 2, 1, v), wire::WireError);  // input 1 does not exist
}

// Every prefix of a valid message, and every single-byte corruption of
// its counts and lengths, decodes or throws WireError: nothing else.
TEST(IsolationProtocol, DamagedMessagesThrowWireError) {
  TurnReport r;
  r.clear(1);
  r.nbest = {{"a", 1}};
  r.outputs[0] = {CASCADE_PAYLOAD_TEXT, 0, -1, "xyz"};
  std::string msg;
  encode_result(msg, &r, 1);
  const std::string b(body(msg));
  std::vector<TurnView> v;
  for (size_t cut = 0; cut < b.size(); ++cut)
    EXPECT_THROW(decode_result(std::string_view(b).substr(0, cut), 1, 1, 1, v), wire::WireError) << cut;
  for (size_t i = 0; i < b.size(); ++i) {
    std::string d = b;
    d[i] = static_cast<char>(0xff);
    try {
      decode_result(d, 1, 1, 1, v);
    } catch (const wire::WireError&) {
    }
  }
  std::string call;
  begin_call(call, 1000000, 1000);  // claims far more than it holds
  wire::finish(call);
  CallView c;
  EXPECT_THROW(decode_call(body(call), c), wire::WireError);
  EXPECT_THROW(decode_hello("\xff\xff\xff\xff\xff\xff\xff\x7f"), wire::WireError);
}

}  // namespace
