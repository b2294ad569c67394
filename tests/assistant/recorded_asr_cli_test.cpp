// docs/recorded-asr.md, command by command, on the sample of SLURP devel
// records with a recorded transcript (plugins/language/data/testdata/):
//   cascade-assistant-data --asr-field ...   -> turns with the hypothesis and gold
//   cascade run pipelines/assistant-recorded-asr.toml -> every turn runs, traced
//   cascade trace cat --where stage=asr      -> the asr records carry the hypotheses
//   cascade eval report --json               -> reads the trace and scores it
//   cascade replay --substitute asr=gold     -> the same turns with perfect recognition
//   cascade isolate --oracle / --isolator    -> every turn labelled; `learned`
//                                               with -p replays the alternatives
// The real binaries, plugins and shipped models: nothing is mocked.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct Ran {
  int exit = -1;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(json::parse(l));
  return out;
}

class RecordedAsrCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = fs::temp_directory_path() / ("cascade_recorded_asr_" + std::to_string(::getpid()));
    fs::create_directories(work_);
  }
  static void TearDownTestSuite() { fs::remove_all(work_); }

  static std::string q(const fs::path& p) { return "'" + p.string() + "'"; }
  static Ran run(const std::string& cmd) {
    const fs::path out = work_ / "stdout", err = work_ / "stderr";
    const int rc = std::system((cmd + " >" + q(out) + " 2>" + q(err)).c_str());
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(out), slurp(err)};
  }
  static std::string make_turns(const std::string& extra) {
    return std::string(CASCADE_ASSISTANT_DATA) + " --asr-field asr_text --asr-confidence-field asr_confidence" +
           " --asr-nbest-field asr_nbest --input " + q(CASCADE_RECORDED_ASR_SAMPLE) + " --catalog " +
           q(fs::path(DATA_DIR) / "catalog.json") + " --output " + q(work_ / "turns.jsonl") + extra;
  }
  // Builds the turns and runs the pipeline over them once for every test.
  static const Ran& pipeline_run() {
    static const Ran r = [] {
      EXPECT_EQ(run(make_turns(" --allow-skipped")).exit, 0);
      return run(std::string(CASCADE_CLI) + " run " + q(fs::path(SOURCE_DIR) / "pipelines/assistant-recorded-asr.toml") +
                 " -i " + q(work_ / "turns.jsonl") + " -o " + q(work_ / "results.jsonl") + " --trace " +
                 q(work_ / "recorded.cas") + " --quiet");
    }();
    return r;
  }
  static inline fs::path work_;
};

TEST_F(RecordedAsrCli, BuildingTurnsReportsTheRecordWithoutATranscriptAndFailsUnlessAllowed) {
  const Ran strict = run(make_turns(""));
  EXPECT_EQ(strict.exit, 1) << strict.err;
  EXPECT_NE(strict.err.find(std::string(CASCADE_RECORDED_ASR_SAMPLE) + ":13: error[A014]: no recogniser transcript"),
            std::string::npos)
      << strict.err;
  EXPECT_NE(strict.out.find("20 records, 19 turns (17 with confidence, 3 with n-best), 1 skipped"), std::string::npos)
      << strict.out;
  EXPECT_EQ(json_lines(slurp(work_ / "turns.jsonl")).size(), 19u);  // written either way
  const Ran allowed = run(make_turns(" --allow-skipped"));
  EXPECT_EQ(allowed.exit, 0) << allowed.err;
  EXPECT_NE(allowed.err.find(":13: error[A014]"), std::string::npos) << "still reported: " << allowed.err;
}

