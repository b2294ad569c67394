// `cascade rewrite build` on real trace files (written with the traces
// library's Writer, read back with read_turns): sessions, outcomes, the
// feedback-loop guard, and the tool's command line.
#include "rewrite/build.hpp"
#include "rewrite/sessions.hpp"
#include "tests/trace_fixture.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace cascade::rewriting {
namespace {

using testing_support::ScratchDir;
using testing_support::TraceFile;
using testing_support::TurnSpec;

const std::string kMaj = "play maj and dragons", kDragon = "play imagine dragon", kDragons = "play imagine dragons";

// The guide's worked example (chain_test.cpp) as recorded dialogues, one
// session each, the ASR's text in mixed case (the builder canonicalises).
void write_worked_example(TraceFile& f) {
  const auto session = [&](std::vector<std::string> requests, bool success, int times) {
    for (int k = 0; k < times; ++k) f.dialogue(requests, success);
  };
  session({"Play Maj and Dragons"}, false, 2);
  session({"play maj and dragons", kDragons}, true, 5);
  session({kMaj, kDragon, kDragons}, true, 3);
  session({kDragon, kDragons}, true, 1);
  session({kDragon}, true, 1);
  session({kDragon}, false, 1);
  session({kDragons}, true, 10);
  session({kDragons}, false, 1);
}

const TableEntry* rewrite_of(const RewriteTable& t, const std::string& from) {
  for (const auto& e : t.rewrites)
    if (e.from == from) return &e;
  return nullptr;
}

TEST(RewriteBuild, WorkedExampleFromTracesGivesBs0715AndTheImagineDragonsRewrite) {
  ScratchDir dir("worked");
  TraceFile f(dir.path / "t.cas");
  write_worked_example(f);
  f.close();
  const BuildResult r = build_rewrites({dir.path / "t.cas"}, BuildOptions{{0.2, 3}, 300});
  EXPECT_EQ(r.table.sessions, 24u);
  EXPECT_EQ(r.table.states, 3u);
  EXPECT_EQ(r.table.components, 1u);
  ASSERT_EQ(r.table.rewrites.size(), 1u);
  const TableEntry& e = r.table.rewrites[0];
  EXPECT_EQ(e.from, kMaj);
  EXPECT_EQ(e.to, kDragons);
  EXPECT_EQ(e.from_support, 10u);
  EXPECT_EQ(e.to_support, 20u);
  EXPECT_NEAR(e.from_success, 0.715, 1e-12);
  EXPECT_NEAR(e.to_success, 0.95, 1e-12);
  EXPECT_NEAR(e.carried, 0.665, 1e-12);
}

// Keeps the README honest: its table example is this build's output, byte for byte.
TEST(RewriteBuild, TheReadmesTableExampleIsTheWorkedExamplesTable) {
  ScratchDir dir("readme");
  TraceFile f(dir.path / "t.cas");
  write_worked_example(f);
  f.close();
  const BuildResult r = build_rewrites({dir.path / "t.cas"}, BuildOptions{{0.2, 3}, 300});
  std::ifstream readme(CASCADE_REWRITING_README);
  std::stringstream text;
  text << readme.rdbuf();
  const std::string md = text.str();
  const auto begin = md.find("```json\n");
  ASSERT_NE(begin, std::string::npos);
  const auto end = md.find("```", begin + 8);
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(md.substr(begin + 8, end - begin - 8), to_json(r.table));
}

TEST(RewriteBuild, CutsADialogueIntoSessionsAtTheTimeGap) {
  ScratchDir dir("gap");
  TraceFile f(dir.path / "t.cas");
  // One dialogue: "a" fails, 400 s later "b" succeeds.
  f.turn({.dialogue = "d", .index = 0, .seconds = 0, .asr = "a", .success = false});
  f.turn({.dialogue = "d", .index = 1, .seconds = 400, .asr = "b", .success = true});
  f.close();
  const auto sessions = [&](double gap) { return build_rewrites({dir.path / "t.cas"}, {{0.1, 1}, gap}).table.sessions; };
  EXPECT_EQ(sessions(300), 2u);  // [a] F, [b] S
  EXPECT_EQ(sessions(500), 1u);  // [a, b] S
  // One session: "a" now leads to "b" (a gain of 0, so delta 0 keeps it).
  EXPECT_EQ(build_rewrites({dir.path / "t.cas"}, {{0.0, 1}, 300}).table.rewrites.size(), 0u);
  const BuildResult one = build_rewrites({dir.path / "t.cas"}, {{0.0, 1}, 500});
  ASSERT_EQ(one.table.rewrites.size(), 1u);
  EXPECT_EQ(one.table.rewrites[0].from, "a");
  EXPECT_EQ(one.table.rewrites[0].to, "b");
}

TEST(RewriteBuild, TakesTheOutcomeFromTheResultStageWhenTheTurnRecordHasNone) {
  ScratchDir dir("outcome");
  TraceFile f(dir.path / "t.cas");
  f.turn({.dialogue = "d", .index = 0, .asr = "x", .success = true, .result_in_turn_record = false});
  f.close();
  const BuildResult r = build_rewrites({dir.path / "t.cas"}, {{0.1, 1}, 300});
  ASSERT_EQ(r.requests, 1u);
  const auto data = trace::read_turns(dir.path / "t.cas");
  ASSERT_EQ(data.turns.size(), 1u);
  EXPECT_TRUE(data.turns[0].record->result_json.empty());
  EXPECT_TRUE(turn_request(data.turns[0])->success);
}

TEST(RewriteBuild, ReadsTheRequestTheNluReceived) {
  ScratchDir dir("nlu");
  TraceFile f(dir.path / "t.cas");
  f.turn({.dialogue = "d", .index = 0, .asr = "raw asr", .nlu = "What NLU Saw", .success = true});
  f.close();
  const auto data = trace::read_turns(dir.path / "t.cas");
  EXPECT_EQ(turn_request(data.turns.at(0))->request, "what nlu saw");
}

// Baseline evidence: "bad" fails unless the user rephrases to "good".
void write_baseline(TraceFile& f, int good_alone) {
  for (int k = 0; k < 2; ++k) f.dialogue({"bad", "good"}, true);
  f.dialogue({"bad"}, false);
  for (int k = 0; k < good_alone; ++k) f.dialogue({"good"}, true);
}

// After deployment: "bad" is rewritten to "good" and succeeds. Counted as
// evidence, each such turn would be one more observation of "good" (what
// the NLU saw) succeeding.
void write_deployed_traffic(TraceFile& f, int sessions) {
  for (int k = 0; k < sessions; ++k) {
    const std::string d = "deployed-" + std::to_string(k);
    f.turn({.dialogue = d, .index = 0, .asr = "bad", .rewritten_to = "good", .success = true});
  }
  // A session that goes on after the rewrite: "other" is held out with it.
  f.turn({.dialogue = "mixed", .index = 0, .seconds = 0, .asr = "other", .success = false});
  f.turn({.dialogue = "mixed", .index = 1, .seconds = 5, .asr = "bad", .rewritten_to = "good", .success = false});
}

TEST(RewriteBuild, GuardKeepsADeployedRewritesOwnTrafficOutOfItsSupport) {
  ScratchDir dir("guard");
  TraceFile f(dir.path / "t.cas");
  write_baseline(f, 1);  // "good" observed 3 times: 2 after "bad", once alone
  write_deployed_traffic(f, 5);
  f.close();
  const BuildResult r = build_rewrites({dir.path / "t.cas"}, {{0.1, 3}, 300});
  const TableEntry* e = rewrite_of(r.table, "bad");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->to, "good");
  EXPECT_EQ(e->from_support, 3u);  // not 3 + 6
  EXPECT_EQ(e->to_support, 3u);    // not 3 + 6
  EXPECT_NEAR(e->from_success, 2.0 / 3.0, 1e-12);
  EXPECT_EQ(r.table.sessions, 4u);
  EXPECT_EQ(r.table.held_out_sessions, 6u);
  EXPECT_EQ(r.table.states, 2u);  // "other" came only with a rewrite
  ASSERT_EQ(r.table.deployed.size(), 1u);
  const DeployedTally& d = r.table.deployed[0];
  EXPECT_EQ(d.from, "bad");
  EXPECT_EQ(d.to, "good");
  EXPECT_EQ(d.rewritten_by, testing_support::kTableId);
  EXPECT_EQ(d.sessions, 6u);
  EXPECT_EQ(d.successes, 5u);
  EXPECT_NE(format_summary(r).find("deployed, not evidence: 'bad' -> 'good'"), std::string::npos) << format_summary(r);
}

