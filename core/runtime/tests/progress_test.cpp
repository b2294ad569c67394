// Where turns are while a batch runs (Engine::turn_progress), and what the
// run loop does with it: the run watchdog's report (R040) and the bounded
// shutdown that abandons a turn stuck in a stage (run_turns, RunOptions).
// Real plugins from .so files; the stuck stage is fixture_faulty sleeping,
// ignoring should_stop().
#include <cascade/core/run.hpp>

#include "pipeline_fixture.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace cascade;

namespace {

using Loaded = test_support::PipelineFixture;

// norm -> slow (sleeps `sleep_ms` on inputs containing "slow") -> out.
Loaded load(int sleep_ms) {
  std::ostringstream toml;
  toml << R"([pipeline]
name = "progress"
version = "1.0.0"
[[stages]]
id = "norm"
plugin = "normalize"
inputs = { text = "input.text" }
[[stages]]
id = "slow"
plugin = "fixture_faulty"
inputs = { text = "norm.text" }
params = { mode = "sleep", trigger = "slow", sleep_ms = )" << sleep_ms << R"( }
[[stages]]
id = "out"
plugin = "passthrough"
inputs = { in = "slow.text" }
)";
  return test_support::load_pipeline(toml.str());
}

std::vector<TurnInput> turns(size_t n, size_t slow) {
  std::vector<TurnInput> v(n);
  for (size_t i = 0; i < n; ++i) {
    v[i].dialogue_id = "d" + std::to_string(i);
    v[i].turn_seq = i;
    v[i].payload_type = CASCADE_PAYLOAD_TEXT;
    v[i].payload = i == slow ? "a slow one" : "a quick one";
  }
  return v;
}

struct Source : TurnSource {
  std::vector<TurnInput> v;
  size_t i = 0;
  bool next(TurnInput& t) override { return i < v.size() ? (t = v[i++], true) : false; }
};

uint32_t stage_index(const PipelinePlan& plan, const std::string& id) {
  for (uint32_t s = 0; s < plan.stages.size(); ++s)
    if (plan.stages[s].id == id) return s;
  ADD_FAILURE() << "no stage " << id;
  return 0;
}

}  // namespace

// One turn at a time and micro-batched: another thread sees the slow turn
// in its stage while the batch runs, and every turn waiting once it ended.
TEST(Progress, AnotherThreadSeesTheStageATurnIsIn) {
  for (const uint32_t micro_batch : {1u, 4u}) {
    SCOPED_TRACE("micro_batch " + std::to_string(micro_batch));
    auto l = load(300);
    const int32_t slow_stage = static_cast<int32_t>(stage_index(l.plan, "slow"));
    Engine e(l.plan, {.threads = 2, .micro_batch = micro_batch});
    const auto in = turns(8, 5);
    std::vector<TurnOutcome> out(in.size());
    std::atomic<bool> ended{false};
    std::thread batch([&] {
      e.run_batch(in, out);
      ended = true;
    });
    bool seen_in_stage = false;
    while (!ended && !seen_in_stage) seen_in_stage = e.turn_progress(5) == slow_stage;
    batch.join();
    EXPECT_TRUE(seen_in_stage) << "turn 5 was never seen in stage 'slow' during its 300 ms there";
    for (size_t i = 0; i < in.size(); ++i) {
      EXPECT_EQ(e.turn_progress(i), Engine::kTurnWaiting) << "after the batch, turn " << i;
      EXPECT_EQ(out[i].status, trace::TurnStatus::Ok);
    }
    EXPECT_EQ(Engine::running_stage(), nullptr) << "this thread runs no stage";
  }
}

TEST(Progress, TheWatchdogReportsTheStuckTurnWithItsStageAndTheRunGoesOn) {
  auto l = load(600);
  Engine e(l.plan, {.threads = 2});
  Source src;
  src.v = turns(6, 2);
  std::mutex m;
  std::vector<std::string> alerts;
  RunOptions ro;
  ro.stall_report_ms = 50;
  ro.on_alert = [&](const std::string& text) {
    std::lock_guard lock(m);
    alerts.push_back(text);
  };
  const RunSummary sum = run_turns(e, src, ro);
  EXPECT_EQ(sum.turns, 6u);
  EXPECT_EQ(sum.ok, 6u);
  EXPECT_EQ(sum.abandoned, 0u);
  // (A report may also come before any turn started, on a busy machine.)
  const auto it = std::find_if(alerts.begin(), alerts.end(), [](const std::string& a) {
    return a.find("dialogue 'd2' turn 0: in stage 'slow' (plugin fixture_faulty)") != std::string::npos;
  });
  ASSERT_NE(it, alerts.end()) << "600 ms in stage 'slow', a 50 ms watchdog: no report naming it";
  EXPECT_EQ(it->rfind("error[R040]: ", 0), 0u) << *it;
  EXPECT_NE(it->find("input text, 10 bytes"), std::string::npos) << *it;
}

// After a cancel, a turn stuck past the grace is abandoned; the others are
// reported. (The engine outlives the stuck call here; the CLI _exit()s.)
TEST(Progress, AfterACancelATurnStuckPastTheGraceIsAbandonedAndTheOthersReported) {
  auto l = load(3000);
  Engine e(l.plan, {.threads = 2});
  Source src;
  src.v = turns(40, 20);
  std::vector<std::string> reported;
  std::string alerts;
  RunOptions ro;
  ro.stall_report_ms = 50;
  ro.shutdown_grace_ms = 100;
  ro.on_alert = [&](const std::string& text) {
    alerts += text;
    // As SIGINT would, once the slow turn holds the batch.
    if (text.find("in stage 'slow'") != std::string::npos) e.cancel();
  };
  ro.on_turn = [&](const TurnInput& in, const TurnOutcome&) { reported.push_back(in.dialogue_id); };
  const RunSummary sum = run_turns(e, src, ro);
  EXPECT_TRUE(sum.interrupted);
  EXPECT_GE(sum.abandoned, 1u);
  EXPECT_EQ(sum.turns + sum.abandoned, 40u);
  EXPECT_EQ(std::count(reported.begin(), reported.end(), "d20"), 0);
  EXPECT_EQ(reported.size(), sum.turns);
  EXPECT_GT(sum.turns, 0u) << "the turns that finished before the stuck one are reported";
  EXPECT_NE(alerts.find("error[R041]"), std::string::npos) << alerts;
  EXPECT_NE(alerts.find("dialogue 'd20' turn 0: in stage 'slow'"), std::string::npos) << alerts;
  // The stuck call returns in the end; its batch then ends (every turn
  // waiting again) and only then may the engine go.
  while (e.turn_progress(20) != Engine::kTurnWaiting) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}
