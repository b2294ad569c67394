// The engine, through real configs and real plugins loaded from .so files:
// concurrency, fan-out/fan-in, error policies, deadlines, cancellation and
// what lands in the trace.
#include <chrono>
#include <cascade/core/run.hpp>

#include "pipeline_fixture.hpp"
#include <cascade/trace/reader.hpp>
#include <cascade/trace/writer.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace cascade;

namespace {

using Fixture = test_support::PipelineFixture;
Fixture load(const std::string& toml) { return test_support::load_pipeline(toml); }

std::vector<TurnInput> texts(const std::vector<std::string>& t) {
  std::vector<TurnInput> v(t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    v[i].dialogue_id = "d" + std::to_string(i);
    v[i].turn_seq = i;
    v[i].payload_type = CASCADE_PAYLOAD_TEXT;
    v[i].payload = t[i];
  }
  return v;
}

std::vector<TurnOutcome> run(Engine& e, const std::vector<TurnInput>& in) {
  std::vector<TurnOutcome> out(in.size());
  e.run_batch(in, out);
  return out;
}

using test_support::run_traced;
using test_support::Traced;

const char* kDag = R"(
[pipeline]
name = "dag"
version = "1"
[output]
result = "merge.text"
[[stages]]
id = "clean"
plugin = "normalize"
inputs = { text = "input.text" }
[[stages]]
id = "left"
plugin = "fixture_faulty"
inputs = { text = "clean.text" }
params = { prefix = "L:" }
[[stages]]
id = "right"
plugin = "fixture_faulty"
inputs = { text = "clean.text" }
params = { prefix = "R:" }
[[stages]]
id = "merge"
plugin = "join"
inputs = { a = "left.text", b = "right.text" }
params = { separator = "|" }
)";

// A stage that throws on "odd" and its standby, which answers instead.
const char* kMainWithBackup = R"(
[[stages]]
id = "main"
plugin = "fixture_faulty"
inputs = { text = "input.text" }
params = { mode = "throw", trigger = "odd", prefix = "main:" }
on_error = "fallback"
fallback = "backup"
[[stages]]
id = "backup"
plugin = "fixture_faulty"
params = { prefix = "backup:" }
)";

}  // namespace

TEST(Engine, FanOutFanInGivesEveryTurnItsOwnResultUnderTwoThreads) {
  auto f = load(kDag);
  Engine e(f.plan, {.threads = 2});
  std::vector<std::string> t;
  for (int i = 0; i < 3000; ++i) t.push_back("Turn Number " + std::to_string(i));
  auto in = texts(t);
  auto out = run(e, in);
  for (int i = 0; i < 3000; ++i) {
    const std::string n = "turn number " + std::to_string(i);
    ASSERT_EQ(out[i].status, trace::TurnStatus::Ok) << out[i].error;
    ASSERT_EQ(out[i].result, "L:" + n + "|R:" + n) << "turn " << i;
  }
}

TEST(Engine, FailPolicyEndsTheTurnAndNamesTheStage) {
  auto f = load(std::string(kDag) + "");
  f.plan.stages[1].params["mode"] = "error";  // "left"
  f.plan.stages[1].params["trigger"] = "bad";
  Engine e(f.plan, {.threads = 2});
  auto out = run(e, texts({"good one", "bad one"}));
  EXPECT_EQ(out[0].status, trace::TurnStatus::Ok);
  EXPECT_EQ(out[1].status, trace::TurnStatus::Failed);
  EXPECT_EQ(out[1].failed_stage, "left");
  EXPECT_EQ(out[1].error_code, "R012");
  EXPECT_NE(out[1].error.find("refused 'bad one'"), std::string::npos) << out[1].error;
}

TEST(Engine, AThrowingPluginFailsItsTurnOnlyAndTheMessageSurvives) {
  auto f = load(kDag);
  f.plan.stages[2].params["mode"] = "throw";  // "right"
  f.plan.stages[2].params["trigger"] = "boom";
  Engine e(f.plan, {.threads = 2});
  auto out = run(e, texts({"boom", "fine", "boom again", "fine again"}));
  EXPECT_EQ(out[0].status, trace::TurnStatus::Failed);
  EXPECT_NE(out[0].error.find("exception on 'boom'"), std::string::npos) << out[0].error;
  EXPECT_EQ(out[1].status, trace::TurnStatus::Ok);
  EXPECT_EQ(out[2].status, trace::TurnStatus::Failed);
  EXPECT_EQ(out[3].result, "L:fine again|R:fine again");
}