// Logs that keep a transcript per recording, nested: a JSON pointer with a
// "*" makes a turn per recording, and those turns run like any other.
TEST_F(RecordedAsrCli, APointerWithAStarMakesATurnPerRecordingThatRuns) {
  const fs::path nested = work_ / "nested.jsonl";
  {
    std::ifstream in(CASCADE_RECORDED_ASR_SAMPLE);
    std::ofstream out(nested);
    for (std::string l; std::getline(in, l);) {
      json r = json::parse(l);
      json first{{"file", "close.flac"}, {"hyp", json::object()}};
      if (r.contains("asr_text")) first["hyp"]["text"] = r["asr_text"];
      if (r.contains("asr_confidence")) first["hyp"]["conf"] = r["asr_confidence"];
      r["recordings"] = json::array({first, {{"file", "far.flac"}, {"hyp", {{"text", r["sentence"]}}}}});
      for (const char* k : {"asr_text", "asr_confidence", "asr_nbest"}) r.erase(k);
      out << r.dump() << "\n";
    }
  }
  const std::string tool = std::string(CASCADE_ASSISTANT_DATA) + " --input " + q(nested) + " --catalog " +
                           q(fs::path(DATA_DIR) / "catalog.json") + " --output " + q(work_ / "nested-turns.jsonl") +
                           " --asr-field '/recordings/*/hyp/text'";
  const Ran built = run(tool + " --asr-confidence-field '/recordings/*/hyp/conf' --allow-skipped");
  ASSERT_EQ(built.exit, 0) << built.err;
  EXPECT_NE(built.out.find("20 records, 39 turns (17 with confidence, 0 with n-best), 1 skipped"), std::string::npos)
      << built.out;
  EXPECT_NE(built.err.find(":13: error[A014]: no recogniser transcript: field \"/recordings/0/hyp/text\" is missing; "
                           "element skipped"),
            std::string::npos)
      << built.err;
  const auto turns = json_lines(slurp(work_ / "nested-turns.jsonl"));
  ASSERT_EQ(turns.size(), 39u);
  EXPECT_EQ(turns[0]["asr_field"], "/recordings/0/hyp/text");
  EXPECT_EQ(turns[1]["asr_field"], "/recordings/1/hyp/text");
  EXPECT_EQ(turns[0]["slurp_id"], turns[1]["slurp_id"]);
  const Ran ran = run(std::string(CASCADE_CLI) + " run " + q(fs::path(SOURCE_DIR) / "pipelines/assistant-recorded-asr.toml") +
                      " -i " + q(work_ / "nested-turns.jsonl") + " -o " + q(work_ / "nested-results.jsonl") + " --quiet");
  ASSERT_EQ(ran.exit, 0) << ran.err;
  const auto results = json_lines(slurp(work_ / "nested-results.jsonl"));
  ASSERT_EQ(results.size(), 39u);
  for (const auto& line : results) EXPECT_EQ(line["status"], "ok") << line;
  // A confidence whose "*" runs over another array than the transcript's is a usage error.
  const Ran misfit = run(tool + " --asr-confidence-field '/other/*/conf'");
  EXPECT_EQ(misfit.exit, 2) << misfit.err;
  EXPECT_NE(misfit.err.find("runs \"*\" over another array"), std::string::npos) << misfit.err;
}

TEST_F(RecordedAsrCli, EveryTurnRunsThroughTheRecordedAsrPipeline) {
  const Ran& r = pipeline_run();
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  const auto results = json_lines(slurp(work_ / "results.jsonl"));
  ASSERT_EQ(results.size(), 19u);
  for (const auto& line : results) EXPECT_EQ(line["status"], "ok") << line;
}

TEST_F(RecordedAsrCli, TheTracesAsrRecordsCarryTheRecordedHypotheses) {
  ASSERT_EQ(pipeline_run().exit, 0);
  std::map<std::string, json> hyp_by_turn;  // "<dialogue>/<turn>" -> payload.json
  for (const auto& t : json_lines(slurp(work_ / "turns.jsonl")))
    hyp_by_turn[t["dialogue_id"].get<std::string>() + "/" + std::to_string(t["turn_index"].get<int>())] =
        t["payload"]["json"];
  ASSERT_EQ(hyp_by_turn.size(), 19u);
  const Ran cat = run(std::string(CASCADE_CLI) + " trace cat " + q(work_ / "recorded.cas") + " --where stage=asr");
  ASSERT_EQ(cat.exit, 0) << cat.err;
  const auto records = json_lines(cat.out);
  ASSERT_EQ(records.size(), 19u);
  size_t confident = 0, with_nbest = 0;
  for (const auto& rec : records) {
    const json& hyp = hyp_by_turn.at(rec["dialogue"].get<std::string>() + "/" + std::to_string(rec["turn"].get<int>()));
    EXPECT_EQ(rec["plugin"], "recorded_asr");
    EXPECT_EQ(rec["status"], "ok") << rec["error_message"];
    json text;
    for (const auto& o : rec["outputs"])
      if (o["port"] == "text") text = o["text"];
    EXPECT_EQ(text, hyp["text"]) << rec;
    if (hyp.contains("confidence")) {
      EXPECT_EQ(rec["confidence"], hyp["confidence"]) << rec;
      ++confident;
    } else {
      EXPECT_TRUE(rec["confidence"].is_null()) << rec;
    }
    if (hyp.contains("nbest")) {
      EXPECT_EQ(rec["nbest"], hyp["nbest"]) << rec;
      ++with_nbest;
    } else {
      EXPECT_TRUE(rec["nbest"].empty()) << rec;
    }
  }
  EXPECT_EQ(confident, 17u);
  EXPECT_EQ(with_nbest, 3u);
}

