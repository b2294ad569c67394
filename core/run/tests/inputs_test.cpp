// Turn sources: every unusable input becomes a turn with a coded error
// (never a crash, never a dropped turn); usable audio keeps its rate.
#include <cascade/core/run.hpp>

#include <gtest/gtest.h>
#include <sndfile.h>

#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace cascade;

namespace {

fs::path dir() {
  static const fs::path d = [] {
    fs::path p = fs::temp_directory_path() / ("cascade_inputs_test_" + std::to_string(::getpid()));
    fs::create_directories(p);
    return p;
  }();
  return d;
}

void write_wav(const fs::path& p, int channels, int rate, int frames) {
  SF_INFO info{};
  info.channels = channels;
  info.samplerate = rate;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(p.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << sf_strerror(nullptr);
  std::vector<short> pcm(static_cast<size_t>(frames * channels), 100);
  sf_writef_short(f, pcm.data(), frames);
  sf_close(f);
}

std::vector<TurnInput> read_all(TurnSource& src) {
  std::vector<TurnInput> v;
  TurnInput t;
  while (src.next(t)) v.push_back(t);
  return v;
}

}  // namespace

TEST(Inputs, JsonlAudioTurnsCarryCodedErrorsForBadWavsAndKeepTheirRate) {
  write_wav(dir() / "ok8k.wav", 1, 8000, 800);
  write_wav(dir() / "stereo.wav", 2, 16000, 1600);
  write_wav(dir() / "empty.wav", 1, 16000, 0);
  std::ofstream(dir() / "notaudio.wav") << "hello";
  std::ofstream f(dir() / "turns.jsonl");
  for (const char* w : {"ok8k.wav", "stereo.wav", "empty.wav", "missing.wav", "notaudio.wav"})
    f << R"({"dialogue_id":")" << w << R"(","payload":{"audio":")" << w << "\"}}\n";
  f << "this is not json\n";
  f << R"({"dialogue_id":"nopayload"})" << "\n";
  f.close();
  auto src = open_turns(dir() / "turns.jsonl");
  EXPECT_EQ(src->size_hint(), 7u);
  auto turns = read_all(*src);
  ASSERT_EQ(turns.size(), 7u);  // nothing dropped
  EXPECT_TRUE(turns[0].input_error_code.empty()) << turns[0].input_error;
  EXPECT_EQ(turns[0].sample_rate, 8000u);  // resampling is the ASR's job
  EXPECT_EQ(turns[0].payload.size(), 1600u);
  EXPECT_EQ(turns[1].input_error_code, "A001");
  EXPECT_NE(turns[1].input_error.find("2 channels"), std::string::npos) << turns[1].input_error;
  EXPECT_EQ(turns[2].input_error_code, "A002");
  EXPECT_EQ(turns[3].input_error_code, "A004");
  EXPECT_NE(turns[3].input_error.find("missing.wav"), std::string::npos);
  EXPECT_EQ(turns[4].input_error_code, "A003");
  EXPECT_EQ(turns[5].input_error_code, "A006");
  EXPECT_NE(turns[5].input_error.find("turns.jsonl:6"), std::string::npos) << turns[5].input_error;
  EXPECT_EQ(turns[6].input_error_code, "A006");
  for (size_t i = 0; i < turns.size(); ++i) EXPECT_EQ(turns[i].turn_seq, i);
}

TEST(Inputs, AWavDirectoryGivesOneTurnPerFileInNameOrder) {
  const fs::path d = dir() / "wavs";
  fs::create_directories(d);
  write_wav(d / "b.wav", 1, 16000, 160);
  write_wav(d / "a.wav", 1, 16000, 320);
  write_wav(d / "c.wav", 2, 16000, 160);
  auto src = open_turns(d);
  auto turns = read_all(*src);
  ASSERT_EQ(turns.size(), 3u);
  EXPECT_EQ(turns[0].dialogue_id, "a");
  EXPECT_EQ(turns[0].payload.size(), 640u);
  EXPECT_EQ(turns[1].dialogue_id, "b");
  EXPECT_EQ(turns[2].input_error_code, "A001");
}