TEST(Engine, SkipPolicyLetsDownstreamRunWithTheInputMissing) {
  auto f = load(std::string(kDag) + "");
  auto& right = f.plan.stages[2];
  right.params["mode"] = "error";
  right.on_error = ErrorPolicy::Skip;
  Engine e(f.plan, {.threads = 1});
  auto out = run(e, texts({"x"}));
  ASSERT_EQ(out[0].status, trace::TurnStatus::Ok) << out[0].error;
  EXPECT_EQ(out[0].result, "L:x");  // join saw only its `a` input
}

TEST(Engine, AStageWhoseRequiredInputIsMissingIsSkippedNotRun) {
  auto f = load(R"(
[pipeline]
name = "chain"
version = "1"
[[stages]]
id = "first"
plugin = "fixture_faulty"
inputs = { text = "input.text" }
params = { mode = "error" }
on_error = "skip"
[[stages]]
id = "second"
plugin = "fixture_faulty"
inputs = { text = "first.text" }
params = { mode = "throw" }
)");
  auto [out, data] = run_traced(f.plan, texts({"x"}), 1);
  EXPECT_EQ(out[0].status, trace::TurnStatus::Ok);  // nothing failed the turn
  ASSERT_EQ(data.turns.size(), 1u);
  const auto* second = data.turns[0].stage("second");
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->status, trace::StageStatus::Skipped);
  EXPECT_NE(second->error_message.find("'text' is missing"), std::string::npos) << second->error_message;
  EXPECT_EQ(data.turns[0].stage("first")->status, trace::StageStatus::Error);
}

TEST(Engine, FallbackRunsTheStandbyStageAndItsOutputReplacesThePrimarys) {
  auto f = load(R"(
[pipeline]
name = "fb"
version = "1"
)" + std::string(kMainWithBackup) + R"(
[[stages]]
id = "after"
plugin = "passthrough"
inputs = { in = "main.text" }
)");
  Engine e(f.plan, {.threads = 2});
  auto out = run(e, texts({"even", "odd"}));
  EXPECT_EQ(out[0].result, "main:even");
  ASSERT_EQ(out[1].status, trace::TurnStatus::Ok) << out[1].error;
  EXPECT_EQ(out[1].result, "backup:odd");
}

TEST(Engine, AStageSleepingPastItsDeadlineIsReportedAsTimeoutAndTheTurnMovesOn) {
  auto f = load(R"(
[pipeline]
name = "slow"
version = "1"
[[stages]]
id = "slow"
plugin = "fixture_faulty"
inputs = { text = "input.text" }
params = { mode = "sleep", sleep_ms = 3000, trigger = "slow" }
timeout_ms = 50
on_error = "skip"
[[stages]]
id = "after"
plugin = "join"
inputs = { a = "slow.text" }
params = { separator = "" }
)");
  // The engine waits for the abandoned call before closing its instance.
  auto [out, data] = run_traced(f.plan, texts({"slow one", "quick one"}), 2);
  EXPECT_EQ(out[0].status, trace::TurnStatus::Ok);  // skip policy: the turn goes on
  EXPECT_EQ(out[0].result, "");                     // join ran without its input
  EXPECT_EQ(out[1].result, "quick one");
  const auto* slow = data.find("d0", 0)->stage("slow");
  ASSERT_NE(slow, nullptr);
  EXPECT_EQ(slow->status, trace::StageStatus::Timeout);
  EXPECT_EQ(slow->error_code, static_cast<uint32_t>(CASCADE_ERR_DEADLINE));
  EXPECT_NE(slow->error_message.find("50 ms"), std::string::npos) << slow->error_message;
}