TEST_F(RecordedAsrCli, EvalReportReadsTheTraceAndSeesTheRecordedErrors) {
  ASSERT_EQ(pipeline_run().exit, 0);
  const Ran report = run(std::string(CASCADE_CLI) + " eval report " + q(work_ / "recorded.cas") + " --json");
  ASSERT_EQ(report.exit, 0) << report.err;
  const json j = json::parse(report.out);
  EXPECT_EQ(j["turns"], 19);
  EXPECT_EQ(j["addressed"], 19);
  ASSERT_TRUE(j["wer"].is_number()) << j;
  // The sample perturbs 10 of the 19 transcripts (dropped and substituted
  // words); "alexa" before one request is dropped by the judge, not an error.
  EXPECT_GT(j["wer"].get<double>(), 0.05) << j;
  EXPECT_LT(j["wer"].get<double>(), 0.5) << j;
  ASSERT_TRUE(j["intent_accuracy"].is_number()) << j;
  EXPECT_GT(j["intent_accuracy"].get<double>(), 0.0);
  EXPECT_TRUE(j["wake_hit_rate"].is_null()) << "no wake stage: " << j;
}

TEST_F(RecordedAsrCli, ReplayWithTheGoldTranscriptGivesThePerfectRecogniserBaseline) {
  ASSERT_EQ(pipeline_run().exit, 0);
  const Ran replay = run(std::string(CASCADE_CLI) + " replay " + q(work_ / "recorded.cas") + " -p " +
                         q(fs::path(SOURCE_DIR) / "pipelines/assistant-recorded-asr.toml") + " -o " +
                         q(work_ / "gold-asr.cas") + " --substitute asr=gold");
  ASSERT_EQ(replay.exit, 0) << replay.err;
  const Ran report = run(std::string(CASCADE_CLI) + " eval report " + q(work_ / "gold-asr.cas") + " --json");
  ASSERT_EQ(report.exit, 0) << report.err;
  const json j = json::parse(report.out);
  EXPECT_EQ(j["turns"], 19);
  EXPECT_EQ(j["wer"], 0.0) << j;
}

// docs/recorded-asr.md steps 5 and 6: the oracle labels every recorded
// turn (the other system's recogniser errors among them), and an isolator
// is scored against it.
TEST_F(RecordedAsrCli, IsolateLabelsEveryTurn) {
  ASSERT_EQ(pipeline_run().exit, 0);
  const std::string pipeline = q(fs::path(SOURCE_DIR) / "pipelines/assistant-recorded-asr.toml");
  const Ran oracle = run(std::string(CASCADE_CLI) + " isolate " + q(work_ / "recorded.cas") + " --oracle -p " + pipeline +
                         " -q --json -o " + q(work_ / "oracle.jsonl"));
  ASSERT_EQ(oracle.exit, 0) << oracle.err;
  const json o = json::parse(oracle.out);
  EXPECT_EQ(o["turns"], 19);
  EXPECT_EQ(o["analyzed"], 19) << o;
  // Ten transcripts are perturbed: some of those turns fail at the recogniser.
  EXPECT_GT(o["labels"].value("asr", 0), 0) << o;
  const Ran rules = run(std::string(CASCADE_CLI) + " isolate " + q(work_ / "recorded.cas") +
                        " --isolator rules -q --json --against " + q(work_ / "oracle.jsonl") + " -o " +
                        q(work_ / "rules.jsonl"));
  ASSERT_EQ(rules.exit, 0) << rules.err;
  const json r = json::parse(rules.out);
  EXPECT_EQ(r["scores"]["turns"], 19) << r;
  EXPECT_TRUE(r["accuracy"].is_number());
}

}  // namespace

namespace {

// The `alt_*` features of every turn of a `learned` analysis file (mode
// features), by "dialogue/turn", with the replays the host counted.
struct AltFeatures {
  json replayed, same_result, first_same;
  uint32_t replays = 0;
};
std::map<std::string, AltFeatures> alt_features(const fs::path& analysis) {
  std::map<std::string, AltFeatures> out;
  const auto lines = json_lines(slurp(analysis));
  for (size_t i = 1; i < lines.size(); ++i) {  // line 0: the header
    const json& v = lines[i];
    const json& e = v["evidence"];
    if (!e.contains("features")) continue;
    AltFeatures a;
    for (size_t k = 0; k < e["feature_names"].size(); ++k) {
      const std::string name = e["feature_names"][k];
      if (name == "alt_replayed") a.replayed = e["features"][k];
      if (name == "alt_same_result") a.same_result = e["features"][k];
      if (name == "alt_first_same") a.first_same = e["features"][k];
    }
    a.replays = v.value("replays", 0u);
    out[v["dialogue_id"].get<std::string>() + "/" + std::to_string(v["turn_index"].get<int>())] = a;
  }
  return out;
}

}  // namespace