TEST(Inputs, AMissingTurnsFileIsA005) {
  try {
    open_turns(dir() / "nope.jsonl");
    FAIL();
  } catch (const CascadeError& e) {
    EXPECT_EQ(e.code(), "A005");
  }
}

namespace {

// A WAV file written byte by byte, so its header can lie: `claimed_bytes`
// goes into the data chunk's size, `samples` 16-bit samples follow.
void write_raw_wav(const fs::path& p, uint32_t rate, uint32_t claimed_bytes, size_t samples) {
  std::string b;
  auto u32 = [&](uint32_t v) { for (int i = 0; i < 4; ++i) b.push_back(static_cast<char>(v >> (8 * i))); };
  auto u16 = [&](uint16_t v) { for (int i = 0; i < 2; ++i) b.push_back(static_cast<char>(v >> (8 * i))); };
  b += "RIFF";
  u32(36 + claimed_bytes);
  b += "WAVEfmt ";
  u32(16);
  u16(1);  // PCM
  u16(1);  // mono
  u32(rate);
  u32(rate * 2);
  u16(2);
  u16(16);
  b += "data";
  u32(claimed_bytes);
  b.append(samples * 2, '\x10');
  std::ofstream(p, std::ios::binary) << b;
}

std::vector<TurnInput> read_lines(const fs::path& file, const std::vector<std::string>& lines) {
  {
    std::ofstream f(file, std::ios::binary);
    for (const auto& l : lines) f << l << "\n";
  }
  auto src = open_turns(file);
  EXPECT_EQ(src->size_hint(), lines.size());
  return read_all(*src);
}

}  // namespace

TEST(Inputs, WronglyTypedFieldsFailTheirTurnWithFileLineAndFieldAndTheRunGoesOn) {
  const fs::path file = dir() / "types.jsonl";
  const auto turns = read_lines(file, {
      R"({"dialogue_id":"good1","turn_index":3,"payload":{"text":"a"}})",
      R"({"dialogue_id":5,"payload":{"text":"b"}})",
      R"({"dialogue_id":"d","turn_index":"0","payload":{"text":"c"}})",
      R"({"dialogue_id":"d","turn_index":-1,"payload":{"text":"d"}})",
      R"({"dialogue_id":"d","turn_index":1.5,"payload":{"text":"e"}})",
      R"({"dialogue_id":"d","turn_index":4294967296,"payload":{"text":"f"}})",
      R"({"dialogue_id":"d","user_id":["u"],"payload":{"text":"g"}})",
      R"({"dialogue_id":"d","timestamp":7,"payload":{"text":"h"}})",
      R"({"dialogue_id":"d","payload":{"text":42}})",
      R"({"dialogue_id":"d","payload":{"audio":false}})",
      R"({"dialogue_id":"d","payload":"text"})",
      R"({"dialogue_id":"good2","turn_index":4294967295,"payload":{"text":"z"}})",
  });
  ASSERT_EQ(turns.size(), 12u);
  EXPECT_TRUE(turns[0].input_error_code.empty()) << turns[0].input_error;
  EXPECT_EQ(turns[0].turn_index, 3u);
  const char* fields[] = {"dialogue_id", "turn_index", "turn_index", "turn_index", "turn_index",
                          "user_id",     "timestamp",  "text",       "audio",      "payload"};
  for (size_t i = 1; i <= 10; ++i) {
    const std::string where = file.string() + ":" + std::to_string(i + 1) + ":";
    EXPECT_EQ(turns[i].input_error_code, i == 10 ? "A006" : "A008") << turns[i].input_error;
    EXPECT_EQ(turns[i].input_error.rfind(where, 0), 0u) << turns[i].input_error;
    EXPECT_NE(turns[i].input_error.find(std::string("\"") + fields[i - 1] + "\""), std::string::npos)
        << turns[i].input_error;
  }
  EXPECT_EQ(turns[1].dialogue_id, "line-2");  // the bad id is not used
  EXPECT_EQ(turns[3].dialogue_id, "d");       // a good id is kept on a failed turn
  EXPECT_NE(turns[3].input_error.find("the integer -1"), std::string::npos) << turns[3].input_error;
  EXPECT_NE(turns[4].input_error.find("the number 1.5"), std::string::npos) << turns[4].input_error;
  EXPECT_TRUE(turns[11].input_error_code.empty()) << turns[11].input_error;
  EXPECT_EQ(turns[11].turn_index, 4294967295u);
  EXPECT_EQ(turns[11].payload, "z");
}

