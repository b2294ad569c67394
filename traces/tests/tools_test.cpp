// tools_test.cpp — diff, export, stats, cat --where and the CLI wiring.
#include "test_util.hpp"

#include <cascade/trace/tools.hpp>

#include <CLI/CLI.hpp>

#include <iostream>
#include <set>
#include <sstream>

namespace cascade::trace {
namespace {

using testing::TempDir;

// Turns d0/0, d1/0, d0/1, d1/1, ... with stages asr, nlu, tts.
std::filesystem::path write_sample(const TempDir& dir, const std::string& name, uint32_t turns = 6,
                                   uint32_t workers = 2,
                                   const std::function<void(std::vector<testing::TurnSpec>&)>& mutate = {}) {
  auto run = testing::make_run(turns, 2, workers);
  if (mutate) mutate(run);
  const auto p = dir / name;
  testing::write_run(p, run, {.path = {}, .max_workers = workers});
  return p;
}

TEST(Diff, IdenticalRunsHaveNoDivergence) {
  TempDir dir;
  const auto a = write_sample(dir, "a.cas");
  const auto b = write_sample(dir, "b.cas");
  const DiffReport r = diff(read_turns(a), read_turns(b));
  EXPECT_EQ(r.matched, 6u);
  EXPECT_EQ(r.identical, 6u);
  EXPECT_TRUE(r.divergences.empty());
}

TEST(Diff, FindsInjectedDivergenceAtTheFirstDifferingStage) {
  TempDir dir;
  const auto a = write_sample(dir, "a.cas");
  const auto b = write_sample(dir, "b.cas", 6, 2, [](auto& run) {
    run[2].stages[1].output = "something else";     // d0/1: nlu output differs (and tts too)
    run[2].stages[2].output = "changed downstream";
    run[5].stages[0].status = StageStatus::Timeout;  // d1/2: asr status differs
    run.pop_back();                                  // d1/2 gone from B...
    run.push_back(testing::make_run(6)[5]);          // ...and back, identical
    run[5].stages[0].status = StageStatus::Timeout;
  });
  const DiffReport r = diff(read_turns(a), read_turns(b));
  EXPECT_EQ(r.matched, 6u);
  EXPECT_EQ(r.identical, 4u);
  ASSERT_EQ(r.divergences.size(), 2u);
  EXPECT_EQ(r.divergences[0].dialogue_id, "d0");
  EXPECT_EQ(r.divergences[0].turn_index, 1u);
  EXPECT_EQ(r.divergences[0].stage_id, "nlu");
  EXPECT_EQ(r.divergences[0].reason, "output 'out' differs");
  EXPECT_EQ(r.divergences[1].dialogue_id, "d1");
  EXPECT_EQ(r.divergences[1].turn_index, 2u);
  EXPECT_EQ(r.divergences[1].stage_id, "asr");
  EXPECT_EQ(r.divergences[1].reason, "status ok -> timeout");
  const auto j = to_json(r);
  EXPECT_EQ(j["by_stage"]["nlu"], 1);
  EXPECT_EQ(j["by_stage"]["asr"], 1);
  EXPECT_NE(format_text(r).find("d0/1: first divergence at stage 'nlu'"), std::string::npos);
}

TEST(Diff, TurnsPresentOnOneSideOnlyAreCountedNotCompared) {
  TempDir dir;
  const auto a = write_sample(dir, "a.cas", 6);
  const auto b = write_sample(dir, "b.cas", 4);
  const DiffReport r = diff(read_turns(a), read_turns(b));
  EXPECT_EQ(r.matched, 4u);
  EXPECT_EQ(r.only_in_a, 2u);
  EXPECT_EQ(r.only_in_b, 0u);
  EXPECT_EQ(r.identical, 4u);
}

TEST(Perfetto, EveryEventHasPhTsDurPidTidNameAndTurnsEncloseTheirStages) {
  TempDir dir;
  const auto p = write_sample(dir, "a.cas", 6, 2);
  const auto j = nlohmann::json::parse(dump_line(export_perfetto(read_turns(p))));
  ASSERT_TRUE(j["traceEvents"].is_array());
  size_t stages = 0, turns = 0, dialogues = 0;
  std::set<uint32_t> worker_tids;
  for (const auto& e : j["traceEvents"]) {
    for (const char* field : {"ph", "ts", "dur", "pid", "tid", "name"}) ASSERT_TRUE(e.contains(field)) << field << e;
    EXPECT_TRUE(e["ts"].is_number());
    EXPECT_TRUE(e["dur"].is_number());
    EXPECT_GE(e["dur"].get<double>(), 0);
    if (e["ph"] != "X") continue;
    const std::string cat = e["cat"];
    if (cat == "stage") {
      ++stages;
      worker_tids.insert(e["tid"].get<uint32_t>());
      EXPECT_DOUBLE_EQ(e["dur"].get<double>(), 1000.0);  // 1 ms in microseconds
      EXPECT_EQ(e["args"]["status"], "ok");
      EXPECT_TRUE(e["args"].contains("feature.len"));
    } else if (cat == "turn") {
      ++turns;
      EXPECT_DOUBLE_EQ(e["dur"].get<double>(), 3000.0);
    } else if (cat == "dialogue") {
      ++dialogues;
      EXPECT_GE(e["tid"].get<uint32_t>(), 100000u);
    }
  }
  EXPECT_EQ(stages, 18u);
  EXPECT_EQ(turns, 6u);
  EXPECT_EQ(dialogues, 2u);
  EXPECT_EQ(worker_tids, (std::set<uint32_t>{0, 1}));
  // A turn slice starts where its first stage starts, on the same track.
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] != "X" || e["cat"] != "stage" || e["name"] != "asr") continue;
    bool enclosed = false;
    for (const auto& t : j["traceEvents"])
      if (t.value("cat", "") == "turn" && t["tid"] == e["tid"] && t["ts"] == e["ts"] &&
          t["args"]["seq"] == e["args"]["seq"])
        enclosed = true;
    EXPECT_TRUE(enclosed) << e;
  }
}

