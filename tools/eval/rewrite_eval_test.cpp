// `cascade eval rewrite`: the paired figures on hand-made sessions, and the
// small size end to end through the real tool.
#include "eval/rewrite_eval.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <string>
#include <unistd.h>

namespace ev = cascade::language::eval;
using nlohmann::json;

namespace {

ev::PairedSession session(bool base_first, bool first, bool base_ok, bool ok, uint32_t turns, uint32_t rewritten) {
  ev::PairedSession s;
  s.baseline_first_ok = base_first;
  s.first_ok = first;
  s.baseline_ok = base_ok;
  s.ok = ok;
  s.turns = turns;
  s.rewritten = rewritten;
  return s;
}

std::string run(const std::string& cmd, int& rc) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd.c_str(), "r"), ::pclose);
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p.get())) > 0) out.append(buf.data(), n);
  rc = ::pclose(p.release());
  return out;
}

}  // namespace

TEST(RewriteMetrics, WinsLossesReductionsAndTriggerRate) {
  std::vector<ev::PairedSession> s;
  for (int i = 0; i < 6; ++i) {
    s.push_back(session(false, true, false, true, 1, 1));  // wins, the first turn rewritten
    s.back().first_rewritten = true;
  }
  for (int i = 0; i < 2; ++i) s.push_back(session(true, false, true, false, 3, 1));   // losses
  for (int i = 0; i < 2; ++i) s.push_back(session(false, false, false, false, 3, 0)); // both wrong
  for (int i = 0; i < 10; ++i) s.push_back(session(true, true, true, true, 1, 0));    // both right
  const auto r = ev::score(s, 500, 3);
  EXPECT_EQ(r.sessions, 20U);
  EXPECT_EQ(r.wins, 6U);
  EXPECT_EQ(r.losses, 2U);
  ASSERT_TRUE(r.win_loss.value);
  EXPECT_DOUBLE_EQ(*r.win_loss.value, 3.0);
  // first-turn defects 8 -> 4; failed sessions 8 -> 4
  EXPECT_EQ(r.first_defects_baseline, 8U);
  EXPECT_EQ(r.first_defects, 4U);
  EXPECT_DOUBLE_EQ(*r.defect_reduction.value, 0.5);
  EXPECT_DOUBLE_EQ(*r.session_defect_reduction.value, 0.5);
  EXPECT_DOUBLE_EQ(*r.trigger_rate.value, 8.0 / 28.0);
  // On rewritten traffic (the six wins): 6 defects -> 0.
  EXPECT_EQ(r.rewritten_first, 6U);
  EXPECT_EQ(r.rewritten_first_defects_baseline, 6U);
  EXPECT_EQ(r.rewritten_first_defects, 0U);
  EXPECT_DOUBLE_EQ(*r.rewritten_defect_reduction.value, 1.0);
  // The intervals hold their point and are not degenerate.
  ASSERT_TRUE(r.defect_reduction.low && r.defect_reduction.high);
  EXPECT_LT(*r.defect_reduction.low, 0.5);
  EXPECT_GT(*r.defect_reduction.high, 0.5);
  EXPECT_LE(*r.trigger_rate.low, *r.trigger_rate.value);
  EXPECT_GE(*r.trigger_rate.high, *r.trigger_rate.value);
  // Seeded: the same intervals again.
  const auto again = ev::score(s, 500, 3);
  EXPECT_EQ(again.defect_reduction.low, r.defect_reduction.low);
  EXPECT_EQ(again.win_loss.high, r.win_loss.high);
}

TEST(RewriteMetrics, NoLossIsAnUnboundedRatioNotADivisionByZero) {
  std::vector<ev::PairedSession> s = {session(false, true, false, true, 1, 1), session(true, true, true, true, 1, 0)};
  const auto r = ev::score(s, 100, 1);
  EXPECT_EQ(r.wins, 1U);
  EXPECT_EQ(r.losses, 0U);
  EXPECT_FALSE(r.win_loss.value);  // unbounded
  EXPECT_FALSE(r.win_loss.high);
  const auto none = ev::score({session(true, true, true, true, 1, 0)}, 100, 1);
  EXPECT_FALSE(none.defect_reduction.value);  // no baseline defect: undefined
  EXPECT_DOUBLE_EQ(*none.trigger_rate.value, 0.0);
}

TEST(RewriteMetrics, ComparesTwoConfigurationsSessionBySession) {
  // Baseline: 10 first-turn defects. `over` fixes 2 of them, `better` the same 2 and 4 more,
  // and breaks one that `over` had right: gain (8 - 5) / 10.
  std::vector<ev::PairedSession> over, better;
  for (int i = 0; i < 10; ++i) {
    over.push_back(session(false, i < 2, false, i < 2, 1, 0));
    better.push_back(session(false, i < 6, false, i < 6, 1, 0));
  }
  for (int i = 0; i < 10; ++i) {
    over.push_back(session(true, true, true, true, 1, 0));
    better.push_back(session(true, i != 0, true, i != 0, 1, 0));
  }
  const auto c = ev::compare(better, over, 500, 7);
  EXPECT_EQ(c.sessions, 20U);
  EXPECT_EQ(c.gains, 4U);
  EXPECT_EQ(c.losses, 1U);
  EXPECT_EQ(c.baseline_defects, 10U);
  ASSERT_TRUE(c.gain.value && c.gain.low && c.gain.high);
  EXPECT_DOUBLE_EQ(*c.gain.value, 0.3);
  EXPECT_LT(*c.gain.low, 0.3);
  EXPECT_GT(*c.gain.high, 0.3);
  // The same configuration against itself gains nothing, in every resample.
  const auto same = ev::compare(over, over, 200, 7);
  EXPECT_DOUBLE_EQ(*same.gain.value, 0.0);
  EXPECT_DOUBLE_EQ(*same.gain.high, 0.0);
  // Runs of different sessions do not compare.
  over.pop_back();
  EXPECT_THROW((void)ev::compare(better, over, 10, 7), std::invalid_argument);
}