TEST(Engine, StageTimesInTheTraceSitOnTheWallClockAndCoverTheStagesWork) {
  // Timings come from the TSC converted to Unix-epoch ns: a 30 ms stage
  // must show at least 30 ms, inside the wall-clock interval of the run.
  auto f = load(R"(
[pipeline]
name = "timed"
version = "1"
[[stages]]
id = "nap"
plugin = "fixture_faulty"
inputs = { text = "input.text" }
params = { mode = "sleep", sleep_ms = 30 }
)");
  auto unix_ns = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const int64_t before = unix_ns();
  auto [out, data] = run_traced(f.plan, texts({"a nap"}), 1);
  const int64_t after = unix_ns();
  const auto* nap = data.find("d0", 0)->stage("nap");
  ASSERT_NE(nap, nullptr);
  EXPECT_EQ(nap->status, trace::StageStatus::Ok);
  constexpr int64_t kSlack = 1'000'000;  // clock conversion and reading skew: 1 ms
  EXPECT_GE(nap->end_ns - nap->start_ns, 30'000'000 - kSlack);
  EXPECT_GE(nap->start_ns, before - kSlack);
  EXPECT_LE(nap->end_ns, after + kSlack);
}

TEST(Engine, ForwardingATextInputOntoAJsonOutputIsRefusedAndFailsTheStage) {
  auto f = load(R"(
[pipeline]
name = "mistyped"
version = "1"
[[stages]]
id = "bad"
plugin = "fixture_faulty"
inputs = { text = "input.text" }
params = { mode = "forward_to_json" }
)");
  auto [out, data] = run_traced(f.plan, texts({"not json"}), 1);
  EXPECT_EQ(out[0].status, trace::TurnStatus::Failed);
  EXPECT_EQ(out[0].error_code, "R012");
  const auto* bad = data.find("d0", 0)->stage("bad");
  ASSERT_NE(bad, nullptr);
  EXPECT_EQ(bad->status, trace::StageStatus::Error);
  EXPECT_EQ(bad->error_code, static_cast<uint32_t>(CASCADE_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(bad->output("meta"), nullptr);
}

TEST(Engine, TimeoutWithFailPolicyFailsTheTurnWithCodeR010) {
  auto f = load(R"(
[pipeline]
name = "slow"
version = "1"
[[stages]]
id = "slow"
plugin = "fixture_faulty"
inputs = { text = "input.text" }
params = { mode = "poll", sleep_ms = 5000 }
timeout_ms = 30
)");
  Engine e(f.plan, {.threads = 1});
  auto out = run(e, texts({"x"}));
  EXPECT_EQ(out[0].status, trace::TurnStatus::Failed);
  EXPECT_EQ(out[0].failed_stage, "slow");
  EXPECT_EQ(out[0].error_code, "R010");
}

TEST(Engine, ProcessNeverOverlapsForAPluginDeclaringMaxConcurrencyOne) {
  auto f = load(R"(
[pipeline]
name = "serial"
version = "1"
[[stages]]
id = "s"
plugin = "fixture_serial"
inputs = { text = "input.text" }
)");
  auto [out, data] = run_traced(f.plan, texts(std::vector<std::string>(400, "x")), 2);
  ASSERT_EQ(data.turns.size(), 400u);
  for (const auto& turn : data.turns) ASSERT_EQ(turn.stage("s")->feature("overlap"), 0.0);
}

TEST(Engine, CancelledEngineRecordsEveryTurnAsCancelled) {
  auto f = load(kDag);
  Engine e(f.plan, {.threads = 2});
  e.cancel();
  auto out = run(e, texts({"a", "b"}));
  for (const auto& o : out) {
    EXPECT_EQ(o.status, trace::TurnStatus::Cancelled);
    EXPECT_EQ(o.error_code, "R011");
  }
}

TEST(Engine, ATurnBudgetCancelsTheStagesAfterIt) {
  auto f = load(R"(
[pipeline]
name = "budget"
version = "1"
[[stages]]
id = "slow"
plugin = "fixture_faulty"
inputs = { text = "input.text" }
params = { mode = "poll", sleep_ms = 2000 }
on_error = "skip"
[[stages]]
id = "next"
plugin = "fixture_faulty"
inputs = { text = "input.text" }
)");
  Engine e(f.plan, {.threads = 1, .turn_timeout_ms = 40});
  auto out = run(e, texts({"x"}));
  EXPECT_EQ(out[0].status, trace::TurnStatus::Cancelled);
  EXPECT_EQ(out[0].failed_stage, "next");
}

TEST(Engine, TraceHoldsEveryStageOfEveryTurnWithInputsOutputsAndFeatures) {
  auto f = load(kDag);
  const fs::path tp = fs::temp_directory_path() / ("cascade_engine_trace_" + std::to_string(::getpid()) + ".cas");
  trace::Writer w({.path = tp});
  std::ostringstream results;
  {
    Engine e(f.plan, {.threads = 2, .trace = &w});
    auto in = texts({"Hello There", "General Kenobi"});
    struct Src : TurnSource {
      std::vector<TurnInput> v;
      size_t i = 0;
      bool next(TurnInput& t) override { return i < v.size() ? (t = v[i++], true) : false; }
    } src;
    src.v = in;
    RunOptions ro;
    ro.max_in_flight = 1;
    ro.results = &results;
    ro.trace = &w;
    auto sum = run_turns(e, src, ro);
    EXPECT_EQ(sum.turns, 2u);
  }
  w.close();
  auto data = trace::read_turns(tp);
  ASSERT_EQ(data.turns.size(), 2u);
  for (const auto& t : data.turns) {
    ASSERT_TRUE(t.record.has_value());
    EXPECT_EQ(t.record->config_digest, f.plan.digest);
    for (const char* id : {"clean", "left", "right", "merge"}) {
      const auto* s = t.stage(id);
      ASSERT_NE(s, nullptr) << id;
      EXPECT_EQ(s->status, trace::StageStatus::Ok);
      EXPECT_FALSE(s->inputs.empty());
      EXPECT_FALSE(s->outputs.empty());
      EXPECT_LE(s->start_ns, s->end_ns);
    }
    EXPECT_TRUE(t.stage("left")->has_confidence);
    EXPECT_EQ(t.stage("left")->confidence, 0.5);
  }
  EXPECT_EQ(data.find("d0", 0)->stage("merge")->output("text")->text(), "L:hello there|R:hello there");
  // One result line per turn, in input order.
  EXPECT_NE(results.str().find("\"dialogue_id\":\"d0\""), std::string::npos);
  EXPECT_LT(results.str().find("\"d0\""), results.str().find("\"d1\""));
  fs::remove(tp);
}

// The record types in a trace file, in file order (traces/FORMAT.md).
std::vector<uint8_t> record_types(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto u32 = [&](size_t at) {
    uint32_t v;
    std::memcpy(&v, b.data() + at, 4);
    return v;
  };
  std::vector<uint8_t> types;
  for (size_t chunk = u32(12); chunk + 32 <= b.size(); chunk += 32 + size_t{u32(chunk + 8)}) {
    if ((u32(chunk + 4) & 0xFFFF) != 0) continue;  // not a records chunk
    for (size_t at = chunk + 32; at < chunk + 32 + u32(chunk + 8); at += 4 + (u32(at) >> 8)) types.push_back(u32(at) & 0xFF);
  }
  return types;
}

TEST(Engine, APlainTurnIsTracedAsOneFrameAndATurnWithAnErrorAsSeparateRecords) {
  // kDag with a `clean` that reports nothing (normalize reports features,
  // which a frame does not carry).
  std::string dag = kDag;
  auto sub = [&dag](std::string_view from, std::string_view to) {
    for (size_t at; (at = dag.find(from)) != std::string::npos;) dag.replace(at, from.size(), to);
  };
  sub("\"normalize\"", "\"passthrough\"");
  sub("{ text = \"input.text\" }", "{ in = \"input.text\" }");
  sub("clean.text", "clean.out");
  auto f = load(dag);
  auto& left = f.plan.stages[1];
  left.params["mode"] = "error";
  left.params["trigger"] = "bad";
  left.on_error = ErrorPolicy::Skip;
  const fs::path tp = fs::temp_directory_path() / ("cascade_engine_frames_" + std::to_string(::getpid()) + ".cas");
  {
    trace::Writer w({.path = tp});
    Engine e(f.plan, {.threads = 2, .trace = &w});
    auto out = run(e, texts({"good one", "bad one"}));
    ASSERT_EQ(out[1].status, trace::TurnStatus::Ok) << out[1].error;
    w.close();
  }
  const auto types = record_types(tp);
  // "good one": every stage plain (left and right report only a confidence)
  // -> one frame (5). "bad one": left's error -> a declared record (3) per
  // stage and a turn record (2).
  EXPECT_EQ(std::count(types.begin(), types.end(), 5), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), 2), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), 3), 4);
  const auto data = trace::read_turns(tp);
  EXPECT_TRUE(data.damage.empty());
  ASSERT_EQ(data.turns.size(), 2u);
  for (const auto& t : data.turns) {
    ASSERT_TRUE(t.record.has_value());
    EXPECT_EQ(t.stages.size(), 4u);
    EXPECT_EQ(t.record->input.text(), t.id.dialogue_id == "d0" ? "good one" : "bad one");
  }
  const auto& good = *data.find("d0", 0);
  EXPECT_EQ(good.stage("clean")->input("in")->text(), "good one");
  EXPECT_EQ(good.stage("left")->input("text")->text(), "good one");
  EXPECT_EQ(good.stage("left")->confidence, 0.5);
  EXPECT_EQ(good.stage("merge")->input("b")->text(), "R:good one");
  EXPECT_EQ(good.stage("merge")->output("text")->text(), "L:good one|R:good one");
  EXPECT_EQ(data.find("d1", 0)->stage("left")->status, trace::StageStatus::Error);
  fs::remove(tp);
}