TEST(Otlp, IdsHaveTheRightLengthsAndParentsLinkStageToTurnToDialogue) {
  TempDir dir;
  const auto p = write_sample(dir, "a.cas", 6, 2);
  const auto j = export_otlp(read_turns(p));
  const auto& spans = j["resourceSpans"][0]["scopeSpans"][0]["spans"];
  ASSERT_EQ(spans.size(), 18u + 6u + 2u);
  std::map<std::string, nlohmann::json> by_id;
  auto is_hex = [](const std::string& s) { return s.find_first_not_of("0123456789abcdef") == std::string::npos; };
  for (const auto& s : spans) {
    const std::string trace_id = s["traceId"], span_id = s["spanId"];
    EXPECT_EQ(trace_id.size(), 32u);
    EXPECT_EQ(span_id.size(), 16u);
    EXPECT_TRUE(is_hex(trace_id) && is_hex(span_id));
    EXPECT_TRUE(s["startTimeUnixNano"].is_string());
    EXPECT_TRUE(s["endTimeUnixNano"].is_string());
    EXPECT_TRUE(by_id.emplace(span_id, s).second) << "duplicate span id " << span_id;
  }
  size_t stage_spans = 0;
  for (const auto& s : spans) {
    if (!s.contains("parentSpanId")) {
      EXPECT_EQ(s["name"].get<std::string>().rfind("dialogue ", 0), 0u);
      continue;
    }
    const auto& parent = by_id.at(s["parentSpanId"]);
    EXPECT_EQ(parent["traceId"], s["traceId"]);  // one trace per dialogue
    EXPECT_LE(std::stoll(parent["startTimeUnixNano"].get<std::string>()),
              std::stoll(s["startTimeUnixNano"].get<std::string>()));
    const std::string name = s["name"];
    if (name == "asr" || name == "nlu" || name == "tts") {
      ++stage_spans;
      EXPECT_EQ(parent["name"].get<std::string>().rfind("turn ", 0), 0u);
    }
  }
  EXPECT_EQ(stage_spans, 18u);
}