TEST(Inputs, AJsonPayloadIsAJsonTurnAndAnythingButAnObjectOrArrayIsA008) {
  const fs::path file = dir() / "json.jsonl";
  const auto turns = read_lines(file, {
      R"({"dialogue_id":"d1","payload":{"json":{"text":"turn on the light","confidence":0.5}}})",
      R"({"dialogue_id":"d2","payload":{"json":"{\"text\":\"hi\"}"}})",
      R"({"dialogue_id":"d3","payload":{"json":null}})",
      R"({"dialogue_id":"d4","payload":{"words":"hi"}})",
      R"({"dialogue_id":"d5","payload":{"json":[1,2]}})",
  });
  ASSERT_EQ(turns.size(), 5u);
  EXPECT_TRUE(turns[0].input_error_code.empty()) << turns[0].input_error;
  EXPECT_EQ(turns[0].payload_type, static_cast<uint32_t>(CASCADE_PAYLOAD_JSON));
  EXPECT_EQ(turns[0].payload, R"({"confidence":0.5,"text":"turn on the light"})");
  for (size_t i : {1u, 2u}) {
    EXPECT_EQ(turns[i].input_error_code, "A008") << turns[i].input_error;
    EXPECT_EQ(turns[i].input_error.rfind(file.string() + ":" + std::to_string(i + 1) + ":", 0), 0u) << turns[i].input_error;
    EXPECT_NE(turns[i].input_error.find("\"json\" must be a JSON object or array"), std::string::npos) << turns[i].input_error;
  }
  EXPECT_EQ(turns[3].input_error_code, "A006");
  EXPECT_NE(turns[3].input_error.find("\"text\", \"audio\" or \"json\""), std::string::npos) << turns[3].input_error;
  EXPECT_TRUE(turns[4].input_error_code.empty()) << turns[4].input_error;
  EXPECT_EQ(turns[4].payload, "[1,2]");
}

TEST(Inputs, MalformedJsonNonUtf8AndBlankLinesAreCodedTurnsBetweenGoodOnes) {
  const fs::path file = dir() / "malformed.jsonl";
  const auto turns = read_lines(file, {
      R"({"dialogue_id":"good1","payload":{"text":"a"}})",
      R"({"dialogue_id":"x","payload":{"text":"b"})",
      "{\"dialogue_id\":\"x\",\"payload\":{\"text\":\"caf\xe9\"}}",
      "",
      "  \t\r",
      "[1,2]",
      "\"just a string\"",
      "{\"dialogue_id\":\"x\",\"payload\":{\"text\":\"\xed\xa0\x80\"}}",  // an encoded surrogate
      R"({"dialogue_id":"good2","payload":{"text":"caf\u00e9 ok"}})",
  });
  ASSERT_EQ(turns.size(), 9u);
  EXPECT_TRUE(turns[0].input_error_code.empty());
  EXPECT_EQ(turns[1].input_error_code, "A006");
  EXPECT_NE(turns[1].input_error.find("malformed JSON"), std::string::npos) << turns[1].input_error;
  EXPECT_EQ(turns[1].input_error.rfind(file.string() + ":2:", 0), 0u) << turns[1].input_error;
  EXPECT_EQ(turns[2].input_error_code, "A009");
  EXPECT_EQ(turns[2].input_error.rfind(file.string() + ":3:42:", 0), 0u) << turns[2].input_error;
  EXPECT_EQ(turns[3].input_error_code, "A006");
  EXPECT_NE(turns[3].input_error.find("empty line"), std::string::npos) << turns[3].input_error;
  EXPECT_EQ(turns[4].input_error_code, "A006");
  EXPECT_EQ(turns[5].input_error_code, "A006");
  EXPECT_NE(turns[5].input_error.find("array"), std::string::npos) << turns[5].input_error;
  EXPECT_EQ(turns[6].input_error_code, "A006");
  EXPECT_EQ(turns[7].input_error_code, "A009");
  EXPECT_TRUE(turns[8].input_error_code.empty()) << turns[8].input_error;
  EXPECT_EQ(turns[8].payload, "caf\xc3\xa9 ok");
}

