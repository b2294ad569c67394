// `cascade eval fpi`: the degraded catalogue, the split and the variant
// plan as functions, then the tool end to end at its small size (real
// plugins: speechsim, wake, ASR, NLU, ER, result, the oracle and rules).
// No accuracy is asserted: the numbers are the measurement, the test
// checks that the measurement is complete and consistent.
#include "eval/fpi.hpp"
#include "eval/fpi_live.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

using nlohmann::json;
namespace ev = cascade::language::eval;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("cascade_fpi_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

struct ToolRun {
  int exit_code = -1;
  std::string out;
};

ToolRun run_tool(const std::string& args, bool with_stderr = false) {
  const std::string cmd = std::string(CASCADE_EVAL_BINARY) + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
  ToolRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The recorded-ASR sample as turns (cascade-assistant-data --asr-field
// asr_text, docs/recorded-asr.md step 1) in out/turns.jsonl.
bool write_sample_turns(const fs::path& out) {
  fs::create_directories(out);
  const fs::path tool = fs::path(CASCADE_EVAL_BINARY).parent_path() / "cascade-assistant-data";
  return std::system((tool.string() + " --asr-field asr_text --input " CASCADE_RECORDED_SAMPLE " --catalog " +
                      std::string(CASCADE_EVAL_CATALOG) + " --output " + (out / "turns.jsonl").string() +
                      " --allow-skipped > /dev/null 2>&1")
                         .c_str()) == 0;
}

uint64_t sum(const json& counts) {
  uint64_t n = 0;
  for (const auto& [k, v] : counts.items()) n += v.get<uint64_t>();
  return n;
}

const std::vector<std::string> kClasses = {"false_wake", "asr", "nlu", "er", "result", "correct"};

}  // namespace

TEST(FpiData, TheDegradedCatalogueDropsASeededShareOfEntriesTheSameWayEveryTime) {
  const fs::path d = temp_dir("catalog");
  const fs::path a = d / "a.json", b = d / "b.json";
  const auto cut = ev::write_degraded_catalog(CASCADE_EVAL_CATALOG, a, 0.5, 14);
  ev::write_degraded_catalog(CASCADE_EVAL_CATALOG, b, 0.5, 14);
  ASSERT_GT(cut.entries, 100u);
  EXPECT_GT(cut.removed, cut.entries * 4 / 10);
  EXPECT_LT(cut.removed, cut.entries * 6 / 10);
  std::ifstream fa(a), fb(b), orig(CASCADE_EVAL_CATALOG);
  const json ja = json::parse(fa), jb = json::parse(fb), jo = json::parse(orig);
  EXPECT_EQ(ja, jb);
  uint64_t kept = 0;
  for (const auto& [type, entries] : ja["types"].items())
    for (const auto& [canonical, entry] : entries.items()) {
      EXPECT_EQ(entry, jo["types"][type][canonical]);  // what stays is untouched
      ++kept;
    }
  EXPECT_EQ(kept, cut.entries - cut.removed);
  EXPECT_EQ(ev::write_degraded_catalog(CASCADE_EVAL_CATALOG, d / "none.json", 0.0, 14).removed, 0u);
  EXPECT_THROW(ev::write_degraded_catalog(d / "missing.json", d / "x.json", 0.5, 14), std::runtime_error);
  fs::remove_all(d);
}

TEST(FpiData, TheSplitIsByDialogueAndFixed) {
  // Pinned: other measurements rely on which dialogues are held out.
  EXPECT_EQ(ev::split_side("d0000"), ev::split_side("d0000"));
  int test = 0;
  for (int i = 0; i < 96; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "d%04d", i);
    test += ev::split_side(id) == "test" ? 1 : 0;
  }
  EXPECT_GT(test, 30);
  EXPECT_LT(test, 66);
}

TEST(FpiData, TwoFoldsAreTheSplitAndEveryFoldIsUsed) {
  std::set<uint32_t> folds;
  for (int i = 0; i < 96; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "d%04d", i);
    EXPECT_EQ(ev::fold_of(id, 2) == 1, ev::split_side(id) == "test") << id;
    folds.insert(ev::fold_of(id, 5));
  }
  EXPECT_EQ(folds, (std::set<uint32_t>{0, 1, 2, 3, 4}));
}