TEST(RewriteMetrics, SlotNeedingIntentsFromRetries) {
  std::vector<ev::IntentTurn> turns;
  int dialogue = 0;
  // n dialogues whose first turn has `intent`, slotless or not; `retried` of
  // them go on with a second turn (another intent, with a slot).
  const auto add = [&](const std::string& intent, bool slotless, int n, int retried) {
    for (int i = 0; i < n; ++i) {
      const std::string id = "d" + std::to_string(dialogue++);
      turns.push_back({id, 0, intent, slotless});
      if (i < retried) turns.push_back({id, 1, "other", false});
    }
  };
  add("play_radio", true, 30, 21);   // slotless retried 70%...
  add("play_radio", false, 30, 6);   // ...with a slot 20%: needs a slot
  add("qa_maths", true, 30, 21);     // 70%...
  add("qa_maths", false, 30, 20);    // ...but 67% with a slot too: the intent, not the slot
  add("datetime_query", true, 30, 0);
  add("play_music", true, 19, 19);   // too few slotless requests to judge
  add("lists_remove", true, 20, 10); // exactly 50%, against 0% with a slot
  // Turn order within a dialogue decides, not the order of the list.
  std::reverse(turns.begin(), turns.end());
  EXPECT_EQ(ev::slot_needing_intents(turns), "lists_remove,play_radio");
  EXPECT_EQ(ev::slot_needing_intents({}), "");
}

TEST(RewriteEvalCli, SmallSizeEndToEnd) {
  const std::string out = testing::TempDir() + "cascade_rewrite_eval_" + std::to_string(::getpid());
  int rc = 0;
  const std::string text =
      run(std::string(CASCADE_EVAL_BINARY) + " rewrite --size small --json -q --resamples 200 --out " + out, rc);
  ASSERT_EQ(rc, 0) << text;
  const json j = json::parse(text);
  EXPECT_EQ(j["retries_are_simulated"], true);
  EXPECT_GT(j["train"]["sessions"].get<int>(), 0);
  ASSERT_TRUE(j["configurations"].is_array());
  std::map<std::string, uint64_t> baseline_defects;  // split -> first-turn defects of the baseline
  bool precomputed = false;
  for (const auto& c : j["configurations"]) {
    for (const char* key : {"win_loss", "defect_reduction", "trigger_rate", "ci", "retries_are_simulated"})
      EXPECT_TRUE(c.contains(key)) << key << " in " << c.dump();
    EXPECT_EQ(c["retries_are_simulated"], true);
    const std::string split = c["split"];
    const auto base = c["first_turn_defects"]["baseline"].get<uint64_t>();
    // Every configuration of a split is paired with the same baseline run.
    if (baseline_defects.contains(split)) {
      EXPECT_EQ(baseline_defects[split], base) << split;
    }
    baseline_defects[split] = base;
    // A win needs a baseline defect; losses and wins explain the change.
    EXPECT_LE(c["wins"].get<uint64_t>(), base);
    EXPECT_EQ(base + c["losses"].get<uint64_t>() - c["wins"].get<uint64_t>(),
              c["first_turn_defects"]["rewriter"].get<uint64_t>());
    if (c["configuration"] == "precomputed") {
      precomputed = true;
      // No rewrite in the table, no rewritten turn; a rewrite that fires is counted.
      if (j["train"]["table_rewrites"] == 0) {
        EXPECT_EQ(c["rewritten_turns"], 0);
      }
    }
  }
  EXPECT_TRUE(precomputed);
  ASSERT_TRUE(j["comparisons"].is_array());
  for (const auto& c : j["comparisons"]) {
    EXPECT_EQ(c["retries_are_simulated"], true);
    EXPECT_TRUE(c["ci"].contains("defect_reduction_gain")) << c.dump();
  }
  EXPECT_TRUE(j["slot_intents"].is_string());
  EXPECT_TRUE(baseline_defects.contains("held_out_users"));
  EXPECT_TRUE(baseline_defects.contains("held_out_days"));
  // The text form says it beside every figure.
  const std::string table =
      run(std::string(CASCADE_EVAL_BINARY) + " rewrite --size small -q --no-online --resamples 50 --out " + out, rc);
  ASSERT_EQ(rc, 0) << table;
  size_t rows = 0, said = 0;
  for (size_t at = table.find("\nprecomputed"); at != std::string::npos; at = table.find("\nprecomputed", at + 1)) {
    ++rows;
    const size_t eol = table.find('\n', at + 1);
    if (table.substr(at, eol - at).find("retries simulated") != std::string::npos) ++said;
  }
  EXPECT_EQ(rows, 3U);  // held_out_users, held_out_days, held_out_days/personal_users
  EXPECT_EQ(said, rows);
  // A bad size is a usage error.
  (void)run(std::string(CASCADE_EVAL_BINARY) + " rewrite --size huge 2>/dev/null", rc);
  EXPECT_EQ(WEXITSTATUS(rc), 2);
}