TEST(Stats, CountsStatusesAndNearestRankPercentiles) {
  TempDir dir;
  const auto p = write_sample(dir, "a.cas", 10, 1, [](auto& run) {
    for (size_t i = 0; i < run.size(); ++i) {
      auto& asr = run[i].stages[0];
      asr.end_ns = asr.start_ns + static_cast<int64_t>(i + 1) * 100;  // 100..1000 ns
    }
    run[3].stages[1].status = StageStatus::Error;
    run[4].stages[2].status = StageStatus::Skipped;
    run[5].stages[2].status = StageStatus::Timeout;
  });
  const StatsReport r = compute_stats(read_turns(p));
  EXPECT_EQ(r.turns, 10u);
  ASSERT_EQ(r.stages.size(), 3u);
  EXPECT_EQ(r.stages[0].stage_id, "asr");
  EXPECT_EQ(r.stages[0].count, 10u);
  EXPECT_EQ(r.stages[0].latency.p50_ns, 500);
  EXPECT_EQ(r.stages[0].latency.p90_ns, 900);
  EXPECT_EQ(r.stages[0].latency.p99_ns, 1000);
  EXPECT_EQ(r.stages[1].errors, 1u);
  EXPECT_EQ(r.stages[2].skipped, 1u);
  EXPECT_EQ(r.stages[2].timeouts, 1u);
  EXPECT_EQ(to_json(r)["stages"][1]["errors"], 1);
  EXPECT_NE(format_text(r).find("asr"), std::string::npos);
}

std::vector<nlohmann::json> cat_lines(const std::filesystem::path& p, std::vector<std::string> where, bool by_turn) {
  std::ostringstream out;
  cat(p, {.by_turn = by_turn, .where = Where::parse(where)}, out);
  std::vector<nlohmann::json> lines;
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

TEST(Cat, WhereFiltersAreAndedOverStageRecords) {
  TempDir dir;
  const auto p = write_sample(dir, "a.cas", 6, 2, [](auto& run) { run[4].stages[1].status = StageStatus::Error; });
  EXPECT_EQ(cat_lines(p, {}, false).size(), 18u);
  EXPECT_EQ(cat_lines(p, {"dialogue=d1"}, false).size(), 9u);
  const auto asr_d0 = cat_lines(p, {"dialogue=d0", "stage=asr"}, false);
  ASSERT_EQ(asr_d0.size(), 3u);
  for (const auto& l : asr_d0) {
    EXPECT_EQ(l["dialogue"], "d0");
    EXPECT_EQ(l["stage"], "asr");
    EXPECT_EQ(l["outputs"][0]["type"], "text");
    EXPECT_TRUE(l["outputs"][0]["text"].is_string());
  }
  const auto errors = cat_lines(p, {"status=error"}, false);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["dialogue"], "d0");
  EXPECT_EQ(errors[0]["turn"], 2);
  EXPECT_EQ(errors[0]["stage"], "nlu");
  EXPECT_EQ(cat_lines(p, {"turn=1", "stage!=asr"}, false).size(), 4u);
}

TEST(Cat, ByTurnPrintsOneLinePerTurnWithItsStages) {
  TempDir dir;
  const auto p = write_sample(dir, "a.cas", 6, 2, [](auto& run) { run[4].stages[1].status = StageStatus::Error; });
  const auto all = cat_lines(p, {}, true);
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[0]["stages"].size(), 3u);
  EXPECT_EQ(all[0]["result"]["ok"], true);  // JSON payloads are embedded as JSON
  const auto failed = cat_lines(p, {"status=error"}, true);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["seq"], 4);
  EXPECT_EQ(cat_lines(p, {"dialogue=d1", "turn=2"}, true).size(), 1u);
}

