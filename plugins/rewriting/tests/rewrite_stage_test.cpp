// The `rewrite` stage: through the SDK harness, then in a real pipeline
// run by `cascade run` whose trace must hold both texts, and which
// `cascade rewrite build` must then hold out as deployed traffic.
#include "rewrite/build.hpp"
#include "table/table.hpp"
#include "tests/trace_fixture.hpp"

#include <cascade/sdk/testing.hpp>
#include <cascade/trace/reader.hpp>

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace cascade::rewriting {
namespace {

using cascade::sdk::Status;
using cascade::sdk::testing::Harness;
using cascade::sdk::testing::Value;
using testing_support::ScratchDir;

// A table with the guide's rewrite; returns the path and, via `id`, its identity.
std::filesystem::path write_sample_table(const ScratchDir& dir, std::string* id = nullptr) {
  RewriteTable t;
  t.min_gain = 0.1;
  t.min_support = 3;
  t.rewrites.push_back({"play maj and dragons", "play imagine dragons", 10, 20, 0.715, 0.95, 0.665});
  const auto path = dir.path / "rewrites.json";
  const std::string written = write_table(t, path);
  if (id != nullptr) *id = written;
  return path;
}

TEST(RewriteStage, RewritesAKnownRequestAndRecordsBothTexts) {
  ScratchDir dir("stage");
  std::string id;
  const auto table = write_sample_table(dir, &id);
  auto h = Harness::load(REWRITE_SO, {{"table", table.string()}});
  const auto r = h->run({{"text", Value::text("Play  Maj and Dragons")}});
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  EXPECT_EQ(r.outputs.at("text").bytes, "play imagine dragons");
  EXPECT_EQ(r.text_features.at("original_text"), "Play  Maj and Dragons");
  EXPECT_EQ(r.text_features.at("rewritten_by"), id);
  EXPECT_NEAR(r.features.at("rewrite_gain"), 0.235, 1e-12);
}

TEST(RewriteStage, ForwardsAnythingElseUntouchedAndRecordsNothing) {
  ScratchDir dir("stage-forward");
  auto h = Harness::load(REWRITE_SO, {{"table", write_sample_table(dir).string()}});
  const auto r = h->run({{"text", Value::text("play abba")}});
  ASSERT_EQ(r.status, Status::Ok) << r.error;
  EXPECT_EQ(r.outputs.at("text").bytes, "play abba");
  EXPECT_EQ(r.forwards, 1u);
  EXPECT_TRUE(r.text_features.empty());
}

TEST(RewriteStage, RefusesToOpenWithoutATableOrWithABadOne) {
  try {
    Harness::load(REWRITE_SO);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("'table' is required"), std::string::npos) << e.what();
  }
  ScratchDir dir("stage-bad");
  std::ofstream(dir.path / "v2.json") << "{\"cascade_rewrites\": 2}";
  try {
    Harness::load(REWRITE_SO, {{"table", (dir.path / "v2.json").string()}});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("error[W004]"), std::string::npos) << e.what();
  }
}

// normalize (in the asr slot) -> rewrite -> normalize (in the nlu slot,
// standing in for the NLU: it has the same input port), traced.
constexpr const char* kPipeline = R"(
[pipeline]
name = "rewrite-e2e"
version = "1.0.0"

[run]
threads = 1

[[stages]]
id = "asr"
plugin = "normalize"
inputs = { text = "input.text" }

[[stages]]
id = "rewrite"
plugin = "rewrite"
inputs = { text = "asr.text" }
params = { table = "rewrites.json" }

[[stages]]
id = "nlu"
plugin = "normalize"
inputs = { text = "rewrite.text" }
)";

TEST(RewriteStage, InAPipelineTheTraceKeepsBothTextsAndTheBuilderHoldsTheTurnOut) {
  ScratchDir dir("e2e");
  std::string id;
  write_sample_table(dir, &id);
  std::ofstream(dir.path / "p.toml") << kPipeline;
  std::ofstream(dir.path / "turns.jsonl")
      << R"({"dialogue_id":"d1","turn_index":0,"timestamp":"2026-01-15T09:00:00Z","payload":{"text":"Play maj and dragons!"}})"
      << "\n"
      << R"({"dialogue_id":"d2","turn_index":0,"timestamp":"2026-01-15T09:00:00Z","payload":{"text":"play abba"}})"
      << "\n";
  const auto trace_path = dir.path / "run.cas";
  // The table path in the config is relative: run from the scratch directory.
  const std::string cmd = "cd " + dir.path.string() + " && " + CASCADE_BINARY + " --plugin-path " +
                          CASCADE_PLUGIN_DIR + " run p.toml -i turns.jsonl -o results.jsonl --trace run.cas" +
                          " >out.txt 2>err.txt";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;

  const auto data = trace::read_turns(trace_path);
  const trace::Turn* rewritten = data.find("d1", 0);
  ASSERT_NE(rewritten, nullptr);
  const trace::StageRecord* stage = rewritten->stage("rewrite");
  ASSERT_NE(stage, nullptr);
  EXPECT_EQ(stage->input("text")->text(), "play maj and dragons");
  EXPECT_EQ(stage->output("text")->text(), "play imagine dragons");
  EXPECT_EQ(stage->text_feature("original_text"), "play maj and dragons");
  EXPECT_EQ(stage->text_feature("rewritten_by"), id);
  EXPECT_EQ(rewritten->stage("nlu")->input("text")->text(), "play imagine dragons");
  const trace::Turn* untouched = data.find("d2", 0);
  ASSERT_NE(untouched, nullptr);
  EXPECT_FALSE(untouched->stage("rewrite")->text_feature("rewritten_by").has_value());

  const BuildResult r = build_rewrites({trace_path}, {{0.1, 1}, 300});
  EXPECT_EQ(r.table.sessions, 1u);  // d2 only
  EXPECT_EQ(r.table.held_out_sessions, 1u);
  ASSERT_EQ(r.table.deployed.size(), 1u);
  EXPECT_EQ(r.table.deployed[0].from, "play maj and dragons");
  EXPECT_EQ(r.table.deployed[0].to, "play imagine dragons");
  EXPECT_EQ(r.table.deployed[0].rewritten_by, id);
}

#ifdef CASCADE_REWRITE_PIPELINE
TEST(RewriteStage, TheShippedPipelineValidatesWithTheRewriteStageBetweenAsrAndNlu) {
  ScratchDir dir("shipped");
  const std::string cascade = std::string(CASCADE_BINARY) + " --plugin-path " + CASCADE_PLUGIN_DIR;
  const auto out = dir.path / "out.txt";
  const std::string validate = cascade + " validate " + CASCADE_REWRITE_PIPELINE + " >" + out.string() + " 2>&1";
  ASSERT_EQ(std::system(validate.c_str()), 0) << validate;
  const std::string graph = cascade + " graph " + CASCADE_REWRITE_PIPELINE + " >" + out.string();
  ASSERT_EQ(std::system(graph.c_str()), 0) << graph;
  std::ifstream dot(out);
  std::stringstream text;
  text << dot.rdbuf();
  EXPECT_NE(text.str().find("\"asr\" -> \"rewrite\" [label=\"text\"]"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("\"rewrite\" -> \"nlu\" [label=\"text\"]"), std::string::npos) << text.str();
}
#endif

}  // namespace
}  // namespace cascade::rewriting