// Dialogue `<id>#<k>` (other recordings of `<id>`'s requests) falls with
// `<id>` in the split and in every fold.
TEST(FpiData, ADialogueOfOtherRecordingsFallsWithItsFirst) {
  int moved = 0;
  for (int i = 0; i < 96; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "d%04d", i);
    for (const std::string& other : {std::string(id) + "#1", std::string(id) + "#2"}) {
      EXPECT_EQ(ev::split_key(other), id);
      EXPECT_EQ(ev::split_side(other), ev::split_side(id)) << other;
      EXPECT_EQ(ev::fold_of(other, 5), ev::fold_of(id, 5)) << other;
      moved += cascade::fnv1a(other) % 2 != cascade::fnv1a(id) % 2 ? 1 : 0;
    }
  }
  EXPECT_GT(moved, 20) << "hashing the whole id would put these on the other side";
}

TEST(FpiData, TheDefaultPlanCoversVoicesNoiseAndEveryDegradation) {
  ev::FpiDataRequest rq;
  rq.speech_pipeline = CASCADE_EVAL_SPEECH_PIPELINE;
  rq.text_pipeline = CASCADE_EVAL_TEXT_PIPELINE;
  rq.out_dir = "out/fpi";
  const auto plan = ev::plan_variants(rq);
  std::set<std::string> voices, levels, degradations, names;
  for (const auto& v : plan) {
    voices.insert(v.voice);
    levels.insert(v.snr_db);
    degradations.insert(v.degradation);
    EXPECT_TRUE(names.insert(v.name).second) << "two runs named " << v.name;
  }
  EXPECT_TRUE(voices.contains("slt") && voices.contains("en-us+f2"));
  EXPECT_TRUE(levels.contains("inf") && levels.contains("20") && levels.contains("15"));
  EXPECT_TRUE(degradations.contains("er-cut") && degradations.contains("broken-skill") &&
              degradations.contains("er-cut+broken-skill"));
  rq.size = "huge";
  EXPECT_THROW(ev::plan_variants(rq), std::invalid_argument);
}

// Two dialogues: d1 fails then succeeds; d2's only turn fails but was
// background speech nobody addressed to the device.
std::vector<json> scripted_turns() {
  std::vector<json> t;
  t.push_back({{"dialogue_id", "d1"}, {"turn_index", 0}, {"turn_id", "d1-0"}, {"addressed", true},
               {"timestamp", "2026-01-15T09:00:00Z"}, {"payload", {{"text", "alexa play jazz"}}}});
  t.push_back({{"dialogue_id", "d1"}, {"turn_index", 1}, {"turn_id", "d1-1"}, {"addressed", true},
               {"timestamp", "2026-01-15T09:00:20Z"}, {"payload", {{"text", "alexa stop"}}}});
  t.push_back({{"dialogue_id", "d2"}, {"turn_index", 0}, {"turn_id", "d2-0"}, {"addressed", false},
               {"timestamp", "2026-01-15T09:10:00Z"}, {"payload", {{"text", "what a day"}}}});
  return t;
}
const std::map<ev::TurnKey, ev::Perceived> kPerceived = {
    {{"d1", 0}, {true, 2.0}}, {{"d1", 1}, {false, 2.0}}, {{"d2", 0}, {true, 2.0}}};

double clock_of(const json& t) {  // seconds into the day
  int h = 0, m = 0;
  double s = 0;
  std::sscanf(t.at("timestamp").get<std::string>().c_str(), "%*d-%*d-%*dT%d:%d:%lf", &h, &m, &s);
  return h * 3600.0 + m * 60.0 + s;
}

// A user who retries every failure and nothing else.
ev::LiveUser retries_failures(double barge_in, double rephrase) {
  ev::LiveUser u;
  u.retry_after_failure = 1.0;
  u.retry_after_success = 0.0;
  u.barge_in = barge_in;
  u.rephrase = rephrase;
  return u;
}

TEST(FpiLive, AFailedAddressedTurnIsTriedAgainAfterItsResponse) {
  ev::LiveCounts counts;
  const auto live = ev::live_turns(scripted_turns(), kPerceived, retries_failures(0.0, 0.0), counts);
  ASSERT_EQ(live.size(), 4u);
  EXPECT_EQ(counts.retries, 1u);
  EXPECT_EQ(counts.after_failure, 1u);
  EXPECT_EQ(live[1].at("turn_id"), "d1-0-retry");
  EXPECT_EQ(live[1].at("payload").at("text"), "alexa, play jazz") << "a second take: a pause after the wake word";
  for (uint32_t i = 0; i < 3; ++i) EXPECT_EQ(live[i].at("turn_index"), i);
  // After the 2 s response, 1.5 to 6 s of thought.
  const double gap = clock_of(live[1]) - clock_of(live[0]);
  EXPECT_GE(gap, 3.5);
  EXPECT_LE(gap, 8.0);
  EXPECT_GT(clock_of(live[2]), clock_of(live[1]) + 2.0) << "the next request comes after the retry's response";
  EXPECT_EQ(live[3].at("turn_id"), "d2-0") << "nobody retries speech that was not addressed to the device";
  EXPECT_EQ(clock_of(live[3]), clock_of(scripted_turns()[2])) << "a dialogue keeps its start";
}