TEST(Cat, AudioIsShownAsTypeRateSamplesAndHash) {
  TempDir dir;
  const std::string pcm(640, '\x05');
  PayloadView in{"audio", 2, 16000, pcm.data(), pcm.size()};
  StageEvent ev;
  ev.stage_id = "asr";
  ev.inputs = {&in, 1};
  {
    Writer w({.path = dir / "t.cas"});
    w.write(0, ev);
  }
  const auto lines = cat_lines(dir / "t.cas", {}, false);
  ASSERT_EQ(lines.size(), 1u);
  const auto& a = lines[0]["inputs"][0];
  EXPECT_EQ(a["type"], "audio");
  EXPECT_EQ(a["sample_rate"], 16000);
  EXPECT_EQ(a["samples"], 320);
  EXPECT_EQ(a["xxh64"].get<std::string>().size(), 16u);
}

TEST(Where, RejectsUnknownKeysAndTermsWithoutEquals) {
  for (const char* bad : {"colour=red", "dialogue", "=x"}) {
    try {
      Where::parse({bad});
      FAIL() << bad;
    } catch (const TraceError& e) {
      EXPECT_EQ(e.code(), codes::kUsage) << bad;
    }
  }
}

// Runs `cascade <args>` through register_commands, capturing stdout.
struct CliRun {
  int exit_code = -1;
  std::string out;
};
CliRun run_cli(std::vector<std::string> args) {
  CLI::App app("cascade");
  CliRun r;
  register_commands(app, r.exit_code);
  std::vector<const char*> argv{"cascade"};
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream captured;
  auto* old = std::cout.rdbuf(captured.rdbuf());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    r.exit_code = 100 + e.get_exit_code();
  }
  std::cout.rdbuf(old);
  r.out = captured.str();
  return r;
}

TEST(Cli, VerifyExitsZeroOnIntactAndOneOnDamagedFiles) {
  TempDir dir;
  const auto p = write_sample(dir, "a.cas");
  EXPECT_EQ(run_cli({"trace", "verify", p.string()}).exit_code, 0);
  auto bytes = testing::read_bytes(p);
  testing::write_bytes(p, bytes.substr(0, bytes.size() - 10));
  const auto r = run_cli({"trace", "verify", "--json", p.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(r.out)["damage"][0]["code"], "T005");
}

TEST(Cli, BadWhereIsAUsageErrorAndMissingFileARuntimeFailure) {
  TempDir dir;
  const auto p = write_sample(dir, "a.cas");
  EXPECT_EQ(run_cli({"trace", "cat", p.string(), "--where", "colour=red"}).exit_code, 2);
  EXPECT_EQ(run_cli({"trace", "stats", (dir / "missing.cas").string()}).exit_code, 1);
}

TEST(Cli, CatExportStatsAndDiffProduceParseableOutput) {
  TempDir dir;
  const auto a = write_sample(dir, "a.cas");
  const auto b = write_sample(dir, "b.cas", 6, 2, [](auto& run) { run[1].stages[2].output = "x"; });
  auto r = run_cli({"trace", "cat", a.string(), "--by", "turn", "--where", "dialogue=d0"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3);
  r = run_cli({"trace", "export", a.string(), "--format", "perfetto"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(nlohmann::json::parse(r.out).contains("traceEvents"));
  const auto otlp_file = dir / "otlp.json";
  r = run_cli({"trace", "export", a.string(), "--format", "otlp", "-o", otlp_file.string()});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(nlohmann::json::parse(testing::read_bytes(otlp_file)).contains("resourceSpans"));
  r = run_cli({"trace", "stats", "--json", a.string()});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(r.out)["turns"], 6);
  r = run_cli({"diff", "--json", a.string(), b.string()});
  EXPECT_EQ(r.exit_code, 0);
  const auto d = nlohmann::json::parse(r.out);
  EXPECT_EQ(d["divergences"][0]["stage"], "tts");
  EXPECT_EQ(d["divergences"][0]["dialogue"], "d1");
  EXPECT_EQ(run_cli({"diff", "--fail-on-diff", a.string(), b.string()}).exit_code, 1);
}

}  // namespace
}  // namespace cascade::trace
