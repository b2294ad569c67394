// Replay through the library: an unchanged deterministic pipeline
// reproduces every output byte for byte; --from feeds recorded outputs;
// gold substitution; a changed parameter shows up in diff at its stage.
#include <cascade/core/replay.hpp>
#include <cascade/core/run.hpp>
#include <cascade/trace/reader.hpp>
#include <cascade/trace/tools.hpp>
#include <cascade/trace/writer.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace cascade;

namespace {

const fs::path kDag = fs::path(SOURCE_DIR) / "pipelines" / "dag-example.toml";

fs::path tmp(const std::string& name) {
  return fs::temp_directory_path() / ("cascade_replay_test_" + std::to_string(::getpid()) + "_" + name);
}

LoadedPipeline load(const std::vector<std::string>& overrides = {}) {
  return load_pipeline(kDag, overrides, {BUILTIN_PLUGIN_DIR}).take();
}

// Runs `source` through `plan` into a trace at `out`.
RunSummary run_into(const PipelinePlan& plan, TurnSource& source, const fs::path& out) {
  trace::Writer w({.path = out});
  Engine e(plan, {.threads = 2, .trace = &w});
  RunOptions ro;
  ro.trace = &w;
  ro.max_in_flight = 7;  // several batches
  auto s = run_turns(e, source, ro);
  w.close();
  return s;
}

fs::path record_original() {
  const fs::path turns = tmp("turns.jsonl");
  std::ofstream f(turns);
  for (int i = 0; i < 40; ++i)
    f << R"({"dialogue_id":"d)" << i << R"(","user_id":"u","turn_index":0,"payload":{"text":"Please Turn number )" << i
      << R"(!"},"gold":{"clean":"gold )" << i << R"("}})" << "\n";
  f.close();
  auto l = load();
  auto src = open_turns(turns);
  const fs::path a = tmp("a.cas");
  EXPECT_EQ(run_into(l.plan, *src, a).ok, 40u);
  return a;
}

}  // namespace

TEST(Replay, AnUnchangedDeterministicPipelineReproducesEveryOutputByteForByte) {
  const fs::path a = record_original();
  auto l = load();
  for (const auto& s : l.plan.stages) ASSERT_TRUE(s.deterministic || s.standby) << s.id;
  auto src = open_replay(a, l.plan, {});
  const fs::path b = tmp("b.cas");
  EXPECT_EQ(run_into(l.plan, *src, b).ok, 40u);
  auto ta = trace::read_turns(a), tb = trace::read_turns(b);
  ASSERT_EQ(ta.turns.size(), tb.turns.size());
  for (const auto& t : ta.turns) {
    const auto* u = tb.find(t.id.dialogue_id, t.id.turn_index);
    ASSERT_NE(u, nullptr);
    for (const auto& s : t.stages) {
      const auto* v = u->stage(s.stage_id);
      ASSERT_NE(v, nullptr) << s.stage_id;
      ASSERT_EQ(s.outputs, v->outputs) << t.id.dialogue_id << " " << s.stage_id;
    }
  }
  auto d = trace::diff(trace::read_turns(a), trace::read_turns(b));
  EXPECT_EQ(d.identical, 40u);
}

TEST(Replay, FromAStageFeedsRecordedUpstreamOutputsInsteadOfRunningThem) {
  const fs::path a = record_original();
  auto l = load();
  ReplayOptions o;
  o.from_stage = "merge";
  auto src = open_replay(a, l.plan, o);
  const fs::path c = tmp("c.cas");
  run_into(l.plan, *src, c);
  auto tc = trace::read_turns(c);
  const auto* t = tc.find("d3", 0);
  ASSERT_NE(t, nullptr);
  for (const char* up : {"clean", "keep", "shout"}) EXPECT_EQ(t->stage(up)->text_feature("injected"), "trace") << up;
  EXPECT_FALSE(t->stage("merge")->text_feature("injected").has_value());
  EXPECT_EQ(t->stage("merge")->output("text")->text(), "please turn number 3 / turn number 3");
}

TEST(Replay, AChangedParameterMakesDiffPointAtThatStage) {
  const fs::path a = record_original();
  auto l = load({"stages.shout.params.lowercase=false", "stages.shout.params.strip_prefix=nothing"});
  auto src = open_replay(a, l.plan, {});
  const fs::path b = tmp("changed.cas");
  run_into(l.plan, *src, b);
  auto d = trace::diff(trace::read_turns(a), trace::read_turns(b));
  EXPECT_EQ(d.identical, 0u);
  ASSERT_EQ(d.divergences.size(), 40u);
  for (const auto& t : d.divergences) EXPECT_EQ(t.stage_id, "shout");
}

TEST(Replay, GoldSubstitutionFeedsTheAnnotationToDownstreamStages) {
  const fs::path a = record_original();
  auto l = load();
  ReplayOptions o;
  o.substitute["clean"] = "gold";
  o.turns = {"dialogue=d5"};
  auto src = open_replay(a, l.plan, o);
  const fs::path g = tmp("gold.cas");
  EXPECT_EQ(run_into(l.plan, *src, g).turns, 1u);
  auto tg = trace::read_turns(g);
  ASSERT_EQ(tg.turns.size(), 1u);
  EXPECT_EQ(tg.turns[0].stage("merge")->output("text")->text(), "gold 5 / gold 5");
  EXPECT_EQ(tg.turns[0].stage("clean")->text_feature("injected"), "gold");
}

TEST(Replay, AStageMissingFromTheTraceFailsThatTurnWithR031) {
  const fs::path a = record_original();
  // A pipeline whose stage ids the recording never saw.
  auto l = load();
  l.plan.stages[0].id = "renamed";
  ReplayOptions o;
  o.substitute["renamed"] = "trace";
  auto src = open_replay(a, l.plan, o);
  TurnInput t;
  ASSERT_TRUE(src->next(t));
  EXPECT_EQ(t.input_error_code, "R031");
}

TEST(Replay, AnUnknownStageInTheOptionsIsRefusedWithR030) {
  const fs::path a = record_original();
  auto l = load();
  ReplayOptions o;
  o.from_stage = "nope";
  try {
    open_replay(a, l.plan, o);
    FAIL();
  } catch (const CascadeError& e) {
    EXPECT_EQ(e.code(), "R030");
  }
}