TEST(Engine, AStageWhoseOpenFailsIsRefusedWithR002NamingTheStage) {
  auto f = load(kDag);
  f.plan.stages[3].params["max_len"] = "-1";  // "merge" (join) refuses it in open()
  try {
    Engine e(f.plan, {.threads = 1});
    FAIL() << "the engine opened a stage whose open() fails";
  } catch (const CascadeError& e) {
    EXPECT_EQ(e.code(), "R002");
    EXPECT_NE(std::string(e.what()).find("'merge'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("max_len"), std::string::npos) << e.what();
  }
}

// ------------------------------------------------------- micro-batches

namespace {

// clean (SDK, batch entry) -> c (C, batch entry or not) -> tail (SDK;
// throws on "boom"): every kind of turn a micro-batch can hold.
Fixture chain(const std::string& c_plugin) {
  return load(R"(
[pipeline]
name = "micro"
version = "1"
[output]
result = "tail.text"
[[stages]]
id = "clean"
plugin = "normalize"
inputs = { text = "input.text" }
[[stages]]
id = "c"
plugin = ")" + c_plugin + R"("
inputs = { text = "clean.text" }
[[stages]]
id = "tail"
plugin = "fixture_faulty"
inputs = { text = "c.text" }
params = { mode = "throw", trigger = "boom", prefix = "T:" }
)");
}

// 300 turns: mostly plain, with failures of each kind in between.
std::vector<TurnInput> mixed_turns() {
  std::vector<std::string> t;
  for (int i = 0; i < 300; ++i)
    t.push_back(i % 7 == 3 ? "fail" : i % 11 == 5 ? "mistype" : i % 13 == 8 ? "boom " + std::to_string(i)
                                                                         : "Turn " + std::to_string(i));
  return texts(t);
}

}  // namespace

TEST(Engine, MicroBatchesGiveEveryTurnTheOutcomeItGetsOneTurnAtATime) {
  for (const char* plugin : {"c_batch", "c_nobatch"}) {
    auto f = chain(plugin);
    const auto in = mixed_turns();
    Engine one(f.plan, {.threads = 2});
    const auto want = run(one, in);
    for (uint32_t mb : {2u, 8u, 64u}) {
      Engine e(f.plan, {.threads = 2, .micro_batch = mb});
      const auto got = run(e, in);
      for (size_t i = 0; i < in.size(); ++i) {
        SCOPED_TRACE(std::string(plugin) + ", micro_batch " + std::to_string(mb) + ", turn " + std::to_string(i) +
                     " '" + in[i].payload + "'");
        ASSERT_EQ(got[i].status, want[i].status);
        ASSERT_EQ(got[i].failed_stage, want[i].failed_stage);
        ASSERT_EQ(got[i].error_code, want[i].error_code);
        // The one message that differs: a batch call's mistyped output is
        // named by the host's check; through process() the plugin only sees
        // emit() refuse it.
        if (in[i].payload != "mistype" || std::string(plugin) == "c_nobatch") {
          ASSERT_EQ(got[i].error, want[i].error);
        }
        ASSERT_EQ(got[i].result, want[i].result);
      }
    }
    // And the outcomes are the right ones, not merely equal.
    EXPECT_EQ(want[0].result, "T:turn 0");
    EXPECT_EQ(want[3].failed_stage, "c");
    EXPECT_NE(want[3].error.find("refused 'fail'"), std::string::npos) << want[3].error;
    EXPECT_EQ(want[5].failed_stage, "c");  // mistype
    EXPECT_EQ(want[8].failed_stage, "tail");
    EXPECT_NE(want[8].error.find("exception on 'boom 8'"), std::string::npos) << want[8].error;
  }
}

TEST(Engine, AMicroBatchReachesAPluginWithABatchEntryInOneCall) {
  auto f = chain("c_batch");
  std::vector<std::string> t;
  for (int i = 0; i < 32; ++i) t.push_back("turn " + std::to_string(i));
  auto batched = run_traced(f.plan, texts(t), 1, 8);
  auto single = run_traced(f.plan, texts(t), 1, 1);
  ASSERT_EQ(batched.data.turns.size(), 32u);
  for (int i = 0; i < 32; ++i) {
    const auto* c = batched.data.find("d" + std::to_string(i), 0)->stage("c");
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->status, trace::StageStatus::Ok);
    ASSERT_EQ(c->features.size(), 1u) << "turn " << i;
    EXPECT_EQ(c->features[0].key, "batch_size");
    EXPECT_EQ(c->features[0].value, 8.0) << "turn " << i;  // 32 turns, one thread: 4 calls of 8
    EXPECT_EQ(batched.out[i].result, "T:turn " + std::to_string(i));
    // One turn at a time, the engine calls process(): no batch_size.
    EXPECT_TRUE(single.data.find("d" + std::to_string(i), 0)->stage("c")->features.empty());
  }
}

TEST(Engine, AnOutputABatchCallStoredWithTheWrongTypeFailsThatTurnOnly) {
  auto f = chain("c_batch");
  auto [out, data] = run_traced(f.plan, texts({"one", "mistype", "three"}), 1, 4);
  EXPECT_EQ(out[0].status, trace::TurnStatus::Ok);
  EXPECT_EQ(out[2].status, trace::TurnStatus::Ok);
  ASSERT_EQ(out[1].status, trace::TurnStatus::Failed);
  EXPECT_EQ(out[1].error_code, "R012");
  const auto* c = data.find("d1", 0)->stage("c");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, trace::StageStatus::Error);
  EXPECT_EQ(c->error_code, static_cast<uint32_t>(CASCADE_ERR_INVALID_ARGUMENT));
  EXPECT_NE(c->error_message.find("json payload on output 'text', declared text"), std::string::npos)
      << c->error_message;
  EXPECT_EQ(c->output("text"), nullptr);
  EXPECT_EQ(data.find("d1", 0)->stage("tail")->status, trace::StageStatus::Skipped);
}

