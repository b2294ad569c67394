// The analysis file: written, read back the same; bad files get coded errors
// with file:line.
#include <cascade/core/analysis_file.hpp>
#include <cascade/core/diagnostic.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace cascade;

namespace {
fs::path write_text(const std::string& name, const std::string& text) {
  const fs::path p = fs::temp_directory_path() / ("cascade_analysis_" + name);
  std::ofstream(p) << text;
  return p;
}
std::string code_of(const fs::path& p) {
  try {
    read_analysis(p);
  } catch (const CascadeError& e) {
    return e.code() + " " + e.what();
  }
  return "no error";
}
}  // namespace

TEST(AnalysisFile, RoundTripsLabelsEvidenceAndUnlabelledTurns) {
  AnalysisFile f;
  f.header.analyzer = "oracle";
  f.header.analyzer_version = "1.0.0";
  f.header.labels = {"asr", "correct"};
  f.header.traces = {"a.cas"};
  f.header.turns = 2;
  f.header.replays = 3;
  Verdict v;
  v.dialogue_id = "d1";
  v.user_id = "u1";
  v.turn_index = 2;
  v.turn_seq = 7;
  v.analyzed = true;
  v.label = "asr";
  v.score = 0.75;
  v.evidence = R"({"reason":"<script>","replays":[1,2]})";
  v.replays = 1;
  Verdict bad = v;
  bad.analyzed = false;
  bad.label.clear();
  bad.error = "the turn has no gold";
  bad.turn_seq = 8;
  f.lines = {{"a.cas", v}, {"a.cas", bad}};
  std::stringstream ss;
  write_analysis(ss, f);
  const fs::path p = write_text("roundtrip.jsonl", ss.str());
  const AnalysisFile back = read_analysis(p);
  EXPECT_EQ(back.header.analyzer, "oracle");
  EXPECT_EQ(back.header.labels, f.header.labels);
  EXPECT_EQ(back.header.replays, 3u);
  ASSERT_EQ(back.lines.size(), 2u);
  EXPECT_EQ(back.lines[0].verdict.label, "asr");
  EXPECT_DOUBLE_EQ(back.lines[0].verdict.score, 0.75);
  EXPECT_EQ(back.lines[0].verdict.turn_index, 2u);
  EXPECT_EQ(back.lines[0].verdict.evidence, R"({"reason":"<script>","replays":[1,2]})");
  EXPECT_FALSE(back.lines[1].verdict.analyzed);
  EXPECT_EQ(back.lines[1].verdict.error, "the turn has no gold");
}

TEST(AnalysisFile, BadFilesGetCodedErrorsWithTheLine) {
  EXPECT_EQ(code_of("/nonexistent/x.jsonl").substr(0, 4), "N010");
  EXPECT_EQ(code_of(write_text("empty.jsonl", "")).substr(0, 4), "N010");
  EXPECT_EQ(code_of(write_text("notjson.jsonl", "hello\n")).substr(0, 4), "N010");
  EXPECT_EQ(code_of(write_text("noheader.jsonl", "{\"a\":1}\n")).substr(0, 4), "N010");
  EXPECT_EQ(code_of(write_text("v2.jsonl", "{\"cascade_analysis\":2,\"analyzer\":\"x\"}\n")).substr(0, 4), "N011");
  const std::string head = "{\"cascade_analysis\":1,\"analyzer\":\"x\"}\n";
  const std::string bad_seq = code_of(write_text(
      "badseq.jsonl", head + "{\"trace\":\"t\",\"turn_seq\":-1,\"dialogue_id\":\"d\",\"turn_index\":0,\"label\":\"asr\",\"score\":1}\n"));
  EXPECT_EQ(bad_seq.substr(0, 4), "N012");
  EXPECT_NE(bad_seq.find("badseq.jsonl:2"), std::string::npos) << bad_seq;
  EXPECT_EQ(code_of(write_text("badlabel.jsonl", head + "{\"trace\":\"t\",\"turn_seq\":1,\"dialogue_id\":\"d\",\"turn_index\":0,\"label\":5}\n"))
                .substr(0, 4),
            "N012");
  EXPECT_EQ(code_of(write_text("cut.jsonl", head + "{\"trace\":\"t\",\"turn_se")).substr(0, 4), "N012");
}