TEST(FpiLive, ABargeInStartsBeforeTheResponseEndedAndDrawsAreKeyed) {
  ev::LiveUser user = retries_failures(1.0, 0.0);
  ev::LiveCounts counts;
  const auto live = ev::live_turns(scripted_turns(), kPerceived, user, counts);
  ASSERT_GE(live.size(), 4u);
  EXPECT_EQ(counts.barge_ins, 1u);
  EXPECT_LT(clock_of(live[1]) - clock_of(live[0]), 2.0);
  ev::LiveCounts again;
  EXPECT_EQ(ev::live_turns(scripted_turns(), kPerceived, user, again), live) << "the same seed, the same users";
  user.seed += 1;
  EXPECT_NE(ev::live_turns(scripted_turns(), kPerceived, user, again), live);
  user.retry_after_failure = 0.0;
  EXPECT_EQ(ev::live_turns(scripted_turns(), kPerceived, user, again).size(), 3u) << "users who never retry";
}

TEST(FpiLive, ARetryRephrasesWithAnotherTurnOfTheSameGoal) {
  const json weather = {{"nlu", {{"intent", "weather_query"}, {"slots", json::array()}}},
                        {"result", {{"answer", "sunny"}}}};
  std::vector<json> scripted = scripted_turns();
  scripted[0]["gold"] = weather;
  scripted[1]["gold"] = {{"nlu", {{"intent", "music_stop"}}}};
  json other = scripted[1];
  other["dialogue_id"] = "d3";
  other["turn_index"] = 0;
  other["turn_id"] = "d3-0";
  other["slurp_id"] = 77;
  other["payload"] = {{"text", "alexa what's it like outside"}};
  other["gold"] = weather;
  scripted.push_back(other);
  const ev::LiveUser user = retries_failures(0.0, 1.0);
  ev::LiveCounts counts;
  const auto live = ev::live_turns(scripted, kPerceived, user, counts);
  ASSERT_GE(live.size(), 2u);
  EXPECT_EQ(counts.rephrased, 1u);
  EXPECT_EQ(live[1].at("turn_id"), "d1-0-retry");
  EXPECT_EQ(live[1].at("dialogue_id"), "d1") << "a rephrasing stays in the user's dialogue";
  EXPECT_EQ(live[1].at("payload").at("text"), "alexa what's it like outside");
  EXPECT_EQ(live[1].at("slurp_id"), 77);
  EXPECT_EQ(live[1].at("gold"), weather);
  // No other phrasing of a goal: the words again.
  scripted[3]["gold"] = {{"nlu", {{"intent", "weather_query"}}}};
  const auto repeated = ev::live_turns(scripted, kPerceived, user, counts);
  EXPECT_EQ(repeated[1].at("payload").at("text"), "alexa, play jazz");
}

