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