TEST(Inputs, ALineOverTheLimitIsA013AndTheNextLineStillReads) {
  const fs::path file = dir() / "long.jsonl";
  {
    std::ofstream f(file, std::ios::binary);
    f << R"({"dialogue_id":"before","payload":{"text":")" << std::string(size_t{17} << 20, 'x') << "\"}}\n";
    f << R"({"dialogue_id":"after","payload":{"text":"b"}})";  // no final newline
  }
  auto src = open_turns(file);
  EXPECT_EQ(src->size_hint(), 2u);
  const auto turns = read_all(*src);
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_EQ(turns[0].input_error_code, "A013");
  EXPECT_EQ(turns[0].input_error.rfind(file.string() + ":1:", 0), 0u) << turns[0].input_error;
  EXPECT_TRUE(turns[1].input_error_code.empty()) << turns[1].input_error;
  EXPECT_EQ(turns[1].dialogue_id, "after");
}

TEST(Inputs, WavsWithAbsurdRatesOrLyingSizesAreA007) {
  std::string pcm;
  uint32_t rate = 0;
  auto code_of = [&](const fs::path& p) -> std::string {
    try {
      read_wav(p, pcm, rate);
      return "ok";
    } catch (const CascadeError& e) {
      return e.code() + " " + e.what();
    }
  };
  write_raw_wav(dir() / "one_hz.wav", 1, 2000, 1000);
  EXPECT_EQ(code_of(dir() / "one_hz.wav").substr(0, 4), "A007") << code_of(dir() / "one_hz.wav");
  write_raw_wav(dir() / "fast.wav", 2'000'000'000u, 2000, 1000);
  EXPECT_EQ(code_of(dir() / "fast.wav").substr(0, 4), "A007");
  // Two hours claimed at 16 kHz, two seconds present: read up to the end
  // of the file, memory follows what is there.
  write_raw_wav(dir() / "liar.wav", 16000, 16000u * 2 * 7200, 32000);
  EXPECT_EQ(code_of(dir() / "liar.wav"), "ok");
  EXPECT_EQ(pcm.size(), 64000u);
  // A header whose sizes say "unknown" (a stream written to a pipe).
  write_raw_wav(dir() / "stream.wav", 16000, 0xFFFFFFFFu, 1600);
  EXPECT_EQ(code_of(dir() / "stream.wav"), "ok");
  EXPECT_EQ(pcm.size(), 3200u);
  // Really longer than a turn may be: 30 min and a second at 4 kHz.
  write_raw_wav(dir() / "long.wav", 4000, 4000u * 2 * 1801, 4000u * 1801);
  EXPECT_EQ(code_of(dir() / "long.wav").substr(0, 4), "A007") << code_of(dir() / "long.wav");
  write_raw_wav(dir() / "honest.wav", 16000, 32000, 16000);
  EXPECT_EQ(code_of(dir() / "honest.wav"), "ok");
  EXPECT_EQ(pcm.size(), 32000u);
  EXPECT_EQ(rate, 16000u);
}

TEST(Inputs, JsonNestedTooDeepIsA006NotAStackOverflow) {
  const fs::path file = dir() / "deep.jsonl";
  const auto nested = [](size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  const auto turns = read_lines(file, {
      R"({"dialogue_id":"deep","gold":)" + nested(100000) + R"(,"payload":{"text":"a"}})",
      R"({"dialogue_id":"fine","gold":{"k":")" + std::string(1000, '[') + R"("},"payload":{"text":"b"}})",
      R"({"dialogue_id":"nested","gold":)" + nested(200) + R"(,"payload":{"text":"c"}})",
  });
  ASSERT_EQ(turns.size(), 3u);
  EXPECT_EQ(turns[0].input_error_code, "A006");
  EXPECT_NE(turns[0].input_error.find("nested deeper"), std::string::npos) << turns[0].input_error;
  EXPECT_TRUE(turns[1].input_error_code.empty()) << turns[1].input_error;  // brackets in a string
  EXPECT_TRUE(turns[2].input_error_code.empty()) << turns[2].input_error;
  EXPECT_EQ(turns[2].gold_json, nested(200));
}