TEST(FpiTool, SmallSizeLabelsEveryTurnAndScoresEveryIsolatorOnTheHeldOutSide) {
  const fs::path out = temp_dir("small");
  const ToolRun r = run_tool("fpi --size small --folds 3 --json -q --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json j = json::parse(r.out);

  // The oracle labelled every turn of every run.
  const json& oracle = j.at("oracle");
  EXPECT_GT(oracle.at("turns").get<uint64_t>(), 0u);
  EXPECT_EQ(oracle.at("unlabelled"), 0);
  EXPECT_EQ(oracle.at("labelled"), oracle.at("turns"));
  EXPECT_EQ(sum(oracle.at("class_balance").at("all")), oracle.at("labelled").get<uint64_t>());
  EXPECT_EQ(sum(oracle.at("class_balance").at("train")) + sum(oracle.at("class_balance").at("test")),
            oracle.at("labelled").get<uint64_t>());
  EXPECT_TRUE(oracle.contains("replays_per_turn"));
  // The degraded variants ran (the small set is too small to promise
  // that each one meets its failure).
  std::set<std::string> degradations;
  uint64_t run_turns = 0;
  for (const auto& run : j.at("runs")) {
    degradations.insert(run.at("degradation").get<std::string>());
    EXPECT_TRUE(fs::exists(run.at("trace").get<std::string>()));
    EXPECT_EQ(run.at("failed"), 0);
    run_turns += run.at("turns").get<uint64_t>();
  }
  EXPECT_EQ(run_turns, oracle.at("turns").get<uint64_t>());
  EXPECT_TRUE(degradations.contains("er-cut") && degradations.contains("broken-skill"));
  // The recorded-ASR run: the clean slt run's own hypotheses as logged
  // turns, each the eval line with that hypothesis as its payload.
  {
    std::map<std::string, std::string> heard;  // turn_id -> the ASR's text in the speech run
    const json recorded_run = [&] {
      for (const auto& run : j.at("runs"))
        if (run.at("variant") == "recorded-slt-snrinf") return run;
      return json();
    }();
    ASSERT_FALSE(recorded_run.is_null()) << j.at("runs").dump();
    EXPECT_EQ(recorded_run.at("voice"), "slt");
    std::ifstream f(out / "recorded-slt-snrinf.jsonl");
    uint64_t lines = 0, with_confidence = 0;
    for (std::string line; std::getline(f, line); ++lines) {
      const json t = json::parse(line);
      EXPECT_TRUE(t.at("addressed").get<bool>());
      EXPECT_TRUE(t.at("payload").at("json").at("text").is_string());
      with_confidence += t.at("payload").at("json").contains("confidence") ? 1 : 0;
      EXPECT_TRUE(t.at("gold").contains("nlu"));
    }
    EXPECT_GT(lines, 15u);
    EXPECT_EQ(with_confidence, lines) << "pocketsphinx reports a confidence for every hypothesis";
    EXPECT_EQ(recorded_run.at("turns").get<uint64_t>(), lines);
    // Its twin with the transcript only: the same texts, nothing else.
    std::ifstream plain(out / "recorded-slt-snrinf.jsonl"), text(out / "recorded-slt-snrinf-text.jsonl");
    uint64_t twins = 0;
    for (std::string a, b; std::getline(plain, a) && std::getline(text, b); ++twins) {
      const json x = json::parse(a), y = json::parse(b);
      EXPECT_EQ(y.at("payload").at("json"), json({{"text", x.at("payload").at("json").at("text")}}));
      EXPECT_EQ(y.at("gold"), x.at("gold"));
    }
    EXPECT_EQ(twins, lines);
  }

  // The live runs: the scripted turns again, each retry the words of the
  // turn before it in its dialogue or another phrasing of its goal,
  // labelled like every turn.
  for (const std::string source : {"slt-snrinf", "text-broken-skill"}) {
    SCOPED_TRACE(source);
    std::ifstream f(out / ("live-" + source + ".jsonl"));
    json previous;
    uint64_t lines = 0, retries = 0;
    for (std::string line; std::getline(f, line); ++lines) {
      const json t = json::parse(line);
      if (t.at("turn_id").get<std::string>().ends_with("-retry")) {
        ++retries;
        EXPECT_EQ(t.at("dialogue_id"), previous.at("dialogue_id"));
        std::string words = t.at("payload").at("text");
        std::erase(words, ',');
        if (words != previous.at("payload").at("text")) {
          EXPECT_EQ(t.at("gold").at("nlu"), previous.at("gold").at("nlu")) << "a rephrasing of another goal";
        }
        EXPECT_EQ(t.at("turn_index").get<uint32_t>(), previous.at("turn_index").get<uint32_t>() + 1);
      }
      previous = t;
    }
    EXPECT_GT(retries, 0u) << "the small runs fail often enough for a retry";
    bool ran = false;
    for (const auto& run : j.at("runs"))
      if (run.at("variant") == source + "-live") {
        ran = true;
        EXPECT_EQ(run.at("turns").get<uint64_t>(), lines);
      }
    EXPECT_TRUE(ran);
  }

  // The labels above a score: all of them first, then ever fewer, surer.
  const auto check_coverage = [](const json& s, uint64_t turns) {
    const json& c = s.at("coverage");
    ASSERT_FALSE(c.empty());
    EXPECT_EQ(c.front().at("turns"), turns);
    EXPECT_DOUBLE_EQ(c.front().at("coverage").get<double>(), 1.0);
    EXPECT_DOUBLE_EQ(c.front().at("accuracy").get<double>(), s.at("accuracy").get<double>());
    for (size_t i = 1; i < c.size(); ++i) {
      EXPECT_LT(c[i].at("turns").get<uint64_t>(), c[i - 1].at("turns").get<uint64_t>()) << i;
      if (!c[i - 1].at("min_score").is_null()) {
        EXPECT_GT(c[i].at("min_score").get<double>(), c[i - 1].at("min_score").get<double>()) << i;
      }
    }
  };
  // Every isolator (rules at least) and both baselines, on the test side only.
  const uint64_t test_turns = j.at("split").at("test_turns");
  EXPECT_GT(test_turns, 0u);
  EXPECT_GT(j.at("split").at("train_turns").get<uint64_t>(), 0u);
  ASSERT_TRUE(j.at("isolators").contains("rules"));
  for (const auto& [name, s] : j.at("isolators").items()) {
    SCOPED_TRACE(name);
    for (const char* k : {"accuracy", "macro_f1", "per_class", "confusion", "baselines"}) EXPECT_TRUE(s.contains(k)) << k;
    EXPECT_EQ(s.at("turns"), test_turns);
    uint64_t cells = 0;
    for (const auto& row : s.at("confusion"))
      for (const auto& v : row) cells += v.get<uint64_t>();
    EXPECT_EQ(cells, test_turns);
    check_coverage(s, test_turns);
    for (const auto& c : kClasses)
      for (const char* k : {"precision", "recall", "f1", "support"}) EXPECT_TRUE(s.at("per_class").at(c).contains(k));
  }
  for (const char* b : {"majority", "lowest_confidence"}) EXPECT_EQ(j.at("baselines").at(b).at("turns"), test_turns);
  // The test side by kind of run: the families partition it.
  std::set<std::string> families;
  uint64_t family_turns = 0;
  for (const auto& [family, by_name] : j.at("by_family").items()) {
    families.insert(family);
    ASSERT_TRUE(by_name.contains("rules")) << family;
    family_turns += by_name.at("rules").at("turns").get<uint64_t>();
    EXPECT_EQ(by_name.at("lowest confidence").at("turns"), by_name.at("rules").at("turns"));
    // A live run is scored again with its users' reactions unread.
    const bool live = family.ends_with("-live");
    EXPECT_EQ(by_name.contains("learned, reactions unread"), live && by_name.contains("learned")) << family;
    if (live && by_name.contains("learned")) {
      EXPECT_EQ(by_name.at("learned, reactions unread").at("turns"), by_name.at("learned").at("turns"));
    }
    // A run with a recogniser's n-best, again with its alternatives unread.
    const bool nbest = family.starts_with("speech") || (family.starts_with("recorded") && !family.starts_with("recorded-text"));
    EXPECT_EQ(by_name.contains("learned, alternatives unread"), nbest && by_name.contains("learned")) << family;
  }
  EXPECT_EQ(families, (std::set<std::string>{"speech", "text", "recorded", "recorded-text", "speech-live", "text-live"}));
  EXPECT_EQ(family_turns, test_turns);
  // Held-out voice: for each voice, the test side of its runs only, every
  // other run (other voices, text) left to train on.
  std::set<std::string> run_names, voices;
  std::map<std::string, std::string> voice_of;
  for (const auto& run : j.at("runs")) {
    run_names.insert(run.at("variant").get<std::string>());
    voice_of[run.at("variant")] = run.at("voice");
  }
  ASSERT_EQ(j.at("held_out_voice").size(), 2u) << j.at("held_out_voice").dump();
  for (const auto& h : j.at("held_out_voice")) {
    const std::string voice = h.at("voice");
    SCOPED_TRACE(voice);
    voices.insert(voice);
    std::set<std::string> seen;
    for (const auto& run : h.at("test_runs")) {
      EXPECT_EQ(voice_of[run], voice) << run;
      EXPECT_TRUE(seen.insert(run).second);
    }
    for (const auto& run : h.at("train_runs")) {
      EXPECT_NE(voice_of[run], voice) << "trained on the held-out voice: " << run;
      EXPECT_TRUE(seen.insert(run).second);
    }
    EXPECT_EQ(seen, run_names) << "every run is on one side";
    const uint64_t turns = h.at("test_turns");
    EXPECT_GT(turns, 0u);
    EXPECT_LT(turns, test_turns);
    ASSERT_TRUE(h.at("isolators").contains("rules"));
    for (const auto& [name, s] : h.at("isolators").items()) {
      uint64_t cells = 0;
      for (const auto& row : s.at("confusion"))
        for (const auto& v : row) cells += v.get<uint64_t>();
      EXPECT_EQ(cells, turns) << name;
    }
  }
  EXPECT_EQ(voices, (std::set<std::string>{"slt", "en-us+f2"}));

  // Cross-validation: every labelled turn predicted once, by every isolator.
  const json& cv = j.at("cross_validation");
  EXPECT_EQ(cv.at("folds"), 3);
  EXPECT_EQ(cv.at("turns"), oracle.at("labelled"));
  ASSERT_TRUE(cv.at("isolators").contains("rules"));
  for (const auto& [name, s] : cv.at("isolators").items()) {
    uint64_t cells = 0;
    for (const auto& row : s.at("confusion"))
      for (const auto& v : row) cells += v.get<uint64_t>();
    EXPECT_EQ(cells, oracle.at("labelled").get<uint64_t>()) << name;
    check_coverage(s, oracle.at("labelled").get<uint64_t>());
  }
  for (int k = 0; k < 3; ++k) EXPECT_TRUE(fs::exists(out / ("oracle-fold-" + std::to_string(k) + ".jsonl"))) << k;

  // TRAIN-fold runs: training data only. Each fold's requests are SLURP
  // TRAIN records its own NLU never trained on; the learned isolator (when
  // it is built) trains on them with that fold's requests file.
  // Per fold: the text run, and the recorded-ASR runs whose hypotheses a
  // channel estimated on the train side of the speech runs made (with a
  // confidence, and the transcript only).
  ASSERT_EQ(j.at("training_runs").size(), 6u) << j.at("training_runs").dump();
  uint64_t training_turns = 0;
  std::multiset<std::string> training_families;
  for (const auto& run : j.at("training_runs")) {
    const std::string name = run.at("variant");
    EXPECT_EQ(name.rfind("fold", 0), 0u) << name;
    training_families.insert(run.at("family").get<std::string>());
    EXPECT_FALSE(run_names.contains(name)) << "a training run is scored: " << name;
    EXPECT_EQ(run.at("failed"), 0);
    training_turns += run.at("turns").get<uint64_t>();
  }
  EXPECT_EQ(training_families,
            (std::multiset<std::string>{"text", "text", "recorded", "recorded", "recorded", "recorded"}));
  EXPECT_EQ(sum(oracle.at("class_balance").at("training_runs")), training_turns);
  EXPECT_GT(oracle.at("class_balance").at("training_runs").value("asr", 0), 0) << "the channel makes ASR errors";
  for (int k = 0; k < 2; ++k) {
    const fs::path dir = out / "train-folds" / std::to_string(k);
    std::set<std::string> heard;
    std::ifstream dialogues(dir / "eval_dialogues_small.jsonl");
    for (std::string line; std::getline(dialogues, line);) {
      const json t = json::parse(line);
      EXPECT_EQ(t.at("dialogue_id").get<std::string>().rfind("f" + std::to_string(k) + "-d", 0), 0u);
      if (t.at("addressed")) heard.insert(t.at("gold").at("asr").at("text").get<std::string>());
    }
    ASSERT_FALSE(heard.empty());
    std::ifstream training(dir / "train_fasttext.txt");
    size_t lines = 0;
    for (std::string line; std::getline(training, line); ++lines)
      EXPECT_FALSE(heard.contains(line.substr(line.find(' ') + 1))) << "fold " << k << " trained on " << line;
    EXPECT_GT(lines, 1000u);
    EXPECT_TRUE(fs::exists(dir / "nlu" / "intent.bin"));
  }
  if (j.at("isolators").contains("learned")) {
    // Every trace says whether its dialogues are live; a TRAIN-fold run
    // also names its fold's requests.
    std::ifstream params(out / "trace-params-learned.jsonl");
    size_t lines = 0, folds = 0;
    for (std::string line; std::getline(params, line); ++lines) {
      const json p = json::parse(line);
      const std::string trace = p.at("trace");
      const bool live = trace.ends_with("-live.cas");
      EXPECT_EQ(p.at("params").at("dialogue"), live ? "live" : "scripted") << trace;
      // Its pipeline, for the replays of its ASR alternatives.
      EXPECT_TRUE(fs::is_regular_file(p.at("pipeline").get<std::string>())) << trace;
      EXPECT_TRUE(p.at("set").is_array()) << trace;
      // A TRAIN-fold run is auxiliary for the trainer (training only).
      const bool fold = fs::path(trace).filename().string().starts_with("fold");
      EXPECT_EQ(p.at("auxiliary"), fold) << trace;
      if (fold) {
        ++folds;
        EXPECT_NE(p.at("params").at("requests").get<std::string>().find("train-folds"), std::string::npos);
      }
    }
    // The trainer weighed them, and the eval says by how much.
    bool weighed = false;
    for (const auto& n : j.at("notes"))
      weighed = weighed || (n.get<std::string>().starts_with("learned: trained with") &&
                            n.get<std::string>().find("the TRAIN-fold runs' turns weighed ") != std::string::npos);
    EXPECT_EQ(weighed, !j.at("training_runs").empty()) << j.at("notes").dump();
    EXPECT_EQ(folds, j.at("training_runs").size());
    EXPECT_EQ(lines, j.at("runs").size() + j.at("training_runs").size());
    std::ifstream log(out / "train-learned.log");
    std::string replays, training;
    for (std::string line; std::getline(log, line);) {
      if (line.starts_with("features: ")) replays = line;
      if (line.starts_with("training on ")) training = line;
    }
    EXPECT_EQ(training.rfind("training on " + std::to_string(j.at("split").at("train_turns").get<uint64_t>() +
                                                              training_turns) + " turns", 0),
              0u)
        << training;
    // The speech runs' turns have alternatives, replayed through every run's pipeline.
    EXPECT_EQ(replays.find("features: 0 "), std::string::npos) << replays;
    EXPECT_NE(replays.find("through the pipelines of " + std::to_string(lines) + " of " + std::to_string(lines)),
              std::string::npos)
        << replays;
  }

  // The top-level keys are the first isolator's.
  for (const char* k : {"accuracy", "macro_f1", "per_class", "confusion", "baselines", "oracle"})
    EXPECT_TRUE(j.contains(k)) << k;

  // The throughput benchmark on one of those traces: every copied turn is
  // read back and labelled.
  const ToolRun b = run_tool("fpi-bench --json --turns 1000 --source " + (out / "slt-snrinf.cas").string() +
                             " --out " + (out / "bench.cas").string());
  ASSERT_EQ(b.exit_code, 0) << b.out;
  const json bj = json::parse(b.out);
  EXPECT_EQ(bj.at("turns"), 1000);
  EXPECT_GT(bj.at("read").at("turns_per_minute_per_core").get<double>(), 0);
  EXPECT_GT(bj.at("isolate").at("turns_per_minute_per_core").get<double>(), 0);
  fs::remove_all(out);
}

// A team's own turns may be SLURP TRAIN records, which the shipped models
// were built from: they run on the models of their own fold instead, and
// the TRAIN-fold runs leave them out, so that none is both trained on and
// scored.
TEST(FpiTool, ScoredTrainRequestsRunOnTheirFoldsModelsAndNoTrainFoldRunHoldsThem) {
  const fs::path out = temp_dir("overlap");
  const fs::path tool = fs::path(CASCADE_EVAL_BINARY).parent_path() / "cascade-assistant-data";
  ASSERT_EQ(std::system((tool.string() + " --input " CASCADE_SLURP_DEVEL " --output-dir " + (out / "fold0").string() +
                         " --folds 5 --fold 0 > /dev/null")
                            .c_str()),
            0);
  // Three requests of TRAIN fold 0, as the turns to score.
  std::ifstream all(out / "fold0" / "eval_dialogues_small.jsonl");
  std::ofstream turns(out / "turns.jsonl");
  std::set<long> scored;
  for (std::string line; scored.size() < 3 && std::getline(all, line);) {
    const json t = json::parse(line);
    if (!t.at("addressed").get<bool>()) continue;
    scored.insert(t.at("slurp_id").get<long>());
    turns << line << "\n";
  }
  turns.close();
  ASSERT_EQ(scored.size(), 3u);

  const ToolRun r = run_tool("fpi --size small --json -q --turns " + (out / "turns.jsonl").string() +
                             " --pipeline " CASCADE_EVAL_TEXT_PIPELINE " --no-text --out " + (out / "fpi").string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json j = json::parse(r.out);
  ASSERT_FALSE(j.at("training_runs").empty());
  bool said = false, routed = false;
  for (const auto& n : j.at("notes")) {
    said = said || n.get<std::string>().find("left out because") != std::string::npos;
    routed = routed || n.get<std::string>().find("3 scored turns hold SLURP TRAIN requests") != std::string::npos;
  }
  EXPECT_TRUE(said) << j.at("notes").dump();
  EXPECT_TRUE(routed) << j.at("notes").dump();
  // Every scored run is fold 0's: no turn is left for the shipped models.
  ASSERT_FALSE(j.at("runs").empty());
  uint64_t turns_on_fold0 = 0;
  for (const auto& run : j.at("runs")) {
    EXPECT_TRUE(run.at("variant").get<std::string>().ends_with("-fold0")) << run.dump();
    EXPECT_NE(run.at("condition").get<std::string>().find("TRAIN fold 0 on models built without it"), std::string::npos);
    if (run.at("degradation") == "") turns_on_fold0 += run.at("turns").get<uint64_t>();
  }
  EXPECT_EQ(turns_on_fold0, 3u);
  std::ifstream routed_turns(out / "fpi" / "fold-routed" / "main-fold0.jsonl");
  std::set<long> routed_ids;
  for (std::string line; std::getline(routed_turns, line);) routed_ids.insert(json::parse(line).at("slurp_id").get<long>());
  EXPECT_EQ(routed_ids, scored);
  for (const char* fold : {"0", "1"}) {
    std::ifstream fold_turns(out / "fpi" / "train-folds" / fold / "dialogues.jsonl");
    ASSERT_TRUE(fold_turns) << fold;
    for (std::string line; std::getline(fold_turns, line);)
      EXPECT_FALSE(scored.contains(json::parse(line).at("slurp_id").get<long>())) << line;
  }
  fs::remove_all(out);
}

// A team whose recogniser logs its transcript only: the TRAIN-fold runs
// still get recognition errors, from a channel learnt on the words of the
// train side, and carry no confidence either.
TEST(FpiTool, ALogWithoutConfidenceGivesTrainFoldTranscriptsOnly) {
  const fs::path out = temp_dir("no-confidence");
  ASSERT_TRUE(write_sample_turns(out));
  const ToolRun r = run_tool("fpi --size small --json -q --turns " + (out / "turns.jsonl").string() +
                             " --pipeline " CASCADE_EVAL_RECORDED_PIPELINE " --no-text --out " + (out / "fpi").string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json j = json::parse(r.out);
  std::set<std::string> training;
  for (const auto& run : j.at("training_runs")) training.insert(run.at("variant").get<std::string>());
  EXPECT_TRUE(training.contains("fold0-recorded-text")) << j.at("training_runs").dump();
  EXPECT_FALSE(training.contains("fold0-recorded")) << "a confidence the recogniser never logged was made up";
  std::ifstream recorded(out / "fpi" / "train-folds" / "0" / "recorded-simulated-text.jsonl");
  size_t lines = 0, changed = 0;
  for (std::string line; std::getline(recorded, line); ++lines) {
    const json t = json::parse(line);
    const json& p = t.at("payload").at("json");
    EXPECT_EQ(p.size(), 1u) << p.dump();
    changed += p.at("text").get<std::string>() != "alexa " + t.at("gold").at("asr").at("text").get<std::string>() ? 1 : 0;
  }
  EXPECT_GT(lines, 0u);
  EXPECT_GT(changed, 0u) << "the channel made no recognition error";
  bool said = false;
  for (const auto& n : j.at("notes")) said = said || n.get<std::string>().find("logged no confidence") != std::string::npos;
  EXPECT_TRUE(said) << j.at("notes").dump();
  fs::remove_all(out);
}

// Recorded hypotheses run through the default (speech) pipeline: no turn
// can run, and the eval says so instead of scoring one direct attribution.
TEST(FpiTool, TurnsThatDoNotFitThePipelineStopTheEvalWithN030) {
  const fs::path out = temp_dir("misfit");
  ASSERT_TRUE(write_sample_turns(out));
  const ToolRun r = run_tool("fpi --size small -q --turns " + (out / "turns.jsonl").string() + " --out " +
                             (out / "fpi").string(),
                             /*with_stderr=*/true);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("error[N030]: run '"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("none of its 19 turns ran"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stage 'speech' failed: input 'text'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--pipeline pipelines/assistant-recorded-asr.toml"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out / "fpi" / "oracle.jsonl")) << "nothing may be labelled";
  fs::remove_all(out);
}

TEST(FpiTool, AnUnknownSizeIsAUsageError) {
  EXPECT_EQ(run_tool("fpi --size huge --json").exit_code, 2);
}
