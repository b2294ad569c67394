// index_test.cpp — the index, the analysis file and the queries against
// traces written by the real Writer (tests/synthetic.hpp): turns that
// straddle chunks of two interleaved workers read back exactly as
// read_turns() groups them; filters select what they say.
#include "query.hpp"
#include "synthetic.hpp"

#include <cascade/trace/tools.hpp>

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace cascade::ui {
namespace {

class Dir {
 public:
  Dir() : path_(std::filesystem::temp_directory_path() / ("cascade-ui-test-" + std::to_string(::getpid()) + "-" +
                                                           ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~Dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::filesystem::path operator/(const std::string& n) const { return path_ / n; }

 private:
  std::filesystem::path path_;
};

void write_file(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

Params params(std::map<std::string, std::string> m) {
  return [m = std::move(m)](const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? std::string() : it->second;
  };
}

std::vector<uint64_t> seqs(const nlohmann::json& list) {
  std::vector<uint64_t> out;
  for (const auto& r : list["rows"]) out.push_back(r["seq"].get<uint64_t>());
  return out;
}

TEST(ReaderSeek, PositionThenSeekReadsTheSameRecordAgain) {
  Dir dir;
  testing::write_synthetic(dir / "t.cas", {.turns = 60});
  trace::Reader r(dir / "t.cas");
  std::vector<std::pair<trace::RecordPosition, trace::Record>> seen;
  while (auto rec = r.next()) seen.emplace_back(r.position(), std::move(*rec));
  ASSERT_GT(seen.size(), 200U);
  EXPECT_NE(seen.front().first, seen.back().first) << "a small chunk size must give several chunks";
  trace::Reader again(dir / "t.cas");
  const auto& [at, record] = seen[seen.size() / 2];
  again.seek(at);
  bool found = false;
  while (auto rec = again.next()) {
    ASSERT_EQ(again.position(), at) << "records of the chunk sought come first";
    if (*rec == record) {
      found = true;
      break;
    }
  }
  EXPECT_TRUE(found);
  EXPECT_THROW(again.seek({7, 0}), trace::TraceError);
}

TEST(TraceIndex, EveryTurnReadsBackAsReadTurnsGroupsIt) {
  Dir dir;
  testing::write_synthetic(dir / "t.cas", {.turns = 300});
  TraceIndex index(dir / "t.cas");
  index.start();
  index.wait();
  const auto all = trace::read_turns(dir / "t.cas");
  ASSERT_EQ(all.turns.size(), 300U);
  EXPECT_EQ(index.progress().rows, 300U);
  for (const auto& expected : all.turns) {
    const auto got = index.load_turn(expected.id.turn_seq);
    ASSERT_TRUE(got.has_value()) << expected.id.turn_seq;
    EXPECT_EQ(trace::to_json(*got), trace::to_json(expected)) << expected.id.turn_seq;
  }
  EXPECT_FALSE(index.load_turn(12345).has_value());
  index.with_rows([](const IndexView& v) {
    ASSERT_EQ(v.stage_names, (std::vector<std::string>{"speech", "asr", "nlu", "result"}));
    for (const auto& row : v.rows) {
      EXPECT_EQ(row.fail_stage == 2, row.seq % 7 == 3) << row.seq;
      EXPECT_EQ(row.snr_db, (row.seq / 3) % 2 == 0 ? 20 : 60) << row.seq;
      if (row.seq == 5) {
        EXPECT_EQ(v.row_text(row), "<script>alert(1)</script>");
      }
    }
  });
}

TEST(Analysis, BadLinesAreReportedWithTheirLineAndSkipped) {
  Dir dir;
  write_file(dir / "a.jsonl",
             R"({"cascade_analysis": 1, "analyzer": "test", "traces": ["t.cas"], "classes": ["asr","nlu","correct"]})"
             "\n"
             R"({"turn_seq": 3, "dialogue_id": "d1", "turn_index": 0, "label": "nlu", "score": 0.8, "evidence": {"why": "x"}})"
             "\n{not json\n"
             R"({"turn_seq": "three", "label": "asr"})"
             "\n"
             R"({"turn_seq": 4, "label": "other", "score": 0.1})"
             "\n");
  const auto a = Analysis::load(dir / "a.jsonl");
  ASSERT_EQ(a.size(), 2U);
  ASSERT_EQ(a.diagnostics().size(), 2U);
  EXPECT_EQ(a.diagnostics()[0].format(), (dir / "a.jsonl").string() + ":3: error[U002]: not a JSON object; line skipped");
  EXPECT_EQ(a.diagnostics()[1].code, "U003");
  EXPECT_EQ(a.diagnostics()[1].line, 4U);
  ASSERT_NE(a.find(0, 3), nullptr);
  EXPECT_EQ(a.classes()[a.find(0, 3)->label], "nlu");
  EXPECT_EQ(nlohmann::json::parse(a.line(*a.find(0, 3)))["evidence"]["why"], "x");
  EXPECT_EQ(a.classes()[a.find(0, 4)->label], "other");
  write_file(dir / "bad.jsonl", "{\"turn_seq\": 1}\n");
  try {
    (void)Analysis::load(dir / "bad.jsonl");
    FAIL() << "a file without the analysis header must be refused";
  } catch (const UiError& e) {
    EXPECT_EQ(e.code(), "U001");
  }
}

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::write_synthetic(dir / "t.cas", {.turns = 70});
    testing::write_synthetic(dir / "h.cas", {.turns = 10, .audio = trace::AudioMode::Hash});
    std::string analysis = R"({"cascade_analysis": 1, "analyzer": "test", "traces": ["t.cas"], "classes": ["asr","nlu","correct"]})"
                           "\n";
    for (int seq = 0; seq < 70; ++seq)
      analysis += R"({"turn_seq": )" + std::to_string(seq) + R"(, "label": ")" + (seq % 10 == 1 ? "asr" : "correct") +
                  R"(", "score": 0.5, "evidence": {}})" "\n";
    write_file(dir / "a.jsonl", analysis);
    catalog = std::make_unique<Catalog>(std::vector<std::filesystem::path>{dir / "t.cas", dir / "h.cas"},
                                        Analysis::load(dir / "a.jsonl"), "p.toml");
    catalog->start();
    catalog->trace(0).wait();
    catalog->trace(1).wait();
  }
  Dir dir;
  std::unique_ptr<Catalog> catalog;
};