// learned/alternatives.hpp: with the pipeline (-p), `learned` replays each
// turn's other recorded hypotheses and says whether they lead to the
// recorded result. Checked against the pipeline itself: each alternative
// run as a turn of its own must give the recorded result exactly when the
// plugin said so.
TEST_F(RecordedAsrCli, LearnedReplaysTheRecognisersAlternatives) {
  ASSERT_EQ(pipeline_run().exit, 0);
  const std::string pipeline = q(fs::path(SOURCE_DIR) / "pipelines/assistant-recorded-asr.toml");
  const Ran with = run(std::string(CASCADE_CLI) + " isolate " + q(work_ / "recorded.cas") +
                       " --isolator learned --param mode=features -p " + pipeline + " -q -o " + q(work_ / "alt.jsonl"));
  ASSERT_EQ(with.exit, 0) << with.err;
  const auto features = alt_features(work_ / "alt.jsonl");

  // The turns with an n-best, each run again with its second hypothesis as
  // the recorded one.
  std::map<std::string, json> recorded_result;
  for (const json& r : json_lines(slurp(work_ / "results.jsonl")))
    recorded_result[r["dialogue_id"].get<std::string>() + "/" + std::to_string(r["turn_index"].get<int>())] = r["result"];
  std::ofstream alt_turns(work_ / "alt-turns.jsonl");
  size_t with_nbest = 0;
  for (json t : json_lines(slurp(work_ / "turns.jsonl"))) {
    const json& nbest = t["payload"]["json"].value("nbest", json::array());
    if (nbest.size() < 2) continue;
    ++with_nbest;
    t["payload"]["json"] = {{"text", nbest[1]["text"]}};
    alt_turns << t.dump() << "\n";
  }
  alt_turns.close();
  ASSERT_EQ(with_nbest, 3u) << "the sample has three records with an n-best";
  const Ran alt_run = run(std::string(CASCADE_CLI) + " run " + pipeline + " -i " + q(work_ / "alt-turns.jsonl") + " -o " +
                          q(work_ / "alt-results.jsonl") + " --quiet");
  ASSERT_TRUE(alt_run.exit == 0 || alt_run.exit == 1) << alt_run.err;

  size_t checked = 0, same = 0;
  for (const json& r : json_lines(slurp(work_ / "alt-results.jsonl"))) {
    const std::string key = r["dialogue_id"].get<std::string>() + "/" + std::to_string(r["turn_index"].get<int>());
    ASSERT_TRUE(features.count(key)) << key;
    const AltFeatures& a = features.at(key);
    ASSERT_EQ(a.replayed, 1) << key << ": one alternative, one replay";
    EXPECT_EQ(a.replays, 1u) << key;
    const bool same_result = r["result"] == recorded_result.at(key);
    EXPECT_EQ(a.first_same, same_result ? 1 : 0) << key << ": " << r["result"] << " vs " << recorded_result.at(key);
    EXPECT_EQ(a.same_result, same_result ? 1 : 0) << key;
    same += same_result ? 1 : 0;
    ++checked;
  }
  EXPECT_EQ(checked, 3u);
  EXPECT_GT(same, 0u) << "an alternative that changes nothing (\"... at six am tomorrow\")";
  EXPECT_LT(same, 3u) << "an alternative that changes the request (\"prepare coffee\" for \"prepare toffee\")";
  size_t replayed = 0;
  for (const auto& [key, a] : features) replayed += a.replayed.is_null() ? 0 : 1;
  EXPECT_EQ(replayed, 3u) << "a turn without alternatives replays nothing";

  // `cascade isolate train` extracts the same features: with -p it replays too.
  const Ran train = run(std::string(CASCADE_CLI) + " isolate train " + q(work_ / "recorded.cas") + " -p " + pipeline +
                        " --out " + q(work_ / "model.json"));
  ASSERT_EQ(train.exit, 0) << train.err;
  EXPECT_NE(train.err.find("features: 3 replays of ASR alternatives"), std::string::npos) << train.err;

  // Without a pipeline there is nothing to replay through: missing, not 0.
  const Ran without = run(std::string(CASCADE_CLI) + " isolate " + q(work_ / "recorded.cas") +
                          " --isolator learned --param mode=features -q -o " + q(work_ / "no-alt.jsonl"));
  ASSERT_EQ(without.exit, 0) << without.err;
  for (const auto& [key, a] : alt_features(work_ / "no-alt.jsonl")) {
    EXPECT_TRUE(a.replayed.is_null() && a.same_result.is_null() && a.first_same.is_null()) << key;
    EXPECT_EQ(a.replays, 0u) << key;
  }
}