TEST(Engine, AnSdkStageForwardingOntoAMistypedPortInABatchIsRefusedToo) {
  auto f = load(R"(
[pipeline]
name = "mistyped"
version = "1"
[[stages]]
id = "bad"
plugin = "fixture_faulty"
inputs = { text = "input.text" }
params = { mode = "forward_to_json", trigger = "x" }
)");
  auto [out, data] = run_traced(f.plan, texts({"a", "x", "b", "xx"}), 1, 4);
  EXPECT_EQ(out[0].status, trace::TurnStatus::Ok);
  EXPECT_EQ(out[2].status, trace::TurnStatus::Ok);
  for (const char* d : {"d1", "d3"}) {
    const auto* bad = data.find(d, 0)->stage("bad");
    ASSERT_NE(bad, nullptr);
    EXPECT_EQ(bad->status, trace::StageStatus::Error) << d;
    EXPECT_EQ(bad->error_code, static_cast<uint32_t>(CASCADE_ERR_INVALID_ARGUMENT)) << d;
    EXPECT_EQ(bad->output("meta"), nullptr) << d;
  }
}

TEST(Engine, MicroBatchesKeepEveryErrorPolicy) {
  // A linear pipeline (micro-batched stage by stage) with a fallback, a
  // skip and a fail policy.
  auto f = load(R"(
[pipeline]
name = "policies"
version = "1"
[output]
result = "last.text"
)" + std::string(kMainWithBackup) + R"(
[[stages]]
id = "mid"
plugin = "fixture_faulty"
inputs = { text = "main.text" }
params = { mode = "error", trigger = "skip" }
on_error = "skip"
[[stages]]
id = "last"
plugin = "fixture_faulty"
inputs = { text = "main.text" }
params = { mode = "error", trigger = "fatal" }
)");
  std::vector<std::string> t;
  for (int i = 0; i < 40; ++i) t.push_back(std::vector<std::string>{"even", "odd", "skip", "fatal"}[i % 4]);
  auto [out, data] = run_traced(f.plan, texts(t), 2, 8);
  for (int i = 0; i < 40; i += 4) {
    EXPECT_EQ(out[i].result, "main:even");
    ASSERT_EQ(out[i + 1].status, trace::TurnStatus::Ok) << out[i + 1].error;
    EXPECT_EQ(out[i + 1].result, "backup:odd");
    EXPECT_EQ(out[i + 2].status, trace::TurnStatus::Ok) << out[i + 2].error;
    EXPECT_EQ(out[i + 2].result, "main:skip");
    EXPECT_EQ(data.find("d" + std::to_string(i + 2), 0)->stage("mid")->status, trace::StageStatus::Error);
    EXPECT_EQ(out[i + 3].status, trace::TurnStatus::Failed);
    EXPECT_EQ(out[i + 3].failed_stage, "last");
  }
}