TEST(RewriteBuild, GuardDoesNotLetDeployedTrafficLiftARewriteOverTheSupportThreshold) {
  ScratchDir dir("guard-threshold");
  TraceFile f(dir.path / "t.cas");
  write_baseline(f, 0);  // "good" observed only twice: below m = 3
  write_deployed_traffic(f, 5);
  f.close();
  const BuildResult r = build_rewrites({dir.path / "t.cas"}, {{0.1, 3}, 300});
  EXPECT_EQ(rewrite_of(r.table, "bad"), nullptr);
  EXPECT_EQ(r.selection.below_support, 1u);
}

// ---------------------------------------------------------------- the tool

struct ToolRun {
  int exit_code = -1;
  std::string out, err;
};

ToolRun run_tool(const std::string& args, const ScratchDir& dir) {
  const auto out = dir.path / "stdout.txt", err = dir.path / "stderr.txt";
  const std::string cmd = std::string(CASCADE_REWRITE_BINARY) + " " + args + " >" + out.string() + " 2>" + err.string();
  const int status = std::system(cmd.c_str());
  ToolRun r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  const auto slurp = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

TEST(RewriteTool, BuildsATableAndPrintsItsSummaryOnStderrOnly) {
  ScratchDir dir("tool");
  TraceFile f(dir.path / "t.cas");
  write_worked_example(f);
  f.close();
  const auto table = dir.path / "rewrites.json";
  const ToolRun r = run_tool("build " + (dir.path / "t.cas").string() + " -o " + table.string() +
                                 " --delta 0.2 --min-support 3 --session-gap-s 60",
                             dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("3 states, 1 components"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 kept of"), std::string::npos) << r.err;
  const RewriteTable t = read_table(table);
  ASSERT_EQ(t.rewrites.size(), 1u);
  EXPECT_EQ(t.rewrites[0].to, kDragons);
  EXPECT_EQ(t.session_gap_s, 60);
}

TEST(RewriteTool, RefusesBadArgumentsWithExitCode2AndAnUnreadableTraceWith1) {
  ScratchDir dir("tool-bad");
  TraceFile f(dir.path / "t.cas");
  f.dialogue({"a"}, true);
  f.close();
  const std::string trace = (dir.path / "t.cas").string(), out = (dir.path / "r.json").string();
  EXPECT_EQ(run_tool("build " + trace + " -o " + out + " --delta -0.5", dir).exit_code, 2);
  EXPECT_EQ(run_tool("build " + trace, dir).exit_code, 2);  // no -o
  EXPECT_EQ(run_tool("build /nonexistent.cas -o " + out, dir).exit_code, 2);
  std::ofstream(dir.path / "not-a-trace.cas") << "hello";
  const ToolRun bad = run_tool("build " + (dir.path / "not-a-trace.cas").string() + " -o " + out, dir);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("error[T003]"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace cascade::rewriting