TEST_F(CatalogTest, FiltersSelectWhatTheySay) {
  EXPECT_EQ(catalog->list(params({}))["total"], 70);
  EXPECT_EQ(seqs(catalog->list(params({{"label", "asr"}}))), (std::vector<uint64_t>{1, 11, 21, 31, 41, 51, 61}));
  EXPECT_EQ(seqs(catalog->list(params({{"stage", "nlu"}, {"status", "error"}}))),
            (std::vector<uint64_t>{3, 10, 17, 24, 31, 38, 45, 52, 59, 66}));
  EXPECT_EQ(catalog->list(params({{"code", "17"}}))["total"], 10);
  EXPECT_EQ(seqs(catalog->list(params({{"dialogue", "d2"}}))), (std::vector<uint64_t>{6, 7, 8}));
  EXPECT_EQ(seqs(catalog->list(params({{"q", "<SCRIPT>"}}))), (std::vector<uint64_t>{5}));
  // asr confidence is 0.5 + (seq % 5) / 10
  EXPECT_EQ(catalog->list(params({{"stage", "asr"}, {"cmin", "0.85"}}))["total"], 14);
  const auto slow = seqs(catalog->list(params({{"sort", "lat_desc"}, {"limit", "3"}})));
  EXPECT_EQ(slow, (std::vector<uint64_t>{9, 19, 29}));
  EXPECT_THROW((void)catalog->list(params({{"code", "x"}})), BadRequest);
  EXPECT_THROW((void)catalog->list(params({{"trace", "2"}})), NotFound);
}

TEST_F(CatalogTest, TurnAudioAndSummary) {
  const auto t = catalog->turn(params({{"seq", "3"}}));
  EXPECT_EQ(t["failure_point"], "correct");
  EXPECT_EQ(t["analysis"]["label"], "correct");
  EXPECT_EQ(t["replay"], "cascade replay " + (dir / "t.cas").string() + " -p p.toml -o replay.cas --turns seq=3");
  EXPECT_EQ(t["edges"], nlohmann::json::parse(R"([["input","speech"],["speech","asr"],["asr","nlu"]])"));
  const auto wav = catalog->audio(params({{"seq", "3"}, {"stage", "speech"}, {"side", "out"}, {"port", "audio"}}));
  EXPECT_EQ(wav.substr(0, 4), "RIFF");
  EXPECT_EQ(wav.size(), 44U + 3200U);
  EXPECT_THROW((void)catalog->audio(params({{"trace", "1"}, {"seq", "3"}, {"stage", "speech"}, {"side", "out"},
                                            {"port", "audio"}})),
               NotFound);
  const auto s = catalog->summary(params({}));
  EXPECT_EQ(s["failure_points"]["asr"], 7);
  EXPECT_EQ(s["failure_points"]["correct"], 63);
  EXPECT_EQ(s["latency"][0]["stage"], "speech");
  EXPECT_EQ(s["latency"][0]["count"], 70);
  const auto hashed = catalog->summary(params({{"trace", "1"}}));
  EXPECT_EQ(hashed["source"], "first failing stage");
  EXPECT_EQ(hashed["failure_points"]["nlu"], 1);  // of seqs 0-9 only seq 3 fails
}

}  // namespace
}  // namespace cascade::ui