TEST(Engine, AnExceptionEscapingProcessBatchFailsEveryTurnOfThatBatch) {
  auto f = load(R"(
[pipeline]
name = "batch-throws"
version = "1"
[[stages]]
id = "clean"
plugin = "normalize"
inputs = { text = "input.text" }
[[stages]]
id = "whole"
plugin = "fixture_faulty"
inputs = { text = "clean.text" }
params = { mode = "throw_batch" }
)");
  const auto in = texts({"a", "b", "c", "d", "e", "f"});
  Engine batched(f.plan, {.threads = 1, .micro_batch = 4});
  for (const auto& o : run(batched, in)) {
    EXPECT_EQ(o.status, trace::TurnStatus::Failed);
    EXPECT_EQ(o.failed_stage, "whole");
    EXPECT_EQ(o.error_code, "R012");
    EXPECT_NE(o.error.find("refused the whole batch"), std::string::npos) << o.error;
  }
  Engine single(f.plan, {.threads = 1});  // process() once a turn: the mode does not apply
  for (const auto& o : run(single, in)) EXPECT_EQ(o.status, trace::TurnStatus::Ok) << o.error;
}

TEST(Engine, ForwardAllOntoAMistypedPortFailsEveryTurnWithTheSdksMessage) {
  auto f = load(R"(
[pipeline]
name = "forward-all"
version = "1"
[[stages]]
id = "bad"
plugin = "fixture_faulty"
inputs = { text = "input.text" }
params = { mode = "forward_all_to_json" }
)");
  auto [out, data] = run_traced(f.plan, texts({"x", "y", "z"}), 1, 4);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(out[i].status, trace::TurnStatus::Failed);
    const auto* bad = data.find("d" + std::to_string(i), 0)->stage("bad");
    ASSERT_NE(bad, nullptr);
    EXPECT_EQ(bad->error_code, static_cast<uint32_t>(CASCADE_ERR_INVALID_ARGUMENT));
    EXPECT_NE(bad->error_message.find("input 'text' does not have output 'meta''s type"), std::string::npos)
        << bad->error_message;
    EXPECT_EQ(bad->output("meta"), nullptr);
  }
}

TEST(Engine, AnAbi11PluginRunsOnceATurnInAMicroBatchAndItsShortDescriptorIsNotReadPast) {
  // c_abi11's descriptor ends before process_batch; the memory after it
  // holds a function that traps if called.
  auto f = chain("c_abi11");
  const auto* p = f.registry->find("c_abi11");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->info.abi_minor, 1u);
  EXPECT_FALSE(p->info.batch);
  EXPECT_TRUE(f.registry->find("c_batch") == nullptr || f.registry->find("c_batch")->info.batch);
  auto [out, data] = run_traced(f.plan, texts({"one", "two", "fail", "four"}), 2, 8);
  EXPECT_EQ(out[0].result, "T:one");
  EXPECT_EQ(out[3].result, "T:four");
  EXPECT_EQ(out[2].failed_stage, "c");
  EXPECT_TRUE(data.find("d0", 0)->stage("c")->features.empty());  // process(), not a batch call
}
