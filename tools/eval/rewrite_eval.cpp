// `cascade eval rewrite`: rewriters against the baseline on simulated
// sessions of held-out users and days (rewrite_eval.hpp: the plan).
#include "eval/rewrite_eval.hpp"

#include "simulate.hpp"

#include <cascade/core/diagnostic.hpp>
#include <cascade/trace/reader.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <set>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <tuple>

extern char** environ;

namespace cascade::language::eval {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct SizePlan {
  uint32_t train_users, held_out_users, train_days, test_days;
};
// Held-out users are numbered from here: never a train user's id.
constexpr uint32_t kHeldOutFirstUser = 10000;
// "chained-asr-confidence": an ASR confidence below this is a defect signal.
// On the clean slt speech trace of the eval set no error-free hypothesis
// scored below it (11 of 64 with errors did): a trigger that rarely fires
// on a right hypothesis (tools/simulate/README.md).
constexpr double kAsrMinConfidence = 0.7;

SizePlan plan_for(const std::string& size) {
  if (size == "small") return {16, 6, 3, 2};
  if (size == "default") return {300, 100, 14, 7};
  throw std::invalid_argument("unknown size '" + size + "': small or default");
}

// Runs a tool with its stderr into `log`; returns its exit code.
int run_tool(const std::vector<std::string>& argv, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int err = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return 127;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return 127;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

std::vector<json> read_lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<json> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

struct Rewritten {
  uint32_t turns = 0;
  bool first = false;
};

// dialogue id -> turns in which the `rewrite` stage changed the text.
std::map<std::string, Rewritten> rewritten_turns(const fs::path& trace_path) {
  std::map<std::string, Rewritten> out;
  const auto data = trace::read_turns(trace_path);
  for (const auto& turn : data.turns) {
    // Any rewriting stage (the chained pipeline has two).
    const bool fired = std::any_of(turn.stages.begin(), turn.stages.end(),
                                   [](const trace::StageRecord& s) { return s.text_feature("rewritten_by").has_value(); });
    if (!fired) continue;
    auto& r = out[turn.id.dialogue_id];
    ++r.turns;
    r.first = r.first || turn.id.turn_index == 0;
  }
  return out;
}

// The NLU's intent and whether it found a slot, per turn of a trace.
std::vector<IntentTurn> intent_turns(const fs::path& trace_path) {
  std::vector<IntentTurn> out;
  for (const auto& turn : trace::read_turns(trace_path).turns) {
    const auto* nlu = turn.stage("nlu");
    const auto* payload = nlu != nullptr ? nlu->output("nlu") : nullptr;
    if (payload == nullptr) continue;
    const auto j = json::parse(payload->text(), nullptr, false);
    if (!j.is_object() || !j.contains("intent") || !j["intent"].is_string()) continue;
    const bool slotless = !j.contains("slots") || !j["slots"].is_array() || j["slots"].empty();
    out.push_back({turn.id.dialogue_id, turn.id.turn_index, j["intent"].get<std::string>(), slotless});
  }
  return out;
}

struct SimRun {
  fs::path dir;
  std::vector<json> truth;
  std::map<std::string, Rewritten> rewritten;
};

}  // namespace

RewriteEvalReport run_rewrite_eval(const RewriteEvalRequest& rq) {
  const SizePlan plan = plan_for(rq.size);
  const auto started = std::chrono::steady_clock::now();
  RewriteEvalReport report;
  report.size = rq.size;
  report.seed = rq.seed;
  report.k = rq.k;
  report.train_days = plan.train_days;
  report.test_days = plan.test_days;
  report.held_out_users = plan.held_out_users;
  fs::create_directories(rq.out_dir);
  const fs::path out_dir = fs::absolute(rq.out_dir);
  const fs::path log = out_dir / "tools.log";
  fs::remove(log);
  auto note = [&](const std::string& what) {
    if (rq.progress) std::fprintf(stderr, "eval rewrite: %s\n", what.c_str());
  };

  auto base_request = [&](const fs::path& pipeline, const fs::path& dir) {
    sim::SimRequest s;
    s.pipeline = pipeline;
    s.out_dir = dir;
    s.slurp = rq.slurp;
    s.catalog = rq.catalog;
    s.asr_model = rq.asr_model;
    s.seed = rq.seed;
    s.k = rq.k;
    s.threads = rq.threads;
    return s;
  };

  // 1. Train sessions, and what the rewriters learn from them.
  note("train: " + std::to_string(plan.train_users) + " users x " + std::to_string(plan.train_days) + " days");
  auto train = base_request(rq.baseline_pipeline, out_dir / "train");
  train.users = plan.train_users;
  train.days = plan.train_days;
  const auto trained = sim::simulate(train);
  report.train_users = trained.users;
  report.train_sessions = trained.sessions;
  report.train_turns = trained.turns;
  const fs::path table = out_dir / "rewrites.json";
  if (run_tool({rq.rewrite_tool.string(), "build", trained.trace.string(), "-o", table.string()}, log) != 0)
    throw std::runtime_error("cascade rewrite build failed; see " + log.string());
  {
    std::ifstream in(table);
    report.table_rewrites = json::parse(in).at("rewrites").size();
  }
  const fs::path index = out_dir / "online-index.json";
  std::string online_skip;
  if (rq.online_pipeline.empty()) {
    online_skip = "no online pipeline given";
  } else if (run_tool({rq.rewrite_tool.string(), "index", trained.trace.string(), "-o", index.string()}, log) != 0) {
    online_skip = "cascade rewrite index failed (online rewriting not built?); see " + log.string();
  }

  report.slot_intents = slot_needing_intents(intent_turns(trained.trace));
  note("intents that need a slot (train retries): " + report.slot_intents);

  struct Config {
    std::string name;
    fs::path pipeline;
    std::vector<std::string> overrides;
    std::string user_override;
    std::string skipped;
  };
  std::vector<Config> configs = {
      {"precomputed", rq.precomputed_pipeline, {"stages.rewrite.params.table=" + table.string()}, "", ""},
      // Global only: the stage would otherwise take the user from the turn.
      {"online-global", rq.online_pipeline,
       {"stages.rewrite.params.index=" + index.string(), "stages.rewrite.params.personal=false"}, "", online_skip},
      {"online-personal", rq.online_pipeline, {"stages.rewrite.params.index=" + index.string()},
       "stages.rewrite.params.user", online_skip},
      {"chained", rq.chain_pipeline,
       {"stages.table.params.table=" + table.string(), "stages.rewrite.params.index=" + index.string()},
       "stages.rewrite.params.user", rq.chain_pipeline.empty() ? "no chained pipeline given" : online_skip},
      // The same with the recogniser's confidence as a trigger too. The
      // simulator draws that confidence from what pocketsphinx reported on
      // the eval set for as many word errors at the user's noise level
      // (tools/simulate/README.md), so it is as informative as the real one.
      {"chained-asr-confidence", rq.chain_pipeline,
       {"stages.table.params.table=" + table.string(), "stages.rewrite.params.index=" + index.string(),
        "stages.rewrite.params.asr_min_confidence=" + std::to_string(kAsrMinConfidence)},
       "stages.rewrite.params.user", rq.chain_pipeline.empty() ? "no chained pipeline given" : online_skip},
      // ...and an intent that needs a slot found without one (learnt from
      // the train sessions' retries, slot_needing_intents()).
      {"chained-signals", rq.chain_pipeline,
       {"stages.table.params.table=" + table.string(), "stages.rewrite.params.index=" + index.string(),
        "stages.rewrite.params.asr_min_confidence=" + std::to_string(kAsrMinConfidence),
        "stages.rewrite.params.slot_intents=\"" + report.slot_intents + "\""},
       "stages.rewrite.params.user", rq.chain_pipeline.empty() ? "no chained pipeline given" : online_skip},
  };

  // 2. Test splits, each once per configuration with the same seed.
  struct Split {
    std::string name;
    uint32_t first_user, users;
  };
  const std::vector<Split> splits = {{"held_out_users", kHeldOutFirstUser, plan.held_out_users},
                                     {"held_out_days", 0, plan.train_users}};
  std::map<std::string, std::set<std::string>> personal_users;  // split -> users with personal names
  std::map<std::pair<std::string, std::string>, std::vector<PairedSession>> paired;  // (configuration, split)
  for (const auto& split : splits) {
    auto run = [&](const std::string& name, const fs::path& pipeline, const std::vector<std::string>& overrides,
                   const std::string& user_override) {
      note(split.name + ": " + name);
      auto s = base_request(pipeline, out_dir / split.name / name);
      s.first_user = split.first_user;
      s.users = split.users;
      s.first_day = plan.train_days;
      s.days = plan.test_days;
      s.overrides = overrides;
      s.user_override = user_override;
      const auto summary = sim::simulate(s);
      SimRun r;
      r.dir = s.out_dir;
      r.truth = read_lines(summary.truth);
      r.rewritten = rewritten_turns(summary.trace);
      if (name == "baseline")
        for (const auto& u : read_lines(summary.users_file))
          if (!u.at("habits").empty()) personal_users[split.name].insert(u.at("user_id").get<std::string>());
      return r;
    };
    const SimRun baseline = run("baseline", rq.baseline_pipeline, {}, "");
    for (auto& config : configs) {
      if (!config.skipped.empty()) continue;
      SimRun treated;
      try {
        treated = run(config.name, config.pipeline, config.overrides, config.user_override);
      } catch (const CascadeError& e) {
        config.skipped = e.what();  // e.g. the online plugin is not there
        continue;
      }
      // 3. Pair the sessions (same ids, same first request) and score.
      std::map<std::string, const json*> by_id;
      for (const auto& t : treated.truth) by_id[t.at("session").get<std::string>()] = &t;
      std::vector<PairedSession> all, personal;
      for (const auto& b : baseline.truth) {
        const std::string id = b.at("session").get<std::string>();
        const auto it = by_id.find(id);
        if (it == by_id.end()) throw std::runtime_error("session " + id + " is missing from the " + config.name + " run");
        const json& t = *it->second;
        PairedSession p;
        p.baseline_first_ok = b.at("turns").at(0).at("success").get<bool>();
        p.first_ok = t.at("turns").at(0).at("success").get<bool>();
        p.baseline_ok = b.at("success").get<bool>();
        p.ok = t.at("success").get<bool>();
        p.turns = static_cast<uint32_t>(t.at("turns").size());
        const auto rw = treated.rewritten.find(id);
        p.rewritten = rw == treated.rewritten.end() ? 0 : rw->second.turns;
        p.first_rewritten = rw != treated.rewritten.end() && rw->second.first;
        all.push_back(p);
        if (personal_users[split.name].contains(b.at("user_id").get<std::string>())) personal.push_back(p);
      }
      paired[{config.name, split.name}] = all;
      if (split.name == "held_out_days") paired[{config.name, split.name + "/personal_users"}] = personal;
      SplitScore s = score(all, rq.resamples, rq.seed);
      s.configuration = config.name;
      s.split = split.name;
      report.scores.push_back(std::move(s));
      if (split.name == "held_out_days") {
        SplitScore ps = score(personal, rq.resamples, rq.seed);
        ps.configuration = config.name;
        ps.split = split.name + "/personal_users";
        report.scores.push_back(std::move(ps));
      }
    }
  }
  for (const auto& c : configs) report.configurations.push_back({c.name, c.skipped});
  // 4. The personal layer over the global one, session by session.
  for (const char* split : {"held_out_users", "held_out_days", "held_out_days/personal_users"}) {
    const auto better = paired.find({"online-personal", split});
    const auto over = paired.find({"online-global", split});
    if (better == paired.end() || over == paired.end()) continue;
    Comparison c = compare(better->second, over->second, rq.resamples, rq.seed);
    c.better = "online-personal";
    c.over = "online-global";
    c.split = split;
    report.comparisons.push_back(std::move(c));
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

namespace {

json estimate_json(const Estimate& e) {
  auto v = [](const std::optional<double>& x) { return x ? json(*x) : json(nullptr); };
  return {{"value", v(e.value)}, {"low", v(e.low)}, {"high", v(e.high)}};
}

std::string pct(const std::optional<double>& v) {
  if (!v) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.1f%%", *v * 100);
  return b;
}
std::string num(const std::optional<double>& v, const char* unbounded = "inf") {
  if (!v) return unbounded;
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", *v);
  return b;
}

}  // namespace

json to_json(const RewriteEvalReport& r) {
  json configs = json::array();
  for (const auto& s : r.scores) {
    configs.push_back({{"configuration", s.configuration},
                       {"split", s.split},
                       {"retries_are_simulated", true},
                       {"sessions", s.sessions},
                       {"wins", s.wins},
                       {"losses", s.losses},
                       {"win_loss", s.win_loss.value ? json(*s.win_loss.value) : json(nullptr)},
                       {"defect_reduction", s.defect_reduction.value ? json(*s.defect_reduction.value) : json(nullptr)},
                       {"session_defect_reduction",
                        s.session_defect_reduction.value ? json(*s.session_defect_reduction.value) : json(nullptr)},
                       {"trigger_rate", s.trigger_rate.value ? json(*s.trigger_rate.value) : json(nullptr)},
                       {"first_turn_defects", {{"baseline", s.first_defects_baseline}, {"rewriter", s.first_defects}}},
                       {"failed_sessions", {{"baseline", s.failed_sessions_baseline}, {"rewriter", s.failed_sessions}}},
                       {"turns", s.turns},
                       {"rewritten_turns", s.rewritten_turns},
                       {"rewritten_traffic",
                        {{"first_turns", s.rewritten_first},
                         {"defects_baseline", s.rewritten_first_defects_baseline},
                         {"defects_rewriter", s.rewritten_first_defects},
                         {"defect_reduction", s.rewritten_defect_reduction.value
                                                  ? json(*s.rewritten_defect_reduction.value)
                                                  : json(nullptr)}}},
                       {"ci",
                        {{"level", 0.95},
                         {"method", "percentile bootstrap over sessions"},
                         {"win_loss", estimate_json(s.win_loss)},
                         {"defect_reduction", estimate_json(s.defect_reduction)},
                         {"session_defect_reduction", estimate_json(s.session_defect_reduction)},
                         {"trigger_rate", estimate_json(s.trigger_rate)},
                         {"rewritten_defect_reduction", estimate_json(s.rewritten_defect_reduction)}}}});
  }
  json skipped = json::object();
  for (const auto& c : r.configurations)
    if (!c.skipped.empty()) skipped[c.configuration] = c.skipped;
  json comparisons = json::array();
  for (const auto& c : r.comparisons)
    comparisons.push_back({{"better", c.better},
                           {"over", c.over},
                           {"split", c.split},
                           {"retries_are_simulated", true},
                           {"sessions", c.sessions},
                           {"gains", c.gains},
                           {"losses", c.losses},
                           {"baseline_first_turn_defects", c.baseline_defects},
                           {"defect_reduction_gain", c.gain.value ? json(*c.gain.value) : json(nullptr)},
                           {"ci",
                            {{"level", 0.95},
                             {"method", "paired percentile bootstrap over sessions"},
                             {"defect_reduction_gain", estimate_json(c.gain)}}}});
  return {{"retries_are_simulated", true},
          {"note", "retries are simulated: users, their retries and their ASR errors come from cascade simulate; "
                   "a null win_loss (or bound) with wins and no loss is unbounded"},
          {"size", r.size},
          {"seed", r.seed},
          {"k", r.k},
          {"train", {{"users", r.train_users}, {"days", r.train_days}, {"sessions", r.train_sessions},
                     {"turns", r.train_turns}, {"table_rewrites", r.table_rewrites}}},
          {"test", {{"days", r.test_days}, {"held_out_users", r.held_out_users}}},
          {"slot_intents", r.slot_intents},
          {"skipped", std::move(skipped)},
          {"configurations", std::move(configs)},
          {"comparisons", std::move(comparisons)},
          {"seconds", r.seconds}};
}

std::string format_text(const RewriteEvalReport& r) {
  std::ostringstream o;
  o << "cascade eval rewrite: size " << r.size << ", seed " << r.seed << ", k " << r.k << "; train " << r.train_users
    << " users x " << r.train_days << " days (" << r.train_sessions << " sessions, " << r.train_turns
    << " turns) -> " << r.table_rewrites << " precomputed rewrites; test " << r.test_days << " later days, "
    << r.held_out_users << " held-out users and the train users\n";
  o << "intents that need a slot (chained-signals; from the train sessions' retries): "
    << (r.slot_intents.empty() ? "none" : r.slot_intents) << "\n";
  o << "retries are simulated (simulated users and ASR errors): so is every figure below\n\n";
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-16s %-30s %8s %9s %-20s %-26s %-26s %-26s %-22s %s\n", "configuration", "split",
                "sessions", "win:loss", "ratio [95% CI]", "defect red. [95% CI]", "session defects [95% CI]",
                "on rewritten [95% CI]", "trigger [95% CI]", "");
  o << buf;
  for (const auto& s : r.scores) {
    const std::string wl = std::to_string(s.wins) + ":" + std::to_string(s.losses);
    // No loss at all: every resample is loss-free too, so the whole
    // interval is unbounded.
    const char* unbounded = s.losses == 0 && s.wins > 0 ? "inf" : "-";
    const std::string ratio = num(s.win_loss.value, unbounded) + " [" + num(s.win_loss.low, unbounded) + ", " +
                              num(s.win_loss.high) + "]";
    const std::string dr = pct(s.defect_reduction.value) + " [" + pct(s.defect_reduction.low) + ", " +
                           pct(s.defect_reduction.high) + "]";
    const std::string sdr = pct(s.session_defect_reduction.value) + " [" + pct(s.session_defect_reduction.low) + ", " +
                            pct(s.session_defect_reduction.high) + "]";
    const std::string tr =
        pct(s.trigger_rate.value) + " [" + pct(s.trigger_rate.low) + ", " + pct(s.trigger_rate.high) + "]";
    const std::string rdr = pct(s.rewritten_defect_reduction.value) + " [" + pct(s.rewritten_defect_reduction.low) +
                            ", " + pct(s.rewritten_defect_reduction.high) + "]";
    std::snprintf(buf, sizeof buf, "%-16s %-30s %8llu %9s %-20s %-26s %-26s %-26s %-22s %s\n", s.configuration.c_str(),
                  s.split.c_str(), static_cast<unsigned long long>(s.sessions), wl.c_str(), ratio.c_str(), dr.c_str(),
                  sdr.c_str(), rdr.c_str(), tr.c_str(), "(retries simulated)");
    o << buf;
  }
  for (const auto& c : r.comparisons) {
    std::snprintf(buf, sizeof buf, "%s over %s, %s: %llu gains, %llu losses; defect reduction %s [%s, %s] (retries simulated)\n",
                  c.better.c_str(), c.over.c_str(), c.split.c_str(), static_cast<unsigned long long>(c.gains),
                  static_cast<unsigned long long>(c.losses), pct(c.gain.value).c_str(), pct(c.gain.low).c_str(),
                  pct(c.gain.high).c_str());
    o << buf;
  }
  for (const auto& c : r.configurations)
    if (!c.skipped.empty()) o << c.configuration << ": skipped: " << c.skipped << "\n";
  o << "\n(win: the baseline's first turn failed and the rewriter's succeeded; loss: the reverse;\n"
       " defect red.: relative drop in failed first turns; session defects: in sessions that ended failed;\n"
       " on rewritten: the drop in failed first turns among those the rewriter changed;\n"
       " trigger: share of turns whose text the rewrite stage changed; retries are simulated)\n";
  return o.str();
}

// "chained-signals": an intent needs a slot when its requests the NLU
// found no slot in were retried (the dialogue went on) at least this
// often, and this much more often than its requests with a slot; judged on
// at least kSlotMinTurns slotless requests. Implicit feedback only: no
// ground truth of the simulator is read.
std::string slot_needing_intents(std::vector<IntentTurn> turns) {
  constexpr double kSlotMinRetried = 0.5, kSlotMinExcess = 0.1;
  constexpr uint64_t kSlotMinTurns = 20;
  struct Counts {
    uint64_t slotless = 0, slotless_retried = 0, with_slot = 0, with_slot_retried = 0;
  };
  std::sort(turns.begin(), turns.end(), [](const IntentTurn& a, const IntentTurn& b) {
    return std::tie(a.dialogue, a.turn_index) < std::tie(b.dialogue, b.turn_index);
  });
  std::map<std::string, Counts> by_intent;
  for (size_t i = 0; i < turns.size(); ++i) {
    // Retried: a later turn of the same dialogue follows.
    const bool retried = i + 1 < turns.size() && turns[i + 1].dialogue == turns[i].dialogue;
    auto& c = by_intent[turns[i].intent];
    if (turns[i].slotless) {
      ++c.slotless;
      c.slotless_retried += retried ? 1 : 0;
    } else {
      ++c.with_slot;
      c.with_slot_retried += retried ? 1 : 0;
    }
  }
  std::string out;
  for (const auto& [intent, c] : by_intent) {
    if (c.slotless < kSlotMinTurns) continue;
    const double slotless = static_cast<double>(c.slotless_retried) / static_cast<double>(c.slotless);
    const double with_slot =
        c.with_slot == 0 ? 0.0 : static_cast<double>(c.with_slot_retried) / static_cast<double>(c.with_slot);
    if (slotless >= kSlotMinRetried && slotless >= with_slot + kSlotMinExcess) out += (out.empty() ? "" : ",") + intent;
  }
  return out;
}

}  // namespace cascade::language::eval
